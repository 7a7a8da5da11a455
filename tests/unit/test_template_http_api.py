"""The HTTP API in template.yaml: every route behind the API-key authorizer, and CORS for the
browser origins of a parameter."""

from __future__ import annotations

import re
from typing import Any

from tests.support.template import (
    API_FUNCTIONS,
    DEFAULT_ROUTE_FUNCTION,
    FUNCTIONS,
    RESOURCES,
    STACK_OF,
    TEMPLATE,
    route_of,
    transformed_template,
    translated_template,
)
from welldev import stack as local_stack

AUTHORIZER = "ApiKeyAuthorizer"


def _transformed_operations() -> dict[str, dict[str, Any]]:
    body = transformed_template()["Resources"]["HttpApi"]["Properties"]["Body"]
    return {
        f"{method.upper()} {path}": operation
        for path, methods in body["paths"].items()
        for method, operation in methods.items()
    }


# --- The authorizer --------------------------------------------------------------------------


def test_every_route_is_behind_the_api_key_authorizer():
    auth = RESOURCES["HttpApi"]["Properties"]["Auth"]
    assert auth["DefaultAuthorizer"] == AUTHORIZER
    # No route opts out (Auth.Authorizer: NONE) or picks another authorizer.
    assert [f for f in API_FUNCTIONS if "Auth" in route_of(f)] == []

    operations = _transformed_operations()
    expected = {f"{route_of(f)['Method']} {route_of(f)['Path']}" for f in API_FUNCTIONS}
    # And the $default route (SAM writes it as the path /$default, ANY method).
    default = "X-AMAZON-APIGATEWAY-ANY-METHOD /$default"
    assert set(operations) == expected | {default}
    unprotected = {k for k, op in operations.items() if op.get("security") != [{AUTHORIZER: []}]}
    assert unprotected == set()


def test_the_default_route_takes_what_no_route_serves_through_the_authorizer():
    # template/per-function/default-route.yaml says why it is behind the authorizer too.
    default = _transformed_operations()["X-AMAZON-APIGATEWAY-ANY-METHOD /$default"]
    assert default["isDefaultRoute"] is True
    assert default["security"] == [{AUTHORIZER: []}]
    integration = default["x-amazon-apigateway-integration"]
    assert integration["payloadFormatVersion"] == "2.0"
    assert f"${{{DEFAULT_ROUTE_FUNCTION}Aliaslive}}" in integration["uri"]["Fn::Sub"]
    # As the local gateway reads it: the one $default route, behind the same authorizer.
    template = local_stack.load()
    (route,) = [r for r in template.routes if r.function_id == DEFAULT_ROUTE_FUNCTION]
    assert (route.route_key, route.authorizer) == ("$default", AUTHORIZER)


def test_authorizer_is_a_request_authorizer_with_simple_responses_called_for_every_request():
    schemes = transformed_template()["Resources"]["HttpApi"]["Properties"]["Body"]["components"]
    authorizer = schemes["securitySchemes"][AUTHORIZER]["x-amazon-apigateway-authorizer"]

    assert authorizer["type"] == "request"
    assert authorizer["authorizerPayloadFormatVersion"] == "2.0"
    assert authorizer["enableSimpleResponses"] is True
    # No identity source and no API Gateway cache: with one, API Gateway would answer a request
    # without an Authorization header itself, not with our JSON:API 401. The authorizer keeps
    # its answer per key instead, for this long (a revoked key works at most this long).
    assert authorizer["identitySource"] == []
    assert authorizer["authorizerResultTtlInSeconds"] == 0
    variables = FUNCTIONS["AuthorizerFunction"]["Environment"]["Variables"]
    assert variables == {"AUTH_CACHE_SECONDS": "30", "DB_USER": {"Ref": "AuthDbUser"}}
    uri = authorizer["authorizerUri"]["Fn::Sub"][1]["__FunctionArn__"]
    assert uri == {"Ref": "AuthorizerFunctionAliaslive"}  # the alias CodeDeploy shifts


