"""Rows are read by label, never by position: the statements' columns and their readers agree
on names (``wellapi.store.rows``), so the order in which a statement emits its columns is free.

Proved three ways: every shape of the rule (``tests.support.shapes``) emits every label its
reader needs (once); the
readers themselves give the same answers with every statement's columns emitted in reverse
(against real PostgreSQL, through the handlers); and the scripts' parts are split by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from uuid import uuid4

import pytest

from tests.support import factories as f
from tests.support import shapes as rule
from tests.support import writes as w
from tests.support.api import Reply, get
from wellapi.resources import RESOURCES, VIEWS, resource_named
from wellapi.sqltext import reads, writes
from wellapi.sqltext.reads import compose_read
from wellapi.sqltext.writes import compose_write
from wellapi.store.rows import (
    DOCUMENT_LABEL,
    ID_LABEL,
    ScopeRow,
    WriteOutcome,
    attribute_label,
    column_list,
    included_label,
    linkage_label,
    outcome_labels,
    parent_value_label,
    select_list,
    visible_label,
)
from wellapi.store.shapes import ReadShape, WritePlan, WriteShape
from wellapi.store.sql import BoundStatement, Layout, Script, ScriptPart, fixed

KEYS = sorted(RESOURCES) + sorted(VIEWS)


def read_labels_needed(shape: ReadShape) -> set[str]:
    """What the documents (as the statement writes them, or their values for the function's
    writer), the relationship route and the page cursor read from a row of ``shape``."""
    resource = resource_named(shape.resource)
    needed = {ID_LABEL, attribute_label(shape.sort)}
    needed |= {linkage_label(r.name) for r in resource.relationships}
    if shape.documents_in_sql:
        return needed | {DOCUMENT_LABEL} | {included_label(name) for name in shape.include}
    needed |= {attribute_label(a.name) for a in resource.attributes}
    for name in shape.include:
        parent = resource.relationship(name).parent
        needed.add(visible_label(name))
        needed |= {parent_value_label(f"{name}.{a.name}") for a in parent.attributes}
    return needed


@pytest.mark.parametrize("key", KEYS)
def test_every_read_emits_each_label_its_reader_needs_once(key):
    resource = resource_named(key)
    shapes = rule.common_shapes(resource, view=key in VIEWS)
    assert shapes
    rereads = [replace(shape, documents_in_sql=True) for shape in shapes]
    for shape in shapes + rereads:
        labels = compose_read(shape)[1].labels
        assert len(set(labels)) == len(labels), shape
        assert read_labels_needed(shape) <= set(labels), shape


@pytest.mark.parametrize("key", sorted(RESOURCES))
def test_every_write_emits_exactly_the_outcome_labels_its_reader_needs(key):
    shapes = rule.write_shapes(RESOURCES[key])
    assert shapes
    for shape in shapes:
        plan = compose_write(shape)
        checks, relationships, labels = plan.checks, plan.relationships, plan.outcome
        assert len(set(labels)) == len(labels), shape
        assert set(labels) == outcome_labels(shape.kind, relationships, checks), shape


def test_an_outcome_row_reads_the_same_in_any_column_order():
    labels = ["found_target", "found_provider", "check_keeps_x", "changes", "written"]
    values = [True, True, False, True, 0]
    expected = WriteOutcome(True, {"provider": True}, {"keeps_x": False}, True, 0, False)
    for turn in range(len(labels)):
        turned = labels[turn:] + labels[:turn]
        row = values[turn:] + values[:turn]
        outcome = WriteOutcome.read(
            "update", turned, row, relationships=["provider"], checks=["keeps_x"]
        )
        assert outcome == expected


def test_an_outcome_row_missing_a_label_its_kind_needs_is_refused():
    with pytest.raises(KeyError):
        WriteOutcome.read("update", ["written"], [1], relationships=[], checks=[])


READ_VALUES = {
    ID_LABEL: "row-1",
    DOCUMENT_LABEL: '{"type":"x","id":"row-1"}',
    attribute_label("created_at"): "2024-05-10T08:00:00Z",
    linkage_label("workspace_connector"): "wc-1",
    included_label("workspace_connector"): '{"type":"workspace_connector","id":"wc-1"}',
}


def test_a_read_row_reads_the_same_in_any_column_order():
    labels = list(READ_VALUES)
    for turn in range(len(labels)):
        turned = labels[turn:] + labels[:turn]
        layout = Layout(tuple(turned))
        (row,) = layout.rows([[READ_VALUES[label] for label in turned]])
        # Twice: the second read finds each position where the first one put it.
        for _ in range(2):
            assert row.id == "row-1"
            assert row.document == '{"type":"x","id":"row-1"}'
            assert row.attribute("created_at") == "2024-05-10T08:00:00Z"
            assert row.linkage("workspace_connector") == "wc-1"
            assert (
                row.included("workspace_connector")
                == READ_VALUES[included_label("workspace_connector")]
            )


def test_a_read_row_asked_for_a_label_its_statement_lacks_is_refused():
    (row,) = Layout(tuple(READ_VALUES)).rows([list(READ_VALUES.values())])
    with pytest.raises(KeyError):
        row.attribute("updated_at")
    with pytest.raises(KeyError):
        row.included("account")
    (bare,) = Layout((ID_LABEL,)).rows([["row-1"]])
    with pytest.raises(LookupError):
        _ = bare.document  # neither written by its statement nor given a writer


def test_a_select_list_follows_the_rows_fields_whatever_order_it_is_given():
    assert select_list(ScopeRow._fields, person_pk="p", workspace_pk="w") == (
        "w AS workspace_pk, p AS person_pk"
    )
    assert column_list(ScopeRow._fields) == "workspace_pk, person_pk"
    with pytest.raises(ValueError, match="expected expressions"):
        select_list(ScopeRow._fields, workspace_pk="w")


def test_a_script_answer_is_split_into_its_parts_by_name():
    script = Script(
        (
            ScriptPart("receipts", BoundStatement("INSERT ...", ("k",)), "nothing"),
            ScriptPart("scope", fixed("SELECT 1"), "one"),
            ScriptPart("read", BoundStatement("SELECT ...", (1, 2)), "rows"),
            ScriptPart("outcome", fixed("SELECT 2"), "one"),
        )
    )
    answer = script.split([["s"], ["r1"], ["r2"], ["o"]])
    assert answer == {
        "receipts": [],
        "scope": [["s"]],
        "read": [["r1"], ["r2"]],
        "outcome": [["o"]],
    }
    assert script.split([["s"], ["o"]])["read"] == []
    assert script.statements == (
        BoundStatement("INSERT ...", ("k",)),
        fixed("SELECT 1"),
        BoundStatement("SELECT ...", (1, 2)),
        fixed("SELECT 2"),
    )


def test_a_script_answer_with_rows_missing_or_to_spare_is_refused():
    script = Script(
        (ScriptPart("scope", fixed("SELECT 1"), "one"), ScriptPart("write", fixed(""), "one"))
    )
    with pytest.raises(RuntimeError):
        script.split([["s"]])
    with pytest.raises(RuntimeError):
        script.split([["s"], ["o"], ["extra"]])
    with pytest.raises(ValueError, match="named twice"):
        Script((ScriptPart("a", fixed(""), "one"), ScriptPart("a", fixed(""), "one")))


# --- every statement's columns emitted in reverse, through the handlers ------------------------


def reversed_read(shape: ReadShape) -> tuple[Any, Layout]:
    """The read of ``shape``, its columns composed in reverse."""
    with pytest.MonkeyPatch.context() as patch:
        columns = reads.read_columns
        patch.setattr(reads, "read_columns", lambda s: list(reversed(columns(s))))
        return compose_read(shape)


def reversed_write(shape: WriteShape) -> WritePlan:
    """The write of ``shape``, its outcome row's columns composed in reverse."""
    with pytest.MonkeyPatch.context() as patch:
        columns = writes.outcome_columns
        patch.setattr(writes, "outcome_columns", lambda s, f: list(reversed(columns(s, f))))
        return compose_write(shape)


