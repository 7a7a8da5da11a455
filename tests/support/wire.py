"""Requests to a running local server over loopback, exactly as written (bytes on the wire).

``send`` takes a request-target that is already percent-encoded, so tests control every byte of
it; the reply keeps the status, the headers, the raw body and how long the exchange took.
"""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.support.api import JSONAPI, assert_valid_document


@dataclass(frozen=True)
class WireReply:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def errors(self) -> list[dict[str, Any]]:
        """The error objects of a JSON:API error document (checked against the 1.1 schema)."""
        assert self.content_type.startswith(JSONAPI), (self.status, self.content_type, self.text)
        document = self.json
        assert_valid_document(document)
        return list(document["errors"])


def send(
    base_url: str,
    method: str,
    target: str,
    *,
    key: str | None = None,
    body: bytes | dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> WireReply:
    """One request on a fresh connection; ``body`` as a dict is sent as a JSON:API document."""
    parts = urlsplit(base_url)
    all_headers = {"Accept": JSONAPI}
    if key is not None:
        all_headers["Authorization"] = f"Bearer {key}"
    payload: bytes | None
    if isinstance(body, dict):
        payload = json.dumps(body).encode()
        all_headers["Content-Type"] = JSONAPI
    else:
        payload = body
    all_headers.update(headers or {})
    connection = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=timeout
    )
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in all_headers.items():
            connection.putheader(name, value)
        framed = {h.lower() for h in all_headers} & {"content-length", "transfer-encoding"}
        if payload is not None and not framed:
            connection.putheader("Content-Length", str(len(payload)))
        connection.endheaders(payload)
        response = connection.getresponse()
        data = response.read()
        reply_headers = {name.lower(): value for name, value in response.getheaders()}
        return WireReply(response.status, reply_headers, data)
    finally:
        connection.close()
