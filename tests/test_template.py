"""template.yaml keeps the project's conventions.

Shared settings live in ``Globals``; an API function block says only what is its own (handler,
one route, policies); logical ids, handlers, routes and entry-point files agree with one another
as docs-notes/CONTRACTS.md describes. ``sam validate --lint`` (run by ``make test``) checks the
template against SAM and CloudFormation; these tests check what they cannot know.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"

FUNCTION_TYPE = "AWS::Serverless::Function"
# Functions that serve no route. The authorizer and the sync function join this set.
NON_ROUTE_FUNCTIONS = {"MigrationFunction"}
# JSON:API operations and their routes, relative to /v1/<kebab-resource>.
OPERATION_ROUTES = {
    "list": ("GET", ""),
    "retrieve": ("GET", "/{id}"),
    "create": ("POST", ""),
    "update": ("PATCH", "/{id}"),
    "delete": ("DELETE", "/{id}"),
}


class _CloudFormationLoader(yaml.SafeLoader):
    """SafeLoader that reads short-form intrinsics (``!Ref X``) as their long form.

    To be replaced by the local runtime's reader (``wellapi.local.template``) once its API
    settles, so there is one CloudFormation-aware YAML reader in the project.
    """


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {"Ref" if suffix == "Ref" else f"Fn::{suffix}": value}


_CloudFormationLoader.add_multi_constructor("!", _intrinsic)


def _load(path: Path) -> dict[str, Any]:
    # S506 does not see that the loader is a SafeLoader: it builds only plain YAML types.
    document: dict[str, Any] = yaml.load(path.read_text(), Loader=_CloudFormationLoader)  # noqa: S506
    return document


TEMPLATE = _load(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
GLOBALS: dict[str, Any] = TEMPLATE["Globals"]["Function"]
FUNCTIONS = {k: v["Properties"] for k, v in RESOURCES.items() if v["Type"] == FUNCTION_TYPE}
API_FUNCTIONS = sorted(set(FUNCTIONS) - NON_ROUTE_FUNCTIONS)


def _pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _handler_parts(function_id: str) -> tuple[str, str]:
    """(resource, operation) from a handler ``<resource>.<operation>.handler``."""
    resource, operation, attribute = FUNCTIONS[function_id]["Handler"].split(".")
    assert attribute == "handler", function_id
    return resource, operation


def _route(function_id: str) -> dict[str, Any]:
    (event,) = FUNCTIONS[function_id]["Events"].values()
    return dict(event["Properties"])


def test_globals_give_every_function_the_runtime_layer_tracing_and_limits():
    assert GLOBALS["Runtime"] == "python3.11"
    assert GLOBALS["Architectures"] == ["x86_64"]
    assert GLOBALS["Layers"] == [{"Ref": "SharedLayer"}]
    assert GLOBALS["Tracing"] == "Active"
    assert GLOBALS["Timeout"] == 15
    assert GLOBALS["MemorySize"] == 512
    assert GLOBALS["VpcConfig"] == {
        "SubnetIds": {"Ref": "SubnetIds"},
        "SecurityGroupIds": {"Ref": "SecurityGroupIds"},
    }


def test_globals_connect_every_function_to_the_proxy_with_iam_tokens():
    variables = GLOBALS["Environment"]["Variables"]
    assert variables["DB_AUTH"] == "iam"
    assert variables["DB_HOST"] == {"Ref": "DbProxyEndpoint"}
    assert variables["DB_PORT"] == "5432"
    assert variables["DB_NAME"] == {"Ref": "DbName"}
    assert variables["DB_USER"] == {"Ref": "DbUser"}
    assert TEMPLATE["Parameters"]["DbUser"]["Default"] == "well_api"
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"} <= set(variables)
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_api_function_blocks_hold_only_handler_route_and_policies():
    extra = {
        f: sorted(set(FUNCTIONS[f]) - {"Handler", "Events", "Policies"}) for f in API_FUNCTIONS
    }
    assert {f: keys for f, keys in extra.items() if keys} == {}


def test_no_function_block_repeats_a_globals_setting():
    repeated = []
    for function_id, properties in FUNCTIONS.items():
        for key, value in properties.items():
            if key == "Environment":
                inherited = GLOBALS["Environment"]["Variables"]
                repeated += [
                    f"{function_id}.Environment.{name}"
                    for name, v in value["Variables"].items()
                    if inherited.get(name) == v
                ]
            elif key in GLOBALS and GLOBALS[key] == value:
                repeated.append(f"{function_id}.{key}")
    assert repeated == []


def test_every_api_function_has_exactly_one_route_on_the_http_api():
    assert RESOURCES["HttpApi"]["Type"] == "AWS::Serverless::HttpApi"
    for function_id in API_FUNCTIONS:
        events = list(FUNCTIONS[function_id]["Events"].values())
        assert [e["Type"] for e in events] == ["HttpApi"], function_id
        assert events[0]["Properties"]["ApiId"] == {"Ref": "HttpApi"}, function_id


@pytest.mark.parametrize("function_id", API_FUNCTIONS)
def test_logical_id_and_route_follow_from_the_handler(function_id):
    resource, operation = _handler_parts(function_id)
    method, suffix = OPERATION_ROUTES[operation]
    kebab = resource.replace("_", "-")

    assert function_id == f"{_pascal(resource)}{_pascal(operation)}Function"
    route = _route(function_id)
    assert (route["Method"], route["Path"]) == (method, f"/v1/{kebab}{suffix}")


@pytest.mark.parametrize("function_id", API_FUNCTIONS)
def test_entry_point_exists_and_binds_the_resource_and_operation_of_its_route(function_id):
    resource, operation = _handler_parts(function_id)
    source = FUNCTIONS_DIR / resource / f"{operation}.py"
    assert source.is_file(), f"{function_id}: {source} is missing"

    module = ast.parse(source.read_text())
    route = _route(function_id)
    assert ast.get_docstring(module) == f"{route['Method']} {route['Path']}"
    bindings = {
        target.id: node.value
        for node in module.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    call = bindings["handler"]
    assert isinstance(call, ast.Call)
    assert ast.unparse(call) == f"api_handler({resource!r}, {operation!r})"


def test_every_entry_point_file_is_deployed_by_exactly_one_function():
    files = sorted(str(p.relative_to(FUNCTIONS_DIR)) for p in FUNCTIONS_DIR.rglob("*.py"))
    handled = sorted("{}/{}.py".format(*_handler_parts(f)) for f in API_FUNCTIONS)
    assert handled == files


def test_every_api_function_may_connect_as_the_api_role_only():
    policy = RESOURCES["ApiDatabaseConnectPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "rds-db:connect"
    assert statement["Resource"]["Fn::Sub"].endswith(":dbuser:${DbProxyResourceId}/${DbUser}")
    for function_id in API_FUNCTIONS:
        assert FUNCTIONS[function_id]["Policies"] == [{"Ref": "ApiDatabaseConnectPolicy"}]


def test_shared_layer_is_built_by_its_makefile():
    layer = RESOURCES["SharedLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "layers/shared/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    assert "build-SharedLayer:" in (ROOT / "layers/shared/Makefile").read_text()


def test_migration_function_runs_alembic_from_the_layer_as_the_migration_user():
    migration = RESOURCES["MigrationFunction"]
    assert migration["Metadata"]["BuildMethod"] == "makefile"
    assert "build-MigrationFunction:" in (ROOT / "migrations/Makefile").read_text()
    properties = migration["Properties"]
    assert properties["CodeUri"] == "migrations/"
    assert properties["Handler"] == "wellapi.migrate.handler"
    assert properties["Environment"]["Variables"] == {"DB_USER": {"Ref": "MigrationDbUser"}}
    (statement,) = properties["Policies"][0]["Statement"]
    assert statement["Resource"]["Fn::Sub"].endswith("/${MigrationDbUser}")


def test_each_deploy_that_changes_the_migrations_or_the_layer_runs_them_before_the_api():
    migration = RESOURCES["MigrationFunction"]["Properties"]
    # A version is published when code, layer or configuration change ...
    assert migration["AutoPublishAliasAllProperties"] is True
    assert RESOURCES["SharedLayer"]["Properties"]["PublishLambdaVersion"] is True
    # ... and its ARN is a property of the custom resource, so CloudFormation sends Update.
    run = RESOURCES["MigrationRun"]
    assert run["Type"] == "AWS::CloudFormation::CustomResource"
    assert run["Properties"]["ServiceToken"] == {"Ref": "MigrationFunction.Alias"}
    assert run["Properties"]["MigrationFunctionVersion"] == {"Ref": "MigrationFunction.Version"}
    # Every API function's role uses this policy, so functions change after the migration.
    assert RESOURCES["ApiDatabaseConnectPolicy"]["DependsOn"] == "MigrationRun"


def test_stack_outputs_the_api_url():
    value = TEMPLATE["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"]
    assert value.startswith("https://${HttpApi}.execute-api.")
