"""The local runtime runs the stack SAM CLI's own readers read in template.yaml (``sam
local``'s stack, function and API providers), and where they differ, it is on purpose.

SAM CLI is a development dependency, not a serving one: importing its providers takes about
4.5 s and they do not read everything this template says (docs/development.md, "The local
stack"). So ``make run`` runs welldev.stack, from which the template is written, and this test
holds it to SAM CLI's reading of the written file.
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.support.template import DEFAULT_ROUTE_FUNCTION, ROOT
from welldev import stack as local_stack

# SAM CLI's API provider spells the $default route's method this way (as API Gateway's
# OpenAPI extension does) and adds an OPTIONS method to every route for CORS preflights.
SAM_ANY_METHOD = "X-AMAZON-APIGATEWAY-ANY-METHOD"
SAM_PREFLIGHT = "OPTIONS"


@cache
def _sam_stacks(overrides: tuple[tuple[str, str], ...] = ()) -> list[Any]:
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    stacks, _ = SamLocalStackProvider.get_stacks(
        str(ROOT / "template.yaml"), parameter_overrides=dict(overrides)
    )
    return list(stacks)


@cache
def _local() -> local_stack.Stack:
    return local_stack.load()


def _sam_functions() -> dict[str, Any]:
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider

    provider = SamFunctionProvider(_sam_stacks(), use_raw_codeuri=True)
    return {function.name: function for function in provider.get_all()}


def _template_dirs() -> dict[str, Path]:
    """Where each stack's template is, by its stack path ("" for template.yaml): a nested
    stack's CodeUri is relative to its own template."""
    return {stack.stack_path: (ROOT / stack.location).parent for stack in _sam_stacks()}


def test_every_function_is_what_sam_cli_reads() -> None:
    sam = _sam_functions()
    local = _local().functions
    template_dirs = _template_dirs()
    assert set(local) == set(sam)
    for logical_id, function in local.items():
        theirs = sam[logical_id]
        assert (
            function.logical_id,
            function.handler,
            function.runtime,
            function.timeout_seconds,
            function.memory_mb,
            function.code_uri,
        ) == (
            theirs.functionname,
            theirs.handler,
            theirs.runtime,
            theirs.timeout,
            theirs.memory,
            (template_dirs[theirs.stack_path] / theirs.codeuri).resolve(),
        ), logical_id


def test_environment_values_are_sam_clis_and_deployed_ones_stay_unset() -> None:
    sam = _sam_functions()
    template = _local()
    unresolved: dict[str, dict[str, str]] = {}
    for logical_id, function in template.functions.items():
        theirs = (sam[logical_id].environment or {}).get("Variables", {})
        assert set(function.environment) == set(theirs), logical_id
        environment = local_stack.resolve_environment(template, function)
        # Every value that needs no deployment is the one SAM CLI gives the function, but an
        # empty parameter passed down to a nested stack, which SAM CLI reads as the
        # parameter's name and the local runtime as deployed, empty.
        theirs = {
            name: "" if value == _passed_down_empty(sam[logical_id], name) else value
            for name, value in theirs.items()
        }
        assert environment == {
            name: value for name, value in theirs.items() if name in environment
        }, logical_id
        unresolved[logical_id] = {
            name: value for name, value in theirs.items() if name not in environment
        }
    # Where a value needs a deployed resource, SAM CLI makes one up from the logical ids (a
    # proxy endpoint "DbProxyEndpoint", a bus name "ChangeEventBus"), which no local client
    # could reach; the local runtime leaves the variable unset and says so (make run).
    assert unresolved["SyncFunction"] == {"DB_HOST": "DbProxyEndpoint"}
    assert unresolved["DrainFunction"] == {
        "DB_HOST": "DbProxyEndpoint",
        "EVENT_BUS_NAME": "ChangeEventBus",
    }


