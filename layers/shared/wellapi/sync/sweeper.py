"""The revocation sweeper: soft-deletes a revoked connector's ledger rows in bounded steps.

A revocation message only records the revocation (``wellapi.sync.batches``): from its commit no
read shows the connector's rows, whatever their number. This module does the physical
soft-deletion after it, and is run by a scheduled function (``functions/sweep.py``) and, for
a revocation applied locally, by ``make run`` the same way.

Each step is one transaction and one round trip. It takes the connector's exclusive advisory
lock (the one a sync batch takes to remove links, so no link or unlink of the connector runs
meanwhile and no lock order can cycle), reads where the last committed step of this ledger and
direction ended (``revocation_sweeps``), soft-deletes up to ``STEP_ROWS`` live rows after it on
the per-connector index ``idx_<ledger>_wc_<direction>_created`` (``(connector, created_at, id)``
of the live rows of one direction), and moves the cursor past them in the same transaction. A
crash at any point leaves either the whole step or none of it; the next run resumes at the
cursor, and a row is soft-deleted once: the update sets ``deleted_at`` only where it is NULL. No
row of the connector turns live behind the cursor: a link of a revoked connector is written
soft-deleted.

Rows are soft-deleted at the time the revocation was applied (``revoked_at``; at the row's own
``created_at`` if it was written later), so the ledger says when they stopped being shown.

The database records the rows a step soft-deletes (the ledger's ``<ledger>_recorded_update``
trigger): ``removed``, actor ``sweep``, at the revocation's time, one record per
``CHANGE_IDS`` of them, in the step's transaction.

A step's statements are plain SQL with named parameters, the sweep's ledger names filled in
once per ledger (``sweep_template``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from wellapi.store import connections
from wellapi.store.rows import select_list
from wellapi.store.sql import BoundStatement, Script, ScriptPart, Statement
from wellapi.sync.ledgers import LEDGER_ID_COLUMNS, LEDGERS

# Rows per step: ~0.3 s on this project's bench machine, far from the sync role's 60 s
# statement timeout at any ledger size (each step scans the index from its cursor).
STEP_ROWS = 10_000
# A step is not started with less of the invocation left than this.
STEP_BUDGET_MS = 15_000


class SweepPart(NamedTuple):
    """One ledger and direction of a revoked connector, still to be swept."""

    workspace_connector_pk: int
    record_type: str
    direction: str


class StepOutcome(NamedTuple):
    """The one row of a step."""

    # Rows soft-deleted by this step.
    rows: int
    # Whether this ledger and direction of the connector is now swept.
    part_done: bool
    # Whether this step swept the connector's last part: its revocation is now swept.
    revocation_done: bool


def pending_parts(*, pool: Any = None) -> list[SweepPart]:
    """The parts still to sweep, oldest revocation first."""
    columns = select_list(
        SweepPart._fields,
        workspace_connector_pk="s.workspace_connector_pk",
        record_type="s.record_type",
        direction="s.direction::text",
    )
    rows = connections.in_transaction(
        [
            BoundStatement(
                f"""SELECT {columns}
