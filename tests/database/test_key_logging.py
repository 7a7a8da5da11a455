"""API keys are never stored or logged in clear, nor the driver's text of a database error.

A run of everything that handles a key — creation, listing, revocation, authenticated requests
(with the ``Authorization`` header in the event, as API Gateway passes it to the function),
every kind of failed authentication, a database outage in the authorizer and an unexpected
error in a handler — is captured whole: every log record at DEBUG (``caplog``, with each
record's extra fields and exception text), and everything written to stdout and stderr, where
Powertools writes its JSON lines (``capsys``). No key, nor its secret part, may appear in any of
it, nor anywhere in the database. A database error is logged by its SQLSTATE and class: the
server's message, detail, hint and context (which quotes the statement) appear in none of it.

The same check over the whole test run is the ``tests.support.key_audit`` plugin's.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import pg8000.dbapi
import pytest

from tests.support import factories as f
from tests.support import key_audit
from tests.support import tenancy as tn
from tests.support.api import JSONAPI, Lambda, Reply, call, event
from wellapi.handlers import authorizer as auth
from wellapi.handlers import operator
from wellapi.http import keys
from wellapi.operations import read
from wellapi.store import connections
from wellapi.store.sql import BoundStatement
from welldev import api_keys

pytestmark = pytest.mark.usefixtures("api_database")

POWERTOOLS_LOGGERS = ("wellapi", "wellapi-authorizer")


@dataclass
class Everything:
    """All that was captured, as one text, plus the records themselves."""

    text: str
    records: list[logging.LogRecord]
    stdout: str


@pytest.fixture
def capture(
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """Log everything at DEBUG, Powertools to capsys; ``capture()`` returns it all so far."""
    key_audit.follow_stdout(monkeypatch)
    caplog.set_level(logging.DEBUG)
    for name in POWERTOOLS_LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    seen: list[str] = []

    def everything() -> Everything:
        out, err = capsys.readouterr()
        seen.extend((out, err))
        records = list(caplog.records)
        parts = [*seen, caplog.text]
        for record in records:
            parts.append(repr(vars(record)))
            if record.exc_info:
                parts.append(logging.Formatter().formatException(record.exc_info))
        return Everything("\n".join(parts), records, "".join(seen[0::2]))

    return everything


def authorize(header: str | None) -> dict[str, Any]:
    ev: dict[str, Any] = {"version": "2.0", "type": "REQUEST", "headers": {}}
    if header is not None:
        ev["headers"]["authorization"] = header
        ev["identitySource"] = [header]
    result = auth.authorizer_handler()(ev, Lambda())
    return dict(result["context"])


def request_with(key: str, resource: str, operation: str, **kw: Any) -> Reply:
    """A request as API Gateway hands it to the function: claims *and* the header."""
    claims = authorize(f"Bearer {key}")
    headers = {"authorization": f"Bearer {key}", **kw.pop("headers", {})}
    return call(resource, operation, event(claims=claims, headers=headers, **kw))


def assert_no_key_in(text: str, issued: list[str]) -> None:
    """By prefix, so that a failure does not print the secrets it found."""
    assert issued
    captured = [key_audit.prefix_of(k) for k in issued if key_audit.secret_of(k) in text]
    assert captured == [], "these keys' secrets were captured"


def test_no_key_is_logged_by_creation_use_failure_or_revocation(admin, capture, monkeypatch):
    w = tn.world(admin)
    a = w.a.tenant
    issued: list[str] = []

    def create(kind: str) -> tuple[str, str]:
        key_id, key = api_keys.create_key(
            admin, person_id=a.person_id, workspace_id=a.workspace_id, kind=kind, name=kind
        )
        issued.append(key)
        return str(key_id), key

    _, member = create("member")
    _, service = create("service")
    revoked_id, revoked = create("member")
    _, by_prefix = create("member")
    listed = api_keys.list_keys(admin)
    logging.getLogger("wellapi").info("keys listed", extra={"keys": [repr(k) for k in listed]})

    # Authenticated requests, answered 200, 201, 404 and 403.
    row = str(w.a.provenance["account_workspace_connectors"][1])
    base = "/v1/account-workspace-connectors"
    assert (
        request_with(member, "account_workspace_connectors", "list", method="GET", path=base).status
        == 200
    )
    assert (
        request_with(
            member,
            "account_workspace_connectors",
            "retrieve",
            method="GET",
            path=f"{base}/{row}",
            path_parameters={"id": row},
            route=base + "/{id}",
        ).status
        == 200
    )
    elsewhere = str(w.b.provenance["account_workspace_connectors"][1])
    assert (
        request_with(
            member,
            "account_workspace_connectors",
            "retrieve",
            method="GET",
            path=f"{base}/{elsewhere}",
            path_parameters={"id": elsewhere},
            route=base + "/{id}",
        ).status
        == 404
    )
    assert (
        request_with(
            member,
            "account_workspace_connectors",
            "list",
            method="GET",
            path=base,
            query=f"workspace_id={w.b.tenant.workspace_id}",
        ).status
        == 403
    )
    provider = f.provider(admin)
    selection = {
        "data": {
            "type": "workspace_provider",
            "relationships": {"provider": {"data": {"type": "provider", "id": str(provider[1])}}},
        }
    }
    nested = f"/v1/workspaces/{a.workspace_id}/providers"
    created = request_with(
        service,
        "workspace_providers",
        "select",
        method="POST",
        path=nested,
        path_parameters={"workspace_id": str(a.workspace_id)},
        route="/v1/workspaces/{workspace_id}/providers",
        body=json.dumps(selection),
        headers={"content-type": JSONAPI},
    )
    assert created.status == 201, created.body

    # Failed authentications of every kind, each carrying a real key's secret somewhere.
    secret = key_audit.secret_of(member)
    wrong_secret = f"wk_{key_audit.prefix_of(member)}_{secret[::-1]}"
    for header in (
        f"Bearer {wrong_secret}",
        f"Bearer {member}x",
        f"Bearer {member} {member}",
        f"Basic {member}",
        f"Token key={member}",
        f"Bearer wk_{secret}",
        secret,
    ):
        # No principal: the reason alone (invalid, malformed or unsupported), never the key.
        assert list(authorize(header)) == ["credentials"]
    assert f.revoke_key(admin, revoked_id)
    assert f.revoke_key(admin, key_audit.prefix_of(by_prefix))
    for gone in (revoked, by_prefix):
        assert authorize(f"Bearer {gone}") == {"credentials": "invalid"}
        reply = request_with(gone, "account_workspace_connectors", "list", method="GET", path=base)
        assert reply.status == 401

    # The database is down while a key is checked; a handler fails unexpectedly.
    with monkeypatch.context() as down:

        def unavailable(*args: Any, **kwargs: Any) -> Any:
            raise pg8000.dbapi.InterfaceError("network error")

        down.setattr(auth.connections, "execute", unavailable)
        assert authorize(f"Bearer {service}") == {"auth_unavailable": "true"}
    with monkeypatch.context() as broken:

        def failing(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError("the read failed")

        broken.setattr(read, "fetch_page", failing)
        reply = request_with(
            member, "account_workspace_connectors", "list", method="GET", path=base
        )
        assert reply.status == 500

    everything = capture()
    # The capture is real: Powertools' JSON lines are there, with the failures and the error.
    lines = [json.loads(line) for line in everything.stdout.splitlines() if line.startswith("{")]
    failed = [line for line in lines if line.get("message") == "authentication failed"]
    assert {line.get("prefix") for line in failed} >= {
        key_audit.prefix_of(member),
        key_audit.prefix_of(revoked),
    }
    assert any(line.get("message") == "unhandled error" for line in lines)
    assert any(line.get("message") == "authentication unavailable" for line in lines)
    assert any(r.levelno == logging.DEBUG for r in everything.records)
    assert_no_key_in(everything.text, issued)


@pytest.mark.parametrize(
    "variable", ["POWERTOOLS_LOGGER_LOG_EVENT", "POWERTOOLS_DEV", "POWERTOOLS_DEBUG"]
)
def test_the_authorizer_never_logs_its_event_whatever_the_environment_asks(
    admin, capture, monkeypatch, variable
):
    """The authorizer's event carries the key (header and identity source)."""
    monkeypatch.setenv(variable, "true")
    t = f.tenant(admin)
    _, key = api_keys.create_key(
        admin, person_id=t.person_id, workspace_id=t.workspace_id, kind="member", name="env"
    )
    assert authorize(f"Bearer {key}")["person_id"] == str(t.person_id)
    wrong = f"wk_{key_audit.prefix_of(key)}_{key_audit.secret_of(key)[::-1]}"
    assert authorize(f"Bearer {wrong}") == {"credentials": "invalid"}
    everything = capture()
    assert "authentication failed" in everything.stdout
    assert_no_key_in(everything.text, [key])


