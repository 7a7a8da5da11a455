"""The words of the OpenAPI document: what each operation does, who may call it, its rules,
and the error codes it can give.

Two tables, both generic: ``OPERATION_TEXT`` by operation name (what a List, a Create, a
select... does, and the codes every resource's operation of that kind can give), and
``SCOPE_TEXT`` by a resource's scope rule (who may read and write it, and its own rules and
codes, by operation). ``describe`` puts them together for one (resource, operation); the
meaning of each code comes from ``wellapi.errors.ERROR_CODES``. A new operation kind is one
entry in ``OPERATION_TEXT``. ``DESCRIPTION`` is the document's own (``info.description``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wellapi.domain import CHANGE_RETENTION_DAYS
from wellapi.errors import ERROR_CODES
from wellapi.jsonapi.query import MAX_FILTER_VALUES, MAX_PAGE_DEPTH, MAX_PAGE_SIZE
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import Resource, ScopeRule

# The codes of each part of a request; an operation's codes are a set, listed in the order of
# ``ERROR_CODES``. Every function's answers can carry these.
ALWAYS = (
    *("CREDENTIALS_MISSING", "CREDENTIALS_MALFORMED", "CREDENTIALS_INVALID", "NOT_ACCEPTABLE"),
    *("INTERNAL_ERROR", "SERVICE_UNAVAILABLE"),
)
# The query string of a relationship route: the workspace parameters only.
WORKSPACE_QUERY = (
    *("INVALID_QUERY_PARAMETER", "DUPLICATE_QUERY_PARAMETER", "UNKNOWN_QUERY_PARAMETER"),
    "INVALID_UUID",
)
# The query string of a single-resource operation (writes too take include and fields).
ONE_QUERY = (*WORKSPACE_QUERY, "INVALID_INCLUDE", "INVALID_FIELDS")
# The changes feed's query string: its filters and its forward pages.
FEED_QUERY = (
    *WORKSPACE_QUERY,
    *("INVALID_PAGE_PARAMETER", "PAGE_SIZE_TOO_LARGE", "MIXED_PAGINATION", "INVALID_CURSOR"),
    "INVALID_FILTER",
)
LIST_QUERY = (
    *ONE_QUERY,
    *FEED_QUERY,
    *("INVALID_SORT", "RANGE_PAGINATION_NOT_SUPPORTED", "PAGE_NUMBER_TOO_DEEP"),
)
# A request document.
BODY = (
    *("BAD_REQUEST", "UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE", "INVALID_JSON", "CONFLICT"),
    *("SCHEMA_VALIDATION_ERROR", "READ_ONLY_FIELD", "UNPROCESSABLE_ENTITY"),
)
# What a related-resource or relationship route (``/v1/<resource>/{id}/<name>``,
# ``/v1/<resource>/{id}/relationships/<name>``) can answer besides its query string's codes.
RELATED_PATH = ("INVALID_ID", "FORBIDDEN", "NOT_FOUND", "UNKNOWN_RELATIONSHIP")
# A create's Idempotency-Key and client-generated id (every create, select and enrol route).
CREATED = (
    *("INVALID_IDEMPOTENCY_KEY", "IDEMPOTENCY_KEY_REUSED"),
    *("CLIENT_GENERATED_ID_NOT_ALLOWED", "ID_ALREADY_USED"),
)
CREATE = (*ALWAYS, *ONE_QUERY, *BODY, *CREATED, "FORBIDDEN", "NOT_FOUND")
# A path parameter holding an encoded slash (API Gateway decodes it before routing) makes
# another path, which the $default route answers when no route has it (404), and, where it
# makes an item's related-resource path under a write's method, 405 (docs/api.md, "Unmatched
# routes").
ROUTE_NOT_FOUND = "ROUTE_NOT_FOUND"
METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
# ``{TYPE}`` stands for the resource's type in capitals: ``rules.Rules.conflict``'s code.
ALREADY_EXISTS = "{TYPE}_ALREADY_EXISTS"

# The operations that read a collection: their rules start with the resource's filters.
COLLECTIONS = ("list", "catalog")

# Where a member key acts (``principal``): said once in every "who may call it".
MEMBER_SCOPE = (
    "A member key acts in its default workspace, or in the one the `workspace_id` query "
    "parameter names where its person has an active membership (another is 403 `FORBIDDEN`)."
)
PATH_SCOPE = (
    "A member key, for a workspace named in the path where its person has an active "
    "membership (any other workspace is 404 `NOT_FOUND`, not 403). A service key, for any "
    "live workspace."
)


@dataclass(frozen=True)
class OperationText:
    """An operation kind. ``summary`` and ``description`` may name ``{type}``, ``{a_type}``
    (with its article: "an account_workspace_connector"), ``{a_type_code}`` (the same, the type
    in backticks), ``{path}``, ``{relationship}`` (the one a description is for, else every
    relationship of the resource: "workspace or provider") and ``{relationships}`` (every one,
    in backticks)."""

    summary: str
    description: str
    codes: tuple[str, ...]
    # "read" or "write": which of a scope's texts say who may call it.
    access: str
    # The key of a scope's rules and codes when it has none of its own (enrol is a create).
    like: str | None = None


@dataclass(frozen=True)
class ScopeText:
    """What a scope rule adds: who may read and write, and per operation kind its rules, the
    codes it adds, or the only codes it can give (an operation refused before it reads)."""

    read: str
    write: str
    who: dict[str, str] = field(default_factory=dict)
    rules: dict[str, str] = field(default_factory=dict)
    codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    only_codes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Who can write it over HTTP with the demo's keys: "member" or "service".
    demo_writer: str = "member"


OPERATION_TEXT: dict[str, OperationText] = {
    "feed": OperationText(
        "The changes feed",
        "Every change this API and its sync pipeline made in the workspace, one `change` per "
        "change record (a bulk change: one per 1,000 rows), in commit order: creates, updates, "
        "deletions, sync links and unlinks, revocations and the removals that follow them. "
        "A page holds `limit` records (20, at most "
        f"{MAX_PAGE_SIZE}); `links.next` reads on while more records are there and is null "
        "once the consumer has caught up; `meta.poll` is always there, the link to follow "
        "later for what commits after this page. Following them never misses nor repeats a "
        "record. The `page[size]` and `page[after]` of the cursor pagination profile say the "
        "same; the feed reads forward only. `filter[sync_run_id]` is a sync run's outcome: "
        "the records it linked and unlinked, each with `occurred_at`, `recorded_at` and "
        f"`lag_seconds` between them. Records are kept {CHANGE_RETENTION_DAYS} days after they "
        "are published; a cursor behind what was pruned is 410 `CURSOR_EXPIRED`: read from "
        "the start again.",
        (*ALWAYS, *FEED_QUERY, "FORBIDDEN", "CURSOR_EXPIRED"),
        "read",
    ),
    "list": OperationText(
        "List {type} resources",
        "The live `{type}` rows the caller may see, a page at a time: newest first by default "
        f"(`sort`), `limit` rows (20, at most {MAX_PAGE_SIZE}), and cursor links "
        "`links.next` / `links.prev` (`cursor`, whose value is the token of the previous "
        "answer's link). The cursor pagination profile's `page[size]`, `page[after]` and "
        "`page[before]` say the same. Numbered pages, `page[number]` with `page[size]`, start "
        f"at most {MAX_PAGE_DEPTH} rows deep (400 `PAGE_NUMBER_TOO_DEEP`). The links answer "
        "in the form the request used, and mixing forms is 400 `MIXED_PAGINATION`. "
        "`include` adds the "
        "related records the caller may see (the linkage is there either way); "
        "`fields[<type>]` keeps only the fields it names; every `filter[...]` given must hold.",
        (*ALWAYS, *LIST_QUERY, "FORBIDDEN"),
        "read",
    ),
    "retrieve": OperationText(
        "Retrieve {a_type}",
        "One live `{type}` by id, with `include` and `fields` as in the List. Each of its "
        "relationships links to the routes that serve it: `links.self` to its linkage, "
        "`links.related` to the record it points at. A row that does not exist, was deleted, "
        "or is outside the caller's scope is 404 `NOT_FOUND`: the same answer for all three.",
        (*ALWAYS, *ONE_QUERY, "INVALID_ID", "FORBIDDEN", "NOT_FOUND"),
        "read",
    ),
    "create": OperationText(
        "Create {a_type}",
        "Creates {a_type_code} and answers 201 with the row as committed and a `Location` "
        "header. The id is the client's `data.id` when it sends one (JSON:API 1.1's "
        "client-generated id): a UUID no row of the table has ever had, another id 403 "
        "`CLIENT_GENERATED_ID_NOT_ALLOWED`, a used one (live, deleted, or out of the caller's "
        "reach) 409 `ID_ALREADY_USED`; without one the server chooses it. The server sets "
        "the timestamps (403 `READ_ONLY_FIELD`). Relationships are set here, once and for "
        "all; one that points at a missing, deleted or invisible record is 404 `NOT_FOUND` "
        "with a `source.pointer` at it. A rejected create writes nothing.",
        CREATE,
        "write",
    ),
    "update": OperationText(
        "Update {a_type}",
        "Changes the writable attributes of {a_type_code} and answers 200 with the row as "
        "committed. `data.id` must be the URL's id (409 `CONFLICT`). Every other member may be "
        "sent at its current value, so a fetched resource can be sent back as it is (see the "
        "request schema): another value of a create-only member is 403 `IMMUTABLE_FIELD`, of "
        "one the server sets 403 `READ_ONLY_FIELD`, with a `source.pointer`. Every PATCH, an "
        "empty one included, moves `updated_at` forward.",
        (*ALWAYS, *ONE_QUERY, *BODY, "INVALID_ID", "IMMUTABLE_FIELD", "FORBIDDEN", "NOT_FOUND"),
        "write",
    ),
    "delete": OperationText(
        "Delete {a_type} (soft)",
        "Soft-deletes {a_type_code}: sets `deleted_at` and answers 204. The row is no longer "
        "served (its Retrieve, PATCH and DELETE are 404 `NOT_FOUND`); a pair that must be "
        "unique among live rows may be created again, as a new row with a new id.",
        (*ALWAYS, *ONE_QUERY, "INVALID_ID", "FORBIDDEN", "NOT_FOUND"),
        "write",
    ),
    "catalog": OperationText(
        "The provider catalog as a workspace sees it",
        "Every live `provider`, with this workspace's `is_selected` and `is_matched` (false "
        "where it has no live `workspace_provider` row) and a `workspace_provider` "
        "relationship to that row, or `null`. Pages, sorts and includes like every List; "
        "`sort` and `filter[created_at]` use the provider's own timestamps.",
        (*ALWAYS, *LIST_QUERY, "INVALID_ID", "NOT_FOUND"),
        "read",
    ),
    "select": OperationText(
        "Select a provider for a workspace (upsert)",
        "Selects the provider the body names (`relationships.provider`) for the workspace of "
        "the path: 201 with `Location` for a new `workspace_provider` row, 200 when the "
        "workspace already had a live row for it, which is then selected and matched. The "
        "workspace comes from the path (naming another in the body is 409 `CONFLICT`). A "
        "client-generated `data.id` names a new row: with one, the route only creates (201), "
        "and a live row for the pair, which has its own id, is 409 "
        "`WORKSPACE_PROVIDER_ALREADY_EXISTS`; a used id is 409 `ID_ALREADY_USED`.",
        (*ALWAYS, *ONE_QUERY, *BODY, *CREATED, "INVALID_ID", "NOT_FOUND"),
        "write",
    ),
    "remove": OperationText(
        "Remove a provider from a workspace",
        "Soft-deletes the live `workspace_provider` row of the workspace and provider of the "
        "path, with the effect of its DELETE (204); 404 `NOT_FOUND` when there is none.",
        (*ALWAYS, *ONE_QUERY, "INVALID_ID", "NOT_FOUND"),
        "write",
        like="delete",
    ),
    "enrol": OperationText(
        "Enrol a workspace in a workspace group",
        "The create of {a_type_code} whose group comes from the path: the body names the "
        "workspace (`relationships.workspace`); repeating the group is allowed, another group "
        "is 409 `CONFLICT`. 201 with `Location`.",
        (*CREATE, "INVALID_ID"),
        "write",
        like="create",
    ),
    "unenrol": OperationText(
        "Remove a workspace from a workspace group",
        "Soft-deletes the live enrolment of the workspace `{{workspace_id}}` of the path (the "
        "enrolled workspace) in the group of the path (204); 404 `NOT_FOUND` when the pair has "
        "no live enrolment the caller can see. The workspace the key acts in is the query's "
        "`workspaceId`, as `workspace_id` is on other routes.",
        (*ALWAYS, *ONE_QUERY, "INVALID_ID", "FORBIDDEN", "NOT_FOUND"),
        "write",
        like="delete",
    ),
    # GET /v1/<resource>/{id}/<relationship>
    "related": OperationText(
        "Fetch the {relationship} of {a_type}",
        "The record one relationship of {a_type_code} points at (the path's "
        "`{{relationship}}`: {relationships}), exactly as `include` shows it in the "
        "`{type}`'s Retrieve: `data` is that record, or `null` when the relationship is empty "
        "or the record is outside the caller's scope (`include` leaves it out too; the "
        "relationship route still gives its linkage). The platform's records (accounts, "
        "companies, people, workspace connectors, workspaces, workspace groups, providers) "
        "carry no `links`: another API serves them. `links.self` is the URL of the request. "
        "`fields[<type>]` of the record's type keeps only the attributes it names (another "
        "type is 400 `INVALID_FIELDS`); `include` is taken only empty, since the record has "
        "no relationships of its own (a name is 400 `INVALID_INCLUDE`); with `workspace_id`, "
        "that is all the route takes (any other query parameter is 400 "
        "`UNKNOWN_QUERY_PARAMETER`). A relationship the `{type}` does not have is 404 "
        "`UNKNOWN_RELATIONSHIP`. A `{type}` that does not exist, was deleted, or is outside "
        "the caller's scope is 404 `NOT_FOUND`: the same answer for all three.",
        (*ALWAYS, *ONE_QUERY, *RELATED_PATH),
        "read",
    ),
    # GET /v1/<resource>/{id}/relationships/<relationship>
    "relationship": OperationText(
        "Fetch the {relationship} linkage of {a_type}",
        "The linkage of one relationship of {a_type_code} (the path's `{{relationship}}`: "
        "{relationships}), as the `{type}` itself shows it: `data` is `{{type, id}}`, or "
        "`null` when the relationship is empty, whether or not the caller may see the record "
        "itself. `links.self` is the URL of the request, `links.related` the related route "
        "(the record). The route takes only `workspace_id` (any other query parameter, "
        "`include` and `fields` too, is 400 `UNKNOWN_QUERY_PARAMETER`). A relationship the "
        "`{type}` does not have is 404 `UNKNOWN_RELATIONSHIP`. A `{type}` that does not "
        "exist, was deleted, or is outside the caller's scope is 404 `NOT_FOUND`: the same "
        "answer for all three.",
        (*ALWAYS, *WORKSPACE_QUERY, *RELATED_PATH),
        "read",
    ),
}

SCOPE_TEXT: dict[ScopeRule, ScopeText] = {
    "provenance": ScopeText(
        read=f"Any API key. {MEMBER_SCOPE} It sees the rows whose workspace connector (and so "
        "record) belongs to that workspace; its List reads only that workspace's connectors "
        "and records, whatever its filters name. A service key reads every workspace: a "
        "Retrieve finds its row anywhere, a List reads the connectors or records its filter "
        "names (`filter[workspace_connector]`, the record filter), in any workspace, and "
        "otherwise the workspace it acts in. The rows of a revoked workspace connector are "
        "deleted rows from the moment of the revocation: no List shows them, and their "
        "Retrieve, PATCH and DELETE are 404 `NOT_FOUND`.",
        write="A service key only (the platform's own services; the connector sync pipeline "
        "writes the same rows from SQS). A member key is 403 `FORBIDDEN`, its body unread.",
        rules={
            "list": "The sync-status query, which records connector X touched between t1 and "
            "t2: `filter[workspace_connector]=<id>&filter[created_at][gte]=<t1>"
            "&filter[created_at][lt]=<t2>`. A `filter[created_at]` range sorts by `created_at` "
            "only (`sort=updated_at` beside it is 400 `INVALID_SORT`).",
            "create": "`direction` (`input` or `output`) and both relationships are required "
            "(422 `UNPROCESSABLE_ENTITY` when absent). The record and the workspace connector "
            "must belong to one workspace, otherwise 422 `WORKSPACE_MISMATCH`, one error at "
            "each relationship. A revoked workspace connector takes no new links: 422 "
            "`WORKSPACE_CONNECTOR_REVOKED` at `/data/relationships/workspace_connector`. There "
            "is no uniqueness: the same record, connector and direction again add another row "
            "(one row per sync run).",
            "update": "Nothing is writable: `direction` and both relationships are fixed at "
            "creation (another value is 403 `IMMUTABLE_FIELD`), so a PATCH only moves "
            "`updated_at`.",
            "delete": "The sync pipeline soft-deletes rows too, on `provenance.unlinked` and "
            "`workspace_connector.revoked` messages.",
        },
        codes={"create": ("WORKSPACE_MISMATCH", "WORKSPACE_CONNECTOR_REVOKED")},
        demo_writer="service",
    ),
    "group_enrolment": ScopeText(
        read=f"Any API key. {MEMBER_SCOPE} It sees the enrolments of that workspace, plus "
        "every enrolment of a group where its person holds a live group "
        "membership, in any role; `included` holds only the parents it may see. A service key "
        "sees every enrolment.",
        write="",
        who={
            "create": "A member key whose person has the `owner` or `admin` role on the group "
            "and an active membership in the enrolled workspace, which need not be the one the "
            f"key acts in. A service key, with no role checks. {MEMBER_SCOPE}",
            "update": "Nobody: an enrolment is never modified, so PATCH is 403 `FORBIDDEN` for "
            "every key, service keys included, before the body is read.",
            "delete": "A member key whose person has the `owner` or `admin` role on the group "
            "(owning the enrolled workspace is not enough: 403 `FORBIDDEN`). A service key, "
            f"with no role checks. {MEMBER_SCOPE}",
        },
        rules={
            "create": "One live enrolment per (group, workspace): another is 409 "
            "`{TYPE}_ALREADY_EXISTS` at `/data/relationships`. For a member key, in the "
            "statement that writes: no `owner` or `admin` role on the group is 403 `FORBIDDEN` "
            "at `/data/relationships/workspace_group`; a `pending` membership in the enrolled "
            "workspace is 403 `FORBIDDEN` at `/data/relationships/workspace`, and none at all "
            "404 `NOT_FOUND` there; a group that is missing, deleted or invisible to the "
            "caller is 404 `NOT_FOUND` at `/data/relationships/workspace_group`. `created_by` "
            "is set by the server to the calling key's person (sending it is 403 "
            "`READ_ONLY_FIELD`).",
            "update": "To change an enrolment, remove it and enrol again.",
            "delete": "The pair may be enrolled again afterwards, as a new row with a new id.",
        },
        codes={"create": (ALREADY_EXISTS,)},
        only_codes={"update": (*ALWAYS, "BAD_REQUEST", "FORBIDDEN")},
    ),
    "workspace": ScopeText(
        read=f"Any API key. {MEMBER_SCOPE} It sees that workspace's rows. A service key reads "
        "every workspace: a Retrieve finds its row anywhere, a List reads the workspaces "
        "`filter[workspace]` names, and otherwise the workspace it acts in.",
        write="A member key, in the workspace it acts in (a row or a body naming another "
        "workspace is 404 `NOT_FOUND`). A service key, in any workspace. " + MEMBER_SCOPE,
        who={"select": PATH_SCOPE, "remove": PATH_SCOPE},
        rules={
            "create": "One live row per (workspace, provider): another is 409 "
            "`{TYPE}_ALREADY_EXISTS` (`POST /v1/workspaces/{{workspace_id}}/providers` is the "
            "upsert). `is_selected` and `is_matched` default to `false`. Selected implies "
            "matched: `is_selected: true` sets `is_matched` too, and sending it with "
            "`is_matched: false` is 422 `SELECTED_IMPLIES_MATCHED` at "
            "`/data/attributes/is_matched`.",
            "update": "`is_selected` and `is_matched` are writable; the relationships are "
            "fixed at creation. Selected implies matched: `is_selected: true` sets "
            "`is_matched` too; setting only `is_matched: false` on a selected row is 422 "
            "`SELECTED_IMPLIES_MATCHED`; `is_selected: false` leaves `is_matched` as it was.",
            "delete": "The row's `is_selected` becomes `false`.",
            "select": "The route always sets `is_selected` and `is_matched` to `true`: sending "
            "`is_selected: false` is 422 `UNPROCESSABLE_ENTITY`, `is_matched: false` 422 "
            "`SELECTED_IMPLIES_MATCHED`.",
        },
        codes={
            "create": (ALREADY_EXISTS, "SELECTED_IMPLIES_MATCHED"),
            "update": ("SELECTED_IMPLIES_MATCHED",),
            "select": (ALREADY_EXISTS, "SELECTED_IMPLIES_MATCHED"),
        },
    ),
    "catalog": ScopeText(read=PATH_SCOPE, write=""),
    "feed": ScopeText(
        read=f"Any API key. {MEMBER_SCOPE} It reads the change records of the workspace it "
        "acts in; a service key too (its default workspace, or the one `workspace_id` names): "
        "no request reads every tenant at once.",
        write="",
        rules={
            "feed": "Filters: `filter[resource_type]` and `filter[change]` (comma-separated; a "
            "record with any of the values), `filter[sync_run_id]` (one sync run). Every "
            "filter given must hold."
        },
    ),
}


@dataclass(frozen=True)
class Described:
    summary: str
    description: str
    codes: tuple[str, ...]


def operation_codes(resource: Resource, operation: str) -> tuple[str, ...]:
    """The error codes ``operation`` on ``resource`` can answer with, in the registry's order."""
    text = OPERATION_TEXT[operation]
    scope = SCOPE_TEXT[resource.scope]
    own = operation in scope.only_codes or operation in scope.codes
    key = operation if own else (text.like or operation)
    if key in scope.only_codes:
        wanted = set(scope.only_codes[key])
    else:
        wanted = {*text.codes, *scope.codes.get(key, ())}
    wanted = {code.replace("{TYPE}", resource.type.upper()) for code in wanted}
    routed = OPERATIONS[operation]
    if "{" in routed.path(resource):
        wanted.add(ROUTE_NOT_FOUND)
    if routed.item and routed.method != "GET":
        wanted.add(METHOD_NOT_ALLOWED)
    unknown = wanted - ERROR_CODES.keys()
    if unknown:
        raise KeyError(f"codes missing from wellapi.errors.ERROR_CODES: {sorted(unknown)}")
    return tuple(code for code in ERROR_CODES if code in wanted)


