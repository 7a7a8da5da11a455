"""Every request leaves one line, tied to API Gateway's request id: its metrics in CloudWatch's
embedded metric format and, at level INFO, its log fields.

The API functions emit ``Requests`` and ``Latency`` by route and status, and log beside them the
duration and the caller's ids (never the key, the Authorization header or the scope token) with
the request id as ``correlation_id``. The authorizer logs its outcome under the same
correlation id.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from tests.support import factories as f
from tests.support import key_audit
from tests.support.api import Lambda, call, event
from wellapi.handlers.api import logger
from wellapi.handlers.authorizer import authorizer_handler
from wellapi.http.principal import SCOPE_TOKEN_CLAIM

pytestmark = pytest.mark.usefixtures("api_database")

ITEM = "/v1/workspace-providers/{id}"


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.fixture
def stdout(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    """Powertools writes its JSON lines to the stdout of import time: follow capsys."""
    key_audit.follow_stdout(monkeypatch)
    capsys.readouterr()
    return lambda: json_lines(capsys.readouterr().out)


def test_a_request_logs_one_info_line_with_its_route_status_and_caller(admin, stdout):
    tenant = f.tenant(admin)
    claims = tenant.claims()
    ev = event("GET", "/v1/workspace-providers", claims=claims)

    reply = call("workspace_providers", "list", ev)

    (line,) = stdout()
    assert (line["level"], line["message"]) == ("INFO", "request")
    assert line["correlation_id"] == ev["requestContext"]["requestId"]
    assert line["function_request_id"]
    assert line["route"] == "GET /v1/workspace-providers"
    assert line["status"] == str(reply.status) == "200"
    assert line["duration_ms"] > 0
    assert line["Latency"] == [line["duration_ms"]]
    assert line["person_id"] == claims["person_id"]
    assert line["workspace_id"] == claims["workspace_id"]
    assert claims[SCOPE_TOKEN_CLAIM] not in json.dumps(line)


def test_a_refused_request_is_logged_and_counted_with_its_status(admin, stdout):
    ev = event("GET", "/v1/workspace-providers/x", path_parameters={"id": "x"}, route=ITEM)

    assert call("workspace_providers", "retrieve", ev).status == 401

    (line,) = stdout()
    assert (line["message"], line["status"], line["route"]) == ("request", "401", "GET " + ITEM)
    assert "person_id" not in line
    assert line["Requests"] == [1.0]


def test_every_request_emits_its_count_and_latency_by_route_and_status(admin, stdout):
    tenant = f.tenant(admin)
    listing = event("GET", "/v1/workspace-providers", claims=tenant.claims())
    call("workspace_providers", "list", listing)

    (metric,) = [x for x in stdout() if "_aws" in x]
    (directive,) = metric["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Well"
    assert {m["Name"]: m["Unit"] for m in directive["Metrics"]} == {
        "Requests": "Count",
        "Latency": "Milliseconds",
    }
    assert [sorted(d) for d in directive["Dimensions"]] == [["route", "service", "status"]]
    assert (metric["route"], metric["status"], metric["Requests"]) == (
        "GET /v1/workspace-providers",
        "200",
        [1.0],
    )


def test_below_info_a_request_leaves_its_metrics_without_its_log_fields(admin, stdout):
    tenant = f.tenant(admin)
    claims = tenant.claims()
    level = logger.log_level
    logger.setLevel(logging.WARNING)
    try:
        call("workspace_providers", "list", event("GET", "/v1/workspace-providers", claims=claims))
    finally:
        logger.setLevel(level)

    (line,) = stdout()
    assert (line["route"], line["status"], line["Requests"]) == (
        "GET /v1/workspace-providers",
        "200",
        [1.0],
    )
    assert not {"message", "correlation_id", "person_id"} & set(line)


def test_the_authorizer_logs_its_outcome_under_the_request_id(admin, stdout):
    tenant = f.tenant(admin)
    key_id, key = f.member_key(admin, tenant, "logged")
    handler = authorizer_handler()
    anonymous = event("GET", "/v1/workspace-providers")
    known = event("GET", "/v1/workspace-providers", headers={"Authorization": f"Bearer {key}"})

    handler(anonymous, Lambda())
    handler(known, Lambda())

    lines = stdout()
    first, second = [x for x in lines if x.get("message") == "authorization"]
    assert (first["outcome"], first["route"]) == ("anonymous", "GET /v1/workspace-providers")
    assert first["correlation_id"] == anonymous["requestContext"]["requestId"]
    assert (second["outcome"], second["api_key_id"]) == ("authenticated", str(key_id))
    assert second["person_id"] == str(tenant.person_id)
    assert second["correlation_id"] == known["requestContext"]["requestId"]
    assert key not in json.dumps(lines)
