"""Typed errors of the domain, each knowing the JSON:API error object it becomes.

This is the one error map: handlers raise these, the HTTP layer renders them, and a database
error is translated here from its SQLSTATE, never passed on as text.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar, NamedTuple

import pg8000.dbapi


class ErrorCode(NamedTuple):
    status: int
    title: str
    meaning: str


# Every stable ``code`` an API function can answer with: its status, its title, and what it
# means to a client. The OpenAPI document lists them per operation (``welldev.openapi_text``)
# and explains each from here; a test finds every code the package's source can raise and
# fails when one is missing here, or is documented for no operation.
ERROR_CODES: dict[str, ErrorCode] = {
    "BAD_REQUEST": ErrorCode(
        400,
        "Bad request",
        "The request body is marked base64 but is not valid base64.",
    ),
    "INVALID_QUERY_PARAMETER": ErrorCode(
        400,
        "Invalid query parameter",
        "A comma-separated list with an empty item, or a query parameter whose name or value is"
        " not UTF-8 once percent-decoded.",
    ),
    "DUPLICATE_QUERY_PARAMETER": ErrorCode(
        400,
        "Invalid query parameter",
        "A query parameter given twice (`workspace_id` and `workspaceId` count as one).",
    ),
    "UNKNOWN_QUERY_PARAMETER": ErrorCode(
        400,
        "Invalid query parameter",
        "A query parameter this operation does not take.",
    ),
    "INVALID_INCLUDE": ErrorCode(
        400,
        "Invalid query parameter",
        "`include` names a relationship the resource does not have.",
    ),
    "INVALID_FIELDS": ErrorCode(
        400,
        "Invalid query parameter",
        "`fields[<type>]` names a type this resource cannot show, or a field that type does not"
        " have.",
    ),
    "INVALID_SORT": ErrorCode(
        400,
        "Invalid query parameter",
        "`sort` is not one the List takes (`meta.sorts` lists them), or sorts by `updated_at`"
        " beside a `filter[created_at]` range.",
    ),
    "INVALID_PAGE_PARAMETER": ErrorCode(
        400,
        "Invalid query parameter",
        "`page[size]` (or `limit`, or `page[number]`) is not a whole number from 1.",
    ),
    "PAGE_NUMBER_TOO_DEEP": ErrorCode(
        400,
        "Page number is too deep.",
        "`page[number]` would start more than 1,000 rows deep (`meta.page.maxDepth`); follow"
        " `links.next` to read further.",
    ),
    "PAGE_SIZE_TOO_LARGE": ErrorCode(
        400,
        "Page size requested is too large.",
        "`page[size]` (or `limit`) is over 500 (`meta.page.maxSize`).",
    ),
    "RANGE_PAGINATION_NOT_SUPPORTED": ErrorCode(
        400,
        "Invalid query parameter",
        "`page[after]` and `page[before]` in one request.",
    ),
    "MIXED_PAGINATION": ErrorCode(
        400,
        "Invalid query parameter",
        "Two pagination forms in one request: the platform's `limit` / `cursor`, the profile's"
        " `page[size]`, `page[after]`, `page[before]`, numbered `page[number]` with `page[size]`"
        " (`source.parameter` names the second form's first).",
    ),
    "INVALID_CURSOR": ErrorCode(
        400,
        "Invalid query parameter",
        "A `cursor`, `page[after]` or `page[before]` this API did not issue for this sort.",
    ),
    "CURSOR_EXPIRED": ErrorCode(
        410,
        "Cursor expired",
        "A changes feed cursor behind what retention has pruned: a record after it is gone, so"
        " following it would skip that record. Start again without a cursor (docs/changes.md,"
        " Retention).",
    ),
    "PERIOD_ARCHIVED": ErrorCode(
        410,
        "Gone",
        "A ledger id whose period the archive took (docs/archive.md): the rows of that period"
        " left the database for the deployment's archive, so no request reads or changes them"
        " (`meta.period` gives its bounds). Whether such a row existed is not known here.",
    ),
    "INVALID_FILTER": ErrorCode(
        400,
        "Invalid query parameter",
        "A filter the resource does not have (`meta.filters` lists those it has), a value outside"
        " its enum, more than 100 ids, or a `filter[created_at]` bound that is not an ISO-8601"
        " timestamp with a UTC offset.",
    ),
    "INVALID_UUID": ErrorCode(
        400,
        "Invalid query parameter",
        "An id in a `filter[...]`, or the `workspace_id` parameter, is not a UUID.",
    ),
    "INVALID_ID": ErrorCode(
        400,
        "Bad request",
        "A path segment that must be a UUID is not one (`meta.path_parameter` names it).",
    ),
    "INVALID_JSON": ErrorCode(
        400,
        "Malformed JSON",
        "The body is missing or is not a JSON object: invalid JSON, a member given twice, "
        "nesting deeper than 512 levels, or half a UTF-16 surrogate pair.",
    ),
    "INVALID_IDEMPOTENCY_KEY": ErrorCode(
        400,
        "Bad request",
        "The `Idempotency-Key` header is empty, longer than 255 characters, or holds a "
        "character that is not visible ASCII, a space included (`source.header` names it).",
    ),
    "SCHEMA_VALIDATION_ERROR": ErrorCode(
        400,
        "Invalid request document",
        "An unknown attribute or relationship of the resource, a member the document needs "
        "missing, or a value of the wrong JSON type or outside its enum (`source.pointer` "
        "names it).",
    ),
    "CREDENTIALS_MISSING": ErrorCode(
        401,
        "Unauthorized",
        "No API key: no `Authorization` header, an empty one, or one of another scheme than "
        "`Bearer` (or `Token`). Send `Authorization: Bearer <key>` (`WWW-Authenticate: Bearer "
        'realm="wellapi"`).',
    ),
    "CREDENTIALS_MALFORMED": ErrorCode(
        401,
        "Unauthorized",
        "The `Authorization` header is `Bearer` (or `Token`) with something that is not an API "
        "key of this API (`wk_`, a 12-character prefix, `_`, a 43-character secret): send the "
        'key whole, as it was issued (`WWW-Authenticate: Bearer realm="wellapi", '
        'error="invalid_request"`).',
    ),
    "CREDENTIALS_INVALID": ErrorCode(
        401,
        "Unauthorized",
        "The API key is not accepted: unknown, revoked, deleted, or its person or workspace "
        "removed, one answer for all. Retrying does not help: use another key "
        '(`WWW-Authenticate: Bearer realm="wellapi", error="invalid_token"`).',
    ),
    "FORBIDDEN": ErrorCode(
        403,
        "Forbidden",
        "The key may not do this here: no active membership in the requested workspace, a "
        "member key writing a provenance ledger, a rule of the resource (the group role an "
        "enrolment needs), or a PATCH of an enrolment.",
    ),
    "READ_ONLY_FIELD": ErrorCode(
        403,
        "Forbidden",
        "A member the server sets (the timestamps, `created_by`) is sent with a value: on "
        "create at all, on update with another value than its current one.",
    ),
    "IMMUTABLE_FIELD": ErrorCode(
        403,
        "Forbidden",
        "An update changes a member that is set on create only (`direction`, a relationship); "
        "its current value is accepted.",
    ),
    "CLIENT_GENERATED_ID_NOT_ALLOWED": ErrorCode(
        403,
        "Forbidden",
        "A create names a `data.id` that is not a UUID: a client-generated id is a UUID, or "
        "left out for the server to choose.",
    ),
    "NOT_FOUND": ErrorCode(
        404,
        "Not found",
        "No such live row, or one outside the caller's scope (the same answer); or a "
        "relationship, or a workspace in the path, that is missing, deleted or invisible.",
    ),
    "UNKNOWN_RELATIONSHIP": ErrorCode(
        404,
        "Not found",
        "A related-resource or relationship route names a relationship the resource does not "
        "have (`meta.path_parameter` is `relationship`).",
    ),
    "ROUTE_NOT_FOUND": ErrorCode(
        404,
        "Not found",
        "No route of this API has this path, under any spelling it redirects (docs/api.md, "
        "Unmatched routes); a path parameter holding an encoded slash makes another path.",
    ),
    "METHOD_NOT_ALLOWED": ErrorCode(
        405,
        "Method not allowed",
        "The path is a route of this API, but not for this method (a path parameter holding an "
        "encoded slash can make it one): the `Allow` header and `meta.allowed_methods` list the "
        "methods it serves.",
    ),
    "NOT_ACCEPTABLE": ErrorCode(
        406,
        "Not acceptable",
        "`Accept` lists the JSON:API media type only with parameters other than `ext` and "
        "`profile`, or with an extension this API does not support.",
    ),
    "CONFLICT": ErrorCode(
        409,
        "Conflict",
        "`data.type` or a linkage `type` is not the expected one, `data.id` is not the URL's "
        "id, or the body names another parent than the path.",
    ),
    "ID_ALREADY_USED": ErrorCode(
        409,
        "Conflict",
        "A create's client-generated `data.id` is the id of a row that exists or existed "
        "(deleted, or out of the caller's reach): nothing is written.",
    ),
    "WORKSPACE_GROUP_WORKSPACE_ALREADY_EXISTS": ErrorCode(
        409,
        "Conflict",
        "The workspace is already enrolled in the group (one live enrolment per pair).",
    ),
    "WORKSPACE_PROVIDER_ALREADY_EXISTS": ErrorCode(
        409,
        "Conflict",
        "The workspace already has a live row for this provider (`POST "
        "/v1/workspaces/{workspace_id}/providers` is the upsert).",
    ),
    "PAYLOAD_TOO_LARGE": ErrorCode(413, "Payload too large", "The body is over 64 KiB."),
    "UNSUPPORTED_MEDIA_TYPE": ErrorCode(
        415,
        "Unsupported media type",
        "The body is not sent as `application/vnd.api+json` (with no parameter but `ext` or "
        "`profile`).",
    ),
    "IDEMPOTENCY_KEY_REUSED": ErrorCode(
        422,
        "Unprocessable entity",
        "The `Idempotency-Key` was sent, within the last 24 hours, with another request (another "
        "body, path or query string): a retry repeats its request exactly, another request "
        "takes a new key. Nothing was written.",
    ),
    "UNPROCESSABLE_ENTITY": ErrorCode(
        422,
        "Unprocessable entity",
        "A required member is missing, a required relationship is `null`, or a value the route "
        "does not allow (selecting with `is_selected: false`).",
    ),
    "WORKSPACE_MISMATCH": ErrorCode(
        422,
        "Unprocessable entity",
        "The record and the workspace connector belong to different workspaces (one error at "
        "each relationship).",
    ),
    "WORKSPACE_CONNECTOR_REVOKED": ErrorCode(
        422,
        "Unprocessable entity",
        "The workspace connector is revoked: it takes no new links (the error is at "
        "`/data/relationships/workspace_connector`).",
    ),
    "ID_OUTSIDE_PERIODS": ErrorCode(
        422,
        "Unprocessable entity",
        "A ledger row's id carries its created_at and names the period it is kept in: a "
        "client's `data.id` that is not a version 7 UUID made now (at most 10 minutes before "
        "the request), or a time no period was made for (the operators are told), is refused "
        "and nothing is written.",
    ),
    "SELECTED_IMPLIES_MATCHED": ErrorCode(
        422,
        "Unprocessable entity",
        "A selected provider is always matched: `is_matched: false` with `is_selected: true`, "
        "or on a row that stays selected.",
    ),
    "INTERNAL_ERROR": ErrorCode(
        500,
        "Internal error",
        "An unexpected failure; `meta.trace_id` finds it in the logs.",
    ),
    "SERVICE_UNAVAILABLE": ErrorCode(
        503,
        "Service unavailable",
        "The database cannot serve now; retry after the `Retry-After` header.",
    ),
}


class ApiError(Exception):
    status: ClassVar[int] = 500
    code: ClassVar[str] = "INTERNAL_ERROR"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        pointer: str | None = None,
        parameter: str | None = None,
        header: str | None = None,
        code: str | None = None,
        title: str | None = None,
        status: int | None = None,
        links: dict[str, str] | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.pointer = pointer
        self.parameter = parameter
        self.header = header
        self.error_code = code or self.code
        self.error_title = title or self.title
        self.error_status = status or self.status
        self.links = links
        self.meta = meta

    def to_object(self, trace_id: str | None = None) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "status": str(self.error_status),
            "code": self.error_code,
            "title": self.error_title,
            "detail": self.detail,
        }
        source: dict[str, str] = {}
        if self.pointer is not None:
            source["pointer"] = self.pointer
        if self.parameter is not None:
            source["parameter"] = self.parameter
        if self.header is not None:
            source["header"] = self.header
        if source:
            obj["source"] = source
        if self.links:
            obj["links"] = self.links
        meta = dict(self.meta or {})
        if trace_id:
            meta["trace_id"] = trace_id
        if meta:
            obj["meta"] = meta
        return obj

    def headers(self) -> dict[str, str]:
        return {}


class BadRequest(ApiError):
    status = 400
    code = "BAD_REQUEST"
    title = "Bad request"


class InvalidQueryParameter(BadRequest):
    code = "INVALID_QUERY_PARAMETER"
    title = "Invalid query parameter"


class InvalidJson(BadRequest):
    code = "INVALID_JSON"
    title = "Malformed JSON"


class SchemaValidationError(BadRequest):
    code = "SCHEMA_VALIDATION_ERROR"
    title = "Invalid request document"


# The protection space every 401 names (RFC 6750's ``realm``): one for the whole API.
REALM = "wellapi"


class Unauthorized(ApiError):
    """401 for a key that is well formed but not accepted: unknown, revoked, deleted, a wrong
    secret for a live key's prefix, a person or workspace removed, a scope token refused. One
    answer for all of them, byte for byte, so an answer never tells whether a key exists.

    Its subclasses are the two other reasons a request has no principal; each answer names its
    RFC 6750 ``error`` in ``WWW-Authenticate`` (none where no credential was offered).
    """

    status = 401
    code = "CREDENTIALS_INVALID"
    title = "Unauthorized"
    bearer_error: ClassVar[str | None] = "invalid_token"
    default_detail: ClassVar[str] = (
        "The API key is not accepted: it is unknown, revoked or no longer valid. Send a key "
        "that is in use; retrying with this one will not succeed."
    )

    def __init__(self, detail: str | None = None) -> None:
        # Every reason is the Authorization header's (or its absence): the source names it.
        super().__init__(detail or self.default_detail, header="Authorization")

    def headers(self) -> dict[str, str]:
        challenge = f'Bearer realm="{REALM}"'
        if self.bearer_error is not None:
            challenge += f', error="{self.bearer_error}"'
        return {"WWW-Authenticate": challenge}


class CredentialsMissing(Unauthorized):
    code = "CREDENTIALS_MISSING"
    bearer_error = None
    default_detail = (
        "The request carries no API key: send one in the Authorization header, as "
        "`Authorization: Bearer <key>`."
    )


# The detail of a header whose scheme this API does not read (Basic...): RFC 6750 counts it as
# no credential at all, so its code and challenge are those of a missing one.
UNSUPPORTED_SCHEME = (
    "The Authorization header does not use a scheme this API reads: send the API key as "
    "`Authorization: Bearer <key>`."
)


class CredentialsMalformed(Unauthorized):
    code = "CREDENTIALS_MALFORMED"
    bearer_error = "invalid_request"
    default_detail = (
        "The Authorization header does not hold an API key of this API: a key is `wk_`, a "
        "12-character prefix, `_` and a 43-character secret. Send the key whole, as it was "
        "issued, as `Authorization: Bearer <key>`."
    )


class Forbidden(ApiError):
    status = 403
    code = "FORBIDDEN"
    title = "Forbidden"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"
    title = "Not found"


class RouteNotFound(NotFound):
    code = "ROUTE_NOT_FOUND"


class MethodNotAllowed(ApiError):
    status = 405
    code = "METHOD_NOT_ALLOWED"
    title = "Method not allowed"

    def __init__(
        self, detail: str, *, allowed: tuple[str, ...], meta: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail, meta={"allowed_methods": list(allowed), **(meta or {})})
        self.allowed = allowed

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class NotAcceptable(ApiError):
    status = 406
    code = "NOT_ACCEPTABLE"
    title = "Not acceptable"


class Conflict(ApiError):
    status = 409
    code = "CONFLICT"
    title = "Conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"
    title = "Payload too large"


class UnsupportedMediaType(ApiError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    title = "Unsupported media type"


class Unprocessable(ApiError):
    status = 422
    code = "UNPROCESSABLE_ENTITY"
    title = "Unprocessable entity"


class OutsidePeriods(Unprocessable):
    """A ledger row whose id has no period to be kept in (``ID_OUTSIDE_PERIODS``): a client's
    id not of now, or a time the sweeper made no partition for. The latter is counted
    (``WritesOutsidePeriods``, alarmed on): a person must make the period."""

    code = "ID_OUTSIDE_PERIODS"

    @classmethod
    def from_database(cls) -> OutsidePeriods:
        """The database had no partition for the row: counted, for a person to look at."""
        error = cls(
            "No period of this ledger holds the row's time (its id's), so nothing was written. "
            "The periods are made ahead of time; the operators are told.",
            pointer="/data",
        )
        error.metric = "WritesOutsidePeriods"
        return error

    # The metric an answer with this error counts (``Response.counted``), if any.
    metric: str | None = None


class Gone(ApiError):
    status = 410
    code = "CURSOR_EXPIRED"
    title = "Cursor expired"


class PeriodArchived(ApiError):
    """A ledger id whose period was archived (``PERIOD_ARCHIVED``)."""

    status = 410
    code = "PERIOD_ARCHIVED"
    title = "Gone"


class DatabaseUnavailable(ApiError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    title = "Service unavailable"

    def __init__(
        self, detail: str | None = None, *, retry_after_seconds: int | None = None
    ) -> None:
        super().__init__(detail or "The database is unavailable; retry shortly.")
        # How long clients should wait is configuration (DB_RETRY_AFTER_SECONDS), which this
        # module never reads: ``db`` passes it in, and the HTTP answer gives the configured wait
        # to an error mapped here without one (``database_error``, the authorizer's outage).
        self.retry_after_seconds = retry_after_seconds

    def headers(self) -> dict[str, str]:
        if self.retry_after_seconds is None:
            return {}
        return {"Retry-After": str(self.retry_after_seconds)}


class ErrorList(Exception):
    """Several errors reported together (one per offending member), all with one status."""

    def __init__(self, errors: Iterable[ApiError]) -> None:
        self.errors = list(errors)
        if not self.errors:
            raise ValueError("ErrorList needs at least one error")
        shown = "; ".join(e.detail for e in self.errors[:3])
        more = len(self.errors) - 3
        super().__init__(shown + (f"; and {more} more" if more > 0 else ""))

    @property
    def status(self) -> int:
        statuses = {e.error_status for e in self.errors}
        if len(statuses) == 1:
            return statuses.pop()
        return 400 if all(400 <= s < 500 for s in statuses) else 500


# SQLSTATE classes that mean "the database could not serve this now": connection exceptions,
# operator intervention (shutdown, statement timeout cancel), insufficient resources,
# serialization failures and deadlocks the client may simply retry; and lock_not_available
# (55P03), a row another transaction held past the role's lock_timeout.
# SQLSTATE lock_not_available: a lock another transaction held past this role's lock_timeout.
LOCK_NOT_AVAILABLE = "55P03"
# A proof made outside the time the database believes one (core_api.prove_scope and prove_key
# raise it): the function's clock and the database's disagree, or the message was held that
# long on its way.
PROOF_OUT_OF_TIME = "WP002"
# A deployed role without its transactions' settings (core_api.set_transaction_settings() raises
# it): its transactions are refused until the owner records them (docs/operations.md).
SETTINGS_NOT_RECORDED = "WP003"
_UNAVAILABLE_SQLSTATES = (
    *("08", "53", "57", "40"),
    *(LOCK_NOT_AVAILABLE, PROOF_OUT_OF_TIME, SETTINGS_NOT_RECORDED),
)


def sqlstate_of(error: BaseException) -> str | None:
    args = getattr(error, "args", ())
    if args and isinstance(args[0], dict):
        code = args[0].get("C")
        return str(code) if code else None
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error, then each it was raised from or while handling: a traceback prints them all."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def failure_fields(error: BaseException) -> dict[str, str | None]:
    """What a log line says of a failure: its class, and the SQLSTATE the database gave (the
    first in its chain: an outage of ours is raised from the driver's error)."""
    sqlstates = (sqlstate_of(e) for e in _chain(error))
    return {"error_type": type(error).__name__, "sqlstate": next(filter(None, sqlstates), None)}


# What a failure to reach the database is raised as: the driver's errors, the socket's (whose
# text names the host), and our outage, raised from either.
_REACHING_THE_DATABASE = (pg8000.dbapi.Error, OSError, EOFError, DatabaseUnavailable)


def logged_failure(error: BaseException, **extra: Any) -> dict[str, Any]:
    """The arguments of a log call reporting ``error``: ``logger.error(message,
    **logged_failure(error))``.

    The driver's text (the server's message, detail, hint, context and internal query, or the
    host it could not reach) quotes statements and the values of rows, so a failure the driver
    is in is said by its class, its SQLSTATE and where it was raised, without any exception's
    text; any other failure, a fault of ours, by its whole traceback.
    """
    fields = failure_fields(error) | extra
    if not any(isinstance(e, _REACHING_THE_DATABASE) or sqlstate_of(e) for e in _chain(error)):
        return {"extra": fields, "exc_info": error}
    frames = traceback.extract_tb(error.__traceback__)
    raised_at = [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames]
    return {"extra": fields | {"raised_at": raised_at}}


def constraint_of(error: BaseException) -> str | None:
    args = getattr(error, "args", ())
    if args and isinstance(args[0], dict):
        name = args[0].get("n")
        return str(name) if name else None
    return None


def outside_periods(error: BaseException) -> bool:
    """Whether the database refused a row that no partition takes: a ledger's row whose id's
    time has no period (a check failed with no constraint's name, which only that is)."""
    return sqlstate_of(error) == "23514" and constraint_of(error) is None


def is_unavailable(sqlstate: str | None) -> bool:
    return sqlstate is not None and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def database_error(error: BaseException) -> ApiError | None:
    """The client-facing error for a failure raised by the driver, or None if it is not one.

    Only "try again" conditions are mapped generically; rule violations (unique, foreign key,
    check) are mapped by the operation that knows which rule it wrote.
    """
    if isinstance(error, DatabaseUnavailable):
        # What ``db.execute`` raises when it cannot connect (or reconnect): callers that catch
        # driver failures (the authorizer) must recognise it as the same outage.
        return error
    if isinstance(error, pg8000.dbapi.InterfaceError | ConnectionError | TimeoutError):
        return DatabaseUnavailable()
    if isinstance(error, pg8000.dbapi.DatabaseError) and is_unavailable(sqlstate_of(error)):
        return DatabaseUnavailable()
    return None
