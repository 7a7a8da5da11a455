"""The intrinsic functions whose value is known without a deployment.

Parameters give their defaults and pseudo parameters local stand-ins; ``Ref`` to a resource,
``Fn::GetAtt``, ``Fn::ImportValue`` and the like depend on something deployed, so their value
is None and the caller decides what to do without it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

# Values of pseudo parameters when nothing is deployed; the region follows the environment.
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_STACK_NAME = "local"


def pseudo_parameters() -> dict[str, str]:
    return {
        "AWS::AccountId": LOCAL_ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::Region": os.environ.get("AWS_REGION", "us-east-1"),
        "AWS::StackName": LOCAL_STACK_NAME,
        "AWS::StackId": f"arn:aws:cloudformation:local:{LOCAL_ACCOUNT_ID}:stack/{LOCAL_STACK_NAME}",
        "AWS::URLSuffix": "amazonaws.com",
    }


_SUB_VARIABLE = re.compile(r"\$\{(!?)([^}]*)\}")


def resolve_value(value: Any, parameters: Mapping[str, Any]) -> str | None:
    """The text of a template value, or None when it depends on something deployed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    function, argument = next(iter(value.items()))
    if function == "Ref":
        return _ref_value(str(argument), parameters)
    if function == "Fn::Sub":
        return _sub(argument, parameters)
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        delimiter, items = argument
        parts = [resolve_value(item, parameters) for item in items or ()]
        if not isinstance(delimiter, str) or any(p is None for p in parts):
            return None
        return delimiter.join(p for p in parts if p is not None)
    if function == "Fn::Select" and isinstance(argument, list) and len(argument) == 2:
        index, items = argument
        options = _resolved_list(items, parameters)
        position = resolve_value(index, parameters)
        if options is None or position is None or not position.isdigit():
            return None
        return options[int(position)] if int(position) < len(options) else None
    return None


def _resolved_list(items: Any, parameters: Mapping[str, Any]) -> list[str] | None:
    if isinstance(items, Mapping) and set(items) == {"Fn::Split"}:
        delimiter, source = items["Fn::Split"]
        text = resolve_value(source, parameters)
        return None if text is None else text.split(str(delimiter))
    if isinstance(items, list):
        values = [resolve_value(item, parameters) for item in items]
        return None if any(v is None for v in values) else [v for v in values if v is not None]
    return None


def _ref_value(name: str, parameters: Mapping[str, Any]) -> str | None:
    if name == "AWS::NoValue":
        return None
    pseudo = pseudo_parameters()
    if name in pseudo:
        return pseudo[name]
    if name in parameters and parameters[name] is not None:
        default = parameters[name]
        if isinstance(default, list):
            return ",".join(str(item) for item in default)
        return resolve_value(default, parameters)
    return None  # a resource: its physical id exists only once deployed


def _sub(argument: Any, parameters: Mapping[str, Any]) -> str | None:
    if isinstance(argument, list) and len(argument) == 2:
        text, variables = argument
        local = {str(k): resolve_value(v, parameters) for k, v in (variables or {}).items()}
    else:
        text, local = argument, {}
    if not isinstance(text, str):
        return None
    unresolved = False

    def replace(match: re.Match[str]) -> str:
        nonlocal unresolved
        literal, name = match.groups()
        if literal:
            return "${" + name + "}"
        value = local[name] if name in local else _ref_value(name, parameters)
        if value is None:
            unresolved = True
            return ""
        return value

    result = _SUB_VARIABLE.sub(replace, text)
    return None if unresolved else result


def resolve_list(value: Any, parameters: Mapping[str, Any]) -> list[str] | None:
    """The items of a list value (a YAML list, ``Fn::Split``, a list parameter), or None when
    they depend on something deployed. A missing value is the empty list."""
    if value is None:
        return []
    if isinstance(value, str | int | float | bool):
        text = resolve_value(value, parameters)
        return None if text is None else [text]
    if isinstance(value, Mapping) and set(value) == {"Ref"}:
        text = _ref_value(str(value["Ref"]), parameters)
        return None if text is None else text.split(",")
    return _resolved_list(value, parameters)


class Conditions:
    """The template's ``Conditions``, evaluated against the parameters' values on demand."""

    def __init__(self, definitions: Mapping[str, Any], parameters: Mapping[str, Any]) -> None:
        self.definitions = definitions
        self.parameters = parameters
        self._values: dict[str, bool] = {}

    def value(self, name: str) -> bool:
        if name not in self._values:
            if name not in self.definitions:
                raise ValueError(f"no condition {name!r} in the template")
            self._values[name] = self.evaluate(self.definitions[name])
        return self._values[name]

    def evaluate(self, expression: Any) -> bool:
        """``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or`` and ``Condition``."""
        if isinstance(expression, Mapping) and len(expression) == 1:
            function, argument = next(iter(expression.items()))
            if function == "Condition":
                return self.value(str(argument))
            if function == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
                left, right = (resolve_value(item, self.parameters) for item in argument)
                if left is None or right is None:
                    raise ValueError(f"Fn::Equals of a deployed value: {argument!r}")
                return left == right
            if function == "Fn::Not" and isinstance(argument, list) and len(argument) == 1:
                return not self.evaluate(argument[0])
            if function == "Fn::And" and isinstance(argument, list):
                return all(self.evaluate(item) for item in argument)
            if function == "Fn::Or" and isinstance(argument, list):
                return any(self.evaluate(item) for item in argument)
        raise ValueError(f"a condition the local runtime cannot evaluate: {expression!r}")


def select_branch(value: Any, conditions: Conditions) -> Any:
    """``Fn::If`` replaced by the branch its condition selects (recursively), and
    ``Ref: AWS::NoValue`` by None; any other value as it is."""
    while isinstance(value, Mapping) and len(value) == 1:
        function, argument = next(iter(value.items()))
        if function == "Fn::If" and isinstance(argument, list) and len(argument) == 3:
            name, when_true, when_false = argument
            value = when_true if conditions.value(str(name)) else when_false
        elif function == "Ref" and argument == "AWS::NoValue":
            return None
        else:
            break
    return value
