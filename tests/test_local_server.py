"""The local server in front of a fixture template: what a client of API Gateway would see.

A real server runs on an ephemeral port; requests go over loopback with http.client. The
fixture functions live in tmp_path, so nothing here depends on the project's handlers.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import re
import socket
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from welldev import template as sam
from welldev.authorizers import (
    AuthorizerCache,
    AuthorizerFailed,
    identity_values,
    is_authorized,
)
from welldev.cfn_yaml import load_yaml
from welldev.gateway import Gateway, LocalRoute
from welldev.intrinsics import LOCAL_ACCOUNT_ID
from welldev.lambda_runtime import LambdaRuntime
from welldev.payload import (
    MAX_REQUEST_BODY_BYTES,
    InvalidLambdaResponse,
    map_response,
    raw_path_of,
)
from welldev.routes import PathTemplate, Router, RouteTarget
from welldev.server import LocalServer

TEMPLATE = """
Globals:
  Function:
    CodeUri: src/
    Timeout: 5
    MemorySize: 256
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: ApiKey
        Authorizers:
          ApiKey:
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            Identity: {Headers: [Authorization], ReauthorizeEvery: 300}
            AuthorizerPayloadFormatVersion: "2.0"
            EnableSimpleResponses: true
  EchoFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: server_fixture_app.echo
      Events:
        Retrieve:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: "/v1/things/{id}"}
        Create:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: POST, Path: /v1/things}
        Files:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: ANY, Path: "/files/{proxy+}"}
  SpecialFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: server_fixture_app.special
      Events:
        Special:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: /v1/things/special}
  PublicFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: server_fixture_app.echo
      Events:
        Health:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: /health, Auth: {Authorizer: NONE}}
  ShapesFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: server_fixture_app.shapes
      Events:
        Shapes:
          Type: HttpApi
          Properties:
            {ApiId: !Ref Api, Method: GET, Path: "/shapes/{kind}", Auth: {Authorizer: NONE}}
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: auth/
      Handler: server_fixture_auth.handler
"""

APP = """
import base64
import json


def echo(event, context):
    details = {
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "remaining": context.get_remaining_time_in_millis(),
        "aws_request_id": context.aws_request_id,
        "invoked_function_arn": context.invoked_function_arn,
        "log_group_name": context.log_group_name,
    }
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"event": event, "context": details}),
    }


def special(event, context):
    return {"statusCode": 200, "body": "special"}


def deleted(event, context):
    # Exactly what the project's Delete handlers answer.
    from wellapi.response import document_response

    return document_response(204, None).to_gateway()


def cors_headers(event, context):
    # CORS headers of the function's own: API Gateway ignores them when CORS is configured.
    return {
        "statusCode": 200,
        "headers": {
            "content-type": "application/vnd.api+json",
            "Access-Control-Allow-Origin": "https://evil.example",
            "Location": "/v1/things/1",
        },
        "body": "{}",
    }


def shapes(event, context):
    kind = event["pathParameters"]["kind"]
    if kind == "plain":
        return {"hello": "world"}
    if kind == "text":
        return "just text"
    if kind == "binary":
        return {
            "statusCode": 201,
            "headers": {"content-type": "image/png", "x-count": 2},
            "cookies": ["a=1; Path=/", "b=2"],
            "multiValueHeaders": {"x-many": ["1", "2"]},
            "isBase64Encoded": True,
            "body": base64.b64encode(bytes(range(256))).decode(),
        }
    if kind == "invalid":
        return {"statusCode": 200, "body": {"not": "a string"}}
    raise RuntimeError("the handler failed")
"""

AUTH = """
CALLS = []


def handler(event, context):
    CALLS.append(event)
    token = event["identitySource"][0]
    if token == "Bearer crash":
        raise RuntimeError("authorizer failed")
    if token.startswith("Bearer good"):
        return {"isAuthorized": True, "context": {"person_id": "p-1", "token": token}}
    return {"isAuthorized": False}
