"""The slots the sync statements share: the writer's (``wellapi.sync.batches``) and the
revocation sweeper's (``wellapi.sync.sweeper``).

Their statements are composed as the API's are: the text once per shape, from the ledgers'
descriptions (``wellapi.sync.ledgers``), and every value of a message or a step through a
``%(name)s`` slot of a ``Statement`` (``wellapi.store.sql``), bound to it as a parameter.
"""

from __future__ import annotations

from wellapi.resources.conditions import slot

# The connector a message or a step is about, by its internal key.
CONNECTOR_PK_SLOT = slot("connector_pk")
# The direction of the ledger rows a message or a step names.
DIRECTION_SLOT = slot("direction", "core_api.direction_enum")
# A message's own: its connector's workspace, its idempotency key and its time.
WORKSPACE_PK_SLOT = slot("workspace_pk")
IDEMPOTENCY_KEY_SLOT = slot("idempotency_key")
OCCURRED_AT_SLOT = slot("occurred_at", "timestamptz")

__all__ = [
    "CONNECTOR_PK_SLOT",
    "DIRECTION_SLOT",
    "IDEMPOTENCY_KEY_SLOT",
    "OCCURRED_AT_SLOT",
    "WORKSPACE_PK_SLOT",
]