def test_api_gateway_may_invoke_the_authorizer():
    permissions = [
        r["Properties"]
        for r in transformed_template()["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission"
        and r["Properties"]["FunctionName"] == {"Ref": "AuthorizerFunctionAliaslive"}
    ]
    (permission,) = permissions
    assert permission["Action"] == "lambda:InvokeFunction"
    assert permission["Principal"] == "apigateway.amazonaws.com"
    source, variables = permission["SourceArn"]["Fn::Sub"]
    assert source.endswith(":${__ApiId__}/authorizers/*")
    assert variables == {"__ApiId__": {"Ref": "HttpApi"}}


def test_api_gateway_may_invoke_each_api_function_on_its_own_route_of_this_api_only():
    # In template.yaml, beside the routes: the nested stack would need the API's id, and the
    # API needs the stack's aliases.
    permissions = {
        r["Properties"]["FunctionName"]["Fn::GetAtt"][1]: r["Properties"]
        for r in transformed_template()["Resources"].values()
        if r["Type"] == "AWS::Lambda::Permission"
        and "Fn::GetAtt" in r["Properties"]["FunctionName"]
    }
    assert sorted(permissions) == sorted(f"Outputs.{f}Alias" for f in API_FUNCTIONS)
    for function_id in API_FUNCTIONS:
        permission = permissions[f"Outputs.{function_id}Alias"]
        assert permission["FunctionName"]["Fn::GetAtt"][0] == STACK_OF[function_id]
        assert (permission["Action"], permission["Principal"]) == (
            "lambda:InvokeFunction",
            "apigateway.amazonaws.com",
        )
        route = route_of(function_id)
        arn_path = re.sub(r"\{[^}]+\}", "*", route["Path"])
        source = permission["SourceArn"]["Fn::Sub"]
        assert source.endswith(f":${{HttpApi}}/*/{route['Method']}{arn_path}"), function_id


# --- CORS --------------------------------------------------------------------------------------

ORIGINS = "https://app.example.com,http://localhost:5173"


def _route_methods() -> set[str]:
    return {route_of(function_id)["Method"].upper() for function_id in API_FUNCTIONS}


def test_cors_origins_is_a_validated_parameter_empty_by_default():
    parameter = TEMPLATE["Parameters"]["CorsOrigins"]
    assert (parameter["Type"], parameter["Default"]) == ("String", "")
    pattern = re.compile(parameter["AllowedPattern"])
    for good in ("", "https://app.example.com", ORIGINS, "http://127.0.0.1:5173"):
        assert pattern.fullmatch(good), good
    for bad in ("*", "https://*", "app.example.com", "https://a.example/", "https://a, https://b"):
        assert not pattern.fullmatch(bad), bad
    assert TEMPLATE["Conditions"]["HasCorsOrigins"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CorsOrigins"}, ""]}]
    }


def test_the_api_has_a_cors_configuration_exactly_when_origins_are_given():
    # What CloudFormation deploys: the configuration behind the condition, from the parameter.
    for value in ("", ORIGINS):
        api = translated_template((("CorsOrigins", value),))["Resources"]["HttpApi"]
        body = api["Properties"]["Body"]
        condition, configuration, otherwise = body["x-amazon-apigateway-cors"]["Fn::If"]
        assert (condition, otherwise) == ("HasCorsOrigins", {"Ref": "AWS::NoValue"})
        assert configuration["allowOrigins"] == {"Fn::Split": [",", value]}
    # The same block as the local runtime reads it, the condition evaluated.
    assert local_stack.load().cors is None
    cors = local_stack.load({"CorsOrigins": ORIGINS})
    configuration = cors.cors
    assert configuration is not None
    assert configuration.allow_origins == tuple(ORIGINS.split(","))


def test_cors_allows_the_served_methods_and_the_headers_clients_send_and_read():
    configuration = local_stack.load({"CorsOrigins": ORIGINS})
    cors = configuration.cors
    assert cors is not None
    assert set(cors.allow_methods) == _route_methods() | {"OPTIONS"}
    assert set(cors.allow_headers) == {"authorization", "content-type", "accept", "idempotency-key"}
    assert {"location", "idempotent-replayed", "retry-after", "www-authenticate"} <= set(
        cors.expose_headers
    )
    assert cors.max_age is not None
    assert 0 < cors.max_age <= 7200
