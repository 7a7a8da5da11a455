"""The workspace providers' rules as SQL (``wellapi.resources.providers``)."""

from __future__ import annotations

from wellapi.resources.conditions import Check, Conditions, WriteContext, any_of, slot
from wellapi.resources.providers import ProviderCheck


class ProviderConditions(Conditions):
    def update_checks(self, ctx: WriteContext) -> list[Check]:
        attributes = ctx.document.attributes
        if "is_matched" not in attributes or "is_selected" in attributes:
            return []
        # Unmatching a row that stays selected would break the rule.
        unmatched_only_if_unselected = any_of(
            f"{ctx.target}.is_selected IS false", slot("attr_is_matched", "BOOLEAN")
        )
        check = ProviderCheck.SELECTED_IMPLIES_MATCHED
        return [Check(check, unmatched_only_if_unselected, (ctx.target,))]

    def delete_values(self) -> dict[str, str]:
        return {"is_selected": "false"}
