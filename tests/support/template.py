"""template.yaml as the template tests read it: as written, and as SAM transforms it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from wellapi.operations.registry import DEFAULT_ROUTE_FUNCTION as DEFAULT_ROUTE_FUNCTION_NAME
from welldev.cfn_yaml import load_yaml

ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = ROOT / "functions"

FUNCTION_TYPE = "AWS::Serverless::Function"
# Functions that serve no route.
NON_ROUTE_FUNCTIONS = {
    "MigrationFunction",
    "AuthorizerFunction",
    "SyncFunction",
    "SweepFunction",
    "DrainFunction",
}

# The function of API Gateway's $default route (wellapi.operations.registry): a route, but no
# operation's, so not one of API_FUNCTIONS.
DEFAULT_ROUTE_FUNCTION = (
    "".join(part.capitalize() for part in DEFAULT_ROUTE_FUNCTION_NAME.split("_")) + "Function"
)

TEMPLATE = load_yaml((ROOT / "template.yaml").read_text())
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBALS: dict[str, Any] = TEMPLATE["Globals"]["Function"]
FUNCTIONS = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == FUNCTION_TYPE}
API_FUNCTIONS = sorted(set(FUNCTIONS) - NON_ROUTE_FUNCTIONS - {DEFAULT_ROUTE_FUNCTION})


def route_of(function_id: str) -> dict[str, Any]:
    (event,) = FUNCTIONS[function_id]["Events"].values()
    return dict(event["Properties"])


@cache
def transformed_template() -> dict[str, Any]:
    """The template as SAM transforms it (what CloudFormation deploys), without AWS access."""
    return translated_template(())


@cache
def translated_template(parameter_values: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The transformed template for these parameter values (SAM resolves some parameters)."""
    document = load_yaml((ROOT / "template.yaml").read_text())
    # The translator accepts only S3 locations for code; sam build/package put them there.
    document["Globals"]["Function"]["CodeUri"] = "s3://bucket/functions.zip"
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        if "CodeUri" in properties:
            properties["CodeUri"] = "s3://bucket/code.zip"
        if "ContentUri" in properties:
            properties["ContentUri"] = "s3://bucket/layer.zip"
    translator = Translator(
        managed_policy_map={},
        sam_parser=Parser(),
        plugins=[],
        boto_session=boto3.Session(region_name="eu-west-1"),
    )
    transformed: dict[str, Any] = translator.translate(
        sam_template=document,
        parameter_values=dict(parameter_values),
        get_managed_policy_map=dict,
    )
    return transformed
