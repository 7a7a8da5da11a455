"""template.yaml keeps the project's conventions and cannot drift from the engine.

Shared settings live in ``Globals``; an API function block says only what is its own (handler,
one route, policies); logical ids, handlers and entry-point files agree with one another as
docs/design.md describes, and every route is the one the operation registry
(``wellapi.operations.registry.OPERATIONS``) gives the (resource, operation) its entry point binds.
``sam validate --lint`` (run by ``make test``) checks the template against SAM and
CloudFormation; these tests check what they cannot know, some of it on the template as SAM
transforms it. The template's other concerns are tested beside this file: logs, alarms and the
dashboard (``test_template_operations``), the authorizer and CORS (``test_template_http_api``),
the limits (``test_template_limits``), the sync pipeline (``test_template_sync``), and the file
against its sources in ``template/`` (``test_template_source``).
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.template import (
    API_FUNCTIONS,
    DEFAULT_ROUTE_FUNCTION,
    DEFINITION_ROUTES,
    FUNCTIONS,
    FUNCTIONS_DIR,
    GLOBALS,
    RESOURCES,
    ROOT,
    STACK_OF,
    TEMPLATE,
    managed_policies,
    route_of,
    transformed_resources,
)
from wellapi.handlers.entry_points import ENTRY_MODULE, binding_of, handler_name
from wellapi.operations.registry import DEFAULT_ROUTE_FUNCTION as DEFAULT_ROUTE_NAME
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import FEEDS, resource_named
from wellapi.resources import RESOURCES as API_RESOURCES
from wellapi.settings import Settings
from welldev import deploy as welldev_deploy

# The entry points of the functions that serve no route, and the factory each one calls.
NON_ROUTE_ENTRY_POINTS = {
    "AuthorizerFunction": ("authorizer.py", "wellapi.handlers.authorizer", "authorizer_handler()"),
    "SyncFunction": ("sync.py", "wellapi.handlers.sync", "sync_handler()"),
    "SweepFunction": ("sweep.py", "wellapi.handlers.sweep", "sweep_handler()"),
    "DrainFunction": ("drain.py", "wellapi.handlers.drain", "drain_handler()"),
}
# The resource each of the platform's nested routes serves. Every other operation of the
# registry is generic: the API serves it for every resource.
PLATFORM_BINDINGS = {
    "catalog": "workspace_providers",
    "select": "workspace_providers",
    "remove": "workspace_providers",
    "enrol": "workspace_group_workspaces",
    "unenrol": "workspace_group_workspaces",
    "feed": "changes",
}


def _pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def _entry_point(function_id: str) -> Path:
    """The file of a function's handler, under its CodeUri (Globals: functions/)."""
    code_uri = FUNCTIONS[function_id].get("CodeUri", GLOBALS["CodeUri"])
    module, _, _ = FUNCTIONS[function_id]["Handler"].rpartition(".")
    return ROOT / code_uri / (module.replace(".", "/") + ".py")


def _module(path: Path) -> ast.Module:
    return ast.parse(path.read_text())


def _binding(function_id: str) -> tuple[str, str]:
    """(resource, operation name) that the function's ``Handler`` names in ``functions/api.py``."""
    binding = binding_of(FUNCTIONS[function_id]["Handler"])
    assert binding is not None, function_id
    return binding


def _expected_bindings() -> list[tuple[str, str]]:
    generic = [name for name, op in OPERATIONS.items() if op.route is None]
    platform = [(resource, name) for name, resource in PLATFORM_BINDINGS.items()]
    return sorted([(r, op) for r in API_RESOURCES for op in generic] + platform)


# --- Globals ---------------------------------------------------------------------------------


def test_globals_give_every_function_the_runtime_layer_tracing_and_limits():
    assert GLOBALS["Runtime"] == "python3.13"
    assert GLOBALS["Architectures"] == ["x86_64"]
    assert GLOBALS["Layers"] == [{"Ref": "SharedLayer"}]
    assert GLOBALS["Tracing"] == "Active"
    assert GLOBALS["Timeout"] == 20
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


