"""The local change bus of ``wellapi run`` (welldev.local_bus): boto3's EventBridge client,
pointed at the local server as ``wellapi run`` points the drain function at it, puts events
there, and ``GET /_local/events`` shows them as EventBridge would deliver them."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import jsonschema_rs
import pytest

from welldev import local_bus
from welldev import template as sam_template
from welldev.commands.run import local_routes
from welldev.gateway import Gateway
from welldev.lambda_runtime import LambdaRuntime
from welldev.server import LocalServer

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def served() -> Iterator[tuple[local_bus.LocalBus, str]]:
    template = sam_template.load(ROOT / "template.yaml", {})
    runtime = LambdaRuntime(template, processes=1)
    bus = local_bus.LocalBus("local-changes")
    server = LocalServer(Gateway(template, runtime, local_routes=local_routes({}, bus)), port=0)
    server.start_in_thread()
    try:
        yield bus, server.url
    finally:
        server.shutdown()
        server.server_close()
        runtime.close()


def entry(detail: Any) -> dict[str, Any]:
    return {
        "Source": "well.junctions",
        "DetailType": "workspace_provider.selected",
        "Detail": detail if isinstance(detail, str) else json.dumps(detail),
        "Time": "2026-11-21T09:29:55.123Z",
        "EventBusName": "local-changes",
    }


def test_boto3_puts_change_events_on_the_local_bus_and_get_shows_them_as_delivered(served):
    bus, url = served
    assert bus.received == 0
    client = boto3.client(
        "events",
        region_name="eu-west-1",
        endpoint_url=url + local_bus.EVENTS_PATH,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )

    answer = client.put_events(Entries=[entry({"event_id": "7-1"}), entry("not json")])

    assert answer["FailedEntryCount"] == 1
    accepted, refused = answer["Entries"]
    assert "EventId" in accepted
    assert refused["ErrorCode"] == "MalformedDetail"
    with urllib.request.urlopen(url + local_bus.EVENTS_PATH) as reply:  # noqa: S310 (local)
        shown = json.loads(reply.read())
    assert shown["bus"] == "local-changes"
    assert shown["received"] == 1
    (event,) = shown["events"]
    assert event["id"] == accepted["EventId"]
    assert event["source"] == "well.junctions"
    assert event["detail-type"] == "workspace_provider.selected"
    assert event["time"] == "2026-11-21T09:29:55Z"
    assert event["detail"] == {"event_id": "7-1"}


def test_the_bus_keeps_the_newest_events_and_shows_the_last_hundred():
    bus = local_bus.LocalBus("local-changes", keep=150)
    for n in range(200):
        bus.put_events(Entries=[entry({"n": n})])

    shown = bus.describe()

    assert shown["received"] == 200
    assert [e["detail"]["n"] for e in bus.events()] == list(range(50, 200))
    assert [e["detail"]["n"] for e in shown["events"]] == list(range(100, 200))


def test_the_canonical_change_event_validates_against_the_published_schema():
    schema = json.loads((ROOT / "docs" / "schemas" / "change-event.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema)
    event = json.loads((ROOT / "docs" / "schemas" / "change-event.example.json").read_text())
    validator.validate(event)
    event["detail"]["ids"] = []
    assert not validator.is_valid(event)


def test_a_bus_is_served_when_a_function_of_the_template_publishes_to_one(tmp_path):
    (bus,) = [local_bus.bus_for(sam_template.load(ROOT / "template.yaml", {}))]
    assert bus is not None
    assert bus.name.endswith("-changes")
    quiet = tmp_path / "template.yaml"
    quiet.write_text(
        "Resources:\n  F:\n    Type: AWS::Serverless::Function\n"
        "    Properties: {Handler: f.handler, CodeUri: src/}\n"
    )
    assert local_bus.bus_for(sam_template.load(quiet, {})) is None
