"""``make load``: a bounded load run against the local server, mixed reads and writes.

    python -m welldev.load [--duration 20] [--workers 8] [--output .local/load.json]

It builds its own database on the local server (``DATABASE_URL``, or the embedded PostgreSQL
in ``.local/pg``): a fresh ``wellapi_load`` database, migrated, with the demo data and API keys
made for the run. It then serves the template in this process, as ``wellapi run`` does, on an
ephemeral loopback port, with as many execution environments per function as there are
workers, so that concurrent requests do not queue for an environment.

Each worker is a thread with one keep-alive ``http.client`` connection, acting for one of two
workspaces (Acme or Globex, alternately), repeating a fixed mix for the whole duration:

- reads: List of each ledger with both relationships included, List of group enrolments, a
  Retrieve of a seeded row, the provider catalog of the worker's workspace;
- writes: select a provider of the worker's own (201), flip its ``is_matched`` with a PATCH
  (200), remove it (204); and, with the workspace's service key, create a ledger row (201)
  and delete it (204).

Every request expects exactly one status; anything else, a body that is not JSON:API, or a
transport error counts as an error. The run prints throughput and latency percentiles
(p50/p90/p99/max, overall and per kind) and writes them to ``.local/load.json``; it exits 1
when there was any error. A warm-up pass (each kind once per worker) is not measured.

Development only: this package is not shipped in the layer.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import math
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit
from uuid import UUID

import pg8000.native

from wellapi.resources import tables as schema
from wellapi.roles import API_ROLE
from wellapi.store import connections as wellapi_db
from welldev import api_keys, database, seed
from welldev import stack as local_stack
from welldev.authorizers import AuthorizerCache
from welldev.function_roles import connect_functions_as
from welldev.gateway import Gateway
from welldev.lambda_runtime import LambdaRuntime, apply_template_environment
from welldev.server import LocalServer

ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = ROOT / ".local"
JSONAPI = "application/vnd.api+json"
DATABASE_NAME = "wellapi_load"
DEFAULT_DURATION_SECONDS = 20.0
DEFAULT_WORKERS = 8


# ---------------------------------------------------------------------------------------------
# The server, in this process
# ---------------------------------------------------------------------------------------------


@dataclass
class Served:
    server: LocalServer
    gateway: Gateway
    runtime: LambdaRuntime

    @property
    def url(self) -> str:
        return self.server.url


@contextmanager
def serving(
    db: database.LocalDatabase,
    *,
    processes: int = DEFAULT_WORKERS,
    log: TextIO | None = None,
    cache: AuthorizerCache | None = None,
) -> Iterator[Served]:
    """Every route of the template on an ephemeral loopback port, functions connected to ``db``.

    Built as ``wellapi run`` builds it (the template's environment, the key authorizer, the
    functions connecting as ``well_api``), with up to ``processes`` execution environments (each
    a process) per function; 0 serves them in this process, one invocation at a time, for tests
    that look inside a function. On exit the environments are stopped and the process gets
    back its environment, import path and modules (the functions' modules are forgotten), and
    its database connections are closed.
    """
    template = local_stack.load()
    saved_environ = dict(os.environ)
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    connect_functions_as(db, API_ROLE)
    apply_template_environment(template, template.functions.values())
    runtime = LambdaRuntime(template, processes=processes)
    gateway = Gateway(template, runtime, cache=cache, log=log or io.StringIO())
    server = LocalServer(gateway, "127.0.0.1", 0, log=log or io.StringIO())
    thread = server.start_in_thread()
    try:
        yield Served(server, gateway, runtime)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        runtime.close()
        os.environ.clear()
        os.environ.update(saved_environ)
        sys.path[:] = saved_path
        functions = str(ROOT / "functions")
        for name in set(sys.modules) - saved_modules:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(functions):
                del sys.modules[name]
        wellapi_db.reset_pools()


# ---------------------------------------------------------------------------------------------
# The data of a run
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    """One of the two workspaces: its member key, its service key, ids the mix uses."""

    name: str
    workspace_id: UUID
    member_key: str
    service_key: str
    account_id: UUID  # a record of the workspace, to write ledger rows about
    workspace_connector_id: UUID
    ledger_row_id: UUID  # a seeded live ledger row, to retrieve
    providers: tuple[UUID, ...]  # one per worker, selected and removed by that worker only


def _one(conn: pg8000.native.Connection, sql: str, **params: Any) -> list[Any]:
    return list(conn.run(sql, **params)[0])


def _seeded_ledger_row(workspace: str) -> tuple[UUID, UUID, UUID]:
    """A live account ledger row the seed gives ``workspace`` ("acme"): account, connector, id.

    The seed's public ids are fixed, so they are read from its rows, not from the database.
    """
    row = next(
        row
        for row in seed.demo_rows(datetime.now(UTC))
        if row.table is schema.account_workspace_connectors
        and row.key.startswith(f"{workspace}/")
        and row.columns["deleted_at"] is None
    )
    account, connector = row.columns["account_pk"], row.columns["workspace_connector_pk"]
    return (
        seed.seed_id(account.table.name, account.key),
        seed.seed_id(connector.table.name, connector.key),
        row.public_id,
    )


def prepare(
    conn: pg8000.native.Connection, workers: int, run_tag: str | None = None
) -> tuple[Tenant, Tenant]:
    """The demo data, and for each demo workspace its keys and a provider per worker."""
    demo = seed.seed(conn)
    tag = run_tag or f"{os.getpid()}-{time.time_ns()}"
    tenants = []
    for index, (member, _) in enumerate(demo.members):
        workspace_id, person_id = member.workspace_id, member.person_id
        _, member_key = api_keys.create_key(
            conn, person_id=person_id, workspace_id=workspace_id, kind="member", name="load"
        )
        _, service_key = api_keys.create_key(
            conn, person_id=person_id, workspace_id=workspace_id, kind="service", name="load"
        )
        account_id, connector_id, row_id = _seeded_ledger_row(member.key)
        providers = tuple(
            UUID(
                str(
                    _one(
                        conn,
                        "INSERT INTO core_api.providers (name, slug, category) "
                        "VALUES (:n, :s, 'Finance') RETURNING provider_id",
                        n=f"Load provider {index}-{worker}",
                        s=f"load-{tag}-{index}-{worker}",
                    )[0]
                )
            )
            for worker in range(workers)
        )
        tenants.append(
            Tenant(
                member.name,
                workspace_id,
                member_key,
                service_key,
                account_id,
                connector_id,
                row_id,
                providers,
            )
        )
    return tenants[0], tenants[1]


# ---------------------------------------------------------------------------------------------
# The mix
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    kind: str
    method: str
    target: str
    status: int  # the one status this request must get
    key: str
    body: dict[str, Any] | None = None


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str


class MixError(Exception):
    """A reply the mix did not expect."""


def _document(type_name: str, **data: Any) -> dict[str, Any]:
    return {"data": {"type": type_name, **data}}


def _linkage(type_name: str, row_id: UUID | str) -> dict[str, Any]:
    return {"data": {"type": type_name, "id": str(row_id)}}


class Worker:
    """One client connection acting for one tenant; ``cycle`` is one pass of the mix."""

    def __init__(self, base_url: str, tenant: Tenant, provider: UUID) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.tenant = tenant
        self.provider = provider
        self.connection: http.client.HTTPConnection | None = None

    def send(self, call: Call) -> Reply:
        headers = {"Authorization": f"Bearer {call.key}", "Accept": JSONAPI}
        body = None
        if call.body is not None:
            body = json.dumps(call.body).encode()
            headers["Content-Type"] = JSONAPI
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.connection.request(call.method, call.target, body=body, headers=headers)
                response = self.connection.getresponse()
                data = response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.close()
                return Reply(response.status, data, response.getheader("Content-Type", ""))
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed between requests: reconnect once.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def check(self, call: Call, reply: Reply) -> dict[str, Any] | None:
        if reply.status != call.status:
            raise MixError(
                f"{call.kind}: {call.method} {call.target} answered {reply.status}, "
                f"expected {call.status}: {reply.body[:300]!r}"
            )
        if not reply.body:
            return None
        if not reply.content_type.startswith(JSONAPI):
            raise MixError(f"{call.kind}: answered {reply.content_type!r}, not JSON:API")
        document = json.loads(reply.body)
        if not isinstance(document, dict) or "data" not in document:
            raise MixError(f"{call.kind}: the reply has no primary data")
        return document

    def cycle(self, record: Callable[[str, float, str | None], None]) -> None:
        t = self.tenant
        ws = t.workspace_id

        def run(call: Call) -> dict[str, Any] | None:
            started = time.perf_counter()
            try:
                document = self.check(call, self.send(call))
            except (MixError, OSError, http.client.HTTPException, ValueError) as error:
                record(call.kind, time.perf_counter() - started, f"{type(error).__name__}: {error}")
                raise
            record(call.kind, time.perf_counter() - started, None)
            return document

        member, service = t.member_key, t.service_key
        for ledger in ("account", "company", "people"):
            run(
                Call(
                    "list ledger",
                    "GET",
                    f"/v1/{ledger}-workspace-connectors?include={ledger},workspace_connector"
                    "&page[size]=20",
                    200,
                    member,
                )
            )
        run(Call("list enrolments", "GET", "/v1/workspace-group-workspaces", 200, member))
        run(
            Call(
                "retrieve",
                "GET",
                f"/v1/account-workspace-connectors/{t.ledger_row_id}?include=account",
                200,
                member,
            )
        )
        run(Call("catalog", "GET", f"/v1/workspaces/{ws}/providers?page[size]=50", 200, member))
        selected = run(
            Call(
                "select provider",
                "POST",
                f"/v1/workspaces/{ws}/providers",
                201,
                member,
                _document(
                    "workspace_provider",
                    relationships={"provider": _linkage("provider", self.provider)},
                ),
            )
        )
        assert selected is not None
        row_id = selected["data"]["id"]
        run(
            Call(
                "patch provider",
                "PATCH",
                f"/v1/workspace-providers/{row_id}",
                200,
                member,
                _document("workspace_provider", id=row_id, attributes={"is_matched": True}),
            )
        )
        run(
            Call(
                "remove provider",
                "DELETE",
                f"/v1/workspaces/{ws}/providers/{self.provider}",
                204,
                member,
            )
        )
        created = run(
            Call(
                "create ledger row",
                "POST",
                "/v1/account-workspace-connectors",
                201,
                service,
                _document(
                    "account_workspace_connector",
                    attributes={"direction": "output"},
                    relationships={
                        "account": _linkage("account", t.account_id),
                        "workspace_connector": _linkage(
                            "workspace_connector", t.workspace_connector_id
                        ),
                    },
                ),
            )
        )
        assert created is not None
        run(
            Call(
                "delete ledger row",
                "DELETE",
                f"/v1/account-workspace-connectors/{created['data']['id']}",
                204,
                service,
            )
        )


# ---------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The nearest-rank percentile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    # The smallest value with at least ``fraction`` of the values at or below it (the rounding
    # keeps 0.9 * 100 from reading as 90.00000000000001).
    rank = max(1, min(len(sorted_values), math.ceil(round(fraction * len(sorted_values), 9))))
    return sorted_values[rank - 1]


def latency_summary(seconds: list[float]) -> dict[str, float | int]:
    values = sorted(seconds)
    ms = [v * 1000 for v in values]
    return {
        "count": len(values),
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p90_ms": round(percentile(ms, 0.90), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(ms[-1], 2) if ms else 0.0,
    }


@dataclass
class Recorder:
    measuring: bool = False
    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            if error is not None:
                self.errors.append(error)
            elif self.measuring:
                self.samples.setdefault(kind, []).append(seconds)


@dataclass(frozen=True)
class LoadConfig:
    duration_seconds: float = DEFAULT_DURATION_SECONDS
    workers: int = DEFAULT_WORKERS


def run_load(
    base_url: str,
    tenants: tuple[Tenant, Tenant],
    config: LoadConfig,
    warmed: Callable[[], None] = lambda: None,
) -> dict[str, Any]:
    """Drive the mix from ``config.workers`` threads for the duration; the summary.

    ``warmed`` runs after the warm-up pass, before the measure starts.
    """
    recorder = Recorder()
    workers = [
        Worker(base_url, tenants[i % 2], tenants[i % 2].providers[i]) for i in range(config.workers)
    ]
    warm = threading.Barrier(config.workers + 1)
    stop = threading.Event()
    cycles = [0] * config.workers

    def drive(index: int) -> None:
        worker = workers[index]
        try:
            try:
                worker.cycle(recorder)  # warm-up: imports, connections, authorizer cache
            finally:
                warm.wait(timeout=120)
            while not stop.is_set():
                worker.cycle(recorder)
                cycles[index] += 1
        except Exception as error:
            # The error is recorded; a worker whose mix broke stops (its row state is unknown).
            if not recorder.errors:
                recorder.errors.append(f"{type(error).__name__}: {error}")
        finally:
            worker.close()

    threads = [
        threading.Thread(target=drive, args=(i,), name=f"load-{i}", daemon=True)
        for i in range(config.workers)
    ]
    for thread in threads:
        thread.start()
    warm.wait(timeout=120)
    warmed()
    recorder.measuring = True
    started = time.perf_counter()
    time.sleep(config.duration_seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    elapsed = time.perf_counter() - started
    all_samples = [s for values in recorder.samples.values() for s in values]
    reads = [s for k, v in recorder.samples.items() if _is_read(k) for s in v]
    return {
        "duration_s": round(elapsed, 2),
        "workers": config.workers,
        "requests": len(all_samples),
        "errors": len(recorder.errors),
        "error_samples": recorder.errors[:10],
        "throughput_rps": round(len(all_samples) / elapsed, 1) if elapsed else 0.0,
        "read_share": round(len(reads) / len(all_samples), 3) if all_samples else 0.0,
        "cycles": sum(cycles),
        "latency": latency_summary(all_samples),
        "by_kind": {kind: latency_summary(v) for kind, v in sorted(recorder.samples.items())},
    }


def _is_read(kind: str) -> bool:
    return kind.startswith(("list", "retrieve", "catalog"))


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


def format_summary(summary: dict[str, Any]) -> str:
    lines = [
        f"{summary['requests']} requests in {summary['duration_s']} s from "
        f"{summary['workers']} workers: {summary['throughput_rps']} req/s, "
        f"{summary['errors']} errors ({summary['read_share']:.0%} reads)",
        f"{'kind':<20}{'count':>8}{'p50 ms':>10}{'p90 ms':>10}{'p99 ms':>10}{'max ms':>10}",
    ]
    rows = [("all", summary["latency"]), *summary["by_kind"].items()]
    for kind, stats in rows:
        lines.append(
            f"{kind:<20}{stats['count']:>8}{stats['p50_ms']:>10}{stats['p90_ms']:>10}"
            f"{stats['p99_ms']:>10}{stats['max_ms']:>10}"
        )
    if "peak_concurrent_invocations" in summary:
        lines.append(
            f"at most {summary['peak_concurrent_invocations']} invocations at once, each in an "
            f"environment of its own (up to {summary['environments_per_function']} per function)"
        )
    lines += [f"error: {e}" for e in summary["error_samples"]]
    return "\n".join(lines)


def run(
    server: database.LocalDatabase,
    config: LoadConfig,
    *,
    name: str = DATABASE_NAME,
    log: TextIO | None = None,
) -> dict[str, Any]:
    """The whole run on ``server``: database, data, the served API, the load, the summary."""
    db = database.prepare(server, name, replace=True)  # a fresh database for every run
    conn = database.admin_connection(db.admin_url)
    try:
        tenants = prepare(conn, config.workers)
    finally:
        conn.close()
    environments = max(1, config.workers)
    with serving(db, processes=environments, log=log) as served:
        # As many warm environments as workers for every function of the mix, so that the
        # figures are of warm requests: Lambda's provisioned concurrency.
        summary = run_load(
            served.url,
            tenants,
            config,
            warmed=lambda: served.runtime.provision_used(environments),
        )
        peak = served.runtime.peak_in_flight
    return {
        "machine": machine(),
        "environments_per_function": environments,
        # Invocations that ran at once, each in its own environment: up to one per worker.
        "peak_concurrent_invocations": peak,
        **summary,
    }


def main(argv: list[str] | None = None, server: database.LocalDatabase | None = None) -> int:
    """The command; ``server`` replaces ``DATABASE_URL`` / the embedded server (tests)."""
    parser = argparse.ArgumentParser(
        prog="python -m welldev.load",
        description=(__doc__ or "").split("\n\n")[0],
    )
    parser.add_argument("--duration", type=float, default=DEFAULT_DURATION_SECONDS)
    parser.add_argument("--workers", type=int, default=DEFAULT_WORKERS)
    parser.add_argument("--output", type=Path, default=LOCAL_DIR / "load.json")
    parser.add_argument("--database", default=DATABASE_NAME, help="created anew on the server")
    args = parser.parse_args(argv)
    if not 1 <= args.workers <= 64 or args.duration <= 0:
        parser.error("--workers must be 1-64 and --duration positive")
    print("==> preparing the load database and serving the API in this process", file=sys.stderr)
    server = server or database.resolve(LOCAL_DIR / "pg")
    print(f"==> {args.workers} workers for {args.duration:g} s", file=sys.stderr)
    config = LoadConfig(args.duration, args.workers)
    summary = run(server, config, name=args.database)
    print(format_summary(summary))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"==> written to {args.output}", file=sys.stderr)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
