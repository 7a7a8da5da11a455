"""What the database tells a connection besides its answers, that a person must hear of."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

# The SQLSTATE of the notice by which every transaction's settings procedure
# (``core_api.set_transaction_settings()``, sent by ``wellapi.store.connections.SETTINGS``)
# says it found settings changed and set them again, naming them: SQL on the session changed
# them, or the server's or a role's settings changed since ``well_private.record_settings()``
# recorded them (every transaction then pays some 0.2 ms of database CPU for it).
SETTINGS_SET_AGAIN = b"WS001"
# Once a connection has told of it: every later transaction on it would say the same.
_TOLD = "_well_told_settings_set_again"
# The most of a notice's text a log line carries (the names of some 160 settings at most).
_TOLD_CHARACTERS = 4000


def tell_of_settings_set_again(connection: Any) -> None:
    """A warning, once per connection, naming the settings a transaction on it set again."""
    notices = getattr(connection, "notices", None)
    if not notices:
        return
    said = [n for n in notices if n.get(b"C") == SETTINGS_SET_AGAIN]
    notices.clear()
    if said and not getattr(connection, _TOLD, False):
        setattr(connection, _TOLD, True)
        text = said[-1].get(b"M", b"").decode("utf-8", errors="replace")
        logger.warning(
            "a transaction found settings changed and set them again",
            extra={"settings": text[:_TOLD_CHARACTERS]},
        )
