"""Part of phase ``warm``: what the wall between tenants costs a request (issue #41).

The warm Retrieve's, default List's and Create's SQL as the API role, three ways, taking
turns in one run:

- **with the wall**, as the function sends it: a transaction of two messages, the opening that
  asks the proof's context, then the proof (revision 0023), the statements and COMMIT;
- **without it**: the same statements in one message, the scope set from the token itself by
  revision 0014's ``set_scope(token, workspace)``, which believed whatever token text it was
  given (made here in the bench's database only, as ``bench_wall.set_scope_unproven``, and
  dropped after);
- **with revision 0016's spent proof**, the wall before this one: one message opened by a
  single-use proof, inserted into ``well_private.spent_proofs`` and committed before the
  statements (still accepted for the previous release's functions);
- **unsettled**: as with the wall, but opened as before revision 0028, by ``proof_context()``
  alone, which sets none of the transaction's settings: against it, the price of setting every
  setting a session may have changed (goal: at most 1.1x).

Each is timed twice over, in two passes: end to end at the client (the network and pg8000
included: what the Lambda waits), and as the database's own time, each message's from its
receipt to its answer (``state_change - query_start`` of the backend's ``pg_stat_activity``
row, read by an observer between messages; a pipelined message's runs from the receipt of its
first statement, which reads its own ``statement_timestamp()`` for it: ``pg_stat_activity``
shows only a pipeline's last statement). The goal holds the wall's database time to at most
1.1x the statements' without it; the end-to-end figures show the price of the second message's
round trip beside the toll of the spent proof it replaced.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from wellapi.http.proofs import proof_mac
from wellapi.roles import API_ROLE
from wellapi.store.sql import BoundStatement
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase
from welldev.bench.harness import note, taking_turns
from welldev.bench.raw_client import Captured, RawClient, Statements, proven, rendered, replaced
from welldev.bench.report import Report
from welldev.revisions import revision_module

WALL_GOAL = 1.1
SETTINGS_GOAL = 1.1
# The openings before revision 0028: the context asked, no setting set.
UNSETTLED_OPENINGS = {
    False: "BEGIN;SELECT core_api.proof_context()",
    True: "BEGIN READ ONLY;SELECT core_api.proof_context()",
}
# The warm cases the issue holds to the goal.
CASES = ("retrieve", "list_default", "create")
SCHEMA = "bench_wall"
SCOPE_CALL = "core_api.set_scope("
# The first statement of a pipelined message measured by the database's time: when it came.
MARK = BoundStatement("SELECT statement_timestamp()")


def _unproven_set_scope() -> str:
    """Revision 0014's set_scope, which took the token itself, under the bench's own name."""
    body: str = revision_module("0014").SET_SCOPE
    return body.replace(
        "CREATE FUNCTION core_api.set_scope(",
        f"CREATE OR REPLACE FUNCTION {SCHEMA}.set_scope_unproven(",
    )


@contextlib.contextmanager
def unproven_scope(bench: BenchDatabase) -> Iterator[None]:
    """``bench_wall.set_scope_unproven`` in the bench's database, for the API role, meanwhile."""
    admin = bench.admin()
    try:
        admin.run(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        admin.run(_unproven_set_scope())
        admin.run(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {API_ROLE}")
        admin.run(
            f"GRANT EXECUTE ON FUNCTION {SCHEMA}.set_scope_unproven(text, uuid) TO {API_ROLE}"
        )
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


class Observer:
    """The database's own time of a connection's last message, read from another one."""

    def __init__(self, bench: BenchDatabase, raw: RawClient) -> None:
        self.pid = int(raw.rows("SELECT pg_backend_pid()")[1][0][0])
        self.conn = bench.admin()

    def last_ms(self) -> float:
        """A simple query's: from its receipt to its answer."""
        rows = self.conn.run(
            "SELECT extract(epoch FROM state_change - query_start) * 1000 "
            "FROM pg_stat_activity WHERE pid = :pid",
            pid=self.pid,
        )
        return float(rows[0][0])

    def since_ms(self, received: Any) -> float:
        """A pipelined message's, opened by ``MARK`` (which answered ``received``)."""
        rows = self.conn.run(
            "SELECT extract(epoch FROM state_change - CAST(:received AS timestamptz)) * 1000 "
            "FROM pg_stat_activity WHERE pid = :pid",
            pid=self.pid,
            received=received,
        )
        return float(rows[0][0])

    def close(self) -> None:
        self.conn.close()


def measure_wall(
    report: Report,
    bench: BenchDatabase,
    sent: dict[str, tuple[Captured, str | None]],
    config: Config,
) -> None:
    """``wall.<case>``: each case's database time with the wall against without it (goal
    <= 1.1x), and the same end to end; ``sent``: each case's request and the id its Create
    made (a new one for every call)."""
    raw = RawClient(bench.api_url)
    observer = Observer(bench, raw)
    try:
        with unproven_scope(bench):
            for name in CASES:
                request, made = sent[name]
                _measure_case(report, Ways(raw, observer, request, made), name, config)
    finally:
        observer.close()
        raw.close()


class Ways:
    """The three ways of sending a case's SQL, each timed end to end or by the database."""

    def __init__(self, raw: RawClient, observer: Observer, sent: Captured, made: str | None):
        self.raw, self.observer, self.sent, self.made = raw, observer, sent, made

    def _fresh(self) -> tuple[BoundStatement, ...]:
        # The Create's statements make a new row each time, as the function does.
        if self.made is None:
            return self.sent.statements
        return replaced(self.sent.statements, self.made, uuid.uuid4())

    def end_to_end(self) -> dict[str, Callable[[], Any]]:
        return {
            "with": lambda: self.raw.proven_rows(self.sent, self._fresh()),
            "without": lambda: self.raw.send(without_wall(self.sent, self._fresh())),
            "spent_proof": lambda: self.raw.rows(spent_proof(self.sent, self._fresh())),
            "unsettled": lambda: self.raw.proven_rows(
                self.sent, self._fresh(), UNSETTLED_OPENINGS[self.sent.read_only]
            ),
        }

    def database(self, times: dict[str, list[float]]) -> dict[str, Callable[[], Any]]:
        """Calls that add their messages' database time to ``times``."""

        def without() -> None:
            rows = self.raw.send((MARK, *without_wall(self.sent, self._fresh())))[1]
            times["without"].append(self.observer.since_ms(rows[0][0]))

        def spent() -> None:
            self.raw.rows(spent_proof(self.sent, self._fresh()))
            times["spent_proof"].append(self.observer.last_ms())

        def two_messages(way: str, opening: str | None = None) -> Callable[[], None]:
            def call() -> None:
                spent = [0.0]

                def opened() -> None:
                    spent[0] += self.observer.last_ms()

                rows = proven(
                    self.raw.conn, self.sent, self._fresh(), opening, first=(MARK,), opened=opened
                )
                times[way].append(spent[0] + self.observer.since_ms(rows[0][0]))

            return call

        return {
            "with": two_messages("with"),
            "unsettled": two_messages("unsettled", UNSETTLED_OPENINGS[self.sent.read_only]),
            "without": without,
            "spent_proof": spent,
        }


def _measure_case(report: Report, ways: Ways, name: str, config: Config) -> None:
    ends = taking_turns(ways.end_to_end(), config.warm_iterations, config.warmup)
    database: dict[str, list[float]] = {way: [] for way in ends}
    taking_turns(ways.database(database), config.warm_iterations, config.warmup)
    for way in ends:
        # The warm-up's calls are not samples.
        database[way] = database[way][config.warmup :]
    end = {way: report.figure(f"wall.{name}.{way}", ms, "ms") for way, ms in ends.items()}
    db = {
        way: report.figure(f"wall.{name}.{way}.database", ms, "ms") for way, ms in database.items()
    }
    ratio = report.ratio(f"wall.{name}", db["with"].median / db["without"].median, WALL_GOAL)
    settings = report.ratio(
        f"wall.{name}.settings", db["with"].median / db["unsettled"].median, SETTINGS_GOAL
    )
    note(
        f"wall, {name}: the database's time {db['with'].median:.3f} ms with it (two messages), "
        f"{db['without'].median:.3f} ms without: {ratio.value:.2f}x "
        f"(revision 0016's spent proof {db['spent_proof'].median:.3f} ms); end to end "
        f"{end['with'].median:.2f} / {end['without'].median:.2f} / "
        f"{end['spent_proof'].median:.2f} ms; the transaction's settings (revision 0028) "
        f"{settings.value:.2f}x the database's time without them "
        f"({db['unsettled'].median:.3f} ms)"
    )
