import json
import uuid
from datetime import UTC, datetime

from tests.support import factories as f
from tests.support.api import Lambda
from wellapi.sync.handler import sync_handler


def sqs(*bodies):
    return {"Records": [{"messageId": str(uuid.uuid4()), "receiptHandle": "x", "body": b if isinstance(b, str) else json.dumps(b),
                          "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:eu-west-1:000000000000:sync", "awsRegion": "eu-west-1"} for b in bodies]}


def test_linked_batch_is_written_once(api_database, admin):
    a = f.tenant(admin)
    accounts = [a.account()[1] for _ in range(3)]
    msg = {"type": "provenance.linked", "version": 1, "workspace_connector_id": str(a.workspace_connector_id),
           "direction": "input", "record_type": "account", "record_ids": [str(x) for x in accounts],
           "sync_run_id": "run-1", "occurred_at": datetime.now(UTC).isoformat(), "idempotency_key": str(uuid.uuid4())}
    b = f.tenant(admin)
    bad = dict(msg, idempotency_key=str(uuid.uuid4()), workspace_connector_id=str(b.workspace_connector_id))
    event = sqs(msg, bad, "not json")
    handler = sync_handler()
    for _ in range(3):
        result = handler(event, Lambda())
        assert [x["itemIdentifier"] for x in result["batchItemFailures"]] == [r["messageId"] for r in event["Records"][1:]]
    count = admin.run("select count(*) from core_api.account_workspace_connectors where workspace_connector_pk = :w", w=a.workspace_connector_pk)
    assert count == [[3]]
