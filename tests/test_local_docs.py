"""The local documentation routes: the OpenAPI document, and a Swagger UI served without a CDN.

The handlers are called with payload 2.0 events as the gateway builds them; that they answer
through the running server without an API key is in ``tests/test_local_run.py``.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from wellapi import openapi
from wellapi.local import docs

ROOT = Path(__file__).resolve().parents[1]


def event(path: str, headers: dict[str, str] | None = None, **path_parameters: str) -> Any:
    return {
        "rawPath": path,
        "headers": headers or {},
        "pathParameters": path_parameters,
        "requestContext": {"http": {"method": "GET", "path": path}},
    }


def walk(node: Any) -> list[dict[str, Any]]:
    """Every object of a JSON document."""
    if isinstance(node, dict):
        return [node] + [o for value in node.values() for o in walk(value)]
    if isinstance(node, list):
        return [o for item in node for o in walk(item)]
    return []


def swagger_ui_4_reads(document: dict[str, Any]) -> bool:
    """Swagger UI 4's own version check (``isOAS3``), as the bundled JavaScript has it."""
    version = document.get("openapi")
    return isinstance(version, str) and version.startswith("3.0.") and len(version) > 4


def test_the_openapi_route_serves_the_committed_document() -> None:
    response = docs.openapi_document(event("/v1/openapi.json"))
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response["body"] == openapi.render() == (ROOT / "openapi.json").read_text()


def test_a_client_that_asks_for_the_openapi_media_type_gets_it() -> None:
    accept = {"accept": "application/vnd.oai.openapi+json;version=3.1, application/json;q=0.5"}
    response = docs.openapi_document(event("/v1/openapi.json", accept))
    assert response["headers"]["content-type"] == "application/vnd.oai.openapi+json;version=3.1"


def test_the_viewer_gets_the_same_document_in_openapi_3_0_terms() -> None:
    original = openapi.build_document()
    response = docs.openapi_30_document(event("/docs/openapi-3.0.json"))
    translated = json.loads(response["body"])
    assert not swagger_ui_4_reads(original)  # why the translation exists
    assert swagger_ui_4_reads(translated)
    assert translated["paths"].keys() == original["paths"].keys()
    assert translated["components"]["schemas"].keys() == original["components"]["schemas"].keys()
    objects = walk(translated)
    assert not [o for o in objects if isinstance(o.get("type"), list)]
    assert not [o for o in objects if "const" in o]
    assert {"type": "null"} not in objects
    refs = {o["$ref"].removeprefix("#/components/schemas/") for o in objects if "$ref" in o}
    assert refs <= translated["components"]["schemas"].keys()


def test_nullable_members_and_constants_keep_their_meaning_in_3_0() -> None:
    schema = {
        "properties": {
            "deleted_at": {"type": ["string", "null"], "format": "date-time"},
            "type": {"const": "provider"},
            "link": {"oneOf": [{"type": "object", "required": ["id"]}, {"type": "null"}]},
            "parent": {"oneOf": [{"$ref": "#/components/schemas/P"}, {"type": "null"}]},
            "either": {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]},
            "anything": {"type": ["string", "integer", "null"]},
        }
    }
    assert docs.openapi_30({"openapi": "3.1.0", "x": schema})["x"]["properties"] == {
        "deleted_at": {"type": "string", "format": "date-time", "nullable": True},
        "type": {"enum": ["provider"]},
        "link": {"type": "object", "required": ["id"], "nullable": True},
        "parent": {"allOf": [{"$ref": "#/components/schemas/P"}], "nullable": True},
        "either": {"oneOf": [{"type": "string"}, {"type": "integer"}], "nullable": True},
        "anything": {"nullable": True},
    }


def test_the_swagger_page_loads_only_local_assets() -> None:
    response = docs.swagger_page(event("/docs"))
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("text/html")
    page = response["body"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(source.startswith("/docs/") for source in sources), sources
    assert "://" not in page  # no CDN, nothing remote
    assert 'url: "/docs/openapi-3.0.json"' in page
    for source in sources:
        name = source.removeprefix("/docs/")
        asset = docs.swagger_asset(event(source, asset=name))
        assert asset["statusCode"] == 200, name
        assert base64.b64decode(asset["body"]) == (docs.swagger_ui_dir() / name).read_bytes()


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("favicon-32x32.png", "image/png"),
    ],
)
def test_assets_come_from_the_swagger_ui_bundle_wheel(name: str, content_type: str) -> None:
    response = docs.swagger_asset(event(f"/docs/{name}", asset=name))
    assert response["isBase64Encoded"] is True
    assert response["headers"]["content-type"] == content_type
    assert "site-packages" in str(docs.swagger_ui_dir())


@pytest.mark.parametrize("name", ["index.html", "..", "swagger-initializer.js", "openapi.json"])
def test_anything_but_the_pages_assets_is_not_found(name: str) -> None:
    response = docs.swagger_asset(event(f"/docs/{name}", asset=name))
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"message": "Not Found"}


def test_the_documentation_routes() -> None:
    assert [(r.method, r.path) for r in docs.doc_routes()] == [
        ("GET", "/v1/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/"),
        ("GET", "/docs/openapi-3.0.json"),
        ("GET", "/docs/{asset}"),
    ]
