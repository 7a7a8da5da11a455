"""The three writings of the tenancy rule, each asked the same question on the same data.

- ``api_rows``: what the API answers, through the real List and Retrieve handlers (the
  composed statements, RLS and all), for the principal's claims.
- ``query_rows``: the engine's own scope condition (``wellapi.sqltext.reads.scope_condition``,
  the one every read statement is built with), run by the admin, whom row-level security ignores.
- ``rls_rows``: what row-level security alone shows the API role with the signed scope set and
  no WHERE clause at all.
- ``writer_verdicts``: for the ledgers, which (connector, record) links the real sync writer
  takes and in which workspace; ``ApiRole.attempt`` with ``link_insert``, which of them the
  policies let a member scope insert; ``api_link_verdicts``, which the API's create takes.
- ``api_create`` with ``ApiRole.attempt``: which enrolments and provider selections the API's
  rules (their modules' conditions, ``wellapi.resources.*_sql``) and the policies let a
  principal create.

``disagreements`` and ``link_disagreements`` compare them and name every row or link on which
they differ; the tests assert they find nothing on the real rules, and something on rules
altered on purpose.

``query_rows`` and ``rls_rows`` name each row asked about and count the others they admit
(``Admitted``): every row of the table, other tests' tenants included, is read, but only the
count of those others is sent back, so that a comparison's cost does not grow with what the
rest of the suite left in its database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol
from uuid import UUID

import pg8000.native

from tests.support import sync as sy
from tests.support.api import JSONAPI, Lambda, event
from tests.support.proven import SignedScope
from tests.support.tenancy_world import Principal, World
from wellapi.errors import sqlstate_of
from wellapi.handlers.api import api_handler
from wellapi.http.principal import SCOPE_TOKEN_CLAIM
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import RESOURCES
from wellapi.resources.conditions import qualified
from wellapi.resources.ledgers import LEDGER_RESOURCES
from wellapi.roles import API_ROLE
from wellapi.sqltext.reads import scope_condition, with_parents
from wellapi.sqltext.text import select, template
from wellapi.store import connections as db
from wellapi.store.sql import BoundStatement
from wellapi.sync import batches as writer
from wellapi.sync.messages import parse_message
from welldev.claims import claims as signed_claims

Rows = dict[UUID, bool]  # public id -> live
POLICY_REFUSED = "42501"
ScopeCondition = Callable[..., Any]


class Admitted(dict[UUID, bool]):
    """Of the rows a rule admits: each one asked about (public id -> live), and how many
    others (``elsewhere``), soft-deleted ones included.

    A service scope admits the whole table: sent row by row, a few hundred thousand rows
    that other tests left would hold the API role's read past its statement timeout."""

    elsewhere: int = 0


def _admitted(rows: list[list[Any]]) -> Admitted:
    """``rows`` as ``grouped`` returns them (after any row of another shape)."""
    admitted = Admitted()
    for row in rows:
        if len(row) == 4 and row[0] == "row":
            _, row_id, is_live, count = row
            if row_id is None:
                admitted.elsewhere = int(count)
            else:
                admitted[UUID(str(row_id))] = bool(is_live)
    return admitted


def grouped(source: str, within: Collection[UUID]) -> str:
    """The rows of ``source`` (an ``id`` and a ``live`` column): one per id in ``within``,
    and one of every other row together, its id null and its count theirs."""
    ids = "{" + ",".join(str(row_id) for row_id in within) + "}"
    return (
        f"SELECT 'row', CASE WHEN id = ANY(CAST('{ids}' AS uuid[])) THEN id END, "
        f"bool_and(live), count(*) FROM {source} GROUP BY 2"
    )


@dataclass(frozen=True)
class Scope:
    """A principal's claims, signed once (each ``claims`` call makes another caller)."""

    principal: Principal
    claims: dict[str, str]

    @property
    def signed(self) -> SignedScope:
        """The token and the workspace: what a proof of a transaction opens the scope with."""
        return SignedScope(self.claims[SCOPE_TOKEN_CLAIM], self.principal.workspace[1])


def sign(admin: pg8000.native.Connection, principal: Principal) -> Scope:
    return Scope(
        principal,
        signed_claims(admin, principal.person[1], principal.workspace[1], principal.kind),
    )


# ---- the API, as the application runs it ----------------------------------------------------


@cache
def _handler(resource: str, operation: str) -> Any:
    return api_handler(resource, OPERATIONS[operation])