def test_api_function_blocks_hold_only_handler_route_policies_log_group_and_deployment():
    kept = {
        *("Handler", "Events", "Role", "LoggingConfig"),
        *("AutoPublishAliasAllProperties", "DeploymentPreference"),
    }
    extra = {f: sorted(set(FUNCTIONS[f]) - kept) for f in API_FUNCTIONS}
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


# --- Safe deploys: every function behind an alias that CodeDeploy shifts and rolls back -------


def test_every_function_is_published_behind_an_alias_shifted_gradually_with_rollback():
    resources = transformed_resources()
    assert GLOBALS["AutoPublishAlias"] == "live"
    assert GLOBALS["DeploymentPreference"]["Type"] == {"Ref": "DeploymentType"}
    assert TEMPLATE["Parameters"]["DeploymentType"]["Default"] == "Canary10Percent5Minutes"
    groups = {
        k: r["Properties"]
        for k, r in resources.items()
        if r["Type"] == "AWS::CodeDeploy::DeploymentGroup"
    }
    for function_id in FUNCTIONS:
        assert FUNCTIONS[function_id]["AutoPublishAliasAllProperties"] is True, function_id
        alias = resources[f"{function_id}Aliaslive"]
        assert alias["Type"] == "AWS::Lambda::Alias"
        if function_id == "MigrationFunction":
            # Invoked once by CloudFormation before anything else: never shifted gradually.
            assert "UpdatePolicy" not in alias
            continue
        update = alias["UpdatePolicy"]["CodeDeployLambdaAliasUpdate"]
        group = groups[update["DeploymentGroupName"]["Ref"]]
        alarms = [a["Name"] for a in group["AlarmConfiguration"]["Alarms"]]
        assert alarms == [
            {"Ref": "Api5xxRateAlarm"},
            {"Ref": "ApiLatencyP99Alarm"},
            {"Ref": f"{function_id}FailingAlarm"},
        ], function_id
        assert group["AlarmConfiguration"]["Enabled"] is True
        assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]


def test_snapstart_is_a_parameter_off_by_default():
    assert GLOBALS["SnapStart"] == {"ApplyOn": {"Ref": "SnapStart"}}
    parameter = TEMPLATE["Parameters"]["SnapStart"]
    assert (parameter["Default"], parameter["AllowedValues"]) == (
        "None",
        ["None", "PublishedVersions"],
    )


# --- Deployable by a new team ------------------------------------------------------------------


def test_samconfig_names_the_environments_and_overrides_only_real_parameters():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    environments = {name for name, value in config.items() if isinstance(value, dict)}
    assert environments == {"default", "staging", "production"}
    for name in environments:
        deploy = config[name]["deploy"]["parameters"]
        assert deploy["stack_name"] == f"wellapi-{'dev' if name == 'default' else name}"
        # The roles SAM makes, and the nested stacks' own SAM transform.
        assert deploy["capabilities"].split() == ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
        for parameter, value in welldev_deploy.overrides(name).items():
            declared = TEMPLATE["Parameters"][parameter]
            allowed = [str(v) for v in declared.get("AllowedValues", [value])]
            assert value in allowed, (name, parameter, value)
    assert config["production"]["deploy"]["parameters"]["confirm_changeset"] is True


def test_every_string_parameter_is_validated_and_every_parameter_is_used():
    parameters = TEMPLATE["Parameters"]
    text = (ROOT / "template.yaml").read_text()
    for name, parameter in parameters.items():
        if parameter["Type"] == "String":
            assert {"AllowedPattern", "AllowedValues"} & set(parameter), name
        # Referenced somewhere besides its own declaration.
        assert re.search(rf"(!Ref {name}\b|\${{{name}}})", text), name


def test_every_output_is_exported_under_the_stack_name():
    outputs = TEMPLATE["Outputs"]
    assert {"ApiUrl", "SyncQueueUrl", "SyncQueueArn", "SyncDeadLetterQueueArn"} <= set(outputs)
    assert {"AlarmTopicArn", "DashboardUrl"} <= set(outputs)
    for name, output in outputs.items():
        assert output["Export"]["Name"] == {"Fn::Sub": f"${{AWS::StackName}}-{name}"}, name