"""


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Stack:
    server: LocalServer
    gateway: Gateway
    log: io.StringIO
    clock: FakeClock

    @property
    def authorizer_calls(self) -> list[dict[str, Any]]:
        calls: list[dict[str, Any]] = sys.modules["server_fixture_auth"].CALLS
        return calls

    def request(
        self,
        method: str,
        path: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes | None = None,
    ) -> tuple[int, http.client.HTTPMessage, bytes]:
        host, port = self.server.server_address[:2]
        connection = http.client.HTTPConnection(str(host), port, timeout=10)
        try:
            connection.putrequest(method, path)
            for name, value in headers or []:
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def event(self, path: str, headers: list[tuple[str, str]] | None = None, **kw: Any) -> Any:
        status, _, body = self.request(kw.pop("method", "GET"), path, headers, **kw)
        assert status == 200, body
        return json.loads(body)["event"]


GOOD = [("Authorization", "Bearer good")]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from _serve(tmp_path_factory, TEMPLATE)


def _serve(
    tmp_path_factory: pytest.TempPathFactory,
    template_text: str,
    parameter_overrides: dict[str, str] | None = None,
    root: Path | None = None,
) -> Iterator[Stack]:
    """A server for a template; a second one shares the first's ``root`` (one process holds
    one module of a name, so both must run the same fixture files)."""
    owns_files = root is None
    if root is None:
        root = tmp_path_factory.mktemp("server")
        (root / "src").mkdir()
        (root / "auth").mkdir()
        (root / "src" / "server_fixture_app.py").write_text(textwrap.dedent(APP))
        (root / "auth" / "server_fixture_auth.py").write_text(textwrap.dedent(AUTH))
    path = root / ("template.yaml" if owns_files else "second-template.yaml")
    path.write_text(template_text)
    template = sam.load(path, parameter_overrides)
    log = io.StringIO()
    clock = FakeClock()
    openapi = LocalRoute(
        "GET", "/v1/openapi.json", lambda event: {"openapi": "3.1.0", "path": event["rawPath"]}
    )
    gateway = Gateway(
        template,
        LambdaRuntime(template),
        local_routes=[openapi],
        cache=AuthorizerCache(clock=clock),
        log=log,
    )
    server = LocalServer(gateway, "127.0.0.1", 0, log=log)
    thread = server.start_in_thread()
    yield Stack(server, gateway, log, clock)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
    if not owns_files:
        return  # the first server's fixture files: it cleans them up
    for name in ("server_fixture_app", "server_fixture_auth"):
        sys.modules.pop(name, None)
    for path in (root / "src", root / "auth"):
        if str(path) in sys.path:
            sys.path.remove(str(path))


@pytest.fixture(autouse=True)
def fresh_authorizer(stack: Stack) -> None:
    """Each test starts with an empty authorizer cache and call log."""
    if "server_fixture_auth" in sys.modules:
        stack.authorizer_calls.clear()
    stack.gateway.cache = AuthorizerCache(clock=stack.clock)


# ---- the server itself ---------------------------------------------------------------------


def test_a_port_in_use_is_named_in_the_error(stack: Stack) -> None:
    host, port = stack.server.server_address[:2]

    with pytest.raises(OSError, match=rf"cannot listen on 127.0.0.1:{port}: .*in use"):
        LocalServer(stack.gateway, str(host), port, log=io.StringIO())


def test_a_client_that_hangs_up_early_is_one_line_not_a_traceback(
    stack: Stack, capsys: pytest.CaptureFixture[str]
) -> None:
    before = stack.log.tell()
    try:
        raise BrokenPipeError(32, "Broken pipe")
    except BrokenPipeError:
        stack.server.handle_error(None, ("127.0.0.9", 5555))

    stack.log.seek(before)
    assert (
        stack.log.read() == "127.0.0.9 closed the connection before the answer (BrokenPipeError)\n"
    )
    assert "Traceback" not in capsys.readouterr().err


# ---- routes ----------------------------------------------------------------------------------


def test_every_httpapi_route_of_the_template_is_served(stack: Stack) -> None:
    assert sorted(stack.gateway.route_keys) == sorted(
        [
            "GET /v1/things/{id}",
            "POST /v1/things",
            "ANY /files/{proxy+}",
            "GET /v1/things/special",
            "GET /health",
            "GET /shapes/{kind}",
            "GET /v1/openapi.json",
        ]
    )


def test_the_gateway_runs_the_route_functions_and_their_authorizer(stack: Stack) -> None:
    assert stack.gateway.function_ids == [
        "AuthorizerFunction",
        "EchoFunction",
        "PublicFunction",
        "ShapesFunction",
        "SpecialFunction",
    ]


def test_a_path_variable_reaches_the_function_with_its_route_key(stack: Stack) -> None:
    event = stack.event("/v1/things/abc-123", GOOD)
    assert event["routeKey"] == "GET /v1/things/{id}"
    assert event["requestContext"]["routeKey"] == "GET /v1/things/{id}"
    assert event["pathParameters"] == {"id": "abc-123"}
    assert event["rawPath"] == "/v1/things/abc-123"


def test_a_literal_route_wins_over_a_variable(stack: Stack) -> None:
    status, _, body = stack.request("GET", "/v1/things/special", GOOD)
    assert (status, body) == (200, b"special")


def test_a_greedy_route_takes_the_rest_of_the_path(stack: Stack) -> None:
    event = stack.event("/files/a/b/c.txt", GOOD, method="DELETE")
    assert event["pathParameters"] == {"proxy": "a/b/c.txt"}
    assert event["routeKey"] == "ANY /files/{proxy+}"


def test_an_unknown_route_or_method_is_api_gateways_404(stack: Stack) -> None:
    unrouted = (("GET", "/nope"), ("DELETE", "/v1/things/1"), ("GET", "/v1/things"))
    # Methods no route has, the standard library's unknown ones included (not its 501).
    unrouted += (("PUT", "/v1/things/1"), ("PROPFIND", "/v1/things/1"), ("BREW", "/nope"))
    for method, path in unrouted:
        status, headers, body = stack.request(method, path, GOOD)
        assert (status, body) == (404, b'{"message":"Not Found"}')
        assert headers["content-type"] == "application/json"
        assert headers["apigw-requestid"]
    assert stack.authorizer_calls == []


def test_a_local_route_is_served_without_an_authorizer(stack: Stack) -> None:
    status, _, body = stack.request("GET", "/v1/openapi.json")
    assert status == 200
    assert json.loads(body) == {"openapi": "3.1.0", "path": "/v1/openapi.json"}


# ---- the 2.0 event ---------------------------------------------------------------------------


def test_the_event_has_api_gateways_v2_shape(stack: Stack) -> None:
    event = stack.event(
        "/v1/things/7?b=2&a=1&b=3&empty=&name=J%C3%BCrgen%20X",
        [
            *GOOD,
            ("X-Dup", "one"),
            ("X-Dup", "two"),
            ("User-Agent", "tests/1.0"),
            ("Cookie", "session=s1; theme=dark"),
            ("Cookie", "lang=fr"),
        ],
    )
    assert event["version"] == "2.0"
    assert event["rawQueryString"] == "b=2&a=1&b=3&empty=&name=J%C3%BCrgen%20X"
    assert event["queryStringParameters"] == {"b": "2,3", "a": "1", "empty": "", "name": "Jürgen X"}
    assert event["cookies"] == ["session=s1", "theme=dark", "lang=fr"]
    headers = event["headers"]
    assert headers["x-dup"] == "one,two"
    assert headers["authorization"] == "Bearer good"
    assert "cookie" not in headers
    assert all(name == name.lower() for name in headers)
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == str(stack.server.server_address[1])
    context = event["requestContext"]
    assert context["http"] == {
        "method": "GET",
        "path": "/v1/things/7",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "tests/1.0",
    }
    assert context["stage"] == "$default"
    assert context["accountId"] == LOCAL_ACCOUNT_ID
    assert re.fullmatch(r"[0-9a-f]{10}", context["apiId"])
    assert context["domainName"] == "127.0.0.1"
    assert context["domainPrefix"] == "127"
    assert re.fullmatch(r"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000", context["time"])
    assert isinstance(context["timeEpoch"], int)
    assert context["requestId"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event


def test_a_request_without_query_or_cookies_omits_those_fields(stack: Stack) -> None:
    event = stack.event("/v1/things/1", GOOD)
    assert "queryStringParameters" not in event
    assert "cookies" not in event
    assert event["rawQueryString"] == ""


def test_a_json_body_arrives_as_text(stack: Stack) -> None:
    body = json.dumps({"name": "Zoë"}).encode()
    event = stack.event(
        "/v1/things", [*GOOD, ("Content-Type", "application/json")], method="POST", body=body
    )
    assert event["isBase64Encoded"] is False
    assert event["body"] == body.decode()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/octet-stream", b"\x00\x01\xff"),
        ("text/plain", b"\xff\xfe not utf-8"),
        ("application/vnd.api+json", b'{"data": {}}'),  # not a type API Gateway sends as text
        (None, b"no content type"),
    ],
)
def test_other_bodies_arrive_base64_encoded(
    stack: Stack, content_type: str | None, body: bytes
) -> None:
    headers = [*GOOD, ("Content-Type", content_type)] if content_type else GOOD
    event = stack.event("/v1/things", headers, method="POST", body=body)
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_the_context_object_is_lambdas(stack: Stack) -> None:
    status, _, body = stack.request("GET", "/health")
    assert status == 200
    context = json.loads(body)["context"]
    assert context["function_name"] == "PublicFunction"
    assert context["memory_limit_in_mb"] == "256"  # a string, as in the real runtime
    assert 0 < context["remaining"] <= 5000
    uuid.UUID(context["aws_request_id"])
    assert context["invoked_function_arn"].endswith(":function:PublicFunction")
    assert context["log_group_name"] == "/aws/lambda/PublicFunction"


def test_raw_path_decodes_escapes_except_percent() -> None:
    assert raw_path_of("/v1/a%20b/c%252Fd?x=%20") == "/v1/a b/c%252Fd"


# ---- the authorizer --------------------------------------------------------------------------


def test_a_missing_identity_source_is_401_without_calling_the_authorizer(stack: Stack) -> None:
    for headers in ([], [("Authorization", "")]):
        status, _, body = stack.request("GET", "/v1/things/1", headers)
        assert (status, body) == (401, b'{"message":"Unauthorized"}')
    assert stack.authorizer_calls == []


def test_an_unauthorized_answer_is_403(stack: Stack) -> None:
    status, _, body = stack.request("GET", "/v1/things/1", [("Authorization", "Bearer bad")])
    assert (status, body) == (403, b'{"message":"Forbidden"}')


def test_a_failing_authorizer_is_500(stack: Stack) -> None:
    status, _, body = stack.request("GET", "/v1/things/1", [("Authorization", "Bearer crash")])
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
    assert "authorizer failed" in stack.log.getvalue()


def test_the_authorizer_context_reaches_the_function(stack: Stack) -> None:
    event = stack.event("/v1/things/1", GOOD)
    assert event["requestContext"]["authorizer"] == {
        "lambda": {"person_id": "p-1", "token": "Bearer good"}
    }
    (call,) = stack.authorizer_calls
    assert call["type"] == "REQUEST"
    assert call["version"] == "2.0"
    assert call["identitySource"] == ["Bearer good"]
    assert call["routeKey"] == "GET /v1/things/{id}"
    assert re.fullmatch(
        r"arn:aws:execute-api:[^:]+:\d{12}:[0-9a-f]{10}/\$default/GET/v1/things/1", call["routeArn"]
    )
    assert "authorizer" not in call["requestContext"]


def test_authorizer_results_are_cached_per_identity_for_the_ttl(stack: Stack) -> None:
    stack.event("/v1/things/1", GOOD)
    stack.event("/v1/things/2", GOOD)  # any route of the API: same cached answer
    assert len(stack.authorizer_calls) == 1
    stack.event("/v1/things/1", [("Authorization", "Bearer good-other")])
    assert len(stack.authorizer_calls) == 2
    stack.request("GET", "/v1/things/1", [("Authorization", "Bearer bad")])
    stack.request("GET", "/v1/things/1", [("Authorization", "Bearer bad")])  # denials too
    assert len(stack.authorizer_calls) == 3
    stack.clock.now += 301
    stack.event("/v1/things/1", GOOD)
    assert len(stack.authorizer_calls) == 4


def test_a_route_with_authorizer_none_skips_it(stack: Stack) -> None:
    status, _, body = stack.request("GET", "/health")
    assert status == 200
    assert "authorizer" not in json.loads(body)["event"]["requestContext"]
    assert stack.authorizer_calls == []


# ---- responses -------------------------------------------------------------------------------


def test_a_result_without_status_code_is_a_json_200(stack: Stack) -> None:
    status, headers, body = stack.request("GET", "/shapes/plain")
    assert (status, headers["content-type"], json.loads(body)) == (
        200,
        "application/json",
        {"hello": "world"},
    )
    status, _, body = stack.request("GET", "/shapes/text")
    assert (status, body) == (200, b"just text")


def test_base64_bodies_cookies_and_headers_are_mapped(stack: Stack) -> None:
    status, headers, body = stack.request("GET", "/shapes/binary")
    assert status == 201
    assert body == bytes(range(256))
    assert headers["content-type"] == "image/png"
    assert headers["x-count"] == "2"
    assert headers.get_all("set-cookie") == ["a=1; Path=/", "b=2"]
    # Payload format 2.0 has no multiValueHeaders: API Gateway drops them, and so do we.
    assert "x-many" not in headers
    assert "multiValueHeaders is ignored" in stack.log.getvalue()


def test_a_handler_exception_is_500_with_the_traceback_logged(stack: Stack) -> None:
    status, _, body = stack.request("GET", "/shapes/raise")
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
    log = stack.log.getvalue()
    assert "ShapesFunction failed" in log
    assert "RuntimeError: the handler failed" in log


def test_an_invalid_function_response_is_500(stack: Stack) -> None:
    status, _, body = stack.request("GET", "/shapes/invalid")
    assert (status, body) == (500, b'{"message":"Internal Server Error"}')
    assert "body must be a string" in stack.log.getvalue()


def test_head_gets_headers_without_a_body(stack: Stack) -> None:
    status, headers, body = stack.request("HEAD", "/files/x", GOOD)
    assert status == 200
    assert int(headers["content-length"]) > 0
    assert body == b""


# ---- request limits --------------------------------------------------------------------------


def test_a_body_over_10_mb_is_413_before_it_is_read(stack: Stack) -> None:
    host, port = stack.server.server_address[:2]
    with socket.create_connection((str(host), port), timeout=10) as client:
        client.sendall(
            b"POST /v1/things HTTP/1.1\r\nHost: local\r\nAuthorization: Bearer good\r\n"
            + f"Content-Length: {MAX_REQUEST_BODY_BYTES + 1}\r\n\r\n".encode()
        )
        reply = read_until_closed(client)
    assert reply.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in reply
    assert reply.endswith(b'{"message":"Request Entity Too Large"}')
    assert stack.authorizer_calls == []


def test_a_chunked_body_is_read_and_limited(stack: Stack) -> None:
    host, port = stack.server.server_address[:2]
    chunked = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    with socket.create_connection((str(host), port), timeout=10) as client:
        client.sendall(
            b"POST /v1/things HTTP/1.1\r\nHost: local\r\nAuthorization: Bearer good\r\n"
            b"Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            + chunked
        )
        reply = read_until_closed(client)
    assert reply.startswith(b"HTTP/1.1 200 ")
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["event"]["body"] == "hello world"

    over = f"{MAX_REQUEST_BODY_BYTES + 1:x}\r\n".encode()
    with socket.create_connection((str(host), port), timeout=10) as client:
        client.sendall(
            b"POST /v1/things HTTP/1.1\r\nHost: local\r\nTransfer-Encoding: chunked\r\n\r\n" + over
        )
        assert read_until_closed(client).startswith(b"HTTP/1.1 413 ")


def read_until_closed(client: socket.socket) -> bytes:
    reply = b""
    while chunk := client.recv(65536):
        reply += chunk
    return reply


def test_a_body_at_the_limit_is_accepted(stack: Stack) -> None:
    body = b"x" * MAX_REQUEST_BODY_BYTES
    status, _, _ = stack.request(
        "POST", "/v1/things", [*GOOD, ("Content-Type", "text/plain")], body=body
    )
    assert status == 200


# ---- the pieces, without the network ---------------------------------------------------------

ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef1234/$default/GET/v1/things/1"
POLICY_AUTHORIZER = sam.Authorizer(name="Policy", kind="lambda", function_id="F")
SIMPLE_AUTHORIZER = sam.Authorizer(
    name="Simple", kind="lambda", function_id="F", simple_responses=True
)


def policy(*statements: tuple[str, object]) -> dict[str, Any]:
    return {
        "principalId": "p",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
                for effect, resource in statements
            ],
        },
        "context": {"k": "v"},
    }


@pytest.mark.parametrize(
    ("answer", "allowed"),
    [
        (policy(("Allow", ARN)), True),
        (policy(("Allow", ["arn:aws:execute-api:*:*:*/$default/GET/*"])), True),
        (policy(("Allow", "arn:aws:execute-api:*:*:*/$default/POST/*")), False),
        (policy(("Allow", "*"), ("Deny", "*/GET/v1/things/*")), False),
    ],
)
def test_iam_policy_answers_are_evaluated_against_the_route(
    answer: dict[str, Any], allowed: bool
) -> None:
    assert is_authorized(POLICY_AUTHORIZER, answer, ARN) is allowed


@pytest.mark.parametrize(
    ("authorizer", "answer"),
    [
        (SIMPLE_AUTHORIZER, {"isAuthorized": "yes"}),
        (SIMPLE_AUTHORIZER, None),
        (POLICY_AUTHORIZER, {"isAuthorized": True}),
    ],
)
def test_an_answer_api_gateway_cannot_read_is_an_authorizer_failure(
    authorizer: sam.Authorizer, answer: object
) -> None:
    with pytest.raises(AuthorizerFailed):
        is_authorized(authorizer, answer, ARN)


def test_identity_sources_can_be_headers_query_strings_or_context() -> None:
    authorizer = sam.Authorizer(
        name="A",
        kind="lambda",
        identity_sources=(
            "$request.header.X-Key",
            "$request.querystring.token",
            "$context.http.sourceIp",
        ),
    )
    event = {
        "headers": {"x-key": "k"},
        "queryStringParameters": {"token": "t"},
        "requestContext": {"http": {"sourceIp": "10.0.0.1"}},
    }
    assert identity_values(authorizer, event) == ["k", "t", "10.0.0.1"]
    del event["queryStringParameters"]
    assert identity_values(authorizer, event) is None
    staged = sam.Authorizer(name="S", kind="lambda", identity_sources=("$stageVariables.v",))
    assert identity_values(staged, event) is None  # no stage variables locally


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        ({"statusCode": True}, "statusCode"),
        ({"statusCode": 99}, "statusCode"),
        ({"statusCode": 200, "headers": ["x"]}, "headers must be an object"),
        ({"statusCode": 200, "headers": {"x": ["1", "2"]}}, "single value"),
        ({"statusCode": 200, "cookies": "a=1"}, "cookies"),
        ({"statusCode": 200, "body": "%%%", "isBase64Encoded": True}, "base64"),
    ],
)
def test_results_api_gateway_cannot_send_are_refused(result: dict[str, Any], problem: str) -> None:
    with pytest.raises(InvalidLambdaResponse, match=problem):
        map_response(result, warn=lambda note: None)


def test_a_response_without_body_or_content_type_gets_api_gateways_defaults() -> None:
    # No body, no Content-Type: API Gateway documents none for a result with a statusCode
    # (payload.UNTYPED_BODY_CONTENT_TYPE says what is known); a 204 stays without one.
    response = map_response(
        {"statusCode": 204, "headers": {"Content-Length": "99", "X-Ok": True}}, warn=print
    )
    assert response.status == 204
    assert response.body == b""
    assert response.headers == [("X-Ok", "true")]
    typed = map_response({"statusCode": 200, "body": "text"}, warn=print)
    assert typed.headers == [("content-type", "text/plain")]


def test_route_precedence_follows_api_gateway() -> None:
    def target(method: str, path: str | None) -> RouteTarget:
        return RouteTarget(
            route_key=f"{method} {path}" if path else "$default",
            method=method,
            path=PathTemplate(path) if path else None,
            api_id="Api",
            function_id=f"{method} {path}",
        )

    router = Router(
        [
            target("ANY", None),
            target("ANY", "/v1/{proxy+}"),
            target("ANY", "/v1/things/{id}"),
            target("GET", "/v1/things/{id}"),
            target("GET", "/v1/things/special"),
        ]
    )

    def winner(method: str, path: str) -> str | None:
        matched = router.match(method, path)
        return matched[0].function_id if matched else None

    assert winner("GET", "/v1/things/special") == "GET /v1/things/special"
    assert winner("GET", "/v1/things/1") == "GET /v1/things/{id}"
    assert winner("PUT", "/v1/things/1") == "ANY /v1/things/{id}"
    assert winner("PUT", "/v1/things/1/sub") == "ANY /v1/{proxy+}"
    assert winner("GET", "/v1") == "ANY None"  # only $default is left
    with pytest.raises(sam.TemplateError, match="greedy"):
        PathTemplate("/{proxy+}/x")
    with pytest.raises(sam.TemplateError, match="declared twice"):
        Router([target("GET", "/x"), target("GET", "/x")])


def test_a_literal_segment_wins_over_a_variable_at_any_depth() -> None:
    # The related-resource and relationship routes of JSON:API: where a variable and the
    # literal `relationships` could both take a segment, the literal does, whichever route
    # the template declares first.
    routes = [
        "/v1/things/{id}/{relationship}",
        "/v1/things/{id}/{relationship}/{rest}",
        "/v1/things/{id}/relationships/{relationship}",
        "/v1/things/{id}/relationships",
    ]
    for ordered in (routes, routes[::-1]):
        router = Router(
            [
                RouteTarget(
                    route_key=f"GET {path}",
                    method="GET",
                    path=PathTemplate(path),
                    api_id="Api",
                    function_id=path,
                )
                for path in ordered
            ]
        )

        def winner(path: str, router: Router = router) -> tuple[str | None, dict[str, str]]:
            matched = router.match("GET", path)
            assert matched is not None, path
            return matched[0].function_id, matched[1]

        assert winner("/v1/things/1/owner") == (
            "/v1/things/{id}/{relationship}",
            {"id": "1", "relationship": "owner"},
        )
        assert winner("/v1/things/1/relationships/owner") == (
            "/v1/things/{id}/relationships/{relationship}",
            {"id": "1", "relationship": "owner"},
        )
        assert winner("/v1/things/1/relationships") == (
            "/v1/things/{id}/relationships",
            {"id": "1"},
        )
        assert winner("/v1/things/1/owner/x") == (
            "/v1/things/{id}/{relationship}/{rest}",
            {"id": "1", "relationship": "owner", "rest": "x"},
        )


def test_the_projects_item_routes_reach_the_function_api_gateway_would_choose() -> None:
    # template.yaml as `wellapi run` serves it: a resource's retrieve, related-resource and
    # relationship routes share their first segments; each request reaches its own function.
    template = sam.load(Path(__file__).resolve().parents[1] / "template.yaml")
    router = Gateway(template, LambdaRuntime(template)).router
    item = "5da25330-d33b-5cbc-acef-5d77a5d45e01"
    resources = {
        "account-workspace-connectors": "AccountWorkspaceConnectors",
        "company-workspace-connectors": "CompanyWorkspaceConnectors",
        "people-workspace-connectors": "PeopleWorkspaceConnectors",
        "workspace-group-workspaces": "WorkspaceGroupWorkspaces",
        "workspace-providers": "WorkspaceProviders",
    }
    for path, logical in resources.items():

        def chosen(
            tail: str, base: str = f"/v1/{path}/{item}"
        ) -> tuple[str | None, dict[str, str]]:
            matched = router.match("GET", base + tail)
            assert matched is not None, base + tail
            return matched[0].function_id, matched[1]

        assert chosen("") == (f"{logical}RetrieveFunction", {"id": item})
        assert chosen("/workspace") == (
            f"{logical}RelatedFunction",
            {"id": item, "relationship": "workspace"},
        )
        assert chosen("/relationships/workspace") == (
            f"{logical}RelationshipFunction",
            {"id": item, "relationship": "workspace"},
        )
        # No route has the bare literal: API Gateway gives it to the variable, as here (the
        # function answers 404, no such relationship).
        assert chosen("/relationships") == (
            f"{logical}RelatedFunction",
            {"id": item, "relationship": "relationships"},
        )
        assert router.match("GET", f"/v1/{path}/{item}/relationships/workspace/x") is None


UNSUPPORTED_AUTHORIZERS = {
    "jwt": {"JwtConfiguration": {"issuer": "x"}, "IdentitySource": "$request.header.A"},
    "payload 1.0": {
        "FunctionArn": {"Fn::GetAtt": ["Fn", "Arn"]},
        "AuthorizerPayloadFormatVersion": "1.0",
    },
}


@pytest.mark.parametrize(
    ("kind", "message"), [("jwt", "Lambda authorizers only"), ("payload 1.0", "format 2.0")]
)
def test_routes_the_local_gateway_cannot_emulate_are_refused(kind: str, message: str) -> None:
    document = {
        "Resources": {
            "Api": {
                "Type": "AWS::Serverless::HttpApi",
                "Properties": {
                    "Auth": {
                        "DefaultAuthorizer": "A",
                        "Authorizers": {"A": UNSUPPORTED_AUTHORIZERS[kind]},
                    }
                },
            },
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Handler": "app.handler",
                    "Events": {
                        "R": {
                            "Type": "HttpApi",
                            "Properties": {"ApiId": {"Ref": "Api"}, "Method": "GET", "Path": "/x"},
                        }
                    },
                },
            },
        }
    }
    template = sam.parse(document, Path("/nowhere/template.yaml"))
    with pytest.raises(sam.TemplateError, match=message):
        Gateway(template, LambdaRuntime(template))


# ---- CORS ------------------------------------------------------------------------------------

APP_ORIGIN = "http://localhost:5173"
CORS_TEMPLATE = (
    """