def _call(resource: str, scope: Scope, row_id: UUID | None = None) -> tuple[int, Any]:
    """One GET through the function's handler, called directly: hundreds of probes, whose
    links the suite's link walker (``tests.support.api.invoke``) need not follow."""
    base = "/v1/" + resource.replace("_", "-")
    if row_id is None:
        ev = event("GET", base, query="page[size]=500", claims=scope.claims)
        result = _handler(resource, "list")(ev, Lambda())
    else:
        ev = event(
            "GET",
            f"{base}/{row_id}",
            claims=scope.claims,
            path_parameters={"id": str(row_id)},
            route=base + "/{id}",
        )
        result = _handler(resource, "retrieve")(ev, Lambda())
    return int(result["statusCode"]), json.loads(result.get("body") or "null")


@dataclass(frozen=True)
class ApiRows:
    listed: frozenset[UUID]
    retrieved: frozenset[UUID]  # of the probed rows, those Retrieve answers with 200
    statuses: frozenset[int]  # every status the API answered


def api_rows(resource: str, scope: Scope, probe: Rows) -> ApiRows:
    status, body = _call(resource, scope)
    statuses = {status}
    listed: set[UUID] = set()
    if status == 200:
        assert not (body.get("links") or {}).get("next"), "more than one page: grow page[size]"
        listed = {UUID(item["id"]) for item in body["data"]}
    retrieved: set[UUID] = set()
    for row_id in probe:
        status, _ = _call(resource, scope, row_id)
        statuses.add(status)
        if status == 200:
            retrieved.add(row_id)
    return ApiRows(frozenset(listed), frozenset(retrieved), frozenset(statuses))


# ---- the engine's scope condition, with row-level security out of the way ----------------


def query_rows(
    admin: pg8000.native.Connection,
    resource: str,
    scope: Scope,
    condition: ScopeCondition = scope_condition,
    *,
    within: Collection[UUID],
) -> Admitted:
    """Every row (soft-deleted ones too: RLS does not look at ``deleted_at``) the resource's
    scope condition admits for the scope, joined to its parents as every read joins them:
    each of ``within`` by its id, the others counted.

    A scope that does not resolve admits nothing, as in the application: ``check_scope``
    answers 403 for the statement's first row before any row of the read is used.
    """
    r = RESOURCES[resource]
    joined = with_parents(r, qualified(r.table.name), "t")
    service = scope.principal.kind == "service"
    columns = [f"t.{r.id_column} AS id", "t.deleted_at IS NULL AS live"]
    admits = template(select(columns, joined, [condition(r, "t", service=service)])).bind()
    statement = BoundStatement(grouped(f"({admits.text}) AS admitted", within), admits.values)
    try:
        resolved = scope.signed.open(admin)[0] is not None
        rows: list[Any] = db.send(admin, [statement])
    finally:
        admin.run("ROLLBACK")
    if not resolved:
        return Admitted()
    return _admitted(rows)


# ---- row-level security alone ------------------------------------------------------------


class ApiRole(Protocol):
    """Runs SQL as ``well_api`` in a scope: a script (statements separated by ``;\n``) in one
    transaction, whose first row is the scope's, or a write attempt."""

    def script(self, scope: Scope, sql: str) -> list[list[Any]]: ...

    def attempt(self, scope: Scope, statement: str) -> str: ...


class LoginRole:
    """The API's own pool (the role's login, as in production) and a plain connection of it."""

    def __init__(self, conn: pg8000.native.Connection) -> None:
        self.conn = conn

    def script(self, scope: Scope, sql: str) -> list[list[Any]]:
        """``sql``'s statements after ``set_scope``, in one transaction opened by a proof of
        it, as the API sends a request (``db.execute(..., prove=...)``: one message,
        pipelined)."""
        signed = scope.signed
        statements = [BoundStatement(s) for s in sql.split(";\n")]
        return db.execute([signed.statement, *statements], prove=signed.prove)

    def attempt(self, scope: Scope, statement: str) -> str:
        """``statement`` after ``set_scope``, rolled back: ``outcome`` of it."""
        try:
            scope.signed.open(self.conn)
            return outcome(self.conn.run(statement))
        except pg8000.native.DatabaseError as error:
            return sqlstate_of(error) or "?"
        finally:
            self.conn.run("ROLLBACK")


