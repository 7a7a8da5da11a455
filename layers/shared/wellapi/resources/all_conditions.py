"""Every written resource's conditions, by the resource: the SQL side of the registry
(``wellapi.resources.RESOURCES``), which only the write composer (``wellapi.sqltext.writes``)
import."""

from __future__ import annotations

from collections.abc import Mapping

from wellapi.resources.conditions import Conditions
from wellapi.resources.description import Resource
from wellapi.resources.enrolments import WORKSPACE_GROUP_WORKSPACES
from wellapi.resources.enrolments_sql import EnrolmentConditions
from wellapi.resources.ledgers import LEDGER_RESOURCES
from wellapi.resources.ledgers_sql import LedgerConditions
from wellapi.resources.providers import WORKSPACE_PROVIDERS
from wellapi.resources.providers_sql import ProviderConditions

CONDITIONS: Mapping[Resource, Conditions] = {
    **dict.fromkeys(LEDGER_RESOURCES, LedgerConditions()),
    WORKSPACE_GROUP_WORKSPACES: EnrolmentConditions(),
    WORKSPACE_PROVIDERS: ProviderConditions(),
}
