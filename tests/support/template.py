"""template.yaml as the template tests read it: as written, and as SAM transforms it."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import boto3
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.yaml_helper import yaml_parse as load_yaml

from wellapi.operations.registry import DEFAULT_ROUTE_FUNCTION as DEFAULT_ROUTE_FUNCTION_NAME

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
    "OperatorFunction",
}

# The function of API Gateway's $default route (wellapi.operations.registry): a route, but no
# operation's, so not one of API_FUNCTIONS.
DEFAULT_ROUTE_FUNCTION = (
    "".join(part.capitalize() for part in DEFAULT_ROUTE_FUNCTION_NAME.split("_")) + "Function"
)

TEMPLATE = load_yaml((ROOT / "template.yaml").read_text())
# The database side, deployed before it (database.yaml; docs/deploy.md, "The first deploy").
DATABASE = load_yaml((ROOT / "database.yaml").read_text())
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBALS: dict[str, Any] = TEMPLATE["Globals"]["Function"]
APPLICATION_TYPE = "AWS::Serverless::Application"
# Each resource's nested stack, by its logical id in template.yaml: the template it deploys.
NESTED: dict[str, dict[str, Any]] = {
    stack_id: load_yaml((ROOT / resource["Properties"]["Location"]).read_text())
    for stack_id, resource in RESOURCES.items()
    if resource["Type"] == APPLICATION_TYPE
}
# Every resource, template.yaml's and its nested stacks' (their logical ids are unique).
EVERY_RESOURCE = {k: v for d in (TEMPLATE, *NESTED.values()) for k, v in d["Resources"].items()}
FUNCTIONS = {k: v["Properties"] for k, v in EVERY_RESOURCE.items() if v["Type"] == FUNCTION_TYPE}
API_FUNCTIONS = sorted(set(FUNCTIONS) - NON_ROUTE_FUNCTIONS - {DEFAULT_ROUTE_FUNCTION})
# The variables by which a scheduled function logs in as the healer too (its URL: sam local's).
HEALER = {"HEAL_DB_USER": {"Ref": "HealDbUser"}, "HEAL_DATABASE_URL": ""}


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of an IAM role's inline policies, or of a policy resource."""
    properties = resource["Properties"]
    documents = [p["PolicyDocument"] for p in properties.get("Policies", [])]
    if "PolicyDocument" in properties:
        documents.append(properties["PolicyDocument"])
    return [s for d in documents for s in d["Statement"]]


def actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def on_every_resource(statement: dict[str, Any]) -> bool:
    """Whether the statement's resource is ``*`` (alone or among others)."""
    resources = statement["Resource"]
    return "*" in (resources if isinstance(resources, list) else [resources])


def managed_policies(function_id: str) -> set[str]:
    """The managed policies of a function's own role (``<function>Role``, template/per-function/
    role.yaml): those the role attaches and those of template.yaml that attach to it."""
    role = f"{function_id}Role"
    assert FUNCTIONS[function_id]["Role"] == {"Fn::GetAtt": [role, "Arn"]}
    attached = EVERY_RESOURCE[role]["Properties"]["ManagedPolicyArns"]
    return {p["Ref"] for p in attached if isinstance(attached, list)} | {
        policy_id
        for policy_id, policy in RESOURCES.items()
        if {"Ref": role} in policy["Properties"].get("Roles", [])
    }


# The stack each nested function is in.
STACK_OF = {
    function_id: stack_id
    for stack_id, document in NESTED.items()
    for function_id, resource in document["Resources"].items()
    if resource["Type"] == FUNCTION_TYPE
}


def _definition_routes() -> dict[str, dict[str, Any]]:
    """The routes template.yaml's HttpApi writes to the nested stacks' functions, as an
    HttpApi event would say them (``Method``, ``Path``, ``ApiId``)."""
    paths = RESOURCES["HttpApi"]["Properties"]["DefinitionBody"]["paths"]
    routes = {}
    for path, methods in paths.items():
        for method, operation in methods.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            stack_id, output = re.search(r"\$\{(\w+)\.Outputs\.(\w+)\}", uri).groups()
            alias = NESTED[stack_id]["Outputs"][output]["Value"]["Ref"]
            routes[alias.removesuffix(".Alias")] = {
                "ApiId": {"Ref": "HttpApi"},
                "Method": method.upper(),
                "Path": path,
            }
    return routes


DEFINITION_ROUTES = _definition_routes()


def route_of(function_id: str) -> dict[str, Any]:
    """A function's one route: its HttpApi event, or the path template.yaml's HttpApi writes
    to it."""
    if function_id in DEFINITION_ROUTES:
        return dict(DEFINITION_ROUTES[function_id])
    (event,) = FUNCTIONS[function_id]["Events"].values()
    return dict(event["Properties"])


def _translate(document: dict[str, Any], parameter_values: dict[str, str]) -> dict[str, Any]:
    # The translator accepts only S3 locations for code and nested templates; sam build and
    # sam package put them there.
    function_globals = document.get("Globals", {}).get("Function", {})
    if "CodeUri" in function_globals:
        function_globals["CodeUri"] = "s3://bucket/functions.zip"
    for resource in document["Resources"].values():
        properties = resource.get("Properties", {})
        if "CodeUri" in properties:
            properties["CodeUri"] = "s3://bucket/code.zip"
        if "ContentUri" in properties:
            properties["ContentUri"] = "s3://bucket/layer.zip"
        if resource["Type"] == APPLICATION_TYPE:
            location = properties["Location"]
            properties["Location"] = f"https://bucket.s3.eu-west-1.amazonaws.com/{location}"
    translator = Translator(
        managed_policy_map={},
        sam_parser=Parser(),
        plugins=[],
        boto_session=boto3.Session(region_name="eu-west-1"),
    )
    transformed: dict[str, Any] = translator.translate(
        sam_template=document,
        parameter_values=parameter_values,
        get_managed_policy_map=dict,
    )
    return transformed


def translate_stacks(templates: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Each template of ``templates`` (its text by its path), as SAM transforms it."""
    return {name: _translate(load_yaml(text), {}) for name, text in templates.items()}


@cache
def transformed_template() -> dict[str, Any]:
    """The template as SAM transforms it (what CloudFormation deploys), without AWS access."""
    return translated_template(())


@cache
def translated_template(parameter_values: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The transformed template for these parameter values (SAM resolves some parameters)."""
    document = load_yaml((ROOT / "template.yaml").read_text())
    return _translate(document, dict(parameter_values))


@cache
def transformed_nested() -> dict[str, dict[str, Any]]:
    """Each nested stack as SAM transforms it, by its logical id in template.yaml."""
    return {
        stack_id: _translate(load_yaml((ROOT / resource["Properties"]["Location"]).read_text()), {})
        for stack_id, resource in RESOURCES.items()
        if resource["Type"] == APPLICATION_TYPE
    }


def transformed_stacks() -> dict[str, dict[str, Any]]:
    """Every API stack as SAM transforms it: template.yaml's, then each nested stack by its id."""
    return {"template.yaml": transformed_template(), **transformed_nested()}


def transformed_resources() -> dict[str, Any]:
    """The resources of every stack, transformed, by logical id: template.yaml's, then each
    nested stack's but those SAM adds to every stack (CodeDeploy's application and role),
    which are template.yaml's here."""
    resources = dict(transformed_template()["Resources"])
    for document in transformed_nested().values():
        for logical_id, resource in document["Resources"].items():
            resources.setdefault(logical_id, resource)
    return resources
