"""What SQL running as an application role can leave in its session, and the work served after.

A warm execution environment keeps one connection per role (``wellapi.store.connections``) and
serves every tenant on it. SQL that ran as the role on that connection (``plant``) may leave
session state behind: settings, temporary objects, role defaults, prepared statements, cursors,
locks. ``serve`` then does a fixed piece of every worker's work through the real handlers (the
authorizer, reads, writes, the operator, a sync batch, the sweeper, the drainer) on the
environment's connections, and answers what a client and the database saw of it, normalised
so that two runs on fresh tenants compare equal when they behaved alike (``Normaliser``).
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import boto3
import pg8000.dbapi
import pg8000.native
from moto import mock_aws

from tests.support import factories as f
from tests.support import majors, sqs
from tests.support import sync as s
from tests.support import writes as w
from tests.support.api import Lambda, Reply, call, event, get, related
from tests.support.cross_tenant import authorize
from tests.support.tenancy import settled
from wellapi.handlers import drain as drain_handler
from wellapi.handlers import operator
from wellapi.handlers.sweep import sweep_once
from wellapi.handlers.sync import sync_handler
from wellapi.http.principal import SCOPE_TOKEN_CLAIM
from wellapi.roles import API_ROLE, APP_ROLES, AUTH_ROLE, DRAIN_ROLE, OPERATOR_ROLE, SYNC_ROLE
from wellapi.store import connections as db
from wellapi.sync import drainer
from welldev import api_keys

# The environment's pool of each application role.
POOLS = {
    API_ROLE: "api",
    SYNC_ROLE: "sync",
    AUTH_ROLE: "auth",
    DRAIN_ROLE: "drain",
    OPERATOR_ROLE: operator.POOL,
}
REGION = "eu-west-1"
BUS = "well-changes"
# Names with characters outside ASCII and outside LATIN1: an encoding planted shows.
NAMES = {
    "workspace": "Café Ünïcode ✓",
    "account": "Compte épargne ✓",
    "provider": "Fournisseur ✓",
    "group": "Groupe ✓",
    "person": "Zoë Ünïcode ✓",
}


# ---- planting state on the environment's own connection ------------------------------------


def plant(role: str, *statements: str) -> None:
    """Each statement, one message at a time, on the connection the handlers of ``role`` reuse,
    as SQL running as that role would: it must succeed (a refusal raises)."""
    with db.get_pool(POOLS[role]).connection() as connection:
        cursor = connection.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()


def refused(role: str, statement: str) -> str | None:
    """The SQLSTATE with which the database refuses ``statement`` on ``role``'s connection;
    None when it ran."""
    try:
        plant(role, statement)
    except pg8000.dbapi.DatabaseError as error:
        plant(role, "ROLLBACK")  # outside a transaction only a warning
        return str(error.args[0].get("C"))
    return None


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# What the attacker's statements under our names answer, were they ever run: nothing, so that
# every read, write and batch they served would answer otherwise.
NOT_OURS = "SELECT WHERE false"


def names_held(role: str) -> list[tuple[str, str]]:
    """The names ``role``'s session holds our statements under (every one a Parse message
    made), each with its parameters' types as the session has them (as ``PREPARE`` declares
    them)."""
    with db.get_pool(POOLS[role]).connection() as connection:
        cursor = connection.cursor()
        try:
            cursor.execute(
                "SELECT name, array_to_string(parameter_types, ', ') FROM pg_prepared_statements "
                "WHERE NOT from_sql ORDER BY name"
            )
            return [(str(name), str(types)) for name, types in cursor.fetchall()]
        finally:
            cursor.close()


def subvert_names(role: str) -> int:
    """Put a statement of SQL's own under each name ``role``'s connection holds one of ours
    (``DEALLOCATE`` ours, ``PREPARE`` another with the same parameters' types); how many."""
    held = names_held(role)
    for name, types in held:
        plant(role, f"DEALLOCATE {name}", f"PREPARE {name}({types}) AS {NOT_OURS}")
    return len(held)


# ---- hostile values of every setting a role may change ------------------------------------------

# Values no rule derives: strings, and integers whose extremes are not the hostile ones (a
# timeout's minimum, 0, turns it off; its hostile value is the smallest that is on).
EXPLICIT: dict[str, list[str]] = {
    "DateStyle": ["SQL, DMY", "German, DMY", "Postgres, YMD"],
    "TimeZone": ["Pacific/Chatham", "America/St_Johns", "Asia/Kathmandu"],
    "IntervalStyle": ["sql_standard", "iso_8601", "postgres_verbose"],
    "search_path": ["", "core_api, pg_catalog", "pg_temp, core_api, public"],
    "client_encoding": ["LATIN1", "SQL_ASCII", "EUC_JP"],
    "lc_monetary": ["C"],
    "lc_numeric": ["C"],
    "lc_time": ["C"],
    "application_name": ["spy"],
    "default_text_search_config": ["pg_catalog.simple"],
    "timezone_abbreviations": ["Australia", "India"],
    "restrict_nonsystem_relation_kind": ["view", "foreign-table", "view, foreign-table"],
    "statement_timeout": ["1"],
    "lock_timeout": ["1"],
    "idle_in_transaction_session_timeout": ["1"],
    "transaction_timeout": ["1"],
    # A pool of two billion chromosomes is no setting, it is a hang: kept within reason.
    "geqo_pool_size": ["2", "64"],
    "geqo_generations": ["1", "64"],
}
# A setting that ends the session when it is idle takes every other plant of a profile with
# it: it is planted alone (``DANGEROUS`` in the tests).
ALONE = frozenset({"idle_session_timeout"})
# Not session state: a transaction's own characteristics (``SET`` outside a transaction has no
# effect, and ``transaction_deferrable`` refuses it); libraries loaded and objects named only at
# a session's start or on creating objects, which these roles may not do, each with one value.
NOT_PLANTED = frozenset(
    {
        "transaction_isolation",
        "transaction_read_only",
        "transaction_deferrable",
        "local_preload_libraries",
        "default_table_access_method",
        "default_tablespace",
        "temp_tablespaces",
        "createrole_self_grant",
        "default_toast_compression",
    }
)
# Planted last: after them the session refuses or cancels the plants that would follow.
LAST = (
    "default_transaction_read_only",
    "exit_on_error",
    "search_path",
    "client_encoding",
    "transaction_timeout",
    "idle_in_transaction_session_timeout",
    "lock_timeout",
    "statement_timeout",
)


@dataclass(frozen=True)
class Setting:
    name: str
    vartype: str
    value: str
    low: str | None
    high: str | None
    enumvals: list[str]

    def hostile(self) -> list[str]:
        """Every value of this setting a test plants, none of them the current one."""
        if self.name in EXPLICIT:
            return EXPLICIT[self.name]
        if self.vartype == "bool":
            return ["off" if self.value == "on" else "on"]
        if self.vartype == "enum":
            return [v for v in self.enumvals if v != self.value]
        if self.vartype in ("integer", "real"):
            return [v for v in dict.fromkeys((self.low, self.high)) if v and v != self.value]
        return []


def user_settings(admin: pg8000.native.Connection) -> list[Setting]:
    """Every setting a role may change in its own session, as this server lists them."""
    rows = admin.run(
        "SELECT name, vartype, setting, min_val, max_val, coalesce(enumvals, '{}') "
        "FROM pg_settings WHERE context = 'user' ORDER BY name"
    )
    return [Setting(str(r[0]), str(r[1]), str(r[2]), r[3], r[4], list(r[5])) for r in rows]


def profile(settings: list[Setting], k: int) -> list[tuple[str, str]]:
    """Every setting (but ``ALONE`` and ``NOT_PLANTED``) at its ``k``-th hostile value (they
    repeat once a setting has no more), ``LAST`` last."""
    chosen = [
        (s.name, s.hostile()[k % len(s.hostile())])
        for s in settings
        if s.hostile() and s.name not in ALONE | NOT_PLANTED
    ]
    return sorted(chosen, key=lambda item: LAST.index(item[0]) if item[0] in LAST else -1)


def profiles_needed(settings: list[Setting]) -> int:
    return max(len(s.hostile()) for s in settings if s.name not in ALONE | NOT_PLANTED)


def set_statement(name: str, value: str) -> str:
    """``SET`` of a value, a list setting's items as a list."""
    if name == "search_path":
        return f"SET search_path = {value or literal('')}"
    return f"SET {name} = {literal(value)}"


def set_config_statement(name: str, value: str) -> str:
    return f"SELECT set_config({literal(name)}, {literal(value)}, false)"


def role_default_statement(database: str, name: str, value: str) -> str:
    """The role's own default for every later session in ``database``."""
    scope = f"ALTER ROLE CURRENT_USER IN DATABASE {database}"
    return set_statement(name, value).replace("SET ", f"{scope} SET ", 1)


def unrecognized_by_every_role(statement: str) -> bool:
    """Whether the server refuses ``statement`` to every application role as naming a setting
    it lacks: an attack through that setting has nothing to act through on that major."""
    return all(refused(role, statement) == majors.UNRECOGNIZED for role in APP_ROLES)


# ---- the roles' defaults, put back ---------------------------------------------------------


# The application roles' defaults in the test's own database. Those for every database are
# shared with the other test workers' databases: never read back and put again (a copy taken
# while another worker's test planted one would plant it again), only cleared, as the
# deployment declares none.
ROLE_SETTINGS = (
    "FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole "
    "WHERE r.rolname = ANY(:roles) AND s.setdatabase = "
    "(SELECT oid FROM pg_database WHERE datname = current_database())"
)
EVERY_DATABASE_SETTINGS = (
    "DELETE FROM pg_db_role_setting s USING pg_roles r "
    "WHERE r.oid = s.setrole AND r.rolname = ANY(:roles) AND s.setdatabase = 0"
)


def role_settings(admin: pg8000.native.Connection) -> list[list[Any]]:
    """The application roles' defaults in this database, as the catalog holds them."""
    return list(
        admin.run(f"SELECT setdatabase, setrole, setconfig {ROLE_SETTINGS}", roles=list(APP_ROLES))
    )


def restore_role_settings(admin: pg8000.native.Connection, kept: list[list[Any]]) -> None:
    """Put back what ``role_settings`` read, and clear every database's: whatever a role set
    for itself since is gone."""
    admin.run(
        "DELETE FROM pg_db_role_setting WHERE (setdatabase, setrole) IN "
        f"(SELECT s.setdatabase, s.setrole {ROLE_SETTINGS})",
        roles=list(APP_ROLES),
    )
    admin.run(EVERY_DATABASE_SETTINGS, roles=list(APP_ROLES))
    for database, role, config in kept:
        admin.run(
            "INSERT INTO pg_db_role_setting VALUES (:d, :r, CAST(:c AS text[]))",
            d=database,
            r=role,
            c=config,
        )


# ---- normalised answers ---------------------------------------------------------------------

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
# An instant in any of the forms the server or the API may print one: its digits are masked,
# its shape (order, separators, offset) kept, so a date style or time zone planted shows.
INSTANT = re.compile(
    r"\d{2,4}[-/.]\d\d[-/.]\d{2,4}[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?: ?(?:Z|[+-]\d\d(?::?\d\d)?))?"
)
# A change record's place in the feed (``<xid>-<pk>``), and a link's cursor.
PLACE_TEXT = re.compile(r"\d+-\d+")
CURSOR = re.compile(r"(page\[(?:after|before)\]|cursor)=([A-Za-z0-9_-]+)")
# Members whose value is a place in an order that differs per run (a transaction id, a key).
PLACES = frozenset({"event_id", "position", "sequence", "pk", "xid"})
# Members that say how long something waited: a figure of the run, not of the code.
DURATIONS = frozenset({"lag_seconds"})
# Members that hash what differs per run (a message's idempotency key), or are drawn at random
# (an API key's prefix).
HASHES = frozenset({"fingerprint", "prefix"})


class Normaliser:
    """Replaces what differs between two runs on fresh tenants by what it stands for: each id
    by its order of first appearance, an instant by its shape, a key or a place in an order by
    its order among the values of its member, a cursor by what it holds."""

    def __init__(self, *seen: UUID) -> None:
        self.ids: dict[str, str] = {}
        self.places: dict[tuple[str, str], str] = {}
        for known in seen:
            self.text(str(known))

    def _paired(self, value: dict[str, Any]) -> dict[str, Any]:
        """A change's rows (``ids``) and their records (``record_ids``), pair by pair, in the
        order of the records: a statement may list one batch's rows in any order."""
        ids, records = value.get("ids"), value.get("record_ids")
        if not (isinstance(ids, list) and isinstance(records, list) and len(ids) == len(records)):
            return value
        pairs = sorted(zip(ids, records, strict=True), key=lambda p: self._order(p[1]))
        return value | {"ids": [p[0] for p in pairs], "record_ids": [p[1] for p in pairs]}

    def _order(self, record_id: Any) -> int:
        token = self.text(str(record_id))
        return int(token[4:-1]) if token.startswith("<id ") else -1

    def _id(self, match: re.Match[str]) -> str:
        return self.ids.setdefault(match.group(0).lower(), f"<id {len(self.ids)}>")

    def _instant(self, match: re.Match[str]) -> str:
        # A fraction of a second is printed only when there is one (a ledger's created_at is to
        # the millisecond: one in a thousand is a whole second), so its absence is no shape.
        seconds = re.sub(r"(\d\d:\d\d:\d\d)(?:\.\d+)?", r"\1.F", match.group(0), count=1)
        return re.sub(r"\d", "9", seconds)

    def text(self, value: str, key: str = "") -> str:
        if PLACE_TEXT.fullmatch(value):
            return self.place(value, key)
        value = CURSOR.sub(self._cursor, value)
        value = UUID_TEXT.sub(self._id, value)
        return INSTANT.sub(self._instant, value)

    def _cursor(self, match: re.Match[str]) -> str:
        token = match.group(2)
        try:
            held = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        except ValueError:
            return f"{match.group(1)}=<{token}>"
        return f"{match.group(1)}=<{json.dumps(self(held, 'cursor'), ensure_ascii=False)}>"

    def place(self, value: Any, key: str) -> str:
        places = sum(1 for k, _ in self.places if k == key)
        return self.places.setdefault((key, str(value)), f"<{key} {places}>")

    def __call__(self, value: Any, key: str = "") -> Any:
        if value is None:
            return None
        if key in PLACES or key.endswith("_pk"):
            return self.place(value, key)
        if key in DURATIONS:
            return type(value).__name__
        if key in HASHES:
            return "<hash>"
        if isinstance(value, dict):
            return {k: self(v, k) for k, v in self._paired(value).items()}
        if isinstance(value, (list, tuple)):
            return [self(v, key) for v in value]
        if isinstance(value, str):
            return self.text(value, key)
        return value


def answered(reply: Reply) -> dict[str, Any]:
    return {"status": reply.status, "body": reply.json if reply.body else None}


# ---- a world, and every worker's work on it --------------------------------------------------


@dataclass
class World:
    """One tenant's rows, every name fixed, so that two worlds differ in their ids only."""

    tenant: f.Tenant
    key: str
    link_id: UUID
    account_ids: list[UUID]
    selection_id: UUID
    removed_provider_id: UUID
    group_id: UUID
    revoked_connector_pk: int
    revoked_connector_id: UUID


def provider(admin: pg8000.native.Connection, name: str) -> tuple[int, UUID]:
    pk, pid = admin.run(
        "INSERT INTO core_api.providers (name, slug, url, category, popularity_score) "
        "VALUES (:n, :s, 'https://example.com', 'Finance', 42) RETURNING pk, provider_id",
        n=name,
        s=f"provider-{uuid4()}",
    )[0]
    return int(pk), UUID(str(pid))


def arrange(admin: pg8000.native.Connection) -> World:
    t = f.tenant(admin, NAMES["workspace"])
    _, key = api_keys.create_key(
        admin, person_id=t.person_id, workspace_id=t.workspace_id, kind="member", name="spy"
    )
    accounts = [t.account(account_name=f"{NAMES['account']} {n}") for n in range(4)]
    link_id = f.provenance(
        admin, "account_workspace_connectors", accounts[0][0], t.workspace_connector_pk
    )
    kept_pk, _ = provider(admin, NAMES["provider"] + " 1")
    removed_pk, removed_id = provider(admin, NAMES["provider"] + " 2")
    selection_id = f.workspace_provider(
        admin, t.workspace_pk, kept_pk, selected=False, matched=False
    )
    f.workspace_provider(admin, t.workspace_pk, removed_pk)
    group_pk, group_id = f.group(admin, NAMES["group"])
    f.group_member(admin, group_pk, t.person_pk, "owner")
    revoked_pk, revoked_id = t.workspace_connector()
    for account_pk, _ in accounts[2:]:
        f.provenance(admin, "account_workspace_connectors", account_pk, revoked_pk)
    return World(
        t,
        key,
        link_id,
        [a[1] for a in accounts],
        selection_id,
        removed_id,
        group_id,
        revoked_pk,
        revoked_id,
    )


def reads(world: World, claims: dict[str, str]) -> dict[str, Any]:
    resource = "account_workspace_connectors"
    return {
        "list": answered(get(resource, claims, query="include=account,workspace_connector")),
        "retrieve": answered(
            get(resource, claims, row_id=str(world.link_id), query="include=account")
        ),
        "related": answered(related(resource, claims, str(world.link_id), "account")),
        "providers": answered(get("workspace_providers", claims, query="include=provider")),
    }


def writes(world: World, claims: dict[str, str]) -> dict[str, Any]:
    t = world.tenant
    service = t.claims("service")
    resource = "account_workspace_connectors"
    linked = w.provenance_document(resource, world.account_ids[1], t.workspace_connector_id)
    matched = w.document(
        "workspace_provider", row_id=world.selection_id, attributes={"is_matched": True}
    )
    return {
        "create": answered(w.post(resource, service, linked)),
        "update": answered(w.patch("workspace_providers", claims, world.selection_id, matched)),
        "remove": answered(w.remove(claims, t.workspace_id, world.removed_provider_id)),
        "enrol": answered(
            w.enrol(claims, world.group_id, w.enrolment_document(None, t.workspace_id))
        ),
    }


def operator_work(world: World) -> dict[str, Any]:
    """A person added to the world's workspace, a key issued to it and revoked, through the
    operator's handler; the key itself left out (no output may hold one)."""
    workspace = str(world.tenant.workspace_id)
    person = {"workspace_id": workspace, "full_name": NAMES["person"], "role": "admin"}
    added = operator.handle({"action": "add_person", **person}, None)
    issue = {"workspace_id": workspace, "person_id": added.get("person_id"), "kind": "member"}
    issued = operator.handle({"action": "issue_key", **issue, "name": "spied"}, None)
    revoked = operator.handle({"action": "revoke_key", "key": str(issued.get("api_key_id"))}, None)
    answers = {"add person": added, "issue key": issued, "revoke key": revoked}
    return {step: {k: v for k, v in a.items() if k != "key"} for step, a in answers.items()}


def sync_batch(world: World) -> list[dict[str, Any]]:
    """Links, an unlink and a revocation, as the queue delivers them: the messages that failed."""
    t = world.tenant
    bodies = (
        s.linked(t.workspace_connector_id, world.account_ids[2:], sync_run_id="spied"),
        s.unlinked(
            t.workspace_connector_id,
            world.account_ids[2:3],
            sync_run_id="spied",
            occurred_at=s.at(1),
        ),
        s.revoked(world.revoked_connector_id, occurred_at=s.at(2)),
    )
    ev = sqs.event(*bodies)
    failed = sqs.failed_ids(sync_handler()(ev, Lambda(remaining_ms=120_000)))
    return [json.loads(r["body"])["type"] for r in ev["Records"] if r["messageId"] in failed]


def feed(claims: dict[str, str]) -> Reply:
    return call("changes", "feed", event("GET", "/v1/changes", claims=claims))


def forever() -> int:
    return 1 << 40


class Bus:
    """Moto's EventBridge bus, a rule on it delivering every change event to a queue."""

    def __init__(self) -> None:
        self.events = boto3.client("events", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.events.create_event_bus(Name=BUS)
        self.url = self.sqs.create_queue(QueueName="changes")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])
        pattern = json.dumps({"source": [drainer.SOURCE]})
        self.events.put_rule(Name="all", EventBusName=BUS, EventPattern=pattern)
        target = {"Id": "queue", "Arn": arn["Attributes"]["QueueArn"]}
        self.events.put_targets(Rule="all", EventBusName=BUS, Targets=[target])

    def received(self, workspace_id: UUID) -> list[dict[str, Any]]:
        found = []
        while messages := self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                found.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
        mine = [e for e in found if e["detail"]["workspace_id"] == str(workspace_id)]
        return sorted((e["detail"] for e in mine), key=lambda d: d["sequence"])


