"""Part of phase ``warm``: what the wall between tenants costs a request (issue #41).

The warm Retrieve's, default List's and Create's SQL as the API role, sent each way ``_ways``
says, taking turns: timed end to end, then in the database's own time (``.database``, from
``pg_stat_activity``). Goals: with the wall against without it, and against the same without
the transaction's settings, <= 1.1x in database time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pg8000.native

from wellapi.roles import API_ROLE
from wellapi.store import connections as wellapi_db
from wellapi.store.sql import BoundStatement
from welldev.bench.api_requests import Case, warm_cases
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase
from welldev.bench.harness import note, returned, taking_turns
from welldev.bench.raw_client import Captured, RawClient, Statements, in_two_messages, proven
from welldev.bench.report import Report

# The wall's and the transaction's settings' price, in the database's time.
GOAL = 1.1
# The openings without the transaction's settings, and with them written into the body.
UNSETTLED_OPENINGS = {False: (wellapi_db.BEGIN,), True: (wellapi_db.BEGIN_READ_ONLY,)}
INLINE = BoundStatement("CALL bench_wall.set_settings_inline()")
INLINE_OPENINGS = {ro: (*begin, INLINE) for ro, begin in UNSETTLED_OPENINGS.items()}
# The settings procedure written once (its values read from a table) against its values written
# into its body: the price of one definition for every server.
WRITTEN_ONCE_GOAL = 1.05
# The warm cases the issue holds to the goal.
CASES = ("retrieve", "list_default", "create")
SCHEMA = "bench_wall"
# Its set_scope_unproven, made there for the API role meanwhile.
UNPROVEN_SCOPE = Path(__file__).with_name("unproven_scope.sql")
# And the transaction's settings with their values written into the body (``inline``).
SETTINGS_INLINE = Path(__file__).with_name("settings_inline.sql")
SCOPE_CALL = "core_api.set_scope("
# The first statement of a pipelined message measured by the database's time: when it came.
MARK = BoundStatement("SELECT statement_timestamp()")


@contextlib.contextmanager
def unproven_scope(bench: BenchDatabase) -> Iterator[None]:
    """``bench_wall.set_scope_unproven`` (``unproven_scope.sql``: a set_scope that takes the
    token itself), in the bench's database for the API role, meanwhile."""
    created = UNPROVEN_SCOPE.read_text(encoding="utf-8")
    inline = SETTINGS_INLINE.read_text(encoding="utf-8")
    with bench.admin() as admin:
        try:
            admin.run(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}; {created}")
            admin.run(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {API_ROLE}")
            admin.run(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {SCHEMA} TO {API_ROLE}")
            admin.run(inline)
            admin.run(f"GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA {SCHEMA} TO {API_ROLE}")
            yield
        finally:
            admin.run(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


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


def measure_wall(report: Report, bench: BenchDatabase, config: Config) -> None:
    """``wall.<case>.<way>``: each case's SQL each way, end to end and in the database's time."""
    with RawClient(bench.api_url) as raw, bench.admin() as observer, unproven_scope(bench):
        turns = (config.warm_iterations, config.warmup)
        for case in warm_cases(bench, CASES):
            name = f"wall.{case.name}"
            for way, ms in taking_turns(_ways(raw, None, case), *turns).items():
                report.figure(f"{name}.{way}", ms, "ms")
            database = taking_turns(_ways(raw, observer, case), *turns, returned)
            db = {w: report.figure(f"{name}.{w}.database", ms, "ms") for w, ms in database.items()}
            report.ratio(name, db["with"].median / db["without"].median, GOAL)
            report.ratio(f"{name}.settings", db["with"].median / db["unsettled"].median, GOAL)
            written_once = db["with"].median / db["inline"].median
            report.ratio(f"{name}.settings_written_once", written_once, WRITTEN_ONCE_GOAL)
            note(report.summary(name))


def _ways(
    raw: RawClient, observer: pg8000.native.Connection | None, case: Case
) -> dict[str, Callable[[], float]]:
    """``case``'s SQL sent on ``raw`` ``with`` the wall, as the function sends it; ``without`` it
    (``unproven_scope.sql``'s scope set from the token itself, which believes any token);
    ``unsettled``, without the transaction's settings; ``inline``, with them written into the
    body (``settings_inline.sql``); in ``two_messages`` (the opening alone, then the proof and
    the statements). Observed, each answers its messages' database time from
    ``raw``'s ``pg_stat_activity`` row (a pipelined one's from its first statement, ``MARK``: the
    view shows only the last); unobserved, 0."""
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

    def two_messages() -> float:
        opened: list[float] = []
        rows = in_two_messages(raw, sent, fresh(), first, lambda: opened.append(since()))
        return sum(opened) + since(rows)

    return {
        "with": proven_by(),
        "without": lambda: since(wellapi_db.send(raw, (*first, *without_wall(sent, fresh())))),
        "unsettled": proven_by(UNSETTLED_OPENINGS[sent.read_only]),
        "inline": proven_by(INLINE_OPENINGS[sent.read_only]),
        "two_messages": two_messages,
    }
