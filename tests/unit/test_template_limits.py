"""What unauthenticated traffic and a burst of sync messages can cost: the stage's throttling,
the reserved concurrency of the authorizer and the sync function, the queue's batches at once
(docs/operations.md, "Limits")."""

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
        assert function["Properties"]["ReservedConcurrentExecutions"] == {
            "Fn::If": ["ReservesConcurrency", {"Ref": parameter}, {"Ref": "AWS::NoValue"}]
        }


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


def test_the_authorizer_has_an_environment_for_every_request_of_a_cold_burst():
    """Every request invokes the authorizer. Cold, an environment is busy for up to its cold
    start bound, so a burst the stage admits at once, plus what the steady rate admits while
    none has finished, needs that many environments; fewer, and API Gateway answers its own
    500 to the throttled ones instead of our JSON:API 503."""
    function = transformed_template()["Resources"]["AuthorizerFunction"]
    cold_seconds = function["Metadata"]["ColdStartSeconds"]
    burst = _parameter_default("ApiThrottlingBurstLimit")
    rate = _parameter_default("ApiThrottlingRateLimit")
    reserved = _parameter_default("AuthorizerReservedConcurrency")
    assert reserved >= burst + rate * cold_seconds
    # And the account's default concurrency (1,000) still leaves the API functions their
    # share beside the reserves and Lambda's unreserved minimum of 100.
    reserves = reserved + _parameter_default("SyncReservedConcurrency") + 1  # the sweep's one
    assert reserves <= 1000 - 100 - 100


def test_the_authorizer_alarms_when_it_is_throttled():
    resources = transformed_template()["Resources"]
    alarm = resources["AuthorizerFunctionFailingAlarm"]["Properties"]
    watched = {
        (query["MetricStat"]["Metric"]["MetricName"], d["Value"]["Ref"])
        for query in alarm["Metrics"]
        if "MetricStat" in query
        for d in query["MetricStat"]["Metric"]["Dimensions"]
    }
    assert ("Throttles", "AuthorizerFunction") in watched


def _statements(policy_id: str) -> dict[str, Any]:
    policy = transformed_template()["Resources"][policy_id]
    assert policy["Type"] == "AWS::SQS::QueuePolicy"
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_the_sync_queues_refuse_every_request_without_tls():
    for policy_id, queue in (
        ("SyncQueuePolicy", "SyncQueue"),
        ("SyncDeadLetterQueuePolicy", "SyncDeadLetterQueue"),
    ):
        deny = _statements(policy_id)["DenyWithoutTls"]
        assert deny["Effect"] == "Deny"
        assert deny["Principal"] == "*"
        assert deny["Action"] == "sqs:*"
        assert deny["Resource"] == {"Fn::GetAtt": [queue, "Arn"]}
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_only_the_producer_and_the_named_redrivers_may_send_to_the_sync_queue():
    statements = _statements("SyncQueuePolicy")
    deny = statements["OnlyTheProducerSends"]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Action"] == "sqs:SendMessage"
    allowed = deny["Condition"]["ArnNotLike"]["aws:PrincipalArn"]
    text = repr(allowed)
    assert "'Ref': 'SyncProducerRoleArn'" in text
    assert "'Ref': 'SyncRedriveRoleArns'" in text
    allow = statements["TheProducerSends"]
    assert allow["Principal"] == {"AWS": {"Ref": "SyncProducerRoleArn"}}
    assert "sqs:SendMessage" in allow["Action"]
    assert set(statements) == {"DenyWithoutTls", "OnlyTheProducerSends", "TheProducerSends"}
    # No default: a stack is never deployed with a queue anybody may send to.
    assert "Default" not in TEMPLATE["Parameters"]["SyncProducerRoleArn"]


def test_no_principal_sends_to_the_dead_letter_queue():
    deny = _statements("SyncDeadLetterQueuePolicy")["NoPrincipalSends"]
    assert deny["Effect"] == "Deny"
    assert deny["Principal"] == "*"
    assert deny["Action"] == "sqs:SendMessage"
    assert deny["Condition"] == {"Null": {"aws:PrincipalServiceName": "true"}}