@contextmanager
def moto_bus() -> Iterator[Bus]:
    """Moto's EventBridge, with fake credentials (the caller's monkeypatch sets them)."""
    with mock_aws():
        yield Bus()


# What moto needs in the environment.
AWS_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


ROWS = {
    "ledger": "SELECT to_jsonb(x) - 'pk' FROM core_api.account_workspace_connectors x "
    "JOIN core_api.workspace_connectors c ON c.pk = x.workspace_connector_pk "
    "WHERE c.workspace_pk = :w ORDER BY x.account_pk, x.workspace_connector_pk, x.pk",
    "selections": "SELECT to_jsonb(x) - 'pk' FROM core_api.workspace_providers x "
    "WHERE x.workspace_pk = :w ORDER BY x.pk",
    "enrolments": "SELECT to_jsonb(x) - 'pk' FROM core_api.workspace_group_workspaces x "
    "WHERE x.workspace_pk = :w ORDER BY x.pk",
    "changes": "SELECT to_jsonb(x) - 'recorded_at' - 'pk' FROM core_api.change_records x "
    "WHERE x.workspace_pk = :w ORDER BY x.xid::text::bigint, x.pk",
    "receipts": "SELECT to_jsonb(r) - 'idempotency_key' - 'received_at' "
    "FROM core_api.sync_receipts r JOIN core_api.workspace_connectors c "
    "ON c.pk = r.workspace_connector_pk WHERE c.workspace_pk = :w ORDER BY r.occurred_at",
}


