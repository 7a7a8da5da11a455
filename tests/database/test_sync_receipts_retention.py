"""Sync receipts are kept 35 days: each batch prunes up to twice the receipts it adds.

A receipt younger than that still stops a redelivery; older ones go oldest first, in the
batch's own transaction, and a batch never waits for another's clean-up.
"""

from __future__ import annotations

from typing import Any

import pytest
from pg8000.native import Connection

from tests.support import factories as f
from tests.support import sqs
from tests.support import sync as s
from tests.support.api import Lambda
from wellapi.handlers.sync import sync_handler
from welldev.database import LocalDatabase

handler = sync_handler()


@pytest.fixture
def tenant(api_database: LocalDatabase, admin: Connection) -> f.Tenant:
    # Earlier tests' receipts are young; only this test's aged ones can expire.
    return f.tenant(admin)


def aged_receipts(admin: Connection, t: f.Tenant, days: int, count: int) -> list[str]:
    keys = [f"aged-{days}-{s.key()}" for _ in range(count)]
    for i, k in enumerate(keys):
        admin.run(
            "INSERT INTO core_api.sync_receipts (idempotency_key, message_type, "
            "workspace_connector_pk, occurred_at, received_at) "
            "VALUES (:k, 'provenance.linked', :w, now(), now() - make_interval(days => :d, "
            "secs => :i))",
            k=k,
            w=t.workspace_connector_pk,
            d=days,
            i=i,
        )
    return keys


def deliver(*bodies: dict[str, Any]) -> list[str]:
    return sqs.failed_ids(handler(sqs.event(*bodies), Lambda()))


def test_a_batch_prunes_twice_its_receipts_of_the_oldest_expired_ones(
    admin: Connection, tenant: f.Tenant
) -> None:
    expired = aged_receipts(admin, tenant, 36, 30)
    accounts = s.records(admin, tenant, "account", 1)
    messages = [s.linked(tenant.workspace_connector_id, [accounts[0][1]]) for _ in range(3)]

    assert deliver(*messages) == []

    left = s.receipts(admin, expired)
    # Three messages, six pruned: the oldest (each aged key is a second older than the last).
    assert set(expired) - set(left) == set(expired[-6:])


def test_receipts_younger_than_the_retention_are_never_pruned(
    admin: Connection, tenant: f.Tenant
) -> None:
    young = aged_receipts(admin, tenant, 34, 5)
    accounts = s.records(admin, tenant, "account", 1)

    assert deliver(s.linked(tenant.workspace_connector_id, [accounts[0][1]])) == []

    assert sorted(s.receipts(admin, young)) == sorted(young)


def test_a_redelivery_within_the_retention_writes_nothing(
    admin: Connection, tenant: f.Tenant
) -> None:
    accounts = s.records(admin, tenant, "account", 1)
    message = s.linked(tenant.workspace_connector_id, [accounts[0][1]])
    assert deliver(message) == []
    admin.run(
        "UPDATE core_api.sync_receipts SET received_at = now() - interval '34 days' "
        "WHERE idempotency_key = :k",
        k=message["idempotency_key"],
    )

    assert deliver(message) == []

    assert len(s.ledger(admin, tenant.workspace_connector_pk)) == 1
