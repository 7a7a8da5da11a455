"""Part of phase ``warm``: what the wall between tenants costs a request (issue #41).

The warm Retrieve's, default List's and Create's SQL as the API role, four ways, taking turns:

- **with the wall**, as the function sends it: a transaction of one message, BEGIN and the
  transaction's settings, the proof (revision 0030), the statements and COMMIT;
- **without it**: the same statements in one message, the scope set from the token itself by
  revision 0014's ``set_scope(token, workspace)``, which believed any token text (made here,
  in the bench's database only, as ``bench_wall.set_scope_unproven``, and dropped after);
- **with revision 0016's spent proof**, the wall before this one: one message opened by a
  single-use proof, spent in its own transaction before the statements;
- **unsettled**: as with the wall, but opened by BEGIN alone, without the transaction's
  settings (revision 0028): the settings' price (goal <= 1.1x);
- **in two messages**, as the previous release sent it (revision 0023, still believed): the
  opening asks the transaction's context, then a proof bound to it, the statements and COMMIT:
  what the one message saves.

Each is timed in two passes: end to end at the client (what the Lambda waits), and as the
database's own time, each message's from its receipt to its answer (``state_change -
query_start`` in ``pg_stat_activity``, read by an observer after the message, which would slow
the first pass; a pipelined message's from its first statement's own
``statement_timestamp()``, since the view shows only a pipeline's last statement). The goal
holds the wall's database time to at most 1.1x the statements' without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pg8000.native

from wellapi.http.proofs import proof_mac
from wellapi.roles import API_ROLE
from wellapi.store import connections as wellapi_db
from wellapi.store.sql import BoundStatement
from welldev.bench.api_requests import Case, warm_cases
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase, remove_created_rows
from welldev.bench.harness import note, returned, taking_turns
from welldev.bench.raw_client import (
    Captured,
    RawClient,
    Statements,
    in_two_messages,
    proven,
    rendered,
)
from welldev.bench.report import Report
from welldev.revisions import revision_module

WALL_GOAL = 1.1
SETTINGS_GOAL = 1.1
# The openings without the transaction's settings (revision 0028).
UNSETTLED_OPENINGS = {False: (wellapi_db.BEGIN,), True: (wellapi_db.BEGIN_READ_ONLY,)}
# The warm cases the issue holds to the goal.
CASES = ("retrieve", "list_default", "create")
SCHEMA = "bench_wall"
SCOPE_CALL = "core_api.set_scope("
# The first statement of a pipelined message measured by the database's time: when it came.
MARK = BoundStatement("SELECT statement_timestamp()")


@contextlib.contextmanager
def unproven_scope(bench: BenchDatabase) -> Iterator[None]:
    """``bench_wall.set_scope_unproven``, revision 0014's set_scope (which took the token
    itself) under the bench's own name, in the bench's database for the API role, meanwhile."""
    created: str = revision_module("0014").SET_SCOPE.replace(
        "CREATE FUNCTION core_api.set_scope(", f"CREATE FUNCTION {SCHEMA}.set_scope_unproven("
    )
    admin = bench.admin()
    try:
        admin.run(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}; {created}")
        admin.run(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {API_ROLE}")
        admin.run(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {SCHEMA} TO {API_ROLE}")
        yield
    finally:
        admin.run(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        admin.close()


def without_wall(sent: Captured, statements: Statements) -> tuple[BoundStatement, ...]:
    """The request's statements (one message), the scope set from the token itself: bound to
    one more parameter."""
    if sum(s.text.count(SCOPE_CALL) for s in statements) != 1:
        raise ValueError("the request's statements have no scope statement to replace")
    unproven = []
    for s in statements:
        if SCOPE_CALL in s.text:
            token = f"{SCHEMA}.set_scope_unproven(${len(s.values) + 1}, "
            s = BoundStatement(s.text.replace(SCOPE_CALL, token), (*s.values, sent.token))
        unproven.append(s)
    return tuple(unproven)


def spent_proof(sent: Captured, statements: Statements) -> str:
    """The statements in one simple query opened as revision 0016 opened them: a single-use
    proof of the token over a fresh nonce and the SHA-256 of the rest (the statements' text,
    their values written in, as the functions of that revision sent them), spent in its own
    transaction."""
    sql = ";".join(rendered(s) for s in statements)
    body, _, mac = sent.token.rpartition(".")
    nonce = str(uuid.uuid4())
    digest = hashlib.sha256(sql.encode()).hexdigest()
    signature = proof_mac(bytes.fromhex(mac), f"proof|{body}|{nonce}|{digest}")
    proof = f"{body}.{nonce}.{signature}"
    return f"BEGIN;CALL core_api.spend_scope_proof('{proof}');COMMIT;{sql}"


def measure_wall(report: Report, bench: BenchDatabase, config: Config) -> None:
    """``wall.<case>``: each case's database time with the wall against without it (goal
    <= 1.1x), and the same end to end."""
    raw, observer = RawClient(bench.api_url), bench.admin()
    try:
        with unproven_scope(bench):
            for case in warm_cases(bench, CASES):
                turns = (config.warm_iterations, config.warmup)
                ends = taking_turns(_ways(raw, None, case), *turns)
                database = taking_turns(_ways(raw, observer, case), *turns, returned)
                _report(report, case.name, ends, database)
    finally:
        observer.close()
        raw.close()
        remove_created_rows(bench)


def _ways(
    raw: RawClient, observer: pg8000.native.Connection | None, case: Case
) -> dict[str, Callable[[], float]]:
    """The four ways of sending ``case``'s SQL on ``raw``. Observed, each answers its messages'
    database time, read by ``observer`` from ``raw``'s backend's ``pg_stat_activity`` row: a
    simple query's from its receipt, a pipelined one's from what its first statement, ``MARK``,
    answered; unobserved, 0."""
    sent, fresh = case.sent, case.fresh
    first = () if observer is None else (MARK,)

    def since(rows: list[list[Any]] | None = None) -> float:
        if observer is None:
            return 0.0
        start = "query_start" if rows is None else "CAST(:received AS timestamptz)"
        ((ms,),) = observer.run(
            f"SELECT extract(epoch FROM state_change - {start}) * 1000 "
            "FROM pg_stat_activity WHERE pid = :pid",
            pid=raw.pid,
            received=None if rows is None else rows[0][0],
        )
        return float(ms)

    def proven_by(opening: Statements = ()) -> Callable[[], float]:
        return lambda: since(proven(raw, sent, fresh(), opening, first))

    def spent() -> float:
        raw.run(spent_proof(sent, fresh()))
        return since()

    def two_messages() -> float:
        opened: list[float] = []
        rows = in_two_messages(raw, sent, fresh(), first, lambda: opened.append(since()))
        return sum(opened) + since(rows)

    return {
        "with": proven_by(),
        "without": lambda: since(wellapi_db.send(raw, (*first, *without_wall(sent, fresh())))),
        "spent_proof": spent,
        "unsettled": proven_by(UNSETTLED_OPENINGS[sent.read_only]),
        "two_messages": two_messages,
    }


def _report(
    report: Report, name: str, ends: dict[str, list[float]], database: dict[str, list[float]]
) -> None:
    end = {way: report.figure(f"wall.{name}.{way}", ms, "ms") for way, ms in ends.items()}
    db = {
        way: report.figure(f"wall.{name}.{way}.database", ms, "ms") for way, ms in database.items()
    }
    ratio = report.ratio(f"wall.{name}", db["with"].median / db["without"].median, WALL_GOAL)
    settings = report.ratio(
        f"wall.{name}.settings", db["with"].median / db["unsettled"].median, SETTINGS_GOAL
    )
    note(
        f"wall, {name}: the database's time {db['with'].median:.3f} ms with it (one message), "
        f"{db['without'].median:.3f} ms without: {ratio.value:.2f}x "
        f"(revision 0016's spent proof {db['spent_proof'].median:.3f} ms); end to end "
        f"{end['with'].median:.2f} / {end['without'].median:.2f} / "
        f"{end['spent_proof'].median:.2f} ms; the transaction's settings (revision 0028) "
        f"{settings.value:.2f}x the database's time without them "
        f"({db['unsettled'].median:.3f} ms); in two messages, as the previous release sent it, "
        f"{end['two_messages'].median:.2f} ms end to end, the database's time "
        f"{db['two_messages'].median:.3f} ms"
    )
