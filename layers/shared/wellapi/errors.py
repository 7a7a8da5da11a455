"""Typed errors of the domain, each knowing the JSON:API error object it becomes.

This is the one error map: handlers raise these, the HTTP layer renders them, and a database
error is translated here from its SQLSTATE, never passed on as text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from wellapi.settings import get_settings


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


class Unauthorized(ApiError):
    status = 401
    code = "UNAUTHORIZED"
    title = "Unauthorized"

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(ApiError):
    status = 403
    code = "FORBIDDEN"
    title = "Forbidden"


class NotFound(ApiError):
    status = 404
    code = "NOT_FOUND"
    title = "Not found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "METHOD_NOT_ALLOWED"
    title = "Method not allowed"


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


class DatabaseUnavailable(ApiError):
    status = 503
    code = "SERVICE_UNAVAILABLE"
    title = "Service unavailable"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or "The database is unavailable; retry shortly.")

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(get_settings().db_retry_after_seconds)}


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
_UNAVAILABLE_SQLSTATES = ("08", "53", "57", "40", "55P03")


def sqlstate_of(error: BaseException) -> str | None:
    args = getattr(error, "args", ())
    if args and isinstance(args[0], dict):
        code = args[0].get("C")
        return str(code) if code else None
    return None


def constraint_of(error: BaseException) -> str | None:
    args = getattr(error, "args", ())
    if args and isinstance(args[0], dict):
        name = args[0].get("n")
        return str(name) if name else None
    return None


def is_unavailable(sqlstate: str | None) -> bool:
    return sqlstate is not None and sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def database_error(error: BaseException) -> ApiError | None:
    """The client-facing error for a failure raised by the driver, or None if it is not one.

    Only "try again" conditions are mapped generically; rule violations (unique, foreign key,
    check) are mapped by the operation that knows which rule it wrote.
    """
    import pg8000.dbapi

    if isinstance(error, DatabaseUnavailable):
        # What ``db.execute`` raises when it cannot connect (or reconnect): callers that catch
        # driver failures (the authorizer) must recognise it as the same outage.
        return error
    if isinstance(error, pg8000.dbapi.InterfaceError | ConnectionError | TimeoutError):
        return DatabaseUnavailable()
    if isinstance(error, pg8000.dbapi.DatabaseError) and is_unavailable(sqlstate_of(error)):
        return DatabaseUnavailable()
    return None