def test_the_database_never_holds_a_key_or_its_secret(admin):
    t = f.tenant(admin)
    key_id, key = api_keys.create_key(
        admin, person_id=t.person_id, workspace_id=t.workspace_id, kind="service", name="stored"
    )
    f.revoke_key(admin, str(key_id))
    stored = admin.run(
        "SELECT prefix, secret_hash FROM core_api.api_keys WHERE api_key_id = :i", i=str(key_id)
    )
    assert stored == [[key_audit.prefix_of(key), keys.hash_secret(key_audit.secret_of(key))]]
    # Every key issued in this run so far (with the plugin) and this one: in no table, no row.
    issued = [*key_audit.AUDIT.issued, key]
    for table in tn.core_api_tables(admin):
        rows = admin.run(f"SELECT row_to_json(t)::text FROM core_api.{table} t")
        assert_no_key_in("\n".join(r[0] for r in rows), issued)


def test_the_audit_plugin_records_every_issued_key_and_finds_its_secret(request, admin):
    assert request.config.pluginmanager.has_plugin(key_audit.PLUGIN_NAME), (
        'add pytest_plugins = ["tests.support.key_audit"] to tests/conftest.py'
    )
    t = f.tenant(admin)
    _, created = api_keys.create_key(
        admin, person_id=t.person_id, workspace_id=t.workspace_id, kind="member", name="audit"
    )
    fresh, _, _ = keys.new_key()
    # The operator function's keys, made in the layer: the path a deployed stack issues them by.
    issue = {"workspace_id": str(t.workspace_id), "person_id": str(t.person_id), "kind": "member"}
    operated = operator.handle({"action": "issue_key", **issue, "name": "audit"}, None)["key"]
    assert {created, fresh, operated} <= set(key_audit.AUDIT.issued)
    prefix = key_audit.prefix_of(created)
    assert key_audit.AUDIT.found_in(f"...{key_audit.secret_of(created)}...") == [prefix]
    assert key_audit.AUDIT.found_in(f"...{prefix}...") == []
    # Powertools writes through the audited stream.
    assert all(
        isinstance(handler.stream, key_audit.AuditedStdout)
        for _, handler in key_audit.powertools_handlers()
    )


