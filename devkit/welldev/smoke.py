"""``make smoke [CONFIG_ENV=<env>]``: the README's first requests against ``make run``
(``.local/demo.json``) or an environment's deployed stack (its outputs; the shell's AWS
credentials), with a member and a service key the operator function issues for 15 minutes and
revokes after, whatever happened; one line says what passed. A List of a ledger, a sync message
of a run of its own (in AWS, sent with the AWS profile ``--sender-profile`` names when given: the
queue takes only its producer and ``SyncRedriveRoleArns``), the changes feed, the run's rows in
the feed and the ledger, a Retrieve of one, and the run's change event on the bus (in AWS,
through a rule and a queue made for the run, deleted after).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from welldev import demo_file
from welldev.commands import operator

CHECKS = ("list", "retrieve", "changes", "sync message", "its rows", "its event")
NAMESPACE = uuid.UUID("9d1c4a5e-2b7f-5c3d-8e6a-0f1b2c3d4e5f")
WORKSPACE, PERSON, CONNECTOR = (str(uuid.uuid5(NAMESPACE, n)) for n in ("ws", "person", "wc"))
LEDGER = "/v1/people-workspace-connectors"
SOURCE = "well.junctions"  # the drainer's (wellapi.sync.drainer.SOURCE)
# What the operator is asked, as ``make operator`` is: the smoke workspace, its person and its
# workspace connector (made once, found after), and two keys.
TENANT = (
    f"make-workspace --name Smoke --id {WORKSPACE}",
    f"add-person --workspace {WORKSPACE} --name Smoke --id {PERSON}",
    f"add-connector --workspace {WORKSPACE} --connector Smoke --provider well --id {CONNECTOR}",
)
KEYS = tuple(
    f"issue-key --workspace {WORKSPACE} --person {PERSON} --kind {kind} --name smoke-{kind} "
    "--expires-in 900"
    for kind in ("member", "service")
)


@dataclass
class Stack:
    """What the smoke test reaches: the API, the operator, the sync queue, the change events."""

    url: str
    operate: Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
    send: Callable[[str], object]
    events: Callable[[], list[dict[str, Any]]]
    wait_seconds: float


class Failed(Exception):
    """A check's answer was not the one expected: what was."""


def line(failed: dict[str, str], url: str) -> str:
    """What passed, in a line: every check, or the count and why each other failed."""
    if not failed:
        return f"smoke: {len(CHECKS)}/{len(CHECKS)} passed ({', '.join(CHECKS)}) against {url}"
    why = ", ".join(f"{name} ({failed[name]})" for name in CHECKS if name in failed)
    return f"smoke: {len(CHECKS) - len(failed)}/{len(CHECKS)} passed against {url}; failed: {why}"


def sync_message(run: str) -> str:
    """A link of the smoke person to the smoke connector, in a run of its own."""
    message = {"version": 1, "type": "provenance.linked", "workspace_connector_id": CONNECTOR}
    message |= {"occurred_at": datetime.now(UTC).isoformat(), "idempotency_key": f"smoke/{run}"}
    message |= {"direction": "input", "record_type": "people", "record_ids": [PERSON]}
    return json.dumps(message | {"sync_run_id": run})


def get(stack: Stack, key: str, path: str) -> Any:
    """The JSON:API document a GET answers 200 with; else ``Failed`` with its status."""
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/vnd.api+json"}
    request = urllib.request.Request(stack.url + path, headers=headers)  # noqa: S310 (its own)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise Failed(f"HTTP {error.code} {path}") from None


def waited(stack: Stack, what: str, find: Callable[[], Any]) -> Any:
    """``find()`` once it answers something, within the stack's wait."""
    deadline = time.monotonic() + stack.wait_seconds
    while not (found := find()):
        if time.monotonic() > deadline:
            raise Failed(f"no {what} within {stack.wait_seconds:.0f} s")
        time.sleep(stack.wait_seconds / 60)
    return found


def checks(stack: Stack, member: str, service: str, run: str) -> dict[str, str]:
    """Each check in turn; why each that failed did."""
    failed: dict[str, str] = {}
    rows: list[str] = []

    def check(name: str, action: Callable[[], object]) -> None:
        try:
            action()
        except Failed as failure:
            failed[name] = str(failure)
        except Exception as error:  # any other: said by its kind, the next check runs
            failed[name] = type(error).__name__

    def its_rows() -> None:
        feed = f"/v1/changes?filter[sync_run_id]={run}"
        found = waited(stack, "record of the run", lambda: get(stack, service, feed)["data"])
        rows[:0] = ids = found[0]["attributes"]["ids"]
        newest = f"{LEDGER}?filter[workspace_connector]={CONNECTOR}&sort=-created_at"
        if not set(ids) <= {row["id"] for row in get(stack, member, newest)["data"]}:
            raise Failed("the run's rows are not listed")

    def retrieved() -> None:
        if not rows or get(stack, member, f"{LEDGER}/{rows[0]}")["data"]["id"] != rows[0]:
            raise Failed("no row answered")

    listed = f"{LEDGER}?include=people,workspace_connector&page[size]=5"
    check("list", lambda: rows.extend(row["id"] for row in get(stack, member, listed)["data"]))
    check("sync message", lambda: stack.send(sync_message(run)))
    check("changes", lambda: get(stack, service, "/v1/changes?limit=5")["data"])
    check("its rows", its_rows)
    check("retrieve", retrieved)

    def its_events() -> list[dict[str, Any]]:
        return [e for e in stack.events() if (e.get("detail") or {}).get("sync_run_id") == run]

    check("its event", lambda: waited(stack, "event", its_events))
    return failed


