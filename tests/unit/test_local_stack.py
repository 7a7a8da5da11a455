"""The stack the local runtime runs (welldev.stack) is the one template.yaml deploys: each
function's handler, code, timeout, memory, variables and events, the routes, the authorizer,
CORS and the queues, held to the template as written (and its nested stacks)."""

from __future__ import annotations

from typing import Any

import pytest
from samtranslator.yaml_helper import yaml_parse as load_yaml

from tests.support.template import FUNCTIONS, GLOBALS, NESTED, RESOURCES, ROOT, STACK_OF, TEMPLATE
from welldev import stack as local_stack

STACK = local_stack.load()


def _as_written(value: local_stack.Value) -> Any:
    """A variable's value as the template holds it, once read."""
    if isinstance(value, local_stack.Ref):
        return {"Ref": value.name}
    if isinstance(value, local_stack.Deployed):
        return load_yaml(f"v: {value.yaml}\n")["v"]
    return value


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_each_function_runs_locally_as_the_template_deploys_it(logical_id: str) -> None:
    document = NESTED[STACK_OF[logical_id]] if logical_id in STACK_OF else TEMPLATE
    written = {**document["Globals"]["Function"], **FUNCTIONS[logical_id]}
    function = STACK.function(logical_id)
    where = ROOT / "stacks" if logical_id in STACK_OF else ROOT
    code = where / written["CodeUri"]
    assert function.code_uri == code.resolve()
    assert (function.handler, function.runtime) == (written["Handler"], written["Runtime"])
    assert (function.timeout_seconds, function.memory_mb) == (
        written["Timeout"],
        written["MemorySize"],
    )
    variables = {
        **GLOBALS["Environment"]["Variables"],
        **FUNCTIONS[logical_id].get("Environment", {}).get("Variables", {}),
    }
    assert {k: _as_written(v) for k, v in function.environment.items()} == variables


def test_every_function_of_the_template_and_no_other_runs_locally() -> None:
    assert set(STACK.functions) == set(FUNCTIONS)


def test_the_routes_are_the_template_s_behind_its_authorizer() -> None:
    api = RESOURCES["HttpApi"]["Properties"]
    paths = api["DefinitionBody"]["paths"]
    written = {(method.upper(), path) for path, methods in paths.items() for method in methods}
    served = {(r.method, r.path) for r in STACK.routes}
    assert served == written | {("ANY", local_stack.DEFAULT_ROUTE)}
    for route in STACK.routes:
        if route.path == local_stack.DEFAULT_ROUTE:
            # SAM makes an HttpApi event with neither Path nor Method the $default route.
            (event,) = FUNCTIONS[route.function_id]["Events"].values()
            assert (event["Type"], event["Properties"]) == (
                "HttpApi",
                {"ApiId": {"Ref": "HttpApi"}},
            )
        else:
            integration = paths[route.path][route.method.lower()]["x-amazon-apigateway-integration"]
            assert f".Outputs.{route.function_id}Alias}}" in integration["uri"]["Fn::Sub"]
        assert route.authorizer == api["Auth"]["DefaultAuthorizer"]


def test_the_authorizer_is_the_template_s() -> None:
    written = RESOURCES["HttpApi"]["Properties"]["Auth"]["Authorizers"]
    ((name, spec),) = written.items()
    authorizer = STACK.authorizer
    assert authorizer is not None
    assert authorizer.name == name
    assert spec["FunctionArn"] == {"Ref": f"{authorizer.function_id}.Alias"}
    assert (
        spec["Identity"]
        == {"ReauthorizeEvery": local_stack.AUTHORIZER_TTL_SECONDS}
        == {"ReauthorizeEvery": 0}
    )
    assert "IdentitySource" not in spec["Identity"]
    assert spec["EnableSimpleResponses"] is True


def test_cors_is_the_template_s_when_origins_are_given() -> None:
    configuration = RESOURCES["HttpApi"]["Properties"]["CorsConfiguration"]
    condition, written, otherwise = configuration["Fn::If"]
    assert (condition, otherwise) == ("HasCorsOrigins", {"Ref": "AWS::NoValue"})
    assert STACK.cors is None
    origins = "http://localhost:5173,https://app.example.com"
    cors = local_stack.load({"CorsOrigins": origins}).cors
    assert cors is not None
    assert written["AllowOrigins"] == {"Fn::Split": [",", {"Ref": "CorsOrigins"}]}
    assert cors.allow_origins == tuple(origins.split(","))
    assert cors.allow_methods == tuple(written["AllowMethods"])
    assert cors.allow_headers == tuple(h.lower() for h in written["AllowHeaders"])
    assert cors.expose_headers == tuple(h.lower() for h in written["ExposeHeaders"])
    assert (cors.max_age, False) == (written["MaxAge"], written["AllowCredentials"])


def test_queues_are_the_template_s() -> None:
    written = {k: r["Properties"] for k, r in RESOURCES.items() if r["Type"] == "AWS::SQS::Queue"}
    assert set(STACK.queues) == set(written)
    for logical_id, queue in STACK.queues.items():
        redrive = written[logical_id].get("RedrivePolicy")
        assert queue.visibility_timeout_seconds == written[logical_id].get("VisibilityTimeout", 30)
        if redrive is None:
            assert queue.max_receive_count is None
        else:
            assert queue.max_receive_count == redrive["maxReceiveCount"]
            target = {"Fn::GetAtt": [queue.dead_letter_queue_id, "Arn"]}
            assert redrive["deadLetterTargetArn"] == target


def _events(logical_id: str, kind: str) -> dict[str, Any]:
    events = FUNCTIONS[logical_id].get("Events", {})
    return {name: e["Properties"] for name, e in events.items() if e["Type"] == kind}


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_queue_and_schedule_events_are_the_template_s(logical_id: str) -> None:
    function = STACK.function(logical_id)
    assert [
        {
            "Queue": {"Fn::GetAtt": [e.queue_id, "Arn"]},
            "BatchSize": e.batch_size,
            "MaximumBatchingWindowInSeconds": e.batching_window_seconds,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        }
        for e in function.sqs_events
        if e.report_batch_item_failures
    ] == [
        {k: v for k, v in p.items() if k != "ScalingConfig"}
        for p in _events(logical_id, "SQS").values()
    ]
    assert [(e.event_name, e.expression) for e in function.schedule_events] == [
        (name, p["Schedule"]) for name, p in _events(logical_id, "Schedule").items()
    ]


def test_the_parameters_the_stack_reads_default_as_the_template_s() -> None:
    written = load_yaml((ROOT / "template.yaml").read_text())["Parameters"]
    for name, value in local_stack.PARAMETERS.items():
        assert written[name].get("Default") == value, name


def test_an_unknown_parameter_or_function_is_named() -> None:
    with pytest.raises(local_stack.StackError, match="no parameter 'Nope' the local stack reads"):
        local_stack.load({"Nope": "x"})
    with pytest.raises(local_stack.StackError, match="no function 'Nope'"):
        STACK.function("Nope")


def test_only_values_that_need_a_deployment_are_left_unset() -> None:
    drain = STACK.function("DrainFunction")
    environment = local_stack.resolve_environment(STACK, drain)
    assert set(drain.environment) - set(environment) == {"DB_HOST", "EVENT_BUS_NAME"}
    assert environment["DB_USER"] == "well_drain"
    assert environment["DB_READER_HOST"] == ""
