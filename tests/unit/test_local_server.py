"""The local server in front of a fixture template: what a client of API Gateway would see.

A real server runs on an ephemeral port; requests go over loopback with http.client. The
fixture functions live in tmp_path (tests/support/local_server.py), so nothing here depends on
the project's handlers. CORS is in test_local_cors.py; the gateway's rules that need no
network (routing, authorizer answers, response mapping) in test_local_gateway_rules.py.
"""

from __future__ import annotations

import base64
import io
import json
import re
import socket
import uuid
from collections.abc import Iterator

import pytest

from tests.support.local_server import AUTHORIZER, GOOD, Stack, reset_authorizer, serve
from welldev.payload import MAX_REQUEST_BODY_BYTES, raw_path_of
from welldev.server import LocalServer
from welldev.stack import LOCAL_ACCOUNT_ID


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from serve(tmp_path_factory)


@pytest.fixture(autouse=True)
def fresh_authorizer(stack: Stack) -> None:
    """Each test starts with an empty authorizer call log."""
    reset_authorizer(stack)


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
    assert sorted(t.route_key for t in stack.gateway.router.targets) == sorted(
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
    assert {t.function_id: t.authorizer for t in stack.gateway.router.targets} == {
        "EchoFunction": AUTHORIZER,
        "PublicFunction": None,
        "ShapesFunction": None,
        "SpecialFunction": AUTHORIZER,
        None: None,  # the local route
    }


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
    assert call["routeKey"] == "GET /v1/things/{id}"
    assert re.fullmatch(
        r"arn:aws:execute-api:[^:]+:\d{12}:[0-9a-f]{10}/\$default/GET/v1/things/1", call["routeArn"]
    )
    assert "authorizer" not in call["requestContext"]


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