FROM core_api.revocation_sweeps s
JOIN core_api.connector_revocations r USING (workspace_connector_pk)
WHERE NOT s.done
ORDER BY r.revoked_at, s.workspace_connector_pk, s.record_type, s.direction"""
            )
        ],
        pool=pool,
    )
    return [SweepPart(int(pk), str(kind), str(direction)) for pk, kind, direction in rows]


# The connector's lock, which its messages' batches take too.
CONNECTOR_LOCK = Statement("SELECT pg_advisory_xact_lock(%(connector_pk)s)")
# What the database records of the rows a step removes (core_api.record_<ledger>()): the
# revocation's, made by the sweeper, with no sync run or message.
STEP_DECLARATION = Statement(
    """SELECT set_config('well.change', jsonb_build_object(
    'actor', 'sweep',
    'occurred_at', (
        SELECT occurred_at FROM core_api.connector_revocations
        WHERE workspace_connector_pk = %(connector_pk)s
    ),
    'sync_run_id', NULL,
    'message_key', NULL
)::text, true)"""
)
# The part a step sweeps, in ``revocation_sweeps``.
THIS_PART = """workspace_connector_pk = %(connector_pk)s AND record_type = %(record_type)s
    AND direction = %(direction)s::core_api.direction_enum"""


# One step over a ledger: the soft-deletion of up to ``rows`` live rows of the part after its
# cursor (on the walk index, in its order: a ledger's id is time-ordered, so the id alone), the
# cursor's move, and the revocation's count, in one statement answering one ``StepOutcome``.
# The ledger's table and id column are identifiers of its description; every value is a named
# parameter.
SWEEP = """WITH part AS (
  SELECT after_created_at, after_id FROM core_api.revocation_sweeps
  WHERE {this_part} AND NOT done
), batch AS (
  SELECT l.pk, l.created_at, l.{id_column} AS id FROM core_api.{table} l
  WHERE EXISTS (SELECT 1 FROM part)
    AND l.workspace_connector_pk = %(connector_pk)s
    AND l.deleted_at IS NULL
    AND l.direction = %(direction)s::core_api.direction_enum
    AND l.{id_column} > (
      SELECT coalesce(after_id, '00000000-0000-0000-0000-000000000000') FROM part)
  ORDER BY l.{id_column}
  LIMIT %(rows)s
), swept AS (
  UPDATE core_api.{table} l
  SET deleted_at = greatest((SELECT revoked_at FROM core_api.connector_revocations
                             WHERE workspace_connector_pk = %(connector_pk)s), l.created_at)
  FROM batch b
  WHERE l.pk = b.pk AND l.{id_column} = b.id AND l.deleted_at IS NULL
  RETURNING 1
), last AS (
  SELECT created_at, id FROM batch ORDER BY id DESC LIMIT 1
), moved AS (
  UPDATE core_api.revocation_sweeps
  SET after_created_at = coalesce((SELECT created_at FROM last), after_created_at),
      after_id = coalesce((SELECT id FROM last), after_id),
      done = (SELECT count(*) FROM batch) < %(rows)s
  WHERE {this_part} AND NOT done
  RETURNING done
), counted AS (
  UPDATE core_api.connector_revocations
  SET rows_swept = rows_swept + (SELECT count(*) FROM swept),
      swept_at = CASE WHEN coalesce((SELECT done FROM moved), false) AND NOT EXISTS (
                   SELECT 1 FROM core_api.revocation_sweeps o
                   WHERE o.workspace_connector_pk = %(connector_pk)s AND NOT o.done
                     AND NOT (o.record_type = %(record_type)s
                              AND o.direction = %(direction)s::core_api.direction_enum))
                 THEN now() END
  WHERE workspace_connector_pk = %(connector_pk)s AND swept_at IS NULL
  RETURNING swept_at
)
SELECT (SELECT count(*) FROM swept) AS rows,
  coalesce((SELECT done FROM moved), true) AS part_done,
  coalesce((SELECT swept_at IS NOT NULL FROM counted), false) AS revocation_done"""


@lru_cache(maxsize=len(LEDGERS))
def sweep_template(record_type: str) -> Statement:
    """``SWEEP`` over the ledger of ``record_type``."""
    table, _, _ = LEDGERS[record_type]
    return Statement(
        SWEEP.format(this_part=THIS_PART, table=table, id_column=LEDGER_ID_COLUMNS[record_type])
    )


def step(part: SweepPart, *, rows: int = STEP_ROWS) -> Script:
    """One bounded step of ``part``: the connector's lock, then the soft-deletion and the
    cursor's move in one statement that answers one ``StepOutcome``."""
    params = {
        "connector_pk": part.workspace_connector_pk,
        "record_type": part.record_type,
        "direction": part.direction,
    }
    sweep = sweep_template(part.record_type).bind(params | {"rows": rows})
    return Script(
        (
            ScriptPart("lock", CONNECTOR_LOCK.bind(params), "one"),
            ScriptPart("declare", STEP_DECLARATION.bind(params), "one"),
            ScriptPart("sweep", sweep, "one"),
        )
    )


@dataclass
class SweepReport:
    """What a run of the sweeper did."""

    rows: int = 0
    steps: int = 0
    revocations_done: int = 0
    # Parts left when the run stopped for lack of time.
    parts_left: int = 0


def run_step(part: SweepPart, *, pool: Any = None, rows: int = STEP_ROWS) -> StepOutcome:
    script = step(part, rows=rows)
    answer = script.split(connections.execute_past_stalls(script.statements, pool=pool))
    return StepOutcome._make(answer["sweep"][0])


def sweep(
    *,
    pool: Any = None,
    time_left_ms: Callable[[], int] = lambda: 1 << 62,
    rows: int = STEP_ROWS,
) -> SweepReport:
    """Sweep every pending revocation, oldest first, while the invocation has time."""
    report = SweepReport()
    parts = pending_parts(pool=pool)
    for index, part in enumerate(parts):
        while True:
            if time_left_ms() < STEP_BUDGET_MS:
                report.parts_left = len(parts) - index
                return report
            outcome = run_step(part, pool=pool, rows=rows)
            report.steps += 1
            report.rows += int(outcome.rows)
            report.revocations_done += int(outcome.revocation_done)
            if outcome.part_done:
                break
    return report


PENDING_AGE = BoundStatement(
    """SELECT coalesce(extract(epoch FROM now() - min(revoked_at)), 0)::float8
FROM core_api.connector_revocations WHERE swept_at IS NULL"""
)


def pending_age_seconds(*, pool: Any = None) -> float:
    """How long the oldest revocation still being swept has waited (0 when none is)."""
    rows = connections.in_transaction([PENDING_AGE], pool=pool)
    return float(rows[0][0])


__all__ = [
    "STEP_ROWS",
    "SweepPart",
    "SweepReport",
    "pending_age_seconds",
    "pending_parts",
    "run_step",
    "step",
    "sweep",
]