@pytest.fixture
def emitted_in_reverse(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make every read and write statement emit its columns in reverse order, from now on."""

    def reverse() -> None:
        monkeypatch.setattr("wellapi.operations.read_template", reversed_read)
        monkeypatch.setattr("wellapi.operations.conditional_write.read_template", reversed_read)
        monkeypatch.setattr("wellapi.operations.conditional_write.write_plan", reversed_write)

    return reverse


def test_reversing_a_statement_reverses_the_labels_it_emits():
    shape = WriteShape("workspace_providers", "create", ("is_matched",), ("provider",), (), False)
    plan = reversed_write(shape)
    assert plan.outcome == tuple(reversed(compose_write(shape).outcome))
    text = plan.template.text
    assert text.rindex("checks.found_provider") > text.rindex("AS written")
    _, layout = reversed_read(ReadShape("workspace_providers", single=True))
    assert layout.labels == tuple(
        reversed(compose_read(ReadShape("workspace_providers", single=True))[1].labels)
    )


RESOURCE = "workspace_providers"


def summary(reply: Reply) -> Any:
    """A reply without what differs between two runs (ids, timestamps, links)."""
    body = reply.json if reply.body else None
    if body is None:
        return reply.status
    if "errors" in body:
        return reply.status, [(e["code"], e.get("source")) for e in body["errors"]]
    data = body["data"]
    attributes = {k: v for k, v in data["attributes"].items() if not k.endswith("_at")}
    return reply.status, attributes, sorted(data["relationships"])


def _create(admin: Any) -> list[Reply]:
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(t.workspace_id, provider_id, is_matched=True)
    return [w.post(RESOURCE, t.claims(), doc)]


def _select_twice(admin: Any) -> list[Reply]:
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(None, provider_id)
    return [w.select(t.claims(), t.workspace_id, doc) for _ in range(2)]


def _rule_fails(admin: Any) -> list[Reply]:
    t = f.tenant(admin)
    _, provider_id = f.provider(admin)
    doc = w.provider_document(t.workspace_id, provider_id, is_selected=True, is_matched=False)
    return [w.post(RESOURCE, t.claims(), doc)]


def _parent_missing(admin: Any) -> list[Reply]:
    t = f.tenant(admin)
    return [w.post(RESOURCE, t.claims(), w.provider_document(t.workspace_id, uuid4()))]


def _conflict(admin: Any) -> list[Reply]:
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    f.workspace_provider(admin, t.workspace_pk, provider_pk)
    return [w.post(RESOURCE, t.claims(), w.provider_document(t.workspace_id, provider_id))]


def _updates(admin: Any) -> list[Reply]:
    t = f.tenant(admin)
    provider_pk, provider_id = f.provider(admin)
    _, other_provider = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk, selected=False, matched=True)

    def patch(**document: Any) -> Reply:
        body = w.document("workspace_provider", row_id=row_id, **document)
        return w.patch(RESOURCE, t.claims(), row_id, body)

    return [
        patch(attributes={"is_matched": True}),  # changes nothing
        patch(attributes={"is_matched": False}),
        patch(attributes={"is_selected": True, "is_matched": False}),  # breaks a rule
        patch(attributes={"created_at": "2020-01-01T00:00:00Z"}),  # read-only, changed
        patch(relationships={"provider": ("provider", other_provider)}),  # create-only
        patch(relationships={"provider": ("provider", provider_id)}),  # sent back as it is
    ]


def _delete_twice(admin: Any) -> list[Reply]:
    t = f.tenant(admin)
    provider_pk, _ = f.provider(admin)
    row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk)
    return [w.delete(RESOURCE, t.claims(), row_id) for _ in range(2)]


SCENARIOS: dict[str, Callable[[Any], list[Reply]]] = {
    "create": _create,
    "select twice": _select_twice,
    "a rule fails": _rule_fails,
    "a parent is missing": _parent_missing,
    "a conflict": _conflict,
    "updates": _updates,
    "delete twice": _delete_twice,
}


@pytest.mark.usefixtures("api_database")
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_writes_answer_the_same_with_every_column_emitted_in_reverse(
    admin, emitted_in_reverse, scenario
):
    run = SCENARIOS[scenario]
    as_composed = [summary(r) for r in run(admin)]
    emitted_in_reverse()
    assert [summary(r) for r in run(admin)] == as_composed


def read_requests(admin: Any) -> list[Callable[[], Reply]]:
    """Lists and Retrieves of one tenant's rows, with and without includes, a page, a cursor."""
    t = f.tenant(admin)
    for _ in range(3):
        provider_pk, _ = f.provider(admin)
        row_id = f.workspace_provider(admin, t.workspace_pk, provider_pk)
    claims = t.claims()
    first_page = get(RESOURCE, claims, query="page[size]=1").json
    after = first_page["links"]["next"].split("?", 1)[1]
    requests: list[Callable[[], Reply]] = [lambda: get(RESOURCE, claims, query=after)]
    for query in ("", "include=provider,workspace", "fields[workspace_provider]=provider"):
        requests.append(lambda q=query: get(RESOURCE, claims, query=q))
        requests.append(lambda q=query: get(RESOURCE, claims, row_id=str(row_id), query=q))
    return requests


@pytest.mark.usefixtures("api_database")
def test_reads_answer_the_same_with_every_column_emitted_in_reverse(admin, emitted_in_reverse):
    requests = read_requests(admin)
    as_composed = [(r.status, r.json) for r in (request() for request in requests)]
    assert {status for status, _ in as_composed} == {200}
    emitted_in_reverse()
    assert [(r.status, r.json) for r in (request() for request in requests)] == as_composed
