"""The sync queue end to end, with SQS emulated by moto and the database real.

The queue is configured like ``SyncQueue`` in the template (standard, redrive to a DLQ after
five receives). A poller does what the Lambda event source mapping does: receive up to ten
messages, build the SQS event, invoke the function, delete what it did not report failed, and
leave the failures to become visible again (at once here: VisibilityTimeout 0).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import boto3
import pytest
from moto import mock_aws
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support.api import Lambda
from wellapi.handlers.sync import sync_handler
from welldev.database import LocalDatabase

MAX_RECEIVE_COUNT = 5
# (SQS client, queue URL, queue ARN, dead-letter queue URL)
Queues = tuple[Any, str, str, str]
handler = sync_handler()


@pytest.fixture
def queues(monkeypatch: pytest.MonkeyPatch) -> Iterator[Queues]:
    """(client, queue url, queue ARN, DLQ url), in a fresh moto account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": sqs.REGION,
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("sqs", region_name=sqs.REGION)
        dlq_url = client.create_queue(QueueName="sync-dlq")["QueueUrl"]
        dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        url = client.create_queue(
            QueueName="sync",
            Attributes={
                "VisibilityTimeout": "360",
                "RedrivePolicy": json.dumps(
                    {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVE_COUNT)}
                ),
            },
        )["QueueUrl"]
        arn = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        yield client, url, arn, dlq_url


def poll_until_empty(client: Any, url: str, arn: str, *, max_polls: int = 50) -> Counter[str]:
    """Feed the function like the event source mapping; how often each body was delivered."""
    deliveries: Counter[str] = Counter()
    for _ in range(max_polls):
        received = client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            AttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            return deliveries
        event = sqs.event_from_received(received, arn)
        deliveries.update(r["body"] for r in event["Records"])
        failed = set(sqs.failed_ids(handler(event, Lambda())))
        done = [m for m in received if m["MessageId"] not in failed]
        if done:
            client.delete_message_batch(
                QueueUrl=url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
    raise AssertionError(f"the queue did not drain in {max_polls} polls")


def test_good_messages_are_written_once_and_poison_reaches_the_dlq_after_five_receives(
    api_database: LocalDatabase, admin: Connection, queues: Queues
) -> None:
    client, url, arn, dlq_url = queues
    tenant = f.tenant(admin)
    accounts = s.records(admin, tenant, "account", 24)
    wc = tenant.workspace_connector_id
    good = [
        json.dumps(s.linked(wc, [a[1] for a in accounts[i * 2 : (i + 1) * 2]], sync_run_id=f"r{i}"))
        for i in range(12)
    ]
    poison = [
        "{this is not json",
        json.dumps(s.linked(wc, [accounts[0][1], uuid4()])),  # names an unknown account
    ]
    for body in [*good[:6], *poison, *good[6:], good[0]]:  # good[0] is sent twice
        client.send_message(QueueUrl=url, MessageBody=body)

    deliveries = poll_until_empty(client, url, arn)

    links = s.ledger(admin, tenant.workspace_connector_pk)
    assert len(links) == 24
    assert {link.record_pk for link in links} == {a[0] for a in accounts}
    assert all(link.live for link in links)
    assert s.receipts(admin, [json.loads(b)["idempotency_key"] for b in good]) == sorted(
        json.loads(b)["idempotency_key"] for b in good
    )
    assert {body: deliveries[body] for body in good} == {b: 2 if b == good[0] else 1 for b in good}
    assert {body: deliveries[body] for body in poison} == dict.fromkeys(poison, MAX_RECEIVE_COUNT)
    dead = client.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert sorted(m["Body"] for m in dead) == sorted(poison)
    remaining = client.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    assert remaining == {
        "ApproximateNumberOfMessages": "0",
        "ApproximateNumberOfMessagesNotVisible": "0",
    }


def test_a_poisoned_batch_does_not_hold_back_its_good_messages(
    api_database: LocalDatabase, admin: Connection, queues: Queues
) -> None:
    client, url, arn, dlq_url = queues
    tenant = f.tenant(admin)
    accounts = s.records(admin, tenant, "account", 9)
    good = [json.dumps(s.linked(tenant.workspace_connector_id, [a[1]])) for a in accounts]
    for body in [*good, "poison"]:
        client.send_message(QueueUrl=url, MessageBody=body)

    deliveries = poll_until_empty(client, url, arn)

    assert {body: deliveries[body] for body in good} == dict.fromkeys(good, 1)
    assert len(s.live(admin, tenant.workspace_connector_pk)) == 9
    dead = client.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["poison"]