def test_nothing_captured_so_far_in_this_run_holds_an_issued_key(request):
    assert request.config.pluginmanager.has_plugin(key_audit.PLUGIN_NAME)
    assert key_audit.AUDIT.texts_checked > 0
    assert key_audit.AUDIT.leaks == []


# A statement the database refuses with text of its own in every field the server sends: the
# message, the detail, the hint, and the context, which quotes the statement that raised.
DRIVER_TEXT = ("message-of-7f3a", "detail-of-7f3a", "hint-of-7f3a", "RAISE EXCEPTION")
FAULT_SQLSTATE = "WT042"
FAULT = BoundStatement(
    "DO $$ BEGIN EXECUTE 'DO $f$ BEGIN RAISE EXCEPTION USING MESSAGE = ''message-of-7f3a'', "
    f"DETAIL = ''detail-of-7f3a'', HINT = ''hint-of-7f3a'', ERRCODE = ''{FAULT_SQLSTATE}''; "
    "END $f$'; END $$"
)


def failing_as_the_database_does(
    monkeypatch: pytest.MonkeyPatch,
) -> list[pg8000.dbapi.DatabaseError]:
    """The authorizer's lookup and the API's List send ``FAULT`` instead of their statements,
    each as its own role; the errors the driver raised, as they were raised."""
    raised: list[pg8000.dbapi.DatabaseError] = []
    execute = connections.execute

    def recording(*args: Any, **kwargs: Any) -> Any:
        try:
            return execute(*args, **kwargs)
        except pg8000.dbapi.DatabaseError as error:
            raised.append(error)
            raise

    def fetch_page(request: Any, params: Any) -> Any:
        return connections.read([FAULT], request.principal.prove)

    monkeypatch.setattr(connections, "execute", recording)
    monkeypatch.setattr(auth, "LOOKUP_STATEMENT", FAULT)
    monkeypatch.setattr(read, "fetch_page", fetch_page)
    return raised


def test_a_database_error_is_logged_by_its_sqlstate_and_class_never_its_text(
    admin, capture, monkeypatch
):
    t = f.tenant(admin)
    _, key = api_keys.create_key(
        admin, person_id=t.person_id, workspace_id=t.workspace_id, kind="member", name="fault"
    )
    claims = authorize(f"Bearer {key}")
    raised = failing_as_the_database_does(monkeypatch)

    assert authorize(f"Bearer {key}") == {"auth_unavailable": "fault"}
    listing = event("GET", "/v1/account-workspace-connectors", claims=claims)
    reply = call("account_workspace_connectors", "list", listing)

    assert reply.status == 500
    # The driver had it all to tell: each error carried every field's text.
    assert len(raised) == 2
    assert all(text in str(error) for error in raised for text in DRIVER_TEXT)
    everything = capture()
    lines = [json.loads(line) for line in everything.stdout.splitlines() if line.startswith("{")]
    said = sorted(
        (line["message"], line.get("sqlstate"), line.get("error_type"))
        for line in lines
        if line["level"] == "ERROR"
    )
    assert said == [
        ("authentication failed unexpectedly", FAULT_SQLSTATE, "DatabaseError"),
        ("unhandled error", FAULT_SQLSTATE, "DatabaseError"),
    ]
    assert [text for text in DRIVER_TEXT if text in everything.text] == []
