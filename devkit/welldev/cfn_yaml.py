"""YAML with CloudFormation's short-form tags, read into the long form they stand for.

``!Ref X`` becomes ``{"Ref": "X"}``, ``!GetAtt A.B`` becomes ``{"Fn::GetAtt": ["A", "B"]}``,
``!Sub ...`` becomes ``{"Fn::Sub": ...}`` and so on: plain dicts, lists and scalars. An unknown
tag is an error rather than a silent value. Dates stay text, as CloudFormation reads them.
"""

from __future__ import annotations

from typing import Any

import yaml


class CloudFormationYamlError(ValueError):
    """The text is not YAML, or uses a tag CloudFormation does not have."""


_SHORT_FORM_FUNCTIONS = (
    "And",
    "Base64",
    "Cidr",
    "Equals",
    "FindInMap",
    "GetAZs",
    "If",
    "ImportValue",
    "Join",
    "Length",
    "Not",
    "Or",
    "Select",
    "Split",
    "Sub",
    "ToJsonString",
    "Transform",
)


# libyaml's parser when PyYAML was built with it (its wheels are): ten times faster on the
# project's template (0.09 s instead of 0.9), which every local command reads first.
_SafeLoader = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader


# PyYAML ships no type information (mypy sees Any), hence the ignore.
class _CloudFormationLoader(_SafeLoader):  # type: ignore[misc,valid-type]
    """A safe loader that knows ``!Ref``, ``!GetAtt``, ``!Sub``... and leaves dates as text.

    CloudFormation reads ``Version: 2012-10-17`` as a string; YAML 1.1 would make it a date.
    """


_CloudFormationLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)


def _long_form(key: str) -> Any:
    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
        return {key: _node_value(loader, node)}

    return construct


def get_att_parts(value: Any) -> list[str]:
    """``[resource, attribute]`` of a GetAtt, written ``A.B`` or ``[A, B]``."""
    if isinstance(value, str):
        # The attribute may contain dots itself (Endpoint.Address): split at the first one.
        resource, _, attribute = value.partition(".")
        return [resource, attribute]
    return [str(part) for part in value]


def _get_att(loader: yaml.SafeLoader, node: yaml.Node) -> dict[str, Any]:
    value = _node_value(loader, node)
    return {"Fn::GetAtt": get_att_parts(value) if isinstance(value, str) else value}


_CloudFormationLoader.add_constructor("!Ref", _long_form("Ref"))
_CloudFormationLoader.add_constructor("!Condition", _long_form("Condition"))
_CloudFormationLoader.add_constructor("!GetAtt", _get_att)
for _name in _SHORT_FORM_FUNCTIONS:
    _CloudFormationLoader.add_constructor(f"!{_name}", _long_form(f"Fn::{_name}"))


def load_yaml(text: str) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template into plain dicts, lists and scalars."""
    try:
        document = yaml.load(text, Loader=_CloudFormationLoader)  # noqa: S506 (a safe loader)
    except yaml.YAMLError as error:
        raise CloudFormationYamlError(f"template is not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise CloudFormationYamlError("template must be a mapping at the top level")
    return document
