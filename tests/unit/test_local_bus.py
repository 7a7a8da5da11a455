"""The change bus of ``wellapi run`` on moto's server (welldev.local_aws): boto3's EventBridge
client, pointed at it as ``wellapi run`` points the drain function
(``AWS_ENDPOINT_URL_EVENTBRIDGE``), puts events there, the rule on the bus delivers each to its
queue as EventBridge would, and ``wellapi events`` shows them, finding the server in
``.local/demo.json`` or saying why not."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import boto3
import jsonschema_rs
import pytest

from tests.support.local_bus import aws, entry, shown
from welldev import cli, demo_file, local_aws

__all__ = ["aws"]  # the fixture, used by name

ROOT = Path(__file__).resolve().parents[2]


def test_boto3_puts_change_events_on_the_bus_and_the_rule_delivers_them_as_eventbridge_does(
    aws: local_aws.LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    assert shown(capsys)["delivered"] == 0
    client = boto3.client("events")  # the endpoint, region and credentials of the environment

    answer = client.put_events(Entries=[entry({"event_id": "7-1"}), entry("not json")])

    assert answer["FailedEntryCount"] == 1
    accepted, refused = answer["Entries"]
    assert "EventId" in accepted
    assert refused["ErrorCode"] == "MalformedDetail"
    document = shown(capsys)
    assert (document["bus"], document["rule"], document["delivered"]) == (
        "local-changes",
        local_aws.RULE_NAME,
        1,
    )
    (event,) = document["events"]
    assert event["id"] == accepted["EventId"]
    assert event["source"] == "well.junctions"
    assert event["detail-type"] == "workspace_provider.selected"
    assert event["time"] == "2026-11-21T09:29:55Z"
    assert "account" not in event  # moto's delivery leaves it out (EventBridge's has it)
    assert event["region"] == aws.region
    assert event["detail"] == {"event_id": "7-1"}


def test_events_shows_the_last_ones_oldest_first_and_leaves_them_delivered(
    aws: local_aws.LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    client = boto3.client("events")
    for start in range(0, 25, 5):
        client.put_events(Entries=[entry({"n": n}) for n in range(start, start + 5)])

    last = shown(capsys, "--last", "10")
    every = shown(capsys, "--last", "0")

    assert last["delivered"] == every["delivered"] == 25
    assert [e["detail"]["n"] for e in last["events"]] == list(range(15, 25))
    assert [e["detail"]["n"] for e in every["events"]] == list(range(25))
    assert [e["detail"]["n"] for e in shown(capsys)["events"]] == list(range(25))


def test_the_canonical_change_event_validates_against_the_published_schema() -> None:
    schema = json.loads((ROOT / "docs" / "schemas" / "change-event.schema.json").read_text())
    validator = jsonschema_rs.validator_for(schema)
    event = json.loads((ROOT / "docs" / "schemas" / "change-event.example.json").read_text())
    validator.validate(event)
    event["detail"]["ids"] = []
    assert not validator.is_valid(event)


def test_events_and_enqueue_say_so_when_no_local_aws_is_recorded_or_none_answers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "demo.json"
    monkeypatch.setattr(demo_file, "DEMO_FILE", path)
    message = tmp_path / "message.json"
    message.write_text('{"type": "provenance.linked"}')
    path.write_text('{"base_url": "http://127.0.0.1:3000"}')  # a demo file from before
    assert cli.main(["events"]) == 1
    err = capsys.readouterr().err
    assert f"wellapi: {path} records no local AWS: `make run` starts one" in err

    with socket.socket() as nobody:  # a loopback port nobody listens on
        nobody.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{nobody.getsockname()[1]}"
        queue = f"{url}/123456789012/SyncQueue"
        demo_file.record_aws(
            {"endpoint_url": url, "region": "us-east-1", "queues": {"sync": queue}}
            | {"event_bus": "local-changes", "rule": "r", "delivered_to": "/local/delivered"}
        )
        assert cli.main(["events"]) == 1
        events_err = capsys.readouterr().err
        assert cli.main(["enqueue", str(message)]) == 1
        enqueue_err = capsys.readouterr().err
    for err in (events_err, enqueue_err):
        assert f"wellapi: no local AWS answers at {url}, where {path} says it is" in err
        assert f'(Could not connect to the endpoint URL: "{url}/")' in err
    assert json.loads(path.read_text())["base_url"] == "http://127.0.0.1:3000"  # kept
