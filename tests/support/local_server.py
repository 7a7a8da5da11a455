"""A local server in front of a fixture stack, for the tests of what API Gateway clients see.

The fixture functions are written to a temporary directory, so nothing here depends on the
project's handlers; ``serve`` runs one server on an ephemeral port for a module's tests.
"""

from __future__ import annotations

import http.client
import io
import json
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.stacks import function, stack
from welldev.gateway import Gateway, RouteTarget
from welldev.lambda_runtime import LambdaRuntime
from welldev.server import LocalServer
from welldev.stack import Authorizer, CorsConfiguration, Function

AUTHORIZER = Authorizer("ApiKey", "AuthorizerFunction")


def fixture_functions(root: Path, *more: Function) -> list[Function]:
    """The plain server's functions, their code under ``root``, and ``more``."""
    src = root / "src"
    return [
        function(
            "EchoFunction",
            "server_fixture_app.echo",
            src,
            routes=[("GET", "/v1/things/{id}"), ("POST", "/v1/things"), ("ANY", "/files/{proxy+}")],
        ),
        function(
            "SpecialFunction",
            "server_fixture_app.special",
            src,
            routes=[("GET", "/v1/things/special")],
        ),
        function(
            "PublicFunction", "server_fixture_app.echo", src, routes=[("GET", "/health", None)]
        ),
        function(
            "ShapesFunction",
            "server_fixture_app.shapes",
            src,
            routes=[("GET", "/shapes/{kind}", None)],
        ),
        function("AuthorizerFunction", "server_fixture_auth.handler", root / "auth"),
        *more,
    ]


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
    from wellapi.http.response import document_response

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
    token = event["headers"].get("authorization", "")
    if token == "Bearer crash":
        raise RuntimeError("authorizer failed")
    if token.startswith("Bearer good"):
        return {"isAuthorized": True, "context": {"person_id": "p-1", "token": token}}
    return {"isAuthorized": False}
"""


class Log(io.StringIO):
    """The gateway's and the server's log, on which a test can wait for a line."""

    def __init__(self) -> None:
        super().__init__()
        self._changed = threading.Condition()

    def write(self, text: str) -> int:
        with self._changed:
            written = super().write(text)
            self._changed.notify_all()
        return written

    def wait_for(self, text: str, timeout: float = 60) -> bool:
        """Whether ``text`` was logged (the timeout only bounds a hang)."""
        with self._changed:
            return self._changed.wait_for(lambda: text in self.getvalue(), timeout)


@dataclass
class Stack:
    server: LocalServer
    gateway: Gateway
    log: Log
    root: Path  # where the fixture functions' code is

    @property
    def authorizer_calls(self) -> list[dict[str, Any]]:
        # The runtime imports the authorizer on its first call: until then it was never called.
        module = sys.modules.get("server_fixture_auth")
        calls: list[dict[str, Any]] = module.CALLS if module is not None else []
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


def serve(
    tmp_path_factory: pytest.TempPathFactory,
    more: Callable[[Path], list[Function]] = lambda _: [],
    cors: CorsConfiguration | None = None,
    root: Path | None = None,
) -> Iterator[Stack]:
    """A server for the fixture functions and ``more`` (made from where their code is); a
    second one shares the first's ``root`` (one process holds one module of a name, so both
    must run the same fixture files)."""
    owns_files = root is None
    if root is None:
        root = tmp_path_factory.mktemp("server")
        (root / "src").mkdir()
        (root / "auth").mkdir()
        (root / "src" / "server_fixture_app.py").write_text(textwrap.dedent(APP))
        (root / "auth" / "server_fixture_auth.py").write_text(textwrap.dedent(AUTH))
    template = stack(*fixture_functions(root, *more(root)), authorizer=AUTHORIZER, cors=cors)
    log = Log()
    openapi = RouteTarget(
        "GET",
        "/v1/openapi.json",
        local=lambda event: {"openapi": "3.1.0", "path": event["rawPath"]},
    )
    gateway = Gateway(
        template,
        LambdaRuntime(template),
        local_routes=[openapi],
        log=log,
    )
    server = LocalServer(gateway, "127.0.0.1", 0, log=log)
    thread = server.start_in_thread()
    yield Stack(server, gateway, log, root)
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


def reset_authorizer(stack: Stack) -> None:
    """An empty authorizer call log, for a test that counts the authorizer's calls."""
    stack.authorizer_calls.clear()
