"""The cross-tenant cases: for every route, what B tries and what A does (``route_cases``).

For each route the cases are the ways a member of tenant B could reach tenant A's data: A's
ids in the path, in filters, in includes, in a write body's relationships, A's workspace as the
``workspace_id`` parameter or as the workspace in a nested route's path; plus a member key on
a write only service principals may make, and a revoked key. Each case states the one answer
it must get (404 where A's row is out of scope, 403 where the act is refused whatever the row,
401 for the revoked key). Every reply to B must be free of A's ids (other than those B sent),
and after every write attempt every core_api table must be byte-for-byte what it was
(``tests.support.cross_tenant.run_route``).

Each route also has controls: A's own legitimate requests, run after the attacks, which must
succeed. They prove the attack requests are well-formed and aim at rows that exist, so a 404
means "out of scope", not "wrong URL".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from tests.support import tenancy as tn
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import RESOURCES, resource_named

Route = tuple[str, str]

# The callers every client knows.
MEMBER_B = "member_b"  # the attacker: an active owner of workspace B
REVOKED_B = "revoked_b"  # a key of B's person that has been revoked
MEMBER_A = "member_a"  # the victim, for the controls
SERVICE_A = "service_a"  # A's service principal, for the controls of service-only writes
CALLERS = (MEMBER_B, REVOKED_B, MEMBER_A, SERVICE_A)


def route_id(route: Route) -> str:
    return f"{route[0]}-{route[1]}"


@dataclass(frozen=True)
class Request:
    resource: str
    operation: str
    path: str
    path_parameters: Mapping[str, str] = field(default_factory=dict)
    query: str = ""
    body: Any = None

    @property
    def method(self) -> str:
        return OPERATIONS[self.operation].method

    @property
    def route(self) -> str:
        """The route template (API Gateway's ``{name}`` spelling)."""
        return OPERATIONS[self.operation].path(resource_named(self.resource))

    @property
    def writes(self) -> bool:
        return self.method != "GET"

    def text(self) -> str:
        """Everything the caller sent: ids in it may come back (a self link, an error detail)."""
        return f"{self.path}?{self.query} {json.dumps(self.body)}"


@dataclass(frozen=True)
class Expect:
    status: int
    code: str | None = None
    pointer: str | None = None
    parameter: str | None = None
    empty: bool = False  # a 200 whose primary data must be []
    contains: frozenset[str] = frozenset()  # ids the primary data must hold
    excludes: frozenset[str] = frozenset()  # ids the primary data must not hold


@dataclass(frozen=True)
class Case:
    name: str
    caller: str
    request: Request
    expect: Expect


# ---- the cases ---------------------------------------------------------------------------------
#
# The cases are a table, ``CASES``: for each kind of route (``route_kind``), its cases in the
# order they run. A case's strings are templates whose placeholders are filled for one route
# and world (``placeholders``): ``{a_row}`` is A's row of the route's resource, ``{in_a}`` the
# query naming A's workspace, and so on. An ``EachRelationship`` repeats its cases for every
# relationship of the resource, with ``{rel}``, ``{a_parent}``, ``{b_parent}`` (the ids A's
# and B's rows point at through it) and ``{parent_fields}`` (a ``fields`` parameter naming
# every attribute of its record) filled. A case by B (``MEMBER_B``) is an attack; one by A or
# A's service key, a control.

# A well-formed id of no row anywhere.
MISSING_ID = "9a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"


@dataclass(frozen=True)
class Body:
    """A write's document: the relationships it sets (name -> id), its attributes, its id."""

    relationships: Mapping[str, str] = field(default_factory=dict)
    attributes: Mapping[str, Any] | None = None
    row_id: str | None = None


@dataclass(frozen=True)
class RequestTemplate:
    path: str
    query: str = ""
    body: Body | None = None
    path_parameters: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseTemplate:
    name: str
    caller: str
    request: RequestTemplate
    # Its ``contains`` and ``excludes`` are templates too, each filled with an id or with a
    # comma-separated list of them.
    expect: Expect


@dataclass(frozen=True)
class EachRelationship:
    cases: tuple[CaseTemplate, ...]


def req(
    path: str = "{base}", query: str = "", body: Body | None = None, **params: str
) -> RequestTemplate:
    return RequestTemplate(path, query, body, params)


def item(row: str, query: str = "", body: Body | None = None) -> RequestTemplate:
    """A request to the route's item, ``{base}/<row>``."""
    return req(f"{{base}}/{row}", query, body, id=row)


def follow(row: str, rel: str = "{rel}", query: str = "") -> RequestTemplate:
    """A related-resource or relationship route of ``row`` (``{follow}`` is the part between)."""
    return req(f"{{base}}/{row}{{follow}}{rel}", query, id=row, relationship=rel)


def doc(
    relationships: Mapping[str, str] | None = None,
    attributes: Mapping[str, Any] | None = None,
    row_id: str | None = None,
) -> Body:
    return Body(relationships or {}, attributes, row_id)


def attack(name: str, request: RequestTemplate, expect: Expect) -> CaseTemplate:
    return CaseTemplate(name, MEMBER_B, request, expect)


def control(
    name: str, request: RequestTemplate, expect: Expect, caller: str = MEMBER_A
) -> CaseTemplate:
    return CaseTemplate(name, caller, request, expect)


def ids(*templates: str) -> frozenset[str]:
    return frozenset(templates)


def not_found(pointer: str | None = None) -> Expect:
    return Expect(404, "NOT_FOUND", pointer=pointer)


def forbidden(parameter: str | None = None) -> Expect:
    return Expect(403, "FORBIDDEN", parameter=parameter)


def ledger(record: str, connector: str) -> Body:
    """A ledger row's document, linking ``record`` (of the ledger's ``{record}`` kind) and
    ``connector``."""
    return doc({"{record}": record, "workspace_connector": connector}, {"direction": "output"})


def enrolment(group: str, workspace: str) -> Body:
    return doc({"workspace_group": group, "workspace": workspace})


def selection(workspace: str) -> Body:
    return doc({"workspace": workspace, "provider": "{free_provider}"}, {"is_selected": True})


CATALOG = "/v1/workspaces/{}/providers"
SELECTION = "/v1/workspaces/{}/providers/{}"
GROUP_WORKSPACES = "/v1/workspace-groups/{}/workspaces"
GROUP_WORKSPACE = "/v1/workspace-groups/{}/workspaces/{}"
SELECTED_ONLY = "filter[is_selected]=true&include=workspace_provider"

# GET .../{id}/<relationship> and .../{id}/relationships/<relationship>: A's row is a 404
# exactly as a missing row is, for every relationship and whatever else is asked.
_FOLLOWED = (
    attack("A's row, {rel}", follow("{a_row}"), not_found()),
    attack("a missing row, {rel}", follow("{missing}"), not_found()),
)
_FOLLOWED_TO_THE_RECORD = (
    attack(
        "A's row, {rel}, {parent_fields}", follow("{a_row}", query="{parent_fields}"), not_found()
    ),
    attack("A's row, {rel}, empty include", follow("{a_row}", query="include="), not_found()),
)
_FOLLOWED_IN_A_WORKSPACE = (
    attack(
        "A's row, {rel}, workspace_id = B's",
        follow("{a_row}", query="workspace_id={b_workspace}"),
        not_found(),
    ),
    attack(
        "own row, {rel}, workspace_id = A's",
        follow("{b_row}", query="{in_a}"),
        forbidden("workspace_id"),
    ),
    attack(
        "own row, {rel}, workspaceId = A's",
        follow("{b_row}", query="workspaceId={a_workspace}"),
        forbidden("workspaceId"),
    ),
    attack("own row, {rel}", follow("{b_row}"), Expect(200, contains=ids("{b_parent}"))),
    control("A's row, {rel}, by A", follow("{a_row}"), Expect(200, contains=ids("{a_parent}"))),
)
# The relationship is checked before the row is read: no answer says whether it exists.
_UNKNOWN_RELATIONSHIP = (
    attack(
        "an unknown relationship of A's row",
        follow("{a_row}", "relationships"),
        Expect(404, "UNKNOWN_RELATIONSHIP"),
    ),
    attack(
        "an unknown relationship",
        follow("{missing}", "relationships"),
        Expect(404, "UNKNOWN_RELATIONSHIP"),
    ),
)
_DELETE_OWN = (  # enrolments and selections
    attack("A's row", item("{a_row}"), not_found()),
    attack("own row, workspace_id = A's", item("{b_row}", "{in_a}"), forbidden("workspace_id")),
    control("A's row, by A", item("{a_row}"), Expect(204)),
)

CASES: Mapping[str, tuple[CaseTemplate | EachRelationship, ...]] = {
    # The changes feed: B's own records only, whatever B names; A's need A's workspace.
    "feed": (
        attack("own feed", req(), Expect(200, contains=ids("{b_change}"))),
        attack(
            "own feed, every kind filtered",
            req(query="filter[resource_type]=workspace_provider&filter[change]=selected"),
            Expect(200, contains=ids("{b_change}"), excludes=ids("{a_change}")),
        ),
        attack("own feed", req(), Expect(200, excludes=ids("{a_change}"))),
        attack("workspace_id = A's", req(query="{in_a}"), forbidden("workspace_id")),
        attack(
            "workspaceId = A's", req(query="workspaceId={a_workspace}"), forbidden("workspaceId")
        ),
        control("A's feed, by A", req(), Expect(200, contains=ids("{a_change}"))),
        control(
            "A's feed, by A's service key, in A's workspace",
            req(query="{in_a}"),
            Expect(200, contains=ids("{a_change}"), excludes=ids("{b_change}")),
            caller=SERVICE_A,
        ),
    ),
    "list": (
        attack(
            "own rows, every relationship included",
            req(query="{include_all}"),
            Expect(200, contains=ids("{b_rows}")),
        ),
        EachRelationship(
            (
                attack(
                    "filter[{rel}] = A's",
                    req(query="filter[{rel}]={a_parent}&{include_all}"),
                    Expect(200, empty=True),
                ),
                attack(
                    "filter[{rel}] = A's and B's",
                    req(query="filter[{rel}]={a_parent},{b_parent}&{include_all}"),
                    Expect(200, contains=ids("{b_row}"), excludes=ids("{a_row}")),
                ),
                control(
                    "filter[{rel}] = A's, by A",
                    req(query="filter[{rel}]={a_parent}"),
                    Expect(200, contains=ids("{a_row}")),
                ),
            )
        ),
        attack("workspace_id = A's", req(query="{in_a}"), forbidden("workspace_id")),
        attack(
            "workspaceId = A's", req(query="workspaceId={a_workspace}"), forbidden("workspaceId")
        ),
    ),
    "retrieve": (
        attack("A's row", item("{a_row}"), not_found()),
        attack(
            "A's row, every relationship included", item("{a_row}", "{include_all}"), not_found()
        ),
        attack("own row, workspace_id = A's", item("{b_row}", "{in_a}"), forbidden("workspace_id")),
        attack(
            "own row, every relationship included",
            item("{b_row}", "{include_all}"),
            Expect(200, contains=ids("{b_row}")),
        ),
        control(
            "A's row, by A", item("{a_row}", "{include_all}"), Expect(200, contains=ids("{a_row}"))
        ),
    ),
    "create ledger": (
        attack(
            "member key, A's record and connector",
            req(body=ledger("{a_record}", "{a_connector}")),
            forbidden(),
        ),
        attack(
            "member key, own record and A's connector",
            req(body=ledger("{b_record}", "{a_connector}")),
            forbidden(),
        ),
        attack(
            "member key, own record and connector",
            req(body=ledger("{b_record}", "{b_connector}")),
            forbidden(),
        ),
        control(
            "A's service key, A's record and connector",
            req(body=ledger("{a_record}", "{a_connector}")),
            Expect(201),
            SERVICE_A,
        ),
    ),
    "create enrolment": (
        attack(
            "A's group in the body",
            req(body=enrolment("{a_group}", "{b_spare_workspace}")),
            not_found("/data/relationships/workspace_group"),
        ),
        attack(
            "A's workspace in the body",
            req(body=enrolment("{b_group}", "{a_workspace}")),
            not_found("/data/relationships/workspace"),
        ),
        attack(
            "workspace_id = A's",
            req(query="{in_a}", body=enrolment("{b_group}", "{b_spare_workspace}")),
            forbidden("workspace_id"),
        ),
        control(
            "A enrols its other workspace",
            req(body=enrolment("{a_group}", "{a_spare_workspace}")),
            Expect(201),
        ),
    ),
    "create selection": (
        attack(
            "A's workspace in the body",
            req(body=selection("{a_workspace}")),
            not_found("/data/relationships/workspace"),
        ),
        attack(
            "workspace_id = A's",
            req(query="{in_a}", body=selection("{b_workspace}")),
            forbidden("workspace_id"),
        ),
        control("A selects a provider", req(body=selection("{a_workspace}")), Expect(201)),
    ),
    "update ledger": (
        attack(
            "member key, A's row",
            item("{a_row}", body=doc(attributes={}, row_id="{a_row}")),
            forbidden(),
        ),
        attack(
            "member key, own row",
            item("{b_row}", body=doc(attributes={}, row_id="{b_row}")),
            forbidden(),
        ),
        control(
            "A's service key, A's row",
            item("{a_row}", body=doc(attributes={"direction": "input"}, row_id="{a_row}")),
            Expect(200, contains=ids("{a_row}")),
            SERVICE_A,
        ),
    ),
    # Enrolments are never modified (removed and added again instead): 403 for everyone.
    "update enrolment": (
        attack("A's row", item("{a_row}", body=doc(attributes={}, row_id="{a_row}")), forbidden()),
        control(
            "A's row, by A: refused too",
            item("{a_row}", body=doc(attributes={}, row_id="{a_row}")),
            forbidden(),
        ),
    ),
    "update selection": (
        attack(
            "A's row",
            item("{a_row}", body=doc(attributes={"is_matched": True}, row_id="{a_row}")),
            not_found(),
        ),
        attack(
            "own row, A's workspace in the body",
            item(
                "{b_row}",
                body=doc({"workspace": "{a_workspace}"}, {"is_matched": True}, "{b_row}"),
            ),
            not_found("/data/relationships/workspace"),
        ),
        attack(
            "own row, workspace_id = A's",
            item("{b_row}", "{in_a}", doc(attributes={"is_matched": True}, row_id="{b_row}")),
            forbidden("workspace_id"),
        ),
        control(
            "A's row, by A",
            item("{a_row}", body=doc(attributes={"is_matched": True}, row_id="{a_row}")),
            Expect(200, contains=ids("{a_row}")),
        ),
    ),
    "delete ledger": (
        attack("member key, A's row", item("{a_row}"), forbidden()),
        attack("member key, own row", item("{b_row}"), forbidden()),
        control("A's service key, A's row", item("{a_row}"), Expect(204), SERVICE_A),
    ),
    "delete enrolment": _DELETE_OWN,
    "delete selection": _DELETE_OWN,
    "catalog": (
        attack(
            "A's workspace in the path",
            req(CATALOG.format("{a_workspace}"), workspace_id="{a_workspace}"),
            not_found(),
        ),
        attack(
            "A's workspace in the path, selections included",
            req(
                CATALOG.format("{a_workspace}"),
                "include=workspace_provider",
                workspace_id="{a_workspace}",
            ),
            not_found(),
        ),
        attack(
            "own catalog, selections included",
            req(
                CATALOG.format("{b_workspace}"),
                "include=workspace_provider",
                workspace_id="{b_workspace}",
            ),
            Expect(200, contains=ids("{b_provider}", "{shared_provider}")),
        ),
        attack(
            "own catalog, selected only",
            req(CATALOG.format("{b_workspace}"), SELECTED_ONLY, workspace_id="{b_workspace}"),
            Expect(
                200,
                contains=ids("{b_provider}", "{shared_provider}"),
                excludes=ids("{a_provider}"),
            ),
        ),
        control(
            "A's catalog, by A",
            req(CATALOG.format("{a_workspace}"), SELECTED_ONLY, workspace_id="{a_workspace}"),
            Expect(
                200,
                contains=ids("{a_provider}", "{shared_provider}"),
                excludes=ids("{b_provider}"),
            ),
        ),
    ),
    "select": (
        attack(
            "A's workspace in the path",
            req(
                CATALOG.format("{a_workspace}"),
                body=doc({"provider": "{free_provider}"}),
                workspace_id="{a_workspace}",
            ),
            not_found(),
        ),
        attack(
            "own path, A's workspace in the body",
            req(
                CATALOG.format("{b_workspace}"),
                body=doc({"provider": "{free_provider}", "workspace": "{a_workspace}"}),
                workspace_id="{b_workspace}",
            ),
            Expect(409, "CONFLICT", pointer="/data/relationships/workspace"),
        ),
        control(
            "A selects in its workspace",
            req(
                CATALOG.format("{a_workspace}"),
                body=doc({"provider": "{free_provider}"}),
                workspace_id="{a_workspace}",
            ),
            Expect(201),
        ),
    ),
    "remove": (
        *(
            attack(
                f"A's workspace in the path, {name}",
                req(
                    SELECTION.format("{a_workspace}", provider),
                    workspace_id="{a_workspace}",
                    provider_id=provider,
                ),
                not_found(),
            )
            for name, provider in (
                ("A's provider", "{a_provider}"),
                ("the shared provider", "{shared_provider}"),
            )
        ),
        control(
            "A removes its selection",
            req(
                SELECTION.format("{a_workspace}", "{a_provider}"),
                workspace_id="{a_workspace}",
                provider_id="{a_provider}",
            ),
            Expect(204),
        ),
    ),
    "enrol": (
        attack(
            "A's group in the path",
            req(
                GROUP_WORKSPACES.format("{a_group}"),
                body=doc({"workspace": "{b_spare_workspace}"}),
                workspace_group_id="{a_group}",
            ),
            not_found("/data/relationships/workspace_group"),
        ),
        attack(
            "own group, A's workspace in the body",
            req(
                GROUP_WORKSPACES.format("{b_group}"),
                body=doc({"workspace": "{a_workspace}"}),
                workspace_group_id="{b_group}",
            ),
            not_found("/data/relationships/workspace"),
        ),
        attack(
            "own group, workspace_id = A's",
            req(
                GROUP_WORKSPACES.format("{b_group}"),
                "{in_a}",
                doc({"workspace": "{b_spare_workspace}"}),
                workspace_group_id="{b_group}",
            ),
            forbidden("workspace_id"),
        ),
        control(
            "A enrols its other workspace",
            req(
                GROUP_WORKSPACES.format("{a_group}"),
                body=doc({"workspace": "{a_spare_workspace}"}),
                workspace_group_id="{a_group}",
            ),
            Expect(201),
        ),
    ),
    "unenrol": (
        attack(
            "A's group and workspace in the path",
            req(
                GROUP_WORKSPACE.format("{a_group}", "{a_workspace}"),
                workspace_group_id="{a_group}",
                workspace_id="{a_workspace}",
            ),
            not_found(),
        ),
        attack(
            "own group and workspace, workspace_id = A's",
            req(
                GROUP_WORKSPACE.format("{b_group}", "{b_workspace}"),
                "{in_a}",
                workspace_group_id="{b_group}",
                workspace_id="{b_workspace}",
            ),
            forbidden("workspace_id"),
        ),
        control(
            "A removes its enrolment",
            req(
                GROUP_WORKSPACE.format("{a_group}", "{a_workspace}"),
                workspace_group_id="{a_group}",
                workspace_id="{a_workspace}",
            ),
            Expect(204),
        ),
    ),
    "related": (
        EachRelationship(_FOLLOWED + _FOLLOWED_TO_THE_RECORD + _FOLLOWED_IN_A_WORKSPACE),
        *_UNKNOWN_RELATIONSHIP,
    ),
    "relationship": (
        EachRelationship(_FOLLOWED + _FOLLOWED_IN_A_WORKSPACE),
        *_UNKNOWN_RELATIONSHIP,
    ),
}


def route_kind(route: Route) -> str:
    """The key of a route's cases in ``CASES``: its operation, and for a create, an update or a
    delete, the module of the resource it writes."""
    resource, operation = route
    if operation not in ("create", "update", "delete"):
        return operation
    if resource in tn.PROVENANCE:
        return f"{operation} ledger"
    if resource == "workspace_group_workspaces":
        return f"{operation} enrolment"
    return f"{operation} selection"


def placeholders(route: Route, w: tn.World) -> dict[str, str]:
    """The values of the placeholders in a route's cases (``CASES``)."""
    resource, operation = route
    r = resource_named(resource)
    record = tn.PROVENANCE.get(resource, "")
    values = {
        "base": f"/v1/{r.path}",
        "include_all": "include=" + ",".join(rel.name for rel in r.relationships),
        "in_a": f"workspace_id={w.a.workspace[1]}",
        "follow": "/relationships/" if operation == "relationship" else "/",
        "missing": MISSING_ID,
        "record": record,
        "shared_provider": str(w.shared_provider[1]),
        "free_provider": str(w.free_provider[1]),
        "b_rows": ",".join(sorted(str(row_id) for row_id in w.b.rows(resource))),
    }
    for name, side in (("a", w.a), ("b", w.b)):
        values |= {
            f"{name}_row": str(side.row(resource)[1]),
            f"{name}_workspace": str(side.workspace[1]),
            f"{name}_spare_workspace": str(side.spare_workspace[1]),
            f"{name}_group": str(side.group[1]),
            f"{name}_provider": str(side.provider[1]),
            f"{name}_connector": str(side.workspace_connector[1]),
            f"{name}_record": str(side.records[record][1]) if record else "",
            f"{name}_change": side.change,
        }
    return values


def relationship_placeholders(route: Route, rel: str, w: tn.World) -> dict[str, str]:
    """The placeholders an ``EachRelationship`` adds to the route's, for one relationship."""
    resource = route[0]
    parent = resource_named(resource).relationship(rel).parent
    return {
        "rel": rel,
        "a_parent": str(w.a.parent(resource, rel)),
        "b_parent": str(w.b.parent(resource, rel)),
        "parent_fields": f"fields[{parent.type}]="
        + ",".join(attribute.name for attribute in parent.attributes),
    }


def filled(route: Route, template: CaseTemplate, values: Mapping[str, str]) -> Case:
    """A case of ``route`` with every template of ``template`` filled from ``values``."""

    def fill(text: str) -> str:
        return text.format_map(values)

    def fill_ids(templates: frozenset[str]) -> frozenset[str]:
        return frozenset(i for t in templates for i in fill(t).split(","))

    sent = template.request
    body = None
    if sent.body is not None:
        body = _document(
            route[0],
            {fill(name): fill(value) for name, value in sent.body.relationships.items()},
            sent.body.attributes,
            None if sent.body.row_id is None else fill(sent.body.row_id),
        )
    request = Request(
        route[0],
        route[1],
        fill(sent.path),
        {name: fill(value) for name, value in sent.path_parameters.items()},
        fill(sent.query),
        body,
    )
    expect = replace(
        template.expect,
        contains=fill_ids(template.expect.contains),
        excludes=fill_ids(template.expect.excludes),
    )
    return Case(fill(template.name), template.caller, request, expect)


def route_cases(route: Route, w: tn.World) -> tuple[list[Case], list[Case]]:
    """(attacks by B, controls by A) for one route."""
    kind = route_kind(route)
    assert kind in CASES, f"no cross-tenant cases for {route}: a new route must get its cases"
    values = placeholders(route, w)
    cases: list[Case] = []
    for entry in CASES[kind]:
        if isinstance(entry, EachRelationship):
            for rel in resource_named(route[0]).relationships:
                each = values | relationship_placeholders(route, rel.name, w)
                cases += [filled(route, template, each) for template in entry.cases]
        else:
            cases.append(filled(route, entry, values))
    attacks = [case for case in cases if case.caller == MEMBER_B]
    controls = [case for case in cases if case.caller != MEMBER_B]
    if kind != "feed":
        # A revoked key never gets past authentication, whatever it asks for.
        revoked = Case(
            "revoked key", REVOKED_B, controls[0].request, Expect(401, "CREDENTIALS_INVALID")
        )
        attacks.append(revoked)
    return attacks, controls


def _linkage(type_name: str, row_id: str) -> dict[str, Any]:
    return {"data": {"type": type_name, "id": row_id}}


def _document(
    resource: str,
    relationships: Mapping[str, str],
    attributes: Mapping[str, Any] | None,
    row_id: str | None,
) -> dict[str, Any]:
    r = RESOURCES[resource]
    data: dict[str, Any] = {"type": r.type}
    if row_id is not None:
        data["id"] = row_id
    if attributes is not None:
        data["attributes"] = dict(attributes)
    if relationships:
        data["relationships"] = {
            name: _linkage(r.relationship(name).parent.type, value)
            for name, value in relationships.items()
        }
    return {"data": data}
