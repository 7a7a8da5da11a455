"""an update of many rows is recorded by a plan made for its size

Revision ID: 0038
Revises: 0037
Create Date: 2026-11-28

Revision 0025's recorders read an ``UPDATE``'s rows by joining its two transition tables,
``old_rows`` and ``new_rows``, on ``pk``. PL/pgSQL keeps a statement's parse analysis for the
session, and with it the number of rows a transition table held the first time the statement ran
(PostgreSQL plans a transition table at that count, "the same plan will be re-used"). When a
session's first update of a table changed no row or one, every later plan of the join took
``old_rows`` for one row and joined the two by nested loop, with no index to probe: a statement
of 10,000 rows compared 100,000,000 pairs. The revocation's sweep paid it: its first step of a
connector's first ledger and direction may sweep nothing (the bench's does), and the next steps
of 10,000 rows each took 9 to 16 s (``EXPLAIN ANALYZE`` of the recorder: 99,990,000 rows removed
by the join filter), until something made the session analyse the statement again (an
``ANALYZE`` of a table it reads does). So would a sync writer's unlink of 5,000 ids after a
smaller update on the same connection.

The recorders' ``UPDATE`` branch now counts ``new_rows``. Up to ``PLANNED_ROWS`` rows it runs
its statement as before, kept for the session: whatever count it was planned at, a nested loop
over that few rows compares at most ``PLANNED_ROWS`` squared pairs. Over that, it runs the same
text by ``EXECUTE``, planned at the statement's own count. An ``INSERT``'s and a ``DELETE``'s
statements join one transition table to parent tables through their primary keys: planned at
another count, they may read a parent whole where probing it would do, a cost bounded by the
parent's size, never the square of the rows; they are unchanged. The records written are the
same on both paths. Measured on a copy of the bench's revocation seed: an update of 5,000 rows
after one of none on the same connection, 2.70 s before, 0.81 s now; with both recorders taking
turns, the count costs an update of one row some 0.01 ms (7.5 us, the median of 40 pairs of 200
updates). The bench's revocation sweep: its longest step 12.5 s before, 1.5 s now.
"""

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from alembic import op

from wellapi.handlers.migration import revision_module

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The most rows an update's statement kept for the session reads: 1,024 pairs at most by a
# nested loop (some 0.15 ms at 150 ns a pair), against some 0.4 ms to plan the statement again
# (its planning time, warm, in EXPLAIN).
PLANNED_ROWS = 32
# The recorder's variables its update statement reads, bound in this order by ``EXECUTE``.
VARIABLES = ("v_removal", "v_occurred", "v_kind", "v_person", "v_run", "v_key")


@cache
def _r25() -> Any:
    return revision_module("0025")


def _kept(table: str) -> str:
    """Revision 0025's update statement of ``table``'s recorder."""
    r25 = _r25()
    statement: str = r25._insert_records(table, r25._changed_rows(table)["UPDATE"])
    return statement


def update_branch(table: str) -> str:
    """The recorder's ``UPDATE`` branch: revision 0025's statement, kept for the session up to
    ``PLANNED_ROWS`` rows, else run by ``EXECUTE`` with the same text."""
    kept = _kept(table)
    run = kept.strip().removesuffix(";")
    for number, variable in enumerate(VARIABLES, start=1):
        run = re.sub(rf"\b{variable}\b", f"${number}", run)
    if re.search(r"\bv_\w+", run) or "$sql$" in run:
        raise RuntimeError(f"revision 0025's update statement of {table} is not what 0038 expects")
    return (
        f"    IF (SELECT count(*) FROM new_rows) <= {PLANNED_ROWS} THEN\n{kept}    ELSE\n"
        f"      EXECUTE $sql${run}$sql$\n        USING {', '.join(VARIABLES)};\n    END IF;\n"
    )


def recorder(table: str) -> str:
    """Revision 0025's recorder of ``table``, to replace the function it made."""
    text: str = _r25()._recorder(table)
    return text.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)


def counting_recorder(table: str) -> str:
    """Revision 0025's recorder of ``table`` with this revision's ``UPDATE`` branch."""
    text, kept = recorder(table), _kept(table)
    if text.count(kept) != 1:
        raise RuntimeError(f"revision 0025's recorder of {table} is not what 0038 expects")
    return text.replace(kept, update_branch(table))


def upgrade() -> None:
    for table in _r25().RESOURCES:
        op.execute(counting_recorder(table))


def downgrade() -> None:
    for table in _r25().RESOURCES:
        op.execute(recorder(table))
