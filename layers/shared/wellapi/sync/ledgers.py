"""The three provenance ledgers as the sync writer and the revocation sweeper name them,
derived from their descriptions (``wellapi.resources.ledgers``).

A module of its own so that the sweep function, which reads no message, loads no pydantic.
"""

from __future__ import annotations

from wellapi.resources.ledgers import LEDGER_RESOURCES, record_relationship

# record_type (a message's, and the record relationship's name) -> (ledger table, record
# table, the record's public id column)
LEDGERS = {
    record.name: (ledger.table.name, record.parent.table.name, record.parent.id_column)
    for ledger, record in ((r, record_relationship(r)) for r in LEDGER_RESOURCES)
}
# record_type -> the public id column of the ledger's own rows
LEDGER_ID_COLUMNS = {record_relationship(r).name: r.id_column for r in LEDGER_RESOURCES}

__all__ = ["LEDGERS", "LEDGER_ID_COLUMNS"]
