"""The words of the OpenAPI document, read from ``openapi_text.yaml`` beside this module.

The file holds the prose, where a person edits it as prose, and the parts of the document the
registry does not derive; ``words`` gives one of its parts with the values it names filled in.
``describe`` puts one (resource, operation)'s summary, description and error codes together
from two generic tables of the file: ``operations`` by operation name (what each kind does, the
codes it can give on every resource) and ``scopes`` by a resource's scope rule (who may read
and write it, its own rules and codes). Each code's meaning is ``wellapi.errors.ERROR_CODES``'.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import reduce
from operator import getitem
from pathlib import Path
from typing import Any

import yaml

from wellapi.domain import CHANGE_RETENTION_DAYS
from wellapi.errors import ERROR_CODES
from wellapi.jsonapi import CURSOR_PROFILE
from wellapi.jsonapi.query import MAX_FILTER_VALUES, MAX_PAGE_DEPTH, MAX_PAGE_SIZE
from wellapi.operations.read import TOTAL_BOUND
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import Resource
from wellapi.resources.feed import SYNC_RUN_ID_MAX

# libyaml's safe loader, as the seed reads demo.yaml: a tenth of the pure-Python one's 29 ms.
TEXT: dict[str, Any] = yaml.load(
    Path(__file__).with_name("openapi_text.yaml").read_text("utf-8"), Loader=yaml.CSafeLoader
)
# What every text may name: the API's limits, and the phrases many texts share.
LIMITS: dict[str, Any] = {
    "MAX_PAGE_SIZE": MAX_PAGE_SIZE,
    "MAX_PAGE_DEPTH": MAX_PAGE_DEPTH,
    "TOTAL_BOUND": TOTAL_BOUND,
    "MAX_FILTER_VALUES": MAX_FILTER_VALUES,
    "CHANGE_RETENTION_DAYS": CHANGE_RETENTION_DAYS,
    "CURSOR_PROFILE": CURSOR_PROFILE,
    "SYNC_RUN_ID_MAX": SYNC_RUN_ID_MAX,
    "error_codes": list(ERROR_CODES),
    **TEXT["phrases"],
}
# `${name}` or `$name`; any other `$` (a pattern's end) is itself.
_NAME = re.compile(r"\$\{(\w+)\}|\$([A-Za-z_]\w*)")


def fill(node: Any, **names: Any) -> Any:
    """``node`` (a text, or data holding texts) with every ``$name`` replaced by its value; a
    text that is one name alone becomes the value itself (a number stays a number)."""
    if isinstance(node, dict):
        return {key: fill(value, **names) for key, value in node.items()}
    if isinstance(node, list):
        return [fill(value, **names) for value in node]
    if not isinstance(node, str):
        return node
    values = {**LIMITS, **names}
    if whole := _NAME.fullmatch(node):
        return values[whole[1] or whole[2]]
    return _NAME.sub(lambda m: str(values[m[1] or m[2]]), node)


def words(*path: str, **names: Any) -> Any:
    """The part of the file at ``path`` (``"parameters", "include"``), filled in."""
    return fill(reduce(getitem, path, TEXT), **names)


@dataclass(frozen=True)
class Described:
    summary: str
    description: str
    codes: tuple[str, ...]


def _flat(codes: list[Any]) -> list[str]:
    """A list of codes whose items may be the file's lists of codes (YAML aliases)."""
    return [code for item in codes for code in (_flat(item) if isinstance(item, list) else [item])]


def operation_codes(resource: Resource, operation: str) -> tuple[str, ...]:
    """The error codes ``operation`` on ``resource`` can answer with, in the registry's order."""
    text, scope = TEXT["operations"][operation], TEXT["scopes"][resource.scope]
    only, added = scope.get("only_codes", {}), scope.get("codes", {})
    key = operation if operation in only or operation in added else text.get("like", operation)
    wanted = set(_flat(only[key] if key in only else [text["codes"], added.get(key, [])]))
    wanted = {fill(code, TYPE=resource.type.upper()) for code in wanted}
    routed = OPERATIONS[operation]
    if "{" in routed.path(resource):
        wanted.add("ROUTE_NOT_FOUND")
    if routed.item and routed.method != "GET":
        wanted.add("METHOD_NOT_ALLOWED")
    if unknown := wanted - ERROR_CODES.keys():
        raise KeyError(f"codes missing from wellapi.errors.ERROR_CODES: {sorted(unknown)}")
    return tuple(code for code in ERROR_CODES if code in wanted)


def _either(names: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return " or ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else "".join(names)


def _filters(resource: Resource) -> str:
    """A collection's filters: by each relationship's ids, its own, the created_at range."""
    ids = ", ".join(f"`filter[{r.name}]`" for r in resource.relationships)
    own = [f"`filter[{name}]`" for name in resource.filters]
    listed = [words("describe", "filter_ids", names=ids), *own, words("describe", "filter_range")]
    return str(words("describe", "filters", filters="; ".join(listed)))


def describe(resource: Resource, operation: str, relationship: str | None = None) -> Described:
    """The summary and description of ``operation`` on ``resource`` and the codes it gives."""
    text, scope = TEXT["operations"][operation], TEXT["scopes"][resource.scope]
    like = text.get("like", operation)
    article = "an" if resource.type[0] in "aeiou" else "a"
    rels = [rel.name for rel in resource.relationships]
    names = {
        "type": resource.type,
        "a_type": f"{article} {resource.type}",
        "a_type_code": f"{article} `{resource.type}`",
        "path": resource.path,
        "relationship": relationship or _either(rels),
        "relationships": _either([f"`{name}`" for name in rels]),
        "TYPE": resource.type.upper(),
    }
    who = scope.get("who", {})
    who = who.get(operation) or who.get(like) or scope.get(text["access"])
    if not who:
        raise KeyError(f"no text says who may call {operation} on {resource.key}")
    parts = [fill(text["description"], **names), words("describe", "who", who=fill(who, **names))]
    rules = scope.get("rules", {})
    rules = fill(rules.get(operation) or rules.get(like, ""), **names)
    if operation in ("list", "catalog"):  # a collection's rules start with its filters
        rules = f"{_filters(resource)} {rules}".strip()
    if rules:
        parts.append(words("describe", "rules", rules=rules))
    codes = operation_codes(resource, operation)
    by_status: dict[int, list[str]] = {}
    for code in codes:
        by_status.setdefault(ERROR_CODES[code].status, []).append(f"`{code}`")
    listed = [f"- {status}: {', '.join(them)}" for status, them in sorted(by_status.items())]
    parts.append(words("describe", "errors") + "\n\n" + "\n".join(listed))
    writer = scope.get("demo_writer") if text["access"] == "write" else None
    key = words("describe", "service_key" if writer == "service" else "member_key")
    parts.append(words("describe", "try_it", key=key))
    return Described(fill(text["summary"], **names), "\n\n".join(parts), codes)