class AssumedRole:
    """``SET LOCAL ROLE well_api`` inside the admin's open transaction, each use under a
    savepoint: sees what the transaction changed (a policy altered on purpose, never
    committed).

    The scope is opened as the API opens it, inside the admin's transaction: as ``well_api``,
    a proof of the token for that transaction's context, then ``set_scope``."""

    def __init__(self, admin: pg8000.native.Connection) -> None:
        self.admin = admin

    def _under_savepoint(self, scope: Scope, statements: list[str]) -> list[list[Any]]:
        """The rows of ``statements`` (after the scope's own), under a savepoint."""
        self.admin.run("SAVEPOINT as_api")
        try:
            rows: list[list[Any]] = []
            self.admin.run(f"SET LOCAL ROLE {API_ROLE}")
            signed = scope.signed
            db.send(self.admin, [signed.prove(), signed.statement])
            for statement in statements:
                rows += self.admin.run(statement) or []
            return rows
        finally:
            self.admin.run("ROLLBACK TO SAVEPOINT as_api")

    def script(self, scope: Scope, sql: str) -> list[list[Any]]:
        return self._under_savepoint(scope, sql.split(";\n"))

    def attempt(self, scope: Scope, statement: str) -> str:
        try:
            return outcome(self._under_savepoint(scope, [statement]))
        except pg8000.native.DatabaseError as error:
            return sqlstate_of(error) or "?"


def outcome(rows: list[list[Any]] | None) -> str:
    """A write attempt that raised nothing: "ok" if it wrote a row (every write statement
    here says ``RETURNING 1``), "no row" if its conditions (the policies' USING, say) let it
    find none."""
    return "ok" if rows else "no row"


def rls_rows(role: ApiRole, resource: str, scope: Scope, within: Collection[UUID]) -> Admitted:
    """Every row the policies let the API role read with the scope set, and no WHERE: each of
    ``within`` by its id, the others counted."""
    r = RESOURCES[resource]
    every_row = (
        f"(SELECT {r.id_column} AS id, deleted_at IS NULL AS live FROM core_api.{r.table.name})"
    )
    return _admitted(role.script(scope, grouped(f"{every_row} AS admitted", within)))


# ---- the comparison ------------------------------------------------------------------------


def _diff(what: str, left: set[UUID] | Rows, right: set[UUID] | Rows) -> list[str]:
    a, b = set(left), set(right)
    found = []
    if a - b:
        found.append(f"{what}: {len(a - b)} more on the left, e.g. {sorted(map(str, a - b))[:3]}")
    if b - a:
        found.append(f"{what}: {len(b - a)} more on the right, e.g. {sorted(map(str, b - a))[:3]}")
    if isinstance(left, dict) and isinstance(right, dict):
        flips = [k for k in a & b if left[k] != right[k]]
        if flips:
            found.append(f"{what}: liveness differs on {sorted(map(str, flips))[:3]}")
    return found


def live(rows: Rows) -> set[UUID]:
    return {row_id for row_id, is_live in rows.items() if is_live}


def disagreements(
    resource: str, scope: Scope, api: ApiRows, query: Admitted, rls: Admitted, probed: Rows
) -> list[str]:
    """Where the three say different things of ``resource`` for ``scope``; empty when equal.

    - the query's condition and the policies admit the same rows, soft-deleted ones included;
    - Retrieve answers exactly the live rows the policies admit, of every row probed;
    - a member's List shows exactly the live rows the policies admit, and the policies admit
      no row but the probed ones, so a row of any other tenant (another test's too) would show;
      a service's List reads one workspace or the parents it names, a part of what it may see;
    - a scope that does not resolve is refused (403) and shows nothing anywhere.
    """
    p = scope.principal
    where = f"{resource} for {p.label}"
    found = _diff(f"{where}: query (left) vs RLS (right)", query, rls)
    if query.elsewhere != rls.elsewhere:
        found.append(
            f"{where}: unprobed rows, {query.elsewhere} by the query, {rls.elsewhere} by RLS"
        )
    found += _diff(
        f"{where}: API Retrieve (left) vs RLS (right)", set(api.retrieved), live(rls) & set(probed)
    )
    if p.kind == "member":
        found += _diff(f"{where}: API List (left) vs RLS (right)", set(api.listed), live(rls))
        if rls.elsewhere:
            found.append(f"{where}: RLS admits {rls.elsewhere} rows of no probed workspace")
    elif not api.listed <= live(rls):
        found.append(f"{where}: the service's List shows rows RLS does not")
    expected_statuses = {200, 404} if p.resolves else {403}
    if not api.statuses <= expected_statuses:
        found.append(f"{where}: the API answered {sorted(api.statuses)}")
    if not p.resolves and (query or rls or query.elsewhere or rls.elsewhere):
        found.append(f"{where}: an unresolved scope admits rows")
    return found


# ---- the sync writer and the ledger links --------------------------------------------------

Pair = tuple[str, str]  # (connector label, record label)


