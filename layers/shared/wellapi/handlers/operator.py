"""The operator function: a workspace, its people and its connectors made, and API keys issued,
revoked and rotated, in the deployed stack, by whoever IAM lets invoke it (never through API
Gateway; docs/deploy.md, "The first answer").

The event is one action (``Action``). Each runs one ``core_api.operator_*()`` function, in a
transaction of its own, as ``well_operator``, which may run those and nothing else; the function
writes its change records (actor ``operator``) in the same transaction. The answer is JSON: what
was done, or ``{"error": {"code", "detail"}}`` for an event that is no action, an id that names
no live row or a write that cannot be made, never a traceback (an outage is the function's
error). A key is made here (``wellapi.http.keys.new_key``): the database gets its prefix and the
hash of its secret, the caller the whole key, once, in the answer of ``issue_key`` and
``rotate_key``. Each action logs one line (``operator action``): the action, the ids (and a
key's prefix) it answered and the caller's identity when Lambda's context has one; never the
key, whose answer alone holds it. CloudTrail's Lambda data events record who invoked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import pg8000.dbapi
from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from wellapi.domain import ConnectorProvider, MembershipRole, WorkspaceConnectorStatus
from wellapi.errors import sqlstate_of
from wellapi.http import keys
from wellapi.store import connections
from wellapi.store.sql import BoundStatement

logger = Logger(service="wellapi-operator", use_rfc3339=True)
# The pool of the function's own login (DB_USER: the operator role).
POOL = "operator"
# How long a key may be given to live: a minute to a year.
ExpiresIn = Annotated[int, Field(ge=60, le=366 * 24 * 3600)]
# A name or a key's reference: bounded and printable, as every value logged or stored.
Printable = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$")
]
# What each refusal of the database (migrations/baseline/functions/operator.sql) is answered as.
REFUSALS = {"WO404": "NOT_FOUND", "WO409": "CONFLICT"}


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MakeWorkspace(_Action):
    action: Literal["make_workspace"]
    name: Printable
    # Given, the same event sent again answers the workspace made the first time.
    workspace_id: UUID = Field(default_factory=uuid4)


class AddPerson(_Action):
    action: Literal["add_person"]
    workspace_id: UUID
    full_name: Printable
    role: MembershipRole = MembershipRole.MEMBER
    # A live person of another workspace is given a membership in this one.
    person_id: UUID = Field(default_factory=uuid4)


class AddWorkspaceConnector(_Action):
    action: Literal["add_workspace_connector"]
    workspace_id: UUID
    # The catalog's connector of that name and provider (made when the catalog has none).
    connector_name: Printable
    provider: ConnectorProvider
    status: WorkspaceConnectorStatus = WorkspaceConnectorStatus.ENABLED
    workspace_connector_id: UUID = Field(default_factory=uuid4)


class IssueKey(_Action):
    action: Literal["issue_key"]
    workspace_id: UUID
    person_id: UUID
    kind: Literal["member", "service"]
    name: Printable
    # None: the key lives until it is revoked.
    expires_in_seconds: ExpiresIn | None = None


class RevokeKey(_Action):
    action: Literal["revoke_key"]
    # The key's id or prefix (or the whole key, whose prefix finds it).
    key: Printable


class RotateKey(_Action):
    action: Literal["rotate_key"]
    key: Printable
    expires_in_seconds: ExpiresIn | None = None


Action = Annotated[
    MakeWorkspace | AddPerson | AddWorkspaceConnector | IssueKey | RevokeKey | RotateKey,
    Field(discriminator="action"),
]
_ACTION: TypeAdapter[Action] = TypeAdapter(Action)


class Refused(Exception):
    """An action answered with an error: its stable code and what is wrong."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _call(function: str, *values: Any) -> dict[str, Any]:
    """``core_api.<function>(values)`` in a transaction of its own: its JSON answer. Sent again
    once on a dropped connection, as each function allows: every id it makes is chosen here,
    and a key is found again by its prefix and hash."""
    slots = ", ".join(f"${n}" for n in range(1, len(values) + 1))
    statement = BoundStatement(f"SELECT core_api.{function}({slots})", values)
    pool = connections.get_pool(POOL)
    try:
        ((answer,),) = connections.in_transaction([statement], pool=pool)
    except pg8000.dbapi.DatabaseError as error:
        code = REFUSALS.get(sqlstate_of(error) or "")
        if code is None:
            raise
        # The database's own message (operator.sql): the ids the event gave, nothing else.
        raise Refused(code, str(error.args[0].get("M", code))) from None
    return dict(answer)


