"""``wellapi events`` after a load: the change events a rule on the local bus delivered, read
back each once, in the order delivered, from the log group the rule delivers to (a queue took
over 300 s for 2,700: moto reads the whole queue for each message it returns). A system test:
moto's EventBridge takes some 10 ms to deliver each of the thousands."""

from __future__ import annotations

import boto3
import pytest

from tests.support.local_bus import aws, entry, shown
from welldev import local_aws

__all__ = ["aws"]  # the fixture, used by name


def test_events_reads_back_thousands_of_deliveries_each_once_in_the_order_delivered(
    aws: local_aws.LocalAws, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every event the rule delivered is shown once, in the order it was put."""
    client = boto3.client("events")
    count = 3000
    for start in range(0, count, 10):
        client.put_events(Entries=[entry({"n": n}) for n in range(start, start + 10)])

    document = shown(capsys, "--last", "0")

    assert document["delivered"] == count
    assert [e["detail"]["n"] for e in document["events"]] == list(range(count))
