"""``make load``: a locustfile, mixed reads and writes against the local server.

    .venv/bin/locust [--users 8] [--spawn-rate 8] [--run-time 20s] [--database wellapi_load]
                     [--csv .local/load]   # and every flag of ``locust --help``

The defaults are ``[tool.locust]`` in ``pyproject.toml``. The tests do not import this file:
importing locust monkey-patches the process with gevent.

Before locust's clock starts (its ``init`` event) it makes a fresh ``wellapi_load`` database on
the local server (``DATABASE_URL``, or the embedded PostgreSQL in ``.local/pg``) with the demo
data and keys made for the run, serves the template in this process (``welldev.serving``) with
one execution environment per user for every function, has every user run the mix once, then
starts one environment per user for each function the mix reached (Lambda's provisioned
concurrency): locust measures warm requests only.

Each user acts for Acme or Globex (alternately), repeating the mix: List of each ledger with
both relationships included, List of group enrolments, a Retrieve of a seeded row, the
provider catalog of its workspace; select a provider of its own (201), PATCH its
``is_matched`` (200), remove it (204); with the service key, create a ledger row (201) and
delete it (204). Another status, or a body that is not a JSON:API document, is a failure: the
user stops and locust exits 1. The figures are locust's: its table, and its ``--csv`` files
(``.local/load_stats.csv``: the percentiles, by kind and aggregated).
"""

from __future__ import annotations

import itertools
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import pg8000.native
from locust import FastHttpUser, constant, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.exception import StopUser

from welldev import database, seed
from welldev.serving import Served, serving

LOCAL_DIR = Path(__file__).resolve().parents[2] / ".local"
JSONAPI = "application/vnd.api+json"
# Each user gets an execution environment (a process) per function: past this, the machine.
MAX_USERS = 64


@dataclass(frozen=True)
class Tenant:
    """One of the two workspaces: its member key, its service key, ids the mix uses."""

    workspace_id: UUID
    member_key: str
    service_key: str
    account_id: UUID  # a record of the workspace, to write ledger rows about
    workspace_connector_id: UUID
    ledger_row_id: UUID  # a seeded live ledger row, to retrieve
    providers: tuple[UUID, ...]  # one per user, selected and removed by that user only


@dataclass
class Run:
    """What the listeners share: the tenants, the served API, and what stops it."""

    tenants: tuple[Tenant, ...] = ()
    served: Served | None = None
    users: int = 0
    numbers: itertools.count[int] = field(default_factory=itertools.count)
    stack: ExitStack = field(default_factory=ExitStack)


RUN = Run()


def _options(parser: LocustArgumentParser) -> None:
    parser.add_argument("--database", default="wellapi_load", help="created anew on the server")


# ---- the data of a run ---------------------------------------------------------------------------


def _seeded_ledger_row(workspace: str) -> tuple[UUID, UUID, UUID]:
    """A live account ledger row the seed gives ``workspace`` ("acme"): account, connector, id,
    known without reading the database (the seed's public ids are fixed)."""
    account, connector, direction, hours, _ = next(
        link for link in seed.ACCOUNT_LINKS if link[0].startswith(f"{workspace}/") and not link[4]
    )
    row = f"{account}/{connector}/{direction}/{hours}"
    return (
        seed.seed_id("accounts", account),
        seed.seed_id("workspace_connectors", connector),
        seed.seed_id("account_workspace_connectors", row),
    )


def _providers(conn: pg8000.native.Connection, tenant: int, users: int) -> tuple[UUID, ...]:
    """A provider of the catalog per user, so that no two users select the same one."""
    rows = conn.run(
        "INSERT INTO core_api.providers (name, slug, category) "
        "SELECT 'Load provider ' || CAST(:slug AS text) || n, CAST(:slug AS text) || n, 'Finance' "
        "FROM generate_series(1, :users) AS n RETURNING provider_id",
        slug=f"load-{tenant}-",
        users=users,
    )
    return tuple(UUID(str(row[0])) for row in rows)


def prepare(conn: pg8000.native.Connection, users: int) -> tuple[Tenant, ...]:
    """The demo data, and for each demo workspace its keys and a provider per user."""
    tenants = []
    for index, (member, _) in enumerate(seed.seed(conn).members):
        member_key = member.new_key(conn, "member", "load")
        service_key = member.new_key(conn, "service", "load")
        ledger_row = _seeded_ledger_row(member.key)  # account, connector, row
        providers = _providers(conn, index, users)
        tenants.append(Tenant(member.workspace_id, member_key, service_key, *ledger_row, providers))
    return tuple(tenants)


# ---- the mix -------------------------------------------------------------------------------------


def _document(type_name: str, **data: Any) -> dict[str, Any]:
    return {"data": {"type": type_name, **data}}


def problem(status: int, content_type: str, body: bytes, expected: int) -> str | None:
    """What is wrong with an answer the mix expected to be ``expected``, or None."""
    if status != expected:
        return f"answered {status}, expected {expected}: {body[:300]!r}"
    if not body:
        return None
    if not content_type.startswith(JSONAPI):
        return f"answered {content_type!r}, not JSON:API"
    try:
        document = json.loads(body)
    except ValueError:
        return "the reply is not JSON"
    if not isinstance(document, dict) or "data" not in document:
        return "the reply has no primary data"
    return None


