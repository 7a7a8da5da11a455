"""The sync function against a real PostgreSQL: SQS batches in, provenance ledgers out.

Each test builds its own tenants, invokes the handler with a Lambda SQS event (as the event
source mapping would), and reads the ledgers back through the admin connection. A record that
cannot be applied fails alone and is reported in ``batchItemFailures``; every good record of
the batch is written in one transaction, exactly once per idempotency key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from pg8000.exceptions import DatabaseError
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support.api import Lambda
from wellapi.handlers.sync import sync_handler
from wellapi.store import connections as db
from wellapi.store.sql import BoundStatement, fixed
from wellapi.sync.messages import MAX_RECORD_IDS
from welldev.bench.wire import recording
from welldev.database import LocalDatabase

handler = sync_handler()
# The sync function's timeout (template/sync.yaml): a fresh invocation has all of it.
SYNC_TIMEOUT_MS = 120_000


def deliver(event: dict[str, Any]) -> list[str]:
    """Invoke the sync function; the ids of the records it reports failed."""
    return sqs.failed_ids(handler(event, Lambda(remaining_ms=SYNC_TIMEOUT_MS)))


@pytest.fixture
def tenant(api_database: LocalDatabase, admin: Connection) -> f.Tenant:
    return f.tenant(admin)


@pytest.fixture
def output(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> pytest.CaptureFixture[str]:
    """Read what the function printed (log lines and EMF metrics) since the last read."""
    s.follow_stdout(monkeypatch)
    capsys.readouterr()
    return capsys


# --- partial failure ----------------------------------------------------------------------


def test_bad_records_fail_alone_and_are_reported_exactly(
    admin: Connection, tenant: f.Tenant
) -> None:
    other = f.tenant(admin)
    accounts = s.records(admin, tenant, "account", 3)
    foreign = other.account()[1]
    good_first = s.linked(tenant.workspace_connector_id, [a[1] for a in accounts[:2]])
    good_last = s.linked(tenant.workspace_connector_id, [accounts[2][1]], direction="output")
    bad: dict[str, sqs.Body] = {
        "malformed": "{not json",
        "wrong_version": dict(s.revoked(tenant.workspace_connector_id), version=2),
        "oversized": s.linked(
            tenant.workspace_connector_id, [uuid4() for _ in range(MAX_RECORD_IDS + 1)]
        ),
        "unknown_connector": s.linked(uuid4(), [accounts[0][1]]),
        "unknown_record": s.linked(tenant.workspace_connector_id, [accounts[0][1], uuid4()]),
        "cross_workspace": s.linked(tenant.workspace_connector_id, [accounts[0][1], foreign]),
    }
    event = sqs.event(
        good_first,
        bad["malformed"],
        bad["wrong_version"],
        bad["oversized"],
        bad["unknown_connector"],
        bad["unknown_record"],
        bad["cross_workspace"],
        good_last,
    )

    failed = deliver(event)

    assert failed == sqs.message_ids(event)[1:-1]
    assert s.live(admin, tenant.workspace_connector_pk) == sorted(
        [
            s.Link("account", accounts[0][0], "input", True),
            s.Link("account", accounts[1][0], "input", True),
            s.Link("account", accounts[2][0], "output", True),
        ]
    )
    keys = [b["idempotency_key"] for b in bad.values() if isinstance(b, dict)]
    assert s.receipts(admin, keys) == []
    good_keys = [good_first["idempotency_key"], good_last["idempotency_key"]]
    assert s.receipts(admin, good_keys) == sorted(good_keys)


def test_a_batch_of_only_bad_records_fails_them_all_and_writes_nothing(
    admin: Connection, tenant: f.Tenant
) -> None:
    event = sqs.event("", "[]", s.linked(uuid4(), [uuid4()]))

    assert deliver(event) == sqs.message_ids(event)
    assert s.ledger(admin, tenant.workspace_connector_pk) == []


def test_an_empty_batch_reports_no_failures() -> None:
    assert deliver({"Records": []}) == []


# --- exactly once -------------------------------------------------------------------------


def test_a_batch_delivered_three_times_writes_its_rows_once(
    admin: Connection, tenant: f.Tenant
) -> None:
    accounts = s.records(admin, tenant, "account", 4)
    companies = s.records(admin, tenant, "company", 2)
    wc = tenant.workspace_connector_id
    event = sqs.event(
        s.linked(wc, [a[1] for a in accounts[:3]]),
        s.linked(wc, [c[1] for c in companies], record_type="company", direction="output"),
        s.unlinked(wc, [accounts[0][1]]),
        "poison",
    )

    reports = [deliver(event) for _ in range(3)]
    after = s.ledger(admin, tenant.workspace_connector_pk)

    assert reports == [[sqs.message_ids(event)[3]]] * 3
    assert len(after) == 5
    assert [link for link in after if not link.live] == [
        s.Link("account", accounts[0][0], "input", False)
    ]


def test_a_redelivered_unlink_does_not_remove_links_made_after_it(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, account_id = tenant.account()
    wc = tenant.workspace_connector_id
    unlink = sqs.event(s.unlinked(wc, [account_id]))
    f.provenance(admin, "account_workspace_connectors", account_pk, tenant.workspace_connector_pk)

    assert deliver(unlink) == []
    assert deliver(sqs.event(s.linked(wc, [account_id], occurred_at=s.at(1)))) == []
    assert deliver(unlink) == []

    links = s.ledger(admin, tenant.workspace_connector_pk)
    assert [link.live for link in links] == [False, True]


def test_a_key_twice_in_one_batch_applies_the_first_and_refuses_another_body(
    admin: Connection, tenant: f.Tenant, output: pytest.CaptureFixture[str]
) -> None:
    accounts = s.records(admin, tenant, "account", 3)
    wc = tenant.workspace_connector_id
    key = s.key()
    first = s.linked(wc, [accounts[0][1]], idempotency_key=key)
    same_key_other_ids = s.linked(wc, [accounts[1][1], accounts[2][1]], idempotency_key=key)
    event = sqs.event(first, first, same_key_other_ids)

    assert deliver(event) == [sqs.message_ids(event)[2]]

    assert s.live(admin, tenant.workspace_connector_pk) == [
        s.Link("account", accounts[0][0], "input", True)
    ]
    printed = output.readouterr().out
    assert len(s.log_lines(printed, "message applied")) == 1
    assert len(s.log_lines(printed, "message already applied")) == 1
    (refused,) = s.log_lines(printed, "message refused")
    assert refused["verdict"] == "key_reused"
    assert s.metric_values(printed)["MessagesDuplicate"] == 1
    assert s.metric_values(printed)["MessagesKeyReused"] == 1


def test_a_message_behind_a_refused_one_with_its_key_is_applied_and_then_a_duplicate(
    admin: Connection, tenant: f.Tenant
) -> None:
    # Two different messages of one key in one batch: the first is refused as stale (and
    # leaves no receipt), so the second is the key's message and is applied; delivered
    # together again, the second is a duplicate and the first now reuses its key.
    account_pk, account_id = tenant.account()
    f.provenance(admin, "account_workspace_connectors", account_pk, tenant.workspace_connector_pk)
    wc = tenant.workspace_connector_id
    key = s.key()
    stale = s.linked(wc, [account_id], idempotency_key=key, occurred_at=s.at(-60 * 24 * 40))
    unlink = s.unlinked(wc, [account_id], idempotency_key=key)
    event = sqs.event(stale, unlink)

    assert deliver(event) == [sqs.message_ids(event)[0]]
    assert s.live(admin, tenant.workspace_connector_pk) == []
    again = sqs.event(stale, unlink)
    assert deliver(again) == [sqs.message_ids(again)[0]]
    assert s.receipts(admin, [key]) == [key]


# --- revocation and unlinking -------------------------------------------------------------


def test_revocation_soft_deletes_every_live_row_of_the_connector_in_all_three_tables(
    admin: Connection, tenant: f.Tenant
) -> None:
    wc_pk = tenant.workspace_connector_pk
    other_wc_pk, _ = tenant.workspace_connector()
    for record_type, (table, *_rest) in s.LEDGERS.items():
        for record_pk, _ in s.records(admin, tenant, record_type, 2):
            f.provenance(admin, table, record_pk, wc_pk, "input")
            f.provenance(admin, table, record_pk, wc_pk, "output")
            f.provenance(admin, table, record_pk, other_wc_pk, "input")
    gone = f.provenance(admin, "company_workspace_connectors", tenant.company()[0], wc_pk)
    admin.run(
        "UPDATE core_api.company_workspace_connectors SET deleted_at = '2020-01-01Z' "
        "WHERE company_workspace_connector_id = :id",
        id=gone,
    )

    assert deliver(sqs.event(s.revoked(tenant.workspace_connector_id))) == []
    s.sweep(rows=2)  # several steps per ledger and direction

    revoked = s.ledger(admin, wc_pk)
    assert len(revoked) == 13
    assert not any(link.live for link in revoked)
    assert {link.record_type for link in revoked} == set(s.RECORD_TYPES)
    assert len(s.live(admin, other_wc_pk)) == 6
    assert admin.run(
        "SELECT deleted_at = '2020-01-01Z' FROM core_api.company_workspace_connectors "
        "WHERE company_workspace_connector_id = :id",
        id=gone,
    ) == [[True]]


def test_a_connector_deleted_before_its_revocation_arrives_is_still_revoked(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, _ = tenant.account()
    f.provenance(admin, "account_workspace_connectors", account_pk, tenant.workspace_connector_pk)
    s.soft_delete(admin, "workspace_connectors", tenant.workspace_connector_pk)

    assert deliver(sqs.event(s.revoked(tenant.workspace_connector_id))) == []
    s.sweep()

    assert s.live(admin, tenant.workspace_connector_pk) == []


def test_unlinked_soft_deletes_only_the_live_rows_of_that_record_connector_and_direction(
    admin: Connection, tenant: f.Tenant, output: pytest.CaptureFixture[str]
) -> None:
    wc_pk = tenant.workspace_connector_pk
    other_wc_pk, _ = tenant.workspace_connector()
    (target_pk, target_id), (bystander_pk, _) = s.records(admin, tenant, "account", 2)
    table = "account_workspace_connectors"
    two_runs = [f.provenance(admin, table, target_pk, wc_pk, "input") for _ in range(2)]
    kept = {
        "other direction": f.provenance(admin, table, target_pk, wc_pk, "output"),
        "other connector": f.provenance(admin, table, target_pk, other_wc_pk, "input"),
        "other record": f.provenance(admin, table, bystander_pk, wc_pk, "input"),
    }
    f.provenance(admin, table, target_pk, wc_pk, "input", deleted=True)
    every_row = f"SELECT account_workspace_connector_id, deleted_at FROM core_api.{table}"
    before = dict(admin.run(every_row))

    message = s.unlinked(tenant.workspace_connector_id, [target_id], sync_run_id="run-unlink")
    assert deliver(sqs.event(message)) == []

    after = dict(admin.run(every_row))
    changed = {row_id for row_id in before if before[row_id] != after[row_id]}
    assert changed == set(two_runs)
    assert all(after[row_id] is None for row_id in kept.values())
    assert s.metric_values(output.readouterr().out)["RowsUnlinked"] == 2


def test_unlinking_a_record_that_was_deleted_still_removes_its_links(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, account_id = tenant.account()
    f.provenance(admin, "account_workspace_connectors", account_pk, tenant.workspace_connector_pk)
    s.soft_delete(admin, "accounts", account_pk)

    assert deliver(sqs.event(s.unlinked(tenant.workspace_connector_id, [account_id]))) == []

    assert s.live(admin, tenant.workspace_connector_pk) == []


# --- what is rejected ---------------------------------------------------------------------


@pytest.mark.parametrize("record_type", s.RECORD_TYPES)
@pytest.mark.parametrize("builder", [s.linked, s.unlinked])
def test_records_of_another_workspace_are_rejected_and_nothing_is_written(
    admin: Connection,
    tenant: f.Tenant,
    output: pytest.CaptureFixture[str],
    record_type: str,
    builder: Callable[..., dict[str, Any]],
) -> None:
    other = f.tenant(admin)
    (_, own_id), *_ = s.records(admin, tenant, record_type, 1)
    (foreign_pk, foreign_id), *_ = s.records(admin, other, record_type, 1)
    table = s.LEDGERS[record_type][0]
    f.provenance(admin, table, foreign_pk, other.workspace_connector_pk)
    message = builder(tenant.workspace_connector_id, [own_id, foreign_id], record_type=record_type)
    event = sqs.event(message)

    assert deliver(event) == sqs.message_ids(event)

    assert s.ledger(admin, tenant.workspace_connector_pk) == []
    assert s.live(admin, other.workspace_connector_pk) == [
        s.Link(record_type, foreign_pk, "input", True)
    ]
    (rejection,) = s.log_lines(output.readouterr().out, "message rejected")
    assert rejection["reason"] == (
        f"{record_type} {foreign_id} is in another workspace than the connector"
    )


def test_a_connector_of_another_workspace_cannot_link_this_workspaces_records(
    admin: Connection, tenant: f.Tenant
) -> None:
    other = f.tenant(admin)
    _, account_id = tenant.account()
    event = sqs.event(s.linked(other.workspace_connector_id, [account_id]))

    assert deliver(event) == sqs.message_ids(event)
    assert s.ledger(admin, other.workspace_connector_pk) == []


@pytest.mark.parametrize(
    ("arrange", "reason"),
    [
        ("unknown connector", "unknown workspace connector"),
        ("unknown record", "unknown account {record}"),
        ("deleted connector", "the workspace connector is deleted"),
        ("deleted record", "account {record} is deleted"),
        ("record of another type", "unknown account {record}"),
    ],
)
def test_links_to_what_does_not_exist_are_rejected_with_their_reason(
    admin: Connection,
    tenant: f.Tenant,
    output: pytest.CaptureFixture[str],
    arrange: str,
    reason: str,
) -> None:
    connector_id = tenant.workspace_connector_id
    record_pk, record_id = tenant.account()
    if arrange == "unknown connector":
        connector_id = uuid4()
    elif arrange == "unknown record":
        record_id = uuid4()
    elif arrange == "deleted connector":
        s.soft_delete(admin, "workspace_connectors", tenant.workspace_connector_pk)
    elif arrange == "deleted record":
        s.soft_delete(admin, "accounts", record_pk)
    else:
        record_id = tenant.company()[1]
    event = sqs.event(s.linked(connector_id, [record_id]))

    assert deliver(event) == sqs.message_ids(event)

    assert s.ledger(admin, tenant.workspace_connector_pk) == []
    (rejection,) = s.log_lines(output.readouterr().out, "message rejected")
    assert rejection["reason"] == reason.format(record=record_id)


# --- set-based writing --------------------------------------------------------------------


def test_ten_messages_of_a_thousand_ids_write_ten_thousand_rows_in_two_round_trips(
    admin: Connection, tenant: f.Tenant
) -> None:
    accounts = s.records(admin, tenant, "account", 10_000)
    wc = tenant.workspace_connector_id
    messages = [
        s.linked(wc, [a[1] for a in accounts[i * 1000 : (i + 1) * 1000]], sync_run_id=f"run-{i}")
        for i in range(10)
    ]
    db.execute([fixed("SELECT 1")], pool=db.get_pool("sync"))  # the connection is open and warm
    # Every message sent, pipelined or by the driver's own calls, and each wait for its
    # ReadyForQuery: one round trip, whichever loop reads it.
    with recording() as wire:
        # Throughput is measured by `make bench` (sync phase), not asserted here.
        failed = deliver(sqs.event(*messages))

    assert failed == []
    # Two transactions (the records' resolution, the batch), each one message that sets its
    # settings first (core_api.set_transaction_settings()), whatever the batch's size.
    sent_messages = [call.sql[:40] for call in wire.calls]
    assert len(sent_messages) == 2, sent_messages
    assert wire.round_trips == 2, sent_messages
    links = s.live(admin, tenant.workspace_connector_pk)
    assert len(links) == 10_000
    assert {link.record_pk for link in links} == {a[0] for a in accounts}


def test_a_batch_far_over_the_configured_size_fails_only_its_bad_records(
    admin: Connection, tenant: f.Tenant
) -> None:
    # The template delivers at most 10 records; a local invoke, a replay tool or a changed
    # BatchSize may deliver many more (SQS allows 10,000): still one record fails alone.
    accounts = s.records(admin, tenant, "account", 300)
    wc = tenant.workspace_connector_id
    bodies: list[sqs.Body] = []
    for i, account in enumerate(accounts):
        if i % 10 == 3:
            bodies.append("{truncated")
        elif i % 10 == 7:
            bodies.append(s.linked(wc, [account[1], uuid4()]))  # an unknown record
        else:
            bodies.append(s.linked(wc, [account[1]]))
    event = sqs.event(*bodies)

    failed = deliver(event)

    ids = sqs.message_ids(event)
    assert failed == [ids[i] for i in range(len(ids)) if i % 10 in (3, 7)]
    written = {link.record_pk for link in s.live(admin, tenant.workspace_connector_pk)}
    assert written == {a[0] for i, a in enumerate(accounts) if i % 10 not in (3, 7)}


# --- order within a batch -----------------------------------------------------------------


def test_linked_then_unlinked_in_one_batch_leaves_the_row_soft_deleted(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, account_id = tenant.account()
    wc = tenant.workspace_connector_id
    event = sqs.event(s.linked(wc, [account_id]), s.unlinked(wc, [account_id]))

    assert deliver(event) == []

    assert s.ledger(admin, tenant.workspace_connector_pk) == [
        s.Link("account", account_pk, "input", False)
    ]


def test_unlinked_then_linked_in_one_batch_leaves_the_new_row_live(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, account_id = tenant.account()
    f.provenance(admin, "account_workspace_connectors", account_pk, tenant.workspace_connector_pk)
    wc = tenant.workspace_connector_id
    event = sqs.event(s.unlinked(wc, [account_id]), s.linked(wc, [account_id], occurred_at=s.at(1)))

    assert deliver(event) == []

    assert s.ledger(admin, tenant.workspace_connector_pk) == [
        s.Link("account", account_pk, "input", False),
        s.Link("account", account_pk, "input", True),
    ]


def test_links_in_one_batch_with_a_revocation_never_stay_live_and_a_later_one_is_refused(
    admin: Connection, tenant: f.Tenant
) -> None:
    (first_pk, first_id), (second_pk, second_id), (_, third_id) = s.records(
        admin, tenant, "people", 3
    )
    wc = tenant.workspace_connector_id
    event = sqs.event(
        s.linked(wc, [first_id], record_type="people", occurred_at=s.at(-1)),
        s.revoked(wc),
        s.linked(wc, [second_id], record_type="people"),  # at the revocation's instant
        s.linked(wc, [third_id], record_type="people", occurred_at=s.at(1)),
    )

    assert deliver(event) == [sqs.message_ids(event)[3]]
    s.sweep()

    assert s.ledger(admin, tenant.workspace_connector_pk) == [
        s.Link("people", first_pk, "input", False),
        s.Link("people", second_pk, "input", False),
    ]


def test_a_record_named_twice_in_one_message_is_linked_once(
    admin: Connection, tenant: f.Tenant
) -> None:
    account_pk, account_id = tenant.account()
    event = sqs.event(s.linked(tenant.workspace_connector_id, [account_id, account_id]))

    assert deliver(event) == []
    assert s.ledger(admin, tenant.workspace_connector_pk) == [
        s.Link("account", account_pk, "input", True)
    ]


# --- logs and metrics ---------------------------------------------------------------------


def test_logs_carry_the_sync_run_the_connector_and_the_reason(
    admin: Connection, tenant: f.Tenant, output: pytest.CaptureFixture[str]
) -> None:
    _, account_id = tenant.account()
    wc = str(tenant.workspace_connector_id)
    good = s.linked(tenant.workspace_connector_id, [account_id], sync_run_id="run-good")
    unknown = uuid4()
    rejected = s.linked(tenant.workspace_connector_id, [unknown], sync_run_id="run-rejected")
    invalid = dict(
        s.linked(tenant.workspace_connector_id, [account_id], sync_run_id="run-invalid"),
        version=2,
    )
    event = sqs.event(good, rejected, invalid)

    deliver(event)
    printed = output.readouterr().out

    (applied,) = s.log_lines(printed, "message applied")
    assert applied["level"] == "INFO"
    assert (applied["sync_run_id"], applied["workspace_connector_id"]) == ("run-good", wc)
    assert (applied["rows"], applied["message_type"]) == (1, "provenance.linked")
    assert applied["idempotency_key"] == good["idempotency_key"]
    by_run = {line["sync_run_id"]: line for line in s.log_lines(printed, "message rejected")}
    assert set(by_run) == {"run-rejected", "run-invalid"}
    for run, line in by_run.items():
        assert line["level"] == "WARNING"
        assert line["workspace_connector_id"] == wc, run
    assert by_run["run-rejected"]["reason"] == f"unknown account {unknown}"
    assert by_run["run-rejected"]["message_id"] == sqs.message_ids(event)[1]
    assert by_run["run-invalid"]["reason"].startswith("invalid message: ")
    assert "version" in by_run["run-invalid"]["reason"]
    assert by_run["run-invalid"]["message_id"] == sqs.message_ids(event)[2]


def test_an_invalid_body_is_logged_with_its_reason_but_never_its_values(
    output: pytest.CaptureFixture[str],
) -> None:
    secret = "sk_live_in_a_bad_message"
    event = sqs.event({"type": "provenance.linked", "version": 1, "api_secret": secret})

    deliver(event)
    printed = output.readouterr().out

    (line,) = s.log_lines(printed, "message rejected")
    assert "api_secret" in line["reason"]
    assert secret not in printed


def test_metrics_count_rows_linked_rows_unlinked_and_messages_failed(
    admin: Connection, tenant: f.Tenant, output: pytest.CaptureFixture[str]
) -> None:
    accounts = s.records(admin, tenant, "account", 5)
    companies = s.records(admin, tenant, "company", 2)
    wc, wc_pk = tenant.workspace_connector_id, tenant.workspace_connector_pk
    for company_pk, _ in companies:
        f.provenance(admin, "company_workspace_connectors", company_pk, wc_pk)
    event = sqs.event(
        s.linked(wc, [a[1] for a in accounts[:3]]),
        s.linked(wc, [a[1] for a in accounts[3:]], direction="output"),
        s.unlinked(wc, [accounts[0][1]]),
        s.unlinked(wc, [c[1] for c in companies], record_type="company"),
        "not json",
        s.linked(uuid4(), [accounts[0][1]]),
    )

    deliver(event)
    first = s.metric_values(output.readouterr().out)
    deliver(event)
    again = s.metric_values(output.readouterr().out)

    assert {k: first[k] for k in ("RowsLinked", "RowsUnlinked", "MessagesFailed")} == {
        "RowsLinked": 5,
        "RowsUnlinked": 3,
        "MessagesFailed": 2,
    }
    assert {k: again[k] for k in ("RowsLinked", "RowsUnlinked", "MessagesFailed")} == {
        "RowsLinked": 0,
        "RowsUnlinked": 0,
        "MessagesFailed": 2,
    }
    assert again["MessagesDuplicate"] == 4


def test_a_revocation_is_counted_once_and_its_rows_by_the_sweeper(
    admin: Connection, tenant: f.Tenant, output: pytest.CaptureFixture[str]
) -> None:
    s.sweep_what_others_left()  # so that the sweep below is this revocation's alone
    for record_type, (table, *_rest) in s.LEDGERS.items():
        record_pk = s.records(admin, tenant, record_type, 1)[0][0]
        f.provenance(admin, table, record_pk, tenant.workspace_connector_pk)

    message = s.revoked(tenant.workspace_connector_id)
    deliver(sqs.event(message))
    deliver(sqs.event(message))
    report = s.sweep()

    metrics = s.metric_values(output.readouterr().out)
    assert (metrics["ConnectorsRevoked"], metrics["RowsUnlinked"], metrics["RowsLinked"]) == (
        1,
        0,
        0,
    )
    assert (report.rows, report.revocations_done) == (3, 1)


def test_the_sync_role_can_record_receipts_but_never_change_them(
    admin: Connection, tenant: f.Tenant
) -> None:
    message = s.revoked(tenant.workspace_connector_id)
    assert deliver(sqs.event(message)) == []
    key = message["idempotency_key"]

    with pytest.raises(DatabaseError, match="permission denied"):
        db.execute(
            [
                BoundStatement(
                    "UPDATE core_api.sync_receipts SET occurred_at = now() "
                    "WHERE idempotency_key = $1",
                    (key,),
                )
            ],
            pool=db.get_pool("sync"),
        )
    assert s.receipts(admin, [key]) == [key]


def test_a_message_with_a_lone_surrogate_fails_alone_and_its_log_line_is_valid_utf8(
    admin: Connection, tenant: f.Tenant, output: pytest.CaptureFixture[str]
) -> None:
    accounts = s.records(admin, tenant, "account", 2)
    first = s.linked(tenant.workspace_connector_id, [accounts[0][1]])
    last = s.linked(tenant.workspace_connector_id, [accounts[1][1]])
    # Valid JSON (json.dumps escapes them), and strings no UTF-8 text can hold once decoded.
    bad_key = dict(s.revoked(tenant.workspace_connector_id), idempotency_key="key-\udcff")
    bad_run = dict(s.linked(tenant.workspace_connector_id, [accounts[0][1]]), sync_run_id="\ud800")
    event = sqs.event(first, bad_key, bad_run, last)

    failed = deliver(event)
    printed = output.readouterr().out

    assert failed == sqs.message_ids(event)[1:3]
    assert [link.record_pk for link in s.live(admin, tenant.workspace_connector_pk)] == sorted(
        [accounts[0][0], accounts[1][0]]
    )
    printed.encode("utf-8")  # what a UTF-8 stream (Lambda's, the local runtime's) must take
    rejected = s.log_lines(printed, "message rejected")
    assert [line.get("idempotency_key") for line in rejected][:1] == ["key-\\udcff"]
    assert rejected[1]["sync_run_id"] == "\\ud800"
    assert all("body (json_invalid)" in line["reason"] for line in rejected)