def _key_named(text: str) -> tuple[UUID | None, str | None]:
    """(id, prefix) of a key named by its id, its prefix or itself."""
    parsed = keys.parse_key(text)
    if parsed is not None:
        return None, parsed.prefix
    try:
        return UUID(text), None
    except ValueError:
        return None, text


def make_workspace(action: MakeWorkspace) -> dict[str, Any]:
    return _call("operator_make_workspace", action.name, action.workspace_id)


def add_person(action: AddPerson) -> dict[str, Any]:
    values = (action.workspace_id, action.full_name, str(action.role), action.person_id)
    return _call("operator_add_person", *values)


def add_workspace_connector(action: AddWorkspaceConnector) -> dict[str, Any]:
    named = (action.connector_name, str(action.provider), str(action.status))
    values = (action.workspace_id, *named, action.workspace_connector_id)
    return _call("operator_add_workspace_connector", *values)


def issue_key(action: IssueKey) -> dict[str, Any]:
    key, prefix, digest = keys.new_key()
    named = (action.kind, action.name, prefix, digest, action.expires_in_seconds)
    answer = _call("operator_issue_key", action.workspace_id, action.person_id, *named)
    return {**answer, "key": key}


def revoke_key(action: RevokeKey) -> dict[str, Any]:
    return _call("operator_revoke_key", *_key_named(action.key))


def rotate_key(action: RotateKey) -> dict[str, Any]:
    key, prefix, digest = keys.new_key()
    named = (prefix, digest, action.expires_in_seconds)
    return {**_call("operator_rotate_key", *_key_named(action.key), *named), "key": key}


RUN: dict[type[_Action], Callable[[Any], dict[str, Any]]] = {
    MakeWorkspace: make_workspace,
    AddPerson: add_person,
    AddWorkspaceConnector: add_workspace_connector,
    IssueKey: issue_key,
    RevokeKey: revoke_key,
    RotateKey: rotate_key,
}


def parse(event: Any) -> Action:
    """The event's action, or ``Refused`` naming what is wrong (never the values given: a
    whole key may be among them)."""
    try:
        return _ACTION.validate_python(event)
    except ValidationError as error:
        wrong = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'event'}: {e['msg']}" for e in error.errors()
        )
        raise Refused("INVALID_EVENT", wrong) from None


def caller_of(context: Any) -> dict[str, str]:
    """Who invoked, when Lambda's context says (a Cognito identity); an IAM caller is in
    CloudTrail, not in the context."""
    identity = getattr(getattr(context, "identity", None), "cognito_identity_id", None)
    return {"caller": identity} if identity else {}


def handle(event: Any, context: Any) -> dict[str, Any]:
    """The action's answer, or its refusal."""
    try:
        action = parse(event)
        answer = RUN[type(action)](action)
    except Refused as refused:
        logger.info("operator action refused", extra={"code": refused.code, **caller_of(context)})
        return {"error": {"code": refused.code, "detail": refused.detail}}
    said = {k: v for k, v in answer.items() if k.endswith("_id") or k == "prefix"}
    logger.info("operator action", extra={"action": action.action, **said, **caller_of(context)})
    return {"action": action.action, **answer}


def operator_handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    connections.prepare_at_init(POOL)

    @logger.inject_lambda_context
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return handle(event, context)

    return handler


__all__ = ["Action", "Refused", "handle", "operator_handler", "parse"]
