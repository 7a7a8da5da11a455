"""What unauthenticated traffic and a burst of sync messages can cost: the stage's throttling,
the reserved concurrency of the authorizer and the sync function, the queue's batches at once
(README, "Limits")."""

from __future__ import annotations

from typing import Any

from tests.support.template import TEMPLATE, transformed_template


def _parameter_default(name: str) -> Any:
    return TEMPLATE["Parameters"][name]["Default"]


def test_the_stage_throttles_every_route_from_parameters():
    resources = transformed_template()["Resources"]
    (stage,) = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Stage"]
    settings = stage["Properties"]["DefaultRouteSettings"]
    assert settings == {
        "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
    }
    assert (
        0
        < _parameter_default("ApiThrottlingRateLimit")
        <= _parameter_default("ApiThrottlingBurstLimit")
    )


def test_the_authorizer_and_the_sync_function_have_reserved_concurrency():
    resources = transformed_template()["Resources"]
    for function_id, parameter in (
        ("AuthorizerFunction", "AuthorizerReservedConcurrency"),
        ("SyncFunction", "SyncReservedConcurrency"),
    ):
        function = resources[function_id]
        assert function["Type"] == "AWS::Lambda::Function"
        assert function["Properties"]["ReservedConcurrentExecutions"] == {"Ref": parameter}


def test_the_queue_hands_the_sync_function_no_more_batches_than_it_has_environments():
    resources = transformed_template()["Resources"]
    (mapping,) = [r for r in resources.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mapping["Properties"]["ScalingConfig"] == {
        "MaximumConcurrency": {"Ref": "SyncMaximumConcurrency"}
    }
    # Below the reserved concurrency, so the pollers are never throttled into retries.
    assert _parameter_default("SyncMaximumConcurrency") <= _parameter_default(
        "SyncReservedConcurrency"
    )
    assert TEMPLATE["Parameters"]["SyncMaximumConcurrency"]["MinValue"] == 2
