"""The workspace providers' rules as SQL (``wellapi.resources.providers``), for the SQL
builders only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, bindparam, literal, or_

from wellapi.resources.conditions import Check, Conditions, WriteContext
from wellapi.resources.providers import ProviderCheck


class ProviderConditions(Conditions):
    def update_checks(self, ctx: WriteContext) -> list[Check]:
        attributes = ctx.document.attributes
        if "is_matched" not in attributes or "is_selected" in attributes:
            return []
        # Unmatching a row that stays selected would break the rule.
        unmatched_only_if_unselected = or_(
            ctx.target.c.is_selected.is_(False), bindparam("attr_is_matched", type_=Boolean)
        )
        return [Check(ProviderCheck.SELECTED_IMPLIES_MATCHED, unmatched_only_if_unselected)]

    def delete_values(self) -> dict[str, Any]:
        return {"is_selected": literal(False)}
