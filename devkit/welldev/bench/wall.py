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
  statements (still accepted for the previous release's functions).

The goal holds the wall to at most 1.1x the statements without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import uuid
from collections.abc import Iterator

from wellapi.http.principal import SCOPE_TOKEN_CLAIM
from wellapi.http.proofs import proof_mac
from wellapi.roles import API_ROLE
from wellapi.store.templates import to_literal
from welldev.bench.config import Config
from welldev.bench.databases import BenchDatabase
from welldev.bench.harness import note, taking_turns
from welldev.bench.raw_client import Captured, RawClient
from welldev.bench.report import Report
from welldev.revisions import migrations_dir

WALL_GOAL = 1.1
# The warm cases the issue holds to the goal.
CASES = ("retrieve", "list_default", "create")
SCHEMA = "bench_wall"
SCOPE_CALL = "core_api.set_scope("


def _unproven_set_scope() -> str:
    """Revision 0014's set_scope, which took the token itself, under the bench's own name."""
    path = migrations_dir() / "versions" / "0014_signed_scope.py"
    spec = importlib.util.spec_from_file_location("bench_revision_0014", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    body: str = module.SET_SCOPE
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


def _token(sent: Captured) -> str:
    claims = sent.event["requestContext"]["authorizer"]["lambda"]
    return str(claims[SCOPE_TOKEN_CLAIM])


def without_wall(sent: Captured, sql: str) -> str:
    """The request's statements in one message, the scope set from the token itself."""
    if sql.count(SCOPE_CALL) != 1:
        raise ValueError("the request's statements have no scope statement to replace")
    return sql.replace(SCOPE_CALL, f"{SCHEMA}.set_scope_unproven({to_literal(_token(sent))}, ")


def spent_proof(sent: Captured, sql: str) -> str:
    """The statements in one message opened as revision 0016 opened them: a single-use proof
    of the token over a fresh nonce and the SHA-256 of the rest, spent in its own transaction."""
    body, _, mac = _token(sent).rpartition(".")
    nonce = str(uuid.uuid4())
    digest = hashlib.sha256(sql.encode()).hexdigest()
    signature = proof_mac(bytes.fromhex(mac), f"proof|{body}|{nonce}|{digest}")
    proof = f"{body}.{nonce}.{signature}"
    return f"BEGIN;CALL core_api.spend_scope_proof('{proof}');COMMIT;{sql}"


def measure_wall(
    report: Report,
    bench: BenchDatabase,
    sent: dict[str, tuple[Captured, str | None]],
    config: Config,
) -> None:
    """``wall.<case>``: each case's SQL with the wall against without it (goal <= 1.1x);
    ``sent``: each case's request and the id its Create made (a new one for every call)."""
    raw = RawClient(bench.api_url)
    try:
        with unproven_scope(bench):
            for name in CASES:
                request, made = sent[name]
                _measure_case(report, raw, name, request, made, config)
    finally:
        raw.close()


def _measure_case(
    report: Report, raw: RawClient, name: str, sent: Captured, made: str | None, config: Config
) -> None:
    def fresh() -> str:
        return sent.sql if made is None else sent.sql.replace(made, str(uuid.uuid4()))

    samples = taking_turns(
        {
            "with": lambda: raw.proven_rows(sent, fresh()),
            "without": lambda: raw.rows(without_wall(sent, fresh())),
            "spent_proof": lambda: raw.rows(spent_proof(sent, fresh())),
        },
        config.warm_iterations,
        config.warmup,
    )
    stats = {way: report.figure(f"wall.{name}.{way}", ms, "ms") for way, ms in samples.items()}
    ratio = report.ratio(f"wall.{name}", stats["with"].median / stats["without"].median, WALL_GOAL)
    spent = stats["spent_proof"].median / stats["without"].median
    note(
        f"wall, {name}: {stats['with'].median:.2f} ms with it (two messages), "
        f"{stats['without'].median:.2f} ms without: {ratio.value:.2f}x; revision 0016's "
        f"spent proof {stats['spent_proof'].median:.2f} ms: {spent:.2f}x"
    )
