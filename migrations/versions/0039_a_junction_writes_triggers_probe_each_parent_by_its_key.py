"""a junction write's triggers probe each parent by its key, whatever count they were planned at

Revision ID: 0039
Revises: 0038
Create Date: 2026-11-28

PL/pgSQL keeps a trigger's statement for the session, planned at the number of rows its
transition table held the first time it ran (revision 0038). The recorders (revision 0025) and
the ledgers' parents' checks (revision 0031) join the written rows to their parents: the
record table (for the records' ids, and the check), the workspace connector, workspace, group
or provider (for the record's workspace and detail). Planned at a sync message's thousands of
rows, each join read its parent whole and hashed it; every later write of the session, one row
as much as thousands, read the parent whole again. On the demo database with 300,000 companies,
a one-row insert into the company ledger after an insert of 5,000 rows on the same connection
took 26 to 42 ms, against 0.6 to 1.2 ms on a fresh connection; the price grows with the parent,
and a sync role's sessions, lent by RDS Proxy from one message to the next, meet it whenever a
large message comes first. Revision 0038 left this one, as the smaller hazard (a parent's size,
not the rows' square); it is no smaller at millions of parent rows.

Each statement now reaches a parent through its primary key, one probe per row (the record
table's, by a scalar sub-select) or per record (the others', by a lateral sub-select that is
not pulled up), a plan that does not depend on the count it was made at. The records written
and the rule checked are the same; a sync message of 5,000 rows probes the record table 5,000
times where the hash join read it once, which costs less than reading a parent of more than a
few thousand rows. Measured, the two revisions' functions taking turns on one database: after
a first insert of 5,000 rows, a one-row insert 26 to 31 ms before, 0.5 to 1.2 ms now; the insert
of 5,000 rows itself 150 to 188 ms before, 126 to 162 ms now (demo database, 300,000
companies). An API Create's database CPU, rolled back, alternating 200-request rounds on the
bench database: 0039 against 0038, median of the rounds' ratios 0.99 (30 rounds) and 1.00 (40).
The bench's sync batches (10 messages of 1,000 ids over 10,000 people), ``--only sync`` runs in turn:
32.6 us of database CPU a row against 33.0 (medians of 8 runs each).
"""

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from alembic import op

from wellapi.handlers.migration import revision_module

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A record's parent, joined in revision 0025's ``joins``: ``JOIN core_api.<table> <alias> ON
# <alias>.pk = g.<column>``.
PARENT_JOIN = re.compile(r"JOIN (core_api\.\w+) (\w+) ON \2\.pk = (g\.\w+)")
# The statements of a recorder: its insert's, its update's (kept, and by EXECUTE) and its
# delete's.
STATEMENTS = 4


@cache
def _r(number: str) -> Any:
    return revision_module(number)


def _replaced(text: str, old: str, new: str, count: int, what: str) -> str:
    if text.count(old) != count:
        raise RuntimeError(f"{what} is not what revision 0039 expects: {old!r}")
    return text.replace(old, new)


def recorder_0038(table: str) -> str:
    """Revision 0038's recorder of ``table``, as its upgrade wrote it."""
    text: str = _r("0038").counting_recorder(table)
    return text


def probing_recorder(table: str) -> str:
    """Revision 0038's recorder of ``table``, each parent reached by its primary key."""
    recorded = _r("0025").RESOURCES[table]
    text, what = recorder_0038(table), f"the recorder of {table}"
    if recorded.record is not None:
        _, records, record_id = recorded.record
        text = _replaced(
            text,
            f"array_agg(r.{record_id} ORDER BY c.id)",
            f"array_agg((SELECT r.{record_id} FROM core_api.{records} r "
            "WHERE r.pk = c.record_pk) ORDER BY c.id)",
            STATEMENTS,
            what,
        )
        text = _replaced(
            text, f"c JOIN core_api.{records} r ON r.pk = c.record_pk ", "c ", STATEMENTS, what
        )
    joins = PARENT_JOIN.sub(
        r"CROSS JOIN LATERAL (SELECT * FROM \1 \2 WHERE \2.pk = \3 OFFSET 0) \2", recorded.joins
    )
    if PARENT_JOIN.sub("", recorded.joins).strip():
        raise RuntimeError(f"{what} joins what revision 0039 does not expect: {recorded.joins}")
    return _replaced(text, f"FROM g {recorded.joins}", f"FROM g {joins}", STATEMENTS, what)


def parents_check_0031(ledger: str) -> str:
    """Revision 0031's parents' check of ``ledger``, to replace the function it made."""
    text: str = _r("0031").parents_agree(ledger)
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def probing_parents_check(ledger: str) -> str:
    """Revision 0031's check of ``ledger``, its statement's parents reached by their keys."""
    records, column = _r("0031").LEDGERS[ledger]
    joined = (
        f"      FROM new_rows n\n"
        f"      JOIN core_api.{records} r ON r.pk = n.{column}\n"
        f"      JOIN core_api.workspace_connectors wc ON wc.pk = n.workspace_connector_pk\n"
        f"     WHERE r.workspace_pk <> wc.workspace_pk;\n"
    )
    # A row whose parent is missing compares NULL: not counted, as the inner join dropped it.
    probed = (
        f"      FROM new_rows n\n"
        f"     WHERE (SELECT r.workspace_pk FROM core_api.{records} r WHERE r.pk = n.{column})\n"
        f"           <> (SELECT wc.workspace_pk FROM core_api.workspace_connectors wc\n"
        f"                WHERE wc.pk = n.workspace_connector_pk);\n"
    )
    return _replaced(parents_check_0031(ledger), joined, probed, 1, f"the check of {ledger}")


def upgrade() -> None:
    for table in _r("0025").RESOURCES:
        op.execute(probing_recorder(table))
    for ledger in _r("0031").LEDGERS:
        op.execute(probing_parents_check(ledger))


def downgrade() -> None:
    for table in _r("0025").RESOURCES:
        op.execute(recorder_0038(table))
    for ledger in _r("0031").LEDGERS:
        op.execute(parents_check_0031(ledger))