def _reasons(path: Path, key: str) -> dict[str, str]:
    """Each check a scanner's config waives under ``key``, with the comment just above it."""
    waived = yaml.safe_load(path.read_text())[key]
    lines = path.read_text().splitlines()
    reasons = {}
    for check in waived:
        index = lines.index(f"  - {check}")
        comment: list[str] = []
        for above in reversed(lines[:index]):
            if not above.strip().startswith("#"):
                break
            comment.insert(0, above.strip().lstrip("# "))
        reasons[check] = " ".join(comment)
    return reasons


@pytest.mark.parametrize(
    ("config", "key"), [(".checkov.yaml", "skip-check"), (".cfnlintrc.yaml", "ignore_checks")]
)
def test_every_waived_scanner_finding_says_why(config, key):
    reasons = _reasons(ROOT / config, key)
    assert reasons, config
    for check, reason in reasons.items():
        # The reason names the check's title, then says why it does not apply here.
        assert len(reason) > 100, f"{config}: {check} is waived without a reason"


# --- Routes: one function per operation, its route taken from the registry -------------------


def test_every_api_function_has_exactly_one_route_on_the_http_api():
    # In its resource's nested stack, without an event: template.yaml's HttpApi routes to it.
    assert RESOURCES["HttpApi"]["Type"] == "AWS::Serverless::HttpApi"
    routed = sorted(DEFINITION_ROUTES)
    assert routed == API_FUNCTIONS
    for function_id in API_FUNCTIONS:
        assert "Events" not in FUNCTIONS[function_id], function_id
        assert function_id in STACK_OF, function_id


def test_platform_bindings_name_exactly_the_registry_operations_with_a_fixed_route():
    fixed = {name for name, op in OPERATIONS.items() if op.route is not None}
    assert set(PLATFORM_BINDINGS) == fixed
    assert set(PLATFORM_BINDINGS.values()) <= set(API_RESOURCES) | set(FEEDS)


def test_the_api_serves_every_operation_it_should_with_exactly_one_function():
    served = sorted(_binding(f) for f in API_FUNCTIONS)
    assert served == _expected_bindings()


@pytest.mark.parametrize("function_id", API_FUNCTIONS)
def test_route_is_the_registry_route_of_the_operation_its_entry_point_binds(function_id):
    resource, operation = _binding(function_id)
    registered = OPERATIONS[operation]

    route = route_of(function_id)
    assert (route["Method"], route["Path"]) == (
        registered.method,
        registered.path(resource_named(resource)),
    )


@pytest.mark.parametrize("function_id", API_FUNCTIONS)
def test_logical_id_handler_and_file_follow_from_the_binding(function_id):
    resource, operation = _binding(function_id)

    assert function_id == f"{_pascal(resource)}{_pascal(operation)}Function"
    assert FUNCTIONS[function_id]["Handler"] == handler_name(resource, operation)
    assert _entry_point(function_id) == FUNCTIONS_DIR / f"{ENTRY_MODULE}.py"


def test_the_api_entry_module_imports_only_the_entry_point_and_answers_any_name_by_it():
    module = _module(FUNCTIONS_DIR / f"{ENTRY_MODULE}.py")
    imports = [ast.unparse(n) for n in module.body if isinstance(n, ast.Import | ast.ImportFrom)]
    assert imports == [
        "from typing import Any",
        "from wellapi.handlers.api import entry_point",
    ]
    (function,) = [n for n in module.body if isinstance(n, ast.FunctionDef)]
    assert function.name == "__getattr__"
    assert "entry_point(name)" in ast.unparse(function)


def test_no_two_functions_serve_the_same_route():
    routes = [f"{r['Method']} {r['Path']}" for r in map(route_of, API_FUNCTIONS)]
    assert sorted(routes) == sorted(set(routes))


def test_every_entry_point_file_is_deployed_the_api_one_by_every_api_function():
    files = sorted(p.relative_to(FUNCTIONS_DIR).as_posix() for p in FUNCTIONS_DIR.rglob("*.py"))
    deployed = [
        _entry_point(f).relative_to(FUNCTIONS_DIR).as_posix()
        for f in FUNCTIONS
        if _entry_point(f).is_relative_to(FUNCTIONS_DIR)
    ]
    assert sorted(set(deployed)) == files
    entry = f"{ENTRY_MODULE}.py"
    assert deployed.count(entry) == len(API_FUNCTIONS)
    assert all(deployed.count(name) == 1 for name in set(deployed) - {entry})