def _passed_down_empty(function: Any, variable: str) -> str | None:
    """The name SAM CLI gives a nested function's variable whose parameter template.yaml
    passes down empty by default (DbProxyReaderEndpoint), else None."""
    if not function.stack_path:
        return None
    reference = _local().functions[function.name].environment.get(variable)
    name = reference.name if isinstance(reference, local_stack.Ref) else None
    parameters = _local().parameters
    return name if name in parameters and parameters[name] == "" else None


def test_every_route_is_what_sam_cli_serves(caplog: pytest.LogCaptureFixture) -> None:
    from samcli.lib.providers.api_provider import ApiProvider

    with caplog.at_level(logging.INFO, logger="samcli"):
        api = ApiProvider(_sam_stacks()).api
    sam = {
        ("ANY" if method == SAM_ANY_METHOD else method, route.path, route.function_name)
        for route in api.routes
        for method in route.methods
        if method != SAM_PREFLIGHT
    }
    local = {(route.method, route.path, route.function_id) for route in _local().routes}
    # What SAM CLI cannot read and the local runtime must: the HttpApi's routes to the nested
    # stacks' functions, each named by a stack's output, which SAM CLI does not follow (it
    # serves the routes of template.yaml's own functions' events alone).
    nested = {route for route in local if route[2] in _nested_function_ids()}
    assert len(nested) == len(local) - 1
    assert local - nested == sam
    assert ("ANY", local_stack.DEFAULT_ROUTE, DEFAULT_ROUTE_FUNCTION) in local
    # What SAM CLI cannot read and the local runtime must: the authorizer given as the
    # published alias (!Ref AuthorizerFunction.Alias), which SAM CLI skips (its routes would
    # run with no authorizer at all).
    assert "Unable to parse the Lambda ARN for Authorizer 'ApiKeyAuthorizer'" in caplog.text
    assert all(route.authorizer_object is None for route in api.routes)
    assert {route.authorizer for route in _local().routes} == {"ApiKeyAuthorizer"}


def test_cors_under_if_is_read_where_sam_cli_reads_none() -> None:
    from samcli.lib.providers.api_provider import ApiProvider

    origins = "https://app.example,https://admin.example"
    sam = ApiProvider(_sam_stacks((("CorsOrigins", origins),))).api.cors
    local = local_stack.load({"CorsOrigins": origins})
    cors = local.cors
    assert cors is not None
    assert cors.allow_origins == tuple(origins.split(","))
    # SAM CLI does not evaluate the !If: no origin, so `sam local` would answer no browser.
    assert sam is not None
    assert sam.allow_origin is None


def test_queue_and_schedule_events_are_the_ones_sam_cli_reads() -> None:
    sam = _sam_functions()
    for logical_id, function in _local().functions.items():
        events = sam[logical_id].events or {}
        sqs = {name for name, event in events.items() if event["Type"] == "SQS"}
        assert {event.event_name for event in function.sqs_events} == sqs, logical_id
        schedules = {
            name: event["Properties"]["Schedule"]
            for name, event in events.items()
            if event["Type"] == "Schedule"
        }
        assert {e.event_name: e.expression for e in function.schedule_events} == schedules
    # SAM CLI turns the queue's !GetAtt into a made-up Lambda ARN; the local runtime keeps the
    # queue's logical id, which is how it finds the moto queue to poll.
    (event,) = _local().functions["SyncFunction"].sqs_events
    assert event.queue_id == "SyncQueue"
    assert sam["SyncFunction"].events["Queue"]["Properties"]["Queue"].endswith(":SyncQueue")


def _nested_function_ids() -> set[str]:
    return {name for name, function in _sam_functions().items() if function.stack_path}


def test_the_sam_stacks_are_read_from_the_same_files() -> None:
    stacks = {stack.stack_path: ROOT / stack.location for stack in _sam_stacks()}
    assert stacks.pop("").resolve() == ROOT / "template.yaml"
    # Each nested stack of the local runtime's functions is one SAM CLI reads, and the other
    # way round.
    assert set(stacks) == {
        stack for function in _sam_functions().values() if (stack := function.stack_path)
    }