class LoadUser(FastHttpUser):
    """One keep-alive connection acting for one tenant; ``cycle`` is one pass of the mix."""

    wait_time = constant(0)
    tenant: Tenant
    provider: UUID

    def on_start(self) -> None:
        number = next(RUN.numbers) % RUN.users
        self.tenant = RUN.tenants[number % 2]
        self.provider = self.tenant.providers[number]

    def call(
        self, kind: str, method: str, path: str, status: int, key: str, body: Any = None
    ) -> Any:
        """The document of the answer; a failure (locust's, by ``kind``) stops the user."""
        headers = {"Authorization": f"Bearer {key}", "Accept": JSONAPI}
        if body is not None:
            headers["Content-Type"] = JSONAPI
        data = None if body is None else json.dumps(body)
        with self.client.request(
            method, path, name=kind, data=data, headers=headers, catch_response=True
        ) as reply:
            content, content_type = reply.content or b"", reply.headers.get("Content-Type", "")
            wrong = problem(reply.status_code, content_type, content, status)
            if wrong is None:
                return json.loads(content) if content else None
            reply.failure(f"{path} {wrong}")
        raise StopUser

    @task
    def cycle(self) -> None:
        self.read()
        self.select_provider()
        self.write_ledger_row()

    def read(self) -> None:
        key, tenant = self.tenant.member_key, self.tenant
        for ledger in ("account", "company", "people"):
            path = f"/v1/{ledger}-workspace-connectors?include={ledger},workspace_connector"
            self.call("list ledger", "GET", f"{path}&page[size]=20", 200, key)
        self.call("list enrolments", "GET", "/v1/workspace-group-workspaces", 200, key)
        retrieve = f"/v1/account-workspace-connectors/{tenant.ledger_row_id}?include=account"
        self.call("retrieve", "GET", retrieve, 200, key)
        catalog = f"/v1/workspaces/{tenant.workspace_id}/providers?page[size]=50"
        self.call("catalog", "GET", catalog, 200, key)

    def select_provider(self) -> None:
        key, path = self.tenant.member_key, f"/v1/workspaces/{self.tenant.workspace_id}/providers"
        linkage = {"provider": _document("provider", id=str(self.provider))}
        body = _document("workspace_provider", relationships=linkage)
        row_id = self.call("select provider", "POST", path, 201, key, body)["data"]["id"]
        patch = _document("workspace_provider", id=row_id, attributes={"is_matched": True})
        self.call("patch provider", "PATCH", f"/v1/workspace-providers/{row_id}", 200, key, patch)
        self.call("remove provider", "DELETE", f"{path}/{self.provider}", 204, key)

    def write_ledger_row(self) -> None:
        tenant, key, path = self.tenant, self.tenant.service_key, "/v1/account-workspace-connectors"
        connector = str(tenant.workspace_connector_id)
        links = {
            "account": _document("account", id=str(tenant.account_id)),
            "workspace_connector": _document("workspace_connector", id=connector),
        }
        body = _document(
            "account_workspace_connector", attributes={"direction": "output"}, relationships=links
        )
        row_id = self.call("create ledger row", "POST", path, 201, key, body)["data"]["id"]
        self.call("delete ledger row", "DELETE", f"{path}/{row_id}", 204, key)


# ---- before and after locust's run ---------------------------------------------------------------


def _serve_and_warm(environment: Environment, **_: Any) -> None:
    """The database, the served API, and a warm mix, before locust's clock starts."""
    options = environment.parsed_options
    assert options is not None
    RUN.users = options.num_users or 1
    if options.csv_prefix:  # locust writes its files there, but makes no directory
        Path(options.csv_prefix).parent.mkdir(parents=True, exist_ok=True)
    if not 1 <= RUN.users <= MAX_USERS:
        raise ValueError(f"--users must be 1-{MAX_USERS}: each is a process per function")
    db = database.prepare(database.resolve(LOCAL_DIR / "pg"), options.database, replace=True)
    with database.admin_connection(db.admin_url) as conn:
        RUN.tenants = prepare(conn, RUN.users)
    RUN.served = RUN.stack.enter_context(serving(db, processes=RUN.users))
    environment.host = LoadUser.host = RUN.served.url
    try:
        _warm_up(environment)
    except BaseException:
        RUN.stack.close()
        raise


def _warm_up(environment: Environment) -> None:
    """Every user's mix once, all at once, then one warm environment per user for each
    function. Locust clears these requests' figures when it starts; a failure ends the run."""
    assert RUN.served is not None
    # Threads are greenlets here (locust has patched the process): the users run together.
    with ThreadPoolExecutor(RUN.users) as users:
        list(users.map(_warm, [LoadUser(environment) for _ in range(RUN.users)]))
    if environment.stats.total.num_failures:
        errors = "; ".join(error.to_name() for error in environment.stats.errors.values())
        raise RuntimeError(f"the warm-up failed: {errors}")
    RUN.served.runtime.provision_used(RUN.users)


def _warm(user: LoadUser) -> None:
    user.on_start()
    with suppress(StopUser):  # the failure is in locust's figures, read next
        user.cycle()


def _stop(environment: Environment, **_: Any) -> None:
    """The served API stopped, after saying how many invocations ran at once."""
    if RUN.served is not None:
        print(
            f"at most {RUN.served.runtime.peak_in_flight} invocations at once, each in an "
            f"environment of its own (up to {RUN.users} per function)"
        )
    RUN.stack.close()
    RUN.served = None


# locust leaves add_listener unannotated.
events.init_command_line_parser.add_listener(_options)  # type: ignore[no-untyped-call]
events.init.add_listener(_serve_and_warm)  # type: ignore[no-untyped-call]
events.quitting.add_listener(_stop)  # type: ignore[no-untyped-call]