Parameters:
  CorsOrigins:
    Type: String
    Default: ""
Conditions:
  HasCorsOrigins: !Not [!Equals [!Ref CorsOrigins, ""]]
"""
    + TEMPLATE.replace(
        """      Auth:
        DefaultAuthorizer: ApiKey""",
        """      CorsConfiguration: !If
        - HasCorsOrigins
        - AllowOrigins: !Split [",", !Ref CorsOrigins]
          AllowMethods: [GET, POST, DELETE, OPTIONS]
          AllowHeaders: [Authorization, Content-Type]
          ExposeHeaders: [Location, Retry-After]
          MaxAge: 600
        - !Ref AWS::NoValue
      Auth:
        DefaultAuthorizer: ApiKey""",
        1,
    )
    + """
  DeleteFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: server_fixture_app.deleted
      Events:
        Delete:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: DELETE, Path: "/v1/things/{id}"}
  CorsHeadersFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: server_fixture_app.cors_headers
      Events:
        Own:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: /own-cors, Auth: {Authorizer: NONE}}
"""
)


@pytest.fixture(scope="module")
def cors_module(tmp_path_factory: pytest.TempPathFactory, stack: Stack) -> Iterator[Stack]:
    # The origins come in as a parameter override, as `wellapi run --cors-origins` passes them.
    yield from _serve(
        tmp_path_factory,
        CORS_TEMPLATE,
        {"CorsOrigins": f"https://app.example.com,{APP_ORIGIN}"},
        root=stack.gateway.template.path.parent,
    )


@pytest.fixture
def cors(cors_module: Stack) -> Stack:
    cors_module.gateway.cache = AuthorizerCache(clock=cors_module.clock)
    return cors_module


def preflight(origin: str, method: str = "GET") -> list[tuple[str, str]]:
    return [
        ("Origin", origin),
        ("Access-Control-Request-Method", method),
        ("Access-Control-Request-Headers", "authorization,content-type"),
    ]


def test_the_cors_configuration_is_read_from_the_template_with_its_parameter(cors: Stack) -> None:
    configuration = cors.gateway.cors_of()
    assert configuration is not None
    assert configuration.allow_origins == ("https://app.example.com", APP_ORIGIN)
    assert configuration.allow_methods == ("GET", "POST", "DELETE", "OPTIONS")
    assert configuration.allow_headers == ("authorization", "content-type")
    assert configuration.expose_headers == ("location", "retry-after")
    assert (configuration.max_age, configuration.allow_credentials) == (600, False)
    # Without origins the condition leaves the configuration out.
    plain = sam.parse(load_yaml(CORS_TEMPLATE), Path("/nowhere/template.yaml"))
    assert plain.http_apis["Api"].cors is None


def test_a_preflight_from_an_allowed_origin_is_answered_by_the_gateway(cors: Stack) -> None:
    before = len(cors.authorizer_calls)
    status, headers, body = cors.request(
        "OPTIONS", "/v1/things/abc", preflight(APP_ORIGIN, "DELETE")
    )
    assert (status, body) == (204, b"")
    assert headers["access-control-allow-origin"] == APP_ORIGIN
    assert headers["access-control-allow-methods"] == "GET,POST,DELETE,OPTIONS"
    assert headers["access-control-allow-headers"] == "authorization,content-type"
    assert headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in headers
    assert "content-type" not in headers
    assert headers["apigw-requestid"]
    # Neither the authorizer nor a function ran (there is no OPTIONS route to run).
    assert len(cors.authorizer_calls) == before
    # The server logs a request once its answer is written: the line may follow the answer.
    deadline = time.monotonic() + 5
    while "gateway (CORS preflight)" not in cors.log.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert "gateway (CORS preflight)" in cors.log.getvalue()


def test_a_preflight_from_another_origin_gets_no_cors_headers(cors: Stack) -> None:
    status, headers, body = cors.request(
        "OPTIONS", "/v1/things/abc", preflight("https://evil.example")
    )
    assert (status, body) == (204, b"")
    assert not [name for name in headers if name.lower().startswith("access-control-")]
    assert cors.authorizer_calls == []


def test_an_options_request_that_is_no_preflight_is_routed_as_usual(cors: Stack) -> None:
    status, _, body = cors.request("OPTIONS", "/v1/things/abc", [("Origin", APP_ORIGIN)])
    assert (status, body) == (404, b'{"message":"Not Found"}')
    # An ANY route takes OPTIONS, preflights included, through its authorizer (as in AWS).
    status, _, _ = cors.request("OPTIONS", "/files/a", preflight(APP_ORIGIN))
    assert status == 401  # the authorizer's identity source (Authorization) is missing


def test_a_get_from_an_allowed_origin_carries_the_cors_headers(cors: Stack) -> None:
    status, headers, body = cors.request("GET", "/v1/things/7", [*GOOD, ("Origin", APP_ORIGIN)])
    assert status == 200, body
    assert headers["access-control-allow-origin"] == APP_ORIGIN
    assert headers["access-control-expose-headers"] == "location,retry-after"
    assert len(cors.authorizer_calls) == 1
    # Without an Origin header (curl, servers) nothing is added.
    status, headers, _ = cors.request("GET", "/v1/things/7", GOOD)
    assert status == 200
    assert "access-control-allow-origin" not in headers


def test_gateway_answers_carry_the_cors_headers_and_other_origins_get_none(cors: Stack) -> None:
    status, headers, _ = cors.request("GET", "/nope", [("Origin", APP_ORIGIN)])
    assert (status, headers["access-control-allow-origin"]) == (404, APP_ORIGIN)
    status, headers, _ = cors.request("GET", "/v1/things/7", [("Origin", APP_ORIGIN)])
    assert (status, headers["access-control-allow-origin"]) == (401, APP_ORIGIN)
    status, headers, _ = cors.request("GET", "/v1/things/7", [*GOOD, ("Origin", "https://x.test")])
    assert status == 200
    assert "access-control-allow-origin" not in headers


def test_the_functions_own_cors_headers_are_ignored(cors: Stack) -> None:
    status, headers, _ = cors.request("GET", "/own-cors", [("Origin", "https://evil.example")])
    assert status == 200
    assert headers["location"] == "/v1/things/1"
    assert "access-control-allow-origin" not in headers
    status, headers, _ = cors.request("GET", "/own-cors", [("Origin", APP_ORIGIN)])
    assert headers.get_all("access-control-allow-origin") == [APP_ORIGIN]


def test_without_cors_an_options_preflight_is_still_a_404(stack: Stack) -> None:
    assert stack.gateway.cors_of() is None
    status, headers, body = stack.request("OPTIONS", "/v1/things/1", preflight(APP_ORIGIN))
    assert (status, body) == (404, b'{"message":"Not Found"}')
    assert "access-control-allow-origin" not in headers


def test_a_delete_answers_204_without_content_type_or_body(cors: Stack) -> None:
    for extra in ([], [("Origin", APP_ORIGIN)]):
        status, headers, body = cors.request("DELETE", "/v1/things/1", [*GOOD, *extra])
        assert (status, body) == (204, b"")
        assert "content-type" not in headers
        assert headers["content-length"] == "0"
        assert headers["vary"] == "Accept"