def writer_verdicts(
    world: World, record_type: str, message_type: str
) -> dict[Pair, writer.Planned | None]:
    """What the real writer makes of one message per link (``resolve`` for the whole batch,
    then ``check`` per message, as the sync function does): the plan, or None if rejected."""
    pairs = world.pairs(record_type)
    build = sy.linked if message_type == "provenance.linked" else sy.unlinked
    messages = [
        parse_message(
            json.dumps(
                build(
                    world.connectors[c][1],
                    [world.records[record_type][r][1]],
                    record_type=record_type,
                    direction="output",
                )
            )
        )
        for c, r in pairs
    ]
    resolution = writer.resolve(messages, pool=db.get_pool("sync"))
    verdicts: dict[Pair, writer.Planned | None] = {}
    for pair, message in zip(pairs, messages, strict=True):
        try:
            verdicts[pair] = writer.check(message, resolution)
        except writer.Rejected:
            verdicts[pair] = None
    return verdicts


def document(
    resource: str,
    relationships: dict[str, tuple[str, UUID]],
    attributes: dict[str, Any] | None = None,
    row_id: UUID | None = None,
) -> dict[str, Any]:
    """A JSON:API document of ``resource``: what a create (or, with ``row_id``, an update)
    sends."""
    data: dict[str, Any] = {"type": RESOURCES[resource].type, "attributes": attributes or {}}
    if row_id is not None:
        data["id"] = str(row_id)
    if relationships:
        data["relationships"] = {
            name: {"data": {"type": kind, "id": str(parent_id)}}
            for name, (kind, parent_id) in relationships.items()
        }
    return {"data": data}


OPERATION = {"POST": "create", "PATCH": "update", "DELETE": "delete"}


def api_request(
    resource: str,
    scope: Scope,
    method: str,
    row_id: UUID | None = None,
    body: dict[str, Any] | None = None,
) -> int:
    """The status the API answers a write, through the real handler (a 2xx commits)."""
    base = "/v1/" + resource.replace("_", "-")
    ev = event(
        method,
        base if row_id is None else f"{base}/{row_id}",
        claims=scope.claims,
        body=None if body is None else json.dumps(body),
        headers={"content-type": JSONAPI},
        path_parameters=None if row_id is None else {"id": str(row_id)},
        route=None if row_id is None else base + "/{id}",
    )
    return int(_handler(resource, OPERATION[method])(ev, Lambda())["statusCode"])


def api_create(
    resource: str,
    scope: Scope,
    relationships: dict[str, tuple[str, UUID]],
    attributes: dict[str, Any] | None = None,
) -> int:
    """The status the API's create answers (201 writes the row)."""
    return api_request(resource, scope, "POST", body=document(resource, relationships, attributes))


def api_link_verdicts(world: World, ledger: str, scope: Scope) -> dict[Pair, int]:
    """What the API's create (``wellapi.resources.ledgers_sql``: parents visible,
    ``same_workspace``) answers a service key for every link."""
    record_type = RESOURCES[ledger].scope_relationships[0]
    return {
        (c, r): api_create(
            ledger,
            scope,
            {
                record_type: (record_type, world.records[record_type][r][1]),
                "workspace_connector": ("workspace_connector", world.connectors[c][1]),
            },
            {"direction": "output"},
        )
        for c, r in world.pairs(record_type)
    }


def link_insert(world: World, ledger: str, record_type: str, pair: Pair) -> str:
    """The row the API role inserts for a link, as its create writes it."""
    c, r = pair
    return (
        f"INSERT INTO core_api.{ledger} ({record_type}_pk, workspace_connector_pk, direction) "
        f"VALUES ({world.records[record_type][r][0]}, {world.connectors[c][0]}, 'output') "
        "RETURNING 1"
    )


def link_disagreements(
    world: World,
    record_type: str,
    unlinking: dict[Pair, int | None],
    linking: set[Pair],
    rls_admits: set[Pair],
    schema_admits: set[Pair],
) -> list[str]:
    """Where the writer, the policies and the schema differ on the ledger's links.

    ``unlinking``: the workspace pk the writer acts in for each link an unlink may name (None:
    rejected), judged on tenancy alone; ``linking``: the links the writer takes; ``rls_admits``:
    the links the policies let a service scope insert (a member scope inserts none, as the
    API's create refuses it); ``schema_admits``: the links the database itself accepts
    (the ``<ledger>_parents_agree_on_*`` triggers, which let both walls read a ledger row by its
    connector alone).
    """
    found = []
    for pair, workspace_pk in unlinking.items():
        own = world.workspaces[world.connector_workspace[pair[0]]][0]
        if workspace_pk is not None and workspace_pk != own:
            found.append(f"{record_type} link {pair}: the writer acts outside its connector's")
    if linking - rls_admits:
        found.append(
            f"{record_type} links: the writer takes {sorted(linking - rls_admits)} that RLS refuses"
        )
    if rls_admits - linking:
        found.append(
            f"{record_type} links: RLS admits {sorted(rls_admits - linking)} "
            "that the writer does not take"
        )
    taken_anywhere = {pair for pair, ws in unlinking.items() if ws is not None}
    if taken_anywhere - schema_admits:
        found.append(
            f"{record_type} links: the writer takes {sorted(taken_anywhere - schema_admits)} "
            "that the schema refuses"
        )
    if schema_admits - taken_anywhere:
        found.append(
            f"{record_type} links: the writer rejects {sorted(schema_admits - taken_anywhere)} "
            "that the schema accepts"
        )
    return found


