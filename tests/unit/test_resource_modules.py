"""Each group of resources has one module: its descriptions, its rules and (in a sibling) its SQL
conditions, joined by the resource object and by check names both sides import, never by a
string key; and the sync writer's ledgers are derived from the same descriptions. No database:
the composed plans."""

from __future__ import annotations

import sys

from tests.support.shapes import write_shapes
from wellapi.errors import ApiError, ErrorList
from wellapi.resources import RESOURCES, VIEWS, Resource
from wellapi.resources import tables as schema
from wellapi.resources.all_conditions import CONDITIONS
from wellapi.resources.ledgers import LEDGER_RESOURCES, RECORD_TYPES
from wellapi.resources.rules import KEEPS_PREFIX, READ_ONLY_PREFIX, CheckName
from wellapi.sqltext.statements import write_plan
from wellapi.sync.ledgers import LEDGERS


def _family_check_names(resource: Resource) -> set[str]:
    """The check names defined in the resource module that defines the resource's rules."""
    family = vars(sys.modules[type(resource.rules).__module__])
    return {
        str(member)
        for value in family.values()
        if isinstance(value, type) and issubclass(value, CheckName) and value is not CheckName
        for member in value
    }


def test_every_written_resource_has_its_conditions_and_no_view_has_any():
    assert set(CONDITIONS) == set(RESOURCES.values())
    assert set(CONDITIONS).isdisjoint(VIEWS.values())


def test_every_check_of_a_write_is_named_by_its_module_and_answered_by_its_rules():
    for resource in RESOURCES.values():
        names = _family_check_names(resource)
        seen: set[str] = set()
        for shape in write_shapes(resource):
            for check in write_plan(shape).checks:
                seen.add(check)
                assert check.startswith((KEEPS_PREFIX, READ_ONLY_PREFIX)) or check in names, (
                    resource.key,
                    check,
                )
                error = resource.rules.check_error(resource, shape.kind, check)
                assert isinstance(error, ApiError | ErrorList), (resource.key, check)
        # No check name of a resource module is dead: some write of the resource builds each.
        assert names <= seen, (resource.key, names - seen)


def test_the_sync_writers_ledgers_are_the_ledger_resources():
    ledgers = [r for r in RESOURCES.values() if r.scope == "provenance"]

    assert list(LEDGERS) == list(RECORD_TYPES)
    assert [table for table, _, _ in LEDGERS.values()] == [r.table.name for r in ledgers]
    for record_type, (table, records, id_column) in LEDGERS.items():
        # What the writer and the sweeper name in their SQL exists in the schema.
        assert f"{record_type}_pk" in schema.table(table).c
        assert f"{record_type}_workspace_connector_id" in schema.table(table).c
        assert id_column in schema.table(records).c


def test_the_ledgers_sort_by_created_at_only_and_every_other_list_by_either_timestamp():
    # A ledger's "what changed since" is GET /v1/changes, which its refusal names; created_at,
    # a List's default, is every List's sort.
    ledgers = {r.key for r in LEDGER_RESOURCES}
    assert ledgers == {key for key, r in RESOURCES.items() if r.walks}
    for key, resource in {**RESOURCES, **VIEWS}.items():
        if key in ledgers:
            assert resource.sorts == ("created_at",), key
            assert "GET /v1/changes" in resource.sort_note, key
        else:
            assert resource.sorts == ("created_at", "updated_at"), key
            assert resource.sort_note == "", key