def _filters(resource: Resource) -> str:
    names = [f"`filter[{r.name}]`" for r in resource.relationships]
    ids = f"{', '.join(names)} (comma-separated ids, at most {MAX_FILTER_VALUES})"
    own = [f"`filter[{name}]`" for name in resource.filters]
    ranges = "`filter[created_at][gte|gt|lte|lt]` (ISO-8601 with a UTC offset)"
    return "Filters: " + "; ".join([ids, *own, ranges]) + "."


def _errors(codes: tuple[str, ...]) -> str:
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(ERROR_CODES[code].status, []).append(f"`{code}`")
    lines = [f"- {status}: {', '.join(names)}" for status, names in sorted(by_status.items())]
    return "\n".join(lines)


def _try_it(access: str, scope: ScopeText) -> str:
    if access == "write" and scope.demo_writer == "service":
        key = "the demo service key (`service_key`)"
    else:
        key = "the Acme Finance member key (`workspaces[0].api_key`)"
    return (
        "**Try it** against `make run`: *Authorize* with "
        f"{key} from `.local/demo.json`. The examples use the demo's fixed ids "
        "(`devkit/welldev/seed.py`)."
    )


def _either(names: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def describe(resource: Resource, operation: str, relationship: str | None = None) -> Described:
    """The summary and description of ``operation`` on ``resource`` and the codes it gives."""
    text = OPERATION_TEXT[operation]
    scope = SCOPE_TEXT[resource.scope]
    article = "an" if resource.type[0] in "aeiou" else "a"
    rels = [rel.name for rel in resource.relationships]
    names = {
        "type": resource.type,
        "a_type": f"{article} {resource.type}",
        "a_type_code": f"{article} `{resource.type}`",
        "path": resource.path,
        "relationship": relationship or _either(rels),
        "relationships": _either([f"`{name}`" for name in rels]),
        "TYPE": resource.type.upper(),
    }
    rule_key = operation if operation in scope.rules else (text.like or operation)
    who = scope.who.get(operation) or scope.who.get(text.like or "")
    who = who or (scope.read if text.access == "read" else scope.write)
    if not who:
        raise KeyError(f"no text says who may call {operation} on {resource.key}")
    parts = [
        text.description.format(**names),
        f"**Who may call it.** {who}",
    ]
    rules = scope.rules.get(rule_key, "").format(**names)
    if operation in COLLECTIONS:
        rules = f"{_filters(resource)} {rules}".strip()
    if rules:
        parts.append(f"**Rules.** {rules}")
    codes = operation_codes(resource, operation)
    parts.append(
        "**Errors** (each code's meaning is under its status in Responses):\n\n" + _errors(codes)
    )
    parts.append(_try_it(text.access, scope))
    return Described(text.summary.format(**names), "\n\n".join(parts), codes)


# The document's own description (``info.description``): Swagger UI shows it first, above
# every operation, so it opens with what the API is and how to try it; the rest is below it.
DESCRIPTION = """JSON:API 1.1 resources of Well: which workspace connector brought a bank \
account, company or person into a workspace, workspace group enrolments, and each workspace's \
provider selections. To try an operation, *Authorize* with a key of `.local/demo.json` \
(written by `make run`), then *Try it out*.

### Keys

A **member** key acts in one workspace at a time, its default one or the one `workspace_id` \
names; a **service** key acts across workspaces. Each operation says who may call it, its \
rules and its error codes; every error is a JSON:API error object with a stable `code`, a \
`source` naming the culprit, and `meta.trace_id`.

A key goes in `Authorization: Bearer <key>`, or `Authorization: Token token="<key>"` (the header \
Rails' token authentication and spraypaint send) or `Token <key>`. Without a key that works, \
every route answers 401 with an RFC 6750 `WWW-Authenticate` challenge and one of three codes: \
`CREDENTIALS_MISSING` (no key sent: send one), `CREDENTIALS_MALFORMED` (not a key of this API: \
send it whole, as issued), `CREDENTIALS_INVALID` (a key that is not accepted: use another). An \
unknown, a revoked and a deleted key, and a wrong secret, get the same answer.

### Trying it locally

`make run` serves this page and the API with demo data (`http://127.0.0.1:3000`, or the port \
`PORT` names). *Authorize* with the Acme Finance member key (`workspaces[0].api_key` in \
`.local/demo.json`), or the service key (`service_key`) for the provenance writes. The \
examples use the demo's ids and succeed on it; a DELETE example removes its row for good and a \
create leaves one, so `make demo-reset` puts the demo back as seeded.

### Links

Every link leads to a route of this API: a resource's `links.self`; each relationship's \
`links.self` (`/v1/<resource>/{id}/relationships/<name>`, the linkage) and `links.related` \
(`/v1/<resource>/{id}/<name>`, the record). The platform's own records (accounts, companies, \
people, workspace connectors, workspaces, workspace groups, providers) carry no links. A \
workspace the request named rides along on every link as `?workspace_id=`.

### Types

Responses name a type in the singular with underscores (`account_workspace_connector`). A \
write also takes the plural kebab-case type (`account-workspace-connectors`; `accounts`, \
`workspace-groups` ... in linkage) and any case or number a client derives from a name \
(`accountWorkspaceConnectors` ...); another resource's type is 409 `CONFLICT`. A write \
ignores the members it does not use (`lid`, `links`, `meta`, `included`, @-members ...), so a \
client may send back what it fetched; an attribute or relationship the resource does not have \
is 400.

### Unmatched routes

A path that differs from a route's only by how it spells a collection \
(`account_workspace_connectors`, `accountWorkspaceConnector` ...), by a trailing slash or by \
a missing `/v1` is a `308 Permanent Redirect` to the route (ids, query string, method and body \
kept). A method the path does not serve is 405 `METHOD_NOT_ALLOWED` with `Allow` (`OPTIONS`: \
204, without a key); any other path 404 `ROUTE_NOT_FOUND`; without a valid key, 401 first."""

# Every create, select and enrol route takes it (docs/api.md, "Retry-safe creates").
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Makes the create safe to retry: send a new value (a UUID, say) for each "
    "create you mean to make, and the same value when you retry it. The first request with a "
    "key is applied "
    "and its answer kept for 24 hours; a retry with the same key, the same path, query string "
    "and body, by the same key holder (person and kind of key), gets the same status, body and "
    "`Location` without writing again, with `Idempotent-Replayed: true`. Two requests with one "
    "key at once write once. The same key with another request is 422 "
    "`IDEMPOTENCY_KEY_REUSED`; an empty or longer key, or one with a space or a character "
    "that is not visible ASCII, is 400 "
    "`INVALID_IDEMPOTENCY_KEY`. A refused request keeps nothing: its key is free again.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"},
    # No example: Swagger UI would send it with every Execute, and the second would be the
    # first's answer replayed, never what the operation's own example promises.
}
REPLAYED_HEADER: dict[str, Any] = {
    "Idempotent-Replayed": {
        "description": "`true` on the answer given again to a retry with the same "
        "`Idempotency-Key` (nothing was written); absent otherwise.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


# The headers an error's status carries, documented on every response of that status.
STATUS_HEADERS: dict[str, dict[str, Any]] = {
    "401": {
        "WWW-Authenticate": {
            "description": 'The RFC 6750 challenge: `Bearer realm="wellapi"`, with '
            '`error="invalid_request"` for a malformed credential and '
            '`error="invalid_token"` for a key that is not accepted.',
            "schema": {"type": "string", "pattern": '^Bearer realm="[^"]+"(, error="[a-z_]+")?$'},
        }
    },
    "405": {
        "Allow": {
            "description": "The methods the path's routes serve.",
            "schema": {"type": "string", "pattern": "^[A-Z]+(, [A-Z]+)*$"},
        }
    },
    "503": {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
}