def smoke(stack: Stack) -> dict[str, str]:
    """Every check, with keys made for it and revoked after, whatever happened."""
    made = stack.operate([operator.typed(command) for command in (*TENANT, *KEYS)])
    if refused := [answer["error"]["code"] for answer in made if "error" in answer]:
        return dict.fromkeys(CHECKS, f"the operator refused: {refused[0]}")
    run = f"smoke-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    try:
        return checks(stack, made[-2]["key"], made[-1]["key"], run)
    finally:
        stack.operate([operator.typed(f"revoke-key --key {a['api_key_id']}") for a in made[-2:]])


def local_stack() -> Stack:
    """``make run``'s, as ``.local/demo.json`` records it."""
    from welldev.local_aws import client, delivered_events

    demo = demo_file.read_demo(demo_file.DEMO_FILE) or {}
    if not isinstance(aws := demo.get("aws"), dict) or "base_url" not in demo:
        raise SystemExit(f"smoke: {demo_file.DEMO_FILE} records no running `make run`")
    sqs, logs = (client(name, aws["endpoint_url"], aws["region"]) for name in ("sqs", "logs"))
    return Stack(
        demo["base_url"].rstrip("/"),
        operator.local,
        lambda body: sqs.send_message(QueueUrl=aws["queues"]["sync"], MessageBody=body),
        lambda: delivered_events(logs, aws["delivered_to"]),
        wait_seconds=60,
    )


@contextmanager
def deployed_stack(config_env: str, sender_profile: str | None) -> Iterator[Stack]:
    """The environment's deployed stack, its bus read through ``event_queue``."""
    import boto3

    from welldev import deploy

    session = deploy.session()
    outputs = deploy.stack_outputs(session, config_env)
    if sender_profile:
        session = boto3.Session(profile_name=sender_profile, region_name=session.region_name)
    sqs = session.client("sqs")
    with event_queue(session, outputs["ChangeEventBusName"]) as received:
        yield Stack(
            outputs["ApiUrl"].rstrip("/"),
            lambda events: operator.deployed(config_env, events),
            lambda body: sqs.send_message(QueueUrl=outputs["SyncQueueUrl"], MessageBody=body),
            received,
            wait_seconds=240,  # the drainer runs once a minute
        )


@contextmanager
def event_queue(session: Any, bus: str) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """A queue the smoke workspace's events reach through a rule on ``bus``, which EventBridge
    may send to for that rule alone; what it received so far. Both deleted at the end."""
    sqs, events = session.client("sqs"), session.client("events")
    name, seen = f"wellapi-smoke-{uuid.uuid4().hex[:12]}", list[dict[str, Any]]()
    with ExitStack() as made:
        url = sqs.create_queue(QueueName=name)["QueueUrl"]
        made.callback(sqs.delete_queue, QueueUrl=url)
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        queue_arn = arn["Attributes"]["QueueArn"]
        pattern = json.dumps({"source": [SOURCE], "detail": {"workspace_id": [WORKSPACE]}})
        rule = events.put_rule(Name=name, EventBusName=bus, EventPattern=pattern)["RuleArn"]
        made.callback(events.delete_rule, Name=name, EventBusName=bus)
        statement = {
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": queue_arn,
            "Condition": {"ArnEquals": {"aws:SourceArn": rule}},
        }
        policy = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
        sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": policy})
        targets = [{"Id": "smoke", "Arn": queue_arn}]
        events.put_targets(Rule=name, EventBusName=bus, Targets=targets)
        made.callback(events.remove_targets, Rule=name, EventBusName=bus, Ids=["smoke"])

        def received() -> list[dict[str, Any]]:
            answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
            seen.extend(json.loads(m["Body"]) for m in answer.get("Messages", []))
            return seen

        yield received


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m welldev.smoke", description=__doc__)
    parser.add_argument("--config-env", metavar="ENV", help="samconfig.toml's environment")
    parser.add_argument("--sender-profile", help="an AWS profile that may send to the sync queue")
    args = parser.parse_args(argv)
    deployed = args.config_env and deployed_stack(args.config_env, args.sender_profile)
    with deployed or nullcontext(local_stack()) as stack:
        failed = smoke(stack)
    print(line(failed, stack.url), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