def rows_written(admin: pg8000.native.Connection, world: World) -> dict[str, Any]:
    """Every row of the tenant the work wrote, as the admin reads them."""
    return {
        name: [r[0] for r in admin.run(sql, w=world.tenant.workspace_pk)]
        for name, sql in ROWS.items()
    }


Plant = Callable[[World], None]


def nothing(world: World) -> None:
    """The baseline's plant."""


def serve(admin: pg8000.native.Connection, bus: Bus, planted: Plant = nothing) -> dict[str, Any]:
    """Arrange a world, ``planted`` on the environment's connections, then every worker's work
    on it through the handlers: what each answered and every row it wrote, normalised."""
    # What other tests left pending is not this work's to sweep or send.
    s.sweep_what_others_left()
    admin.run("UPDATE core_api.change_records SET sent_at = now() WHERE sent_at IS NULL")
    world = arrange(admin)
    planted(world)
    claims = authorize(world.key)
    # The token's person, expiry and signature differ per run; the requests after prove it.
    token = claims.get(SCOPE_TOKEN_CLAIM, "").split(".")
    out: dict[str, Any] = {"claims": claims | {SCOPE_TOKEN_CLAIM: token[:1] + token[2:3]}}
    out |= reads(world, claims)
    out |= writes(world, claims)
    out["operator"] = operator_work(world)
    out["sync failed"] = sync_batch(world)
    out["sweep"] = {k: v for k, v in sweep_once(time_left_ms=forever).items() if "seconds" not in k}
    settled(admin)
    out["feed"] = answered(feed(claims))
    out["drain"] = drain_handler.drain_once(client=bus.events, bus=BUS, time_left_ms=forever)
    out["events"] = bus.received(world.tenant.workspace_id)
    out["rows"] = rows_written(admin, world)
    # The world's own ids numbered first: a step that failed does not renumber the rest.
    known = (
        world.tenant.workspace_id,
        world.tenant.person_id,
        world.tenant.workspace_connector_id,
        world.revoked_connector_id,
        *world.account_ids,
        world.link_id,
        world.selection_id,
        world.removed_provider_id,
        world.group_id,
    )
    return Normaliser(*known)(out)


def outcomes(served: dict[str, Any]) -> dict[str, Any]:
    """Each step's outcome alone: a status, the messages that failed, what was sent."""
    return {
        step: value["status"] if isinstance(value, dict) and "status" in value else value
        for step, value in served.items()
        if step not in ("claims", "feed", "events", "rows")
    } | {"feed": served.get("feed", {}).get("status")}


def differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Where two normalised answers differ, each as its path and both values (the first few)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found = []
        for k in sorted(expected.keys() | actual.keys()):
            found += differences(expected.get(k), actual.get(k), f"{path}/{k}")
        return found
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for i, (a, b) in enumerate(zip(expected, actual, strict=True))
            for d in differences(a, b, f"{path}/{i}")
        ]
    if expected == actual:
        return []
    return [f"{path}: expected {str(expected)[:300]}, got {str(actual)[:300]}"]