@pytest.mark.parametrize("function_id", sorted(NON_ROUTE_ENTRY_POINTS))
def test_authorizer_sync_and_sweep_entry_points_only_call_their_factory(function_id):
    file_name, module_name, factory_call = NON_ROUTE_ENTRY_POINTS[function_id]
    path = _entry_point(function_id)
    assert path == FUNCTIONS_DIR / file_name
    module = _module(path)

    assert ast.get_docstring(module)
    factory = factory_call.removesuffix("()")
    assert [ast.unparse(node) for node in module.body[1:]] == [
        f"from {module_name} import {factory}",
        f"handler = {factory_call}",
    ]
    events = FUNCTIONS[function_id].get("Events", {}).values()
    assert [e for e in events if e["Type"] == "HttpApi"] == []


# --- The $default route: every request no route serves ---------------------------------------


def test_the_default_route_is_one_function_with_an_event_of_neither_path_nor_method():
    function = FUNCTIONS[DEFAULT_ROUTE_FUNCTION]
    (event,) = function["Events"].values()
    # Neither Path nor Method: SAM makes it the API's $default route (ANY, every path).
    assert event == {"Type": "HttpApi", "Properties": {"ApiId": {"Ref": "HttpApi"}}}
    assert function["Handler"] == f"{DEFAULT_ROUTE_NAME}.handler"
    # It reads the authorizer's claims and connects to nothing: no policy of its own.
    assert managed_policies(DEFAULT_ROUTE_FUNCTION) == set()
    assert set(function) == {
        *("Handler", "Events", "Role", "LoggingConfig"),
        *("AutoPublishAliasAllProperties", "DeploymentPreference"),
    }
    others = [f for f in FUNCTIONS if f != DEFAULT_ROUTE_FUNCTION]
    assert all("Path" in route_of(f) for f in others if f in API_FUNCTIONS)


def test_the_default_route_s_entry_point_only_calls_its_factory():
    path = _entry_point(DEFAULT_ROUTE_FUNCTION)
    assert path == FUNCTIONS_DIR / f"{DEFAULT_ROUTE_NAME}.py"
    module = _module(path)
    assert (ast.get_docstring(module) or "").startswith("$default: ")
    assert [ast.unparse(node) for node in module.body[1:]] == [
        "from wellapi.handlers.unmatched import unmatched_handler",
        "handler = unmatched_handler()",
    ]


# --- Database roles --------------------------------------------------------------------------


def _connect_statement(policy_id: str) -> dict[str, Any]:
    policy = RESOURCES[policy_id]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    # Functions using the policy change only after the migrations ran (see MigrationRun).
    assert policy["DependsOn"] == "MigrationRun"
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "rds-db:connect"
    return dict(statement)


def test_every_api_function_may_connect_as_the_api_role_only():
    statement = _connect_statement("ApiDatabaseConnectPolicy")
    assert statement["Resource"]["Fn::Sub"].endswith(":dbuser:${DbProxyResourceId}/${DbUser}")
    for function_id in API_FUNCTIONS:
        assert managed_policies(function_id) == {"ApiDatabaseConnectPolicy"}


def test_the_authorizer_connects_as_its_own_role_only():
    assert TEMPLATE["Parameters"]["AuthDbUser"]["Default"] == "well_auth"
    authorizer = FUNCTIONS["AuthorizerFunction"]
    assert authorizer["Environment"]["Variables"]["DB_USER"] == {"Ref": "AuthDbUser"}
    statement = _connect_statement("AuthDatabaseConnectPolicy")
    assert statement["Resource"]["Fn::Sub"].endswith(":dbuser:${DbProxyResourceId}/${AuthDbUser}")
    assert managed_policies("AuthorizerFunction") == {"AuthDatabaseConnectPolicy"}