# ---- every write: the API's rules and the policies -----------------------------------------

UNIQUE_VIOLATION = "23505"
# The API admits a write when it makes it, or when it finds the same live row there (409: the
# rules admitted it, the live-row unique index refused it); a PATCH that changes nothing is
# admitted too (200).
API_ADMITS = frozenset({200, 201, 204, 409})
# The policies admit a write when it writes its row, or when only the unique index refuses it.
RLS_ADMITS = frozenset({"ok", UNIQUE_VIOLATION})
# What an update or a removal may change, per resource: what the API puts back after a write
# it admitted, so that every principal is asked about the same rows.
RESTORED = {
    **{ledger.table.name: ("deleted_at", "direction") for ledger in LEDGER_RESOURCES},
    "workspace_group_workspaces": ("deleted_at",),
    "workspace_providers": ("deleted_at", "is_selected", "is_matched"),
}


@dataclass(frozen=True)
class Write:
    """One write a principal may ask for, said twice: the API request, and the statement the
    API role runs for it (``RETURNING 1``), for the scope's person (``statement``)."""

    resource: str
    what: str
    method: str  # POST, PATCH or DELETE
    statement: Callable[[Scope], str]
    row_id: UUID | None = None
    body: dict[str, Any] | None = None
    # The rows the API's write may change (a WHERE clause), put back after it; None for a
    # create, whose new row stays.
    changes: str | None = None


def api_verdicts(
    owner: pg8000.native.Connection, scopes: list[Scope], writes: list[Write]
) -> dict[tuple[str, int], bool]:
    """Whether the API admits each write for each principal; each admitted change is undone."""
    verdicts = {}
    for scope in scopes:
        for index, write in enumerate(writes):
            table = RESOURCES[write.resource].table.name
            columns = RESTORED[write.resource]
            before = (
                owner.run(
                    f"SELECT pk, {', '.join(columns)} FROM core_api.{table} WHERE {write.changes}"
                )
                if write.changes
                else []
            )
            status = api_request(write.resource, scope, write.method, write.row_id, write.body)
            verdicts[(scope.principal.label, index)] = status in API_ADMITS
            for pk, *values in before or []:
                owner.run(
                    f"UPDATE core_api.{table} SET "
                    + ", ".join(f"{c} = :v{i}" for i, c in enumerate(columns))
                    + " WHERE pk = :pk",
                    pk=pk,
                    **{f"v{i}": value for i, value in enumerate(values)},
                )
    return verdicts


def rls_verdicts(
    role: ApiRole, scopes: list[Scope], writes: list[Write], asked: list[int] | None = None
) -> dict[tuple[str, int], bool]:
    """Whether the policies let the API role make each write (or those ``asked``, by index)
    for each principal."""
    indexes = range(len(writes)) if asked is None else asked
    return {
        (scope.principal.label, index): role.attempt(scope, writes[index].statement(scope))
        in RLS_ADMITS
        for scope in scopes
        for index in indexes
    }


def write_disagreements(
    writes: list[Write],
    api: dict[tuple[str, int], bool],
    rls: dict[tuple[str, int], bool],
) -> list[str]:
    """Every (principal, write) the policies were asked on which they and the API differ."""
    said = {True: "admits", False: "refuses"}
    return [
        f"{label}: {writes[index].what}: the API {said[api[key]]}, the policies {said[admitted]}"
        for key, admitted in rls.items()
        for label, index in [key]
        if api[key] != admitted
    ]


def owner_attempt(admin: pg8000.native.Connection, statement: str) -> str:
    """``statement`` as the owner (no policy applies), rolled back: what the schema allows."""
    admin.run("BEGIN")
    try:
        admin.run(statement)
        return "ok"
    except pg8000.native.DatabaseError as error:
        return sqlstate_of(error) or "?"
    finally:
        admin.run("ROLLBACK")
