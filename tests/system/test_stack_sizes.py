"""Every stack the template makes stays far below CloudFormation's 500 resources, with today's
resources and with thirty (docs/deploy.md, "Stacks").

Each API resource's functions are a nested stack of their own; template.yaml holds the rest and
one permission per route. So the test writes, in memory, the templates of an API of thirty
resources (today's resources, and copies of them under other names and paths up to thirty) and
counts what SAM's transform makes of each. A system test: thirty-odd transforms take longer
than the unit tier allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tests.support.template import translate_stacks
from wellapi.resources import RESOURCES
from welldev import template_writer
from welldev.stack import api_functions

# What every stack must stay under: CloudFormation refuses 500, and a stack close to it would
# refuse the next resource's functions.
MOST_RESOURCES = 400
RESOURCES_OF_THE_LARGE_API = 30
NESTED_STACK = "AWS::CloudFormation::Stack"


def _copy(function: Mapping[str, str], copy: int) -> dict[str, str]:
    """An API function of a resource named like ``function``'s and served under another path."""
    path = function["path"].replace("/v1/", f"/v1/copy{copy}-", 1)
    return {
        **function,
        "Function": f"Copy{copy}{function['Function']}",
        "Stack": f"Copy{copy}{function['Stack']}",
        "resource": f"copy{copy}_{function['resource']}",
        "path": path,
        "arn_path": re.sub(r"\{[^}]+\}", "*", path),
    }


def _api_of(resources: int) -> list[dict[str, str]]:
    """Today's API functions, and copies of the resources' until there are ``resources``."""
    functions = api_functions()
    copies = []
    for copy in range(resources - len(RESOURCES)):
        resource = list(RESOURCES)[copy % len(RESOURCES)]
        copies += [_copy(f, copy + 1) for f in functions if f["resource"] == resource]
    return functions + copies


def _sizes(api: list[dict[str, str]]) -> dict[str, int]:
    stacks = translate_stacks(template_writer.render_all(api=api))
    return {name: len(stack["Resources"]) for name, stack in stacks.items()}


def _nested_stacks(transformed: Mapping[str, Any]) -> int:
    return sum(1 for r in transformed["Resources"].values() if r["Type"] == NESTED_STACK)


def test_every_stack_of_todays_api_stays_under_the_limit():
    sizes = _sizes(api_functions())
    assert len(sizes) == 1 + len(RESOURCES) + 1  # template.yaml, a stack per resource, the feed
    assert max(sizes.values()) < MOST_RESOURCES, sizes


def test_every_stack_of_an_api_of_thirty_resources_stays_under_the_limit():
    api = _api_of(RESOURCES_OF_THE_LARGE_API)
    resources = {f["resource"] for f in api} - {"changes"}
    assert len(resources) == RESOURCES_OF_THE_LARGE_API
    templates = template_writer.render_all(api=api)
    stacks = translate_stacks(templates)
    parent = stacks[template_writer.TARGET.name]
    # One nested stack per resource (and the changes feed's), each counted on its own.
    assert _nested_stacks(parent) == len(templates) - 1 == RESOURCES_OF_THE_LARGE_API + 1
    sizes = {name: len(stack["Resources"]) for name, stack in stacks.items()}
    assert max(sizes.values()) < MOST_RESOURCES, sizes
    # Every route is served, each by a function of a nested stack.
    nested = [stack for name, stack in stacks.items() if name != template_writer.TARGET.name]
    functions = [
        logical_id
        for stack in nested
        for logical_id, r in stack["Resources"].items()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    assert sorted(functions) == sorted(f["Function"] for f in api)
