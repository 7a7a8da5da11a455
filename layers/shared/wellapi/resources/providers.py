"""The workspace providers (``workspace-providers``: a catalog provider a workspace
selected, or was matched to) and of the provider catalog as one workspace sees it.

Selecting a provider forces ``is_matched``; removing the row clears ``is_selected``. Its SQL
conditions are ``wellapi.resources.providers_sql``; its table is
``wellapi.resources.tables.workspace_providers`` (with the constraint
``workspace_providers_selected_implies_matched``) and the catalog's is
``wellapi.resources.tables.providers``, made and changed by the migrations.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING

from wellapi.domain import ChangeKind
from wellapi.errors import ApiError, ErrorList, Unprocessable
from wellapi.resources.description import (
    Attribute,
    Parent,
    Relationship,
    Resource,
    TableRef,
    timestamps,
)
from wellapi.resources.parents import PROVIDER, WORKSPACE
from wellapi.resources.rules import CheckName, Rules

if TYPE_CHECKING:
    from wellapi.resources.changes import ResourceDocument, WriteKind


class ProviderCheck(CheckName):
    # An update that unmatches a row leaves it unselected.
    SELECTED_IMPLIES_MATCHED = "selected_implies_matched"


def _selected_implies_matched() -> ApiError:
    return Unprocessable(
        "The provider is selected, so it stays matched; unselect it too.",
        pointer="/data/attributes/is_matched",
        code="SELECTED_IMPLIES_MATCHED",
    )


class ProviderRules(Rules):
    """Selecting a provider forces ``is_matched``; removing it clears ``is_selected``."""

    upsert_key = ("workspace_pk", "provider_pk")
    # A select route's upsert of the live row is a selection too (it sets is_selected).
    change_kinds = MappingProxyType(
        {"create": ChangeKind.SELECTED, "update": ChangeKind.CHANGED, "delete": ChangeKind.REMOVED}
    )

    def normalise(self, document: ResourceDocument, mode: str) -> ResourceDocument:
        attributes = dict(document.attributes)
        if attributes.get("is_selected") is True:
            if attributes.get("is_matched") is False:
                raise Unprocessable(
                    "A selected provider is always matched: is_matched cannot be false.",
                    pointer="/data/attributes/is_matched",
                    code="SELECTED_IMPLIES_MATCHED",
                )
            attributes["is_matched"] = True
        return replace(document, attributes=attributes)

    def check_error(self, resource: Resource, kind: WriteKind, name: str) -> ApiError | ErrorList:
        if name == ProviderCheck.SELECTED_IMPLIES_MATCHED:
            return _selected_implies_matched()
        return super().check_error(resource, kind, name)

    def constraint_error(self, constraint: str | None) -> ApiError | None:
        if constraint != "workspace_providers_selected_implies_matched":
            return None
        return _selected_implies_matched()


WORKSPACE_PROVIDERS = Resource(
    key="workspace_providers",
    type="workspace_provider",
    path="workspace-providers",
    table=TableRef("workspace_providers", "workspace_provider_id"),
    attributes=(
        Attribute("is_selected", "is_selected", "boolean", nullable=False, writable="always"),
        Attribute("is_matched", "is_matched", "boolean", nullable=False, writable="always"),
        *timestamps(),
    ),
    relationships=(
        Relationship("workspace", WORKSPACE, "workspace_pk"),
        Relationship("provider", PROVIDER, "provider_pk"),
    ),
    scope="workspace",
    scope_relationships=("workspace",),
    rules=ProviderRules(),
    summary="Each workspace's selected and matched providers, and the provider catalog as a "
    "workspace sees it.",
    filters=("is_selected", "is_matched"),
)

# The same rows as the parent the catalog points at (included as `workspace_provider`), whose
# attributes no write through the catalog sets.
WORKSPACE_PROVIDER = Parent(
    WORKSPACE_PROVIDERS.type,
    WORKSPACE_PROVIDERS.table,
    WORKSPACE_PROVIDERS.path,
    tuple(replace(a, writable="never") for a in WORKSPACE_PROVIDERS.attributes),
    "workspace_owned",
)

# The provider catalog as one workspace sees it (GET /v1/workspaces/{workspace_id}/providers):
# every live provider, with this workspace's selection state and a link to its live
# workspace_provider row, if any. Primary data are `provider` resources.
PROVIDER_CATALOG = Resource(
    key="provider_catalog",
    type="provider",
    path="providers",
    table=TableRef("providers", "provider_id"),
    attributes=(
        *PROVIDER.attributes,
        *(
            Attribute(n, n, "boolean", nullable=False, source="workspace_provider", default=False)
            for n in ("is_selected", "is_matched")
        ),
        *timestamps(),
    ),
    relationships=(
        Relationship(
            "workspace_provider",
            WORKSPACE_PROVIDER,
            "pk",
            required=False,
            writable="never",
            reverse_column="provider_pk",
        ),
    ),
    scope="catalog",
    scope_relationships=(),
    # A view no operation writes: the default rules are never asked.
    rules=Rules(),
    filters=("is_selected", "is_matched", "category"),
)