def test_sync_function_connects_as_the_sync_role_only():
    assert TEMPLATE["Parameters"]["SyncDbUser"]["Default"] == "well_sync"
    sync = FUNCTIONS["SyncFunction"]
    assert sync["Environment"]["Variables"] == {"DB_USER": {"Ref": "SyncDbUser"}}
    statement = _connect_statement("SyncDatabaseConnectPolicy")
    assert statement["Resource"]["Fn::Sub"].endswith(":dbuser:${DbProxyResourceId}/${SyncDbUser}")
    assert managed_policies("SyncFunction") == {
        "SyncDatabaseConnectPolicy",
        "SyncQueueReceivePolicy",
    }
    (receive,) = RESOURCES["SyncQueueReceivePolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert receive["Resource"] == {"Fn::GetAtt": ["SyncQueue", "Arn"]}


# API Gateway's integration timeout for an HTTP API, which no setting raises.
API_GATEWAY_SECONDS = 30


def test_timeouts_line_up_from_the_database_to_api_gateway():
    settings = Settings(database_url="postgresql://u@h/db")  # the defaults the functions run
    api, authorizer = GLOBALS["Timeout"], FUNCTIONS["AuthorizerFunction"].get("Timeout")
    assert authorizer is None  # the authorizer takes the API functions' limit
    # A request may connect and read, then (a dropped connection) do both once more.
    worst = 2 * (settings.db_connect_timeout_seconds + settings.db_read_timeout_seconds)
    assert worst < api < API_GATEWAY_SECONDS
    # The sync writer's reads are bounded below its own limit.
    sync_reads = settings.db_connect_timeout_seconds + settings.db_sync_read_timeout_seconds
    assert sync_reads < FUNCTIONS["SyncFunction"]["Timeout"]
    # CloudFormation waits for the migration a little longer than the function may run.
    migration = FUNCTIONS["MigrationFunction"]["Timeout"]
    service = RESOURCES["MigrationRun"]["Properties"]["ServiceTimeout"]
    assert migration < service <= migration + 60


# --- Layer, migrations, outputs --------------------------------------------------------------


def test_shared_layer_is_built_by_its_makefile():
    layer = RESOURCES["SharedLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert layer["Properties"]["ContentUri"] == "layers/shared/"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert "build-SharedLayer:" in (ROOT / "layers/shared/Makefile").read_text()


def test_migration_function_runs_alembic_from_the_layer_as_the_migration_user():
    migration = RESOURCES["MigrationFunction"]
    assert migration["Metadata"]["BuildMethod"] == "makefile"
    assert "build-MigrationFunction:" in (ROOT / "migrations/Makefile").read_text()
    properties = migration["Properties"]
    assert properties["CodeUri"] == "migrations/"
    assert properties["Handler"] == "wellapi.handlers.migration.handler"
    assert properties["Environment"]["Variables"] == {"DB_USER": {"Ref": "MigrationDbUser"}}
    assert managed_policies("MigrationFunction") == {"MigrationDatabaseConnectPolicy"}
    policy = RESOURCES["MigrationDatabaseConnectPolicy"]["Properties"]["PolicyDocument"]
    (statement,) = policy["Statement"]
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
    # Every other function connects with one of the policies that wait for the migration, and
    # waits for it: its role attaches it (a resource's stack, deployed after it) or the
    # function DependsOn it. The $default route's function connects to nothing: no order.
    for function_id in set(FUNCTIONS) - {"MigrationFunction", DEFAULT_ROUTE_FUNCTION}:
        policies = managed_policies(function_id)
        connects = {p for p in policies if p.endswith("DatabaseConnectPolicy")}
        assert connects, function_id
        for connect in connects:  # the scheduled functions' own role's, and the healer's
            assert RESOURCES[connect]["DependsOn"] == "MigrationRun", function_id
        if function_id not in STACK_OF:
            assert policies <= set(_list(RESOURCES[function_id]["DependsOn"])), function_id
    assert RESOURCES["MigrationFunction"]["DependsOn"] == "MigrationDatabaseConnectPolicy"


def _list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_stack_outputs_the_api_url_and_the_sync_queues():
    outputs = TEMPLATE["Outputs"]
    assert outputs["ApiUrl"]["Value"]["Fn::Sub"].startswith("https://${HttpApi}.execute-api.")
    assert outputs["SyncQueueUrl"]["Value"] == {"Ref": "SyncQueue"}
    assert outputs["SyncDeadLetterQueueUrl"]["Value"] == {"Ref": "SyncDeadLetterQueue"}
