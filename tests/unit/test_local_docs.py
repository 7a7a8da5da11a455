"""The local documentation routes: the OpenAPI document, and a Swagger UI served without a CDN.

The handlers are called with payload 2.0 events as the gateway builds them; that they answer
through the running server without an API key is in ``tests/system/test_local_run.py``.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from welldev import docs, openapi

ROOT = Path(__file__).resolve().parents[2]


def event(path: str, headers: dict[str, str] | None = None, **path_parameters: str) -> Any:
    return {
        "rawPath": path,
        "headers": headers or {},
        "pathParameters": path_parameters,
        "requestContext": {"http": {"method": "GET", "path": path}},
    }


def swagger_ui_version() -> tuple[int, ...]:
    """The version of the Swagger UI the page serves, as its bundle states it."""
    bundle = (docs.swagger_ui_dir() / "swagger-ui-bundle.js").read_text(encoding="utf-8")
    found = re.search(r'PACKAGE_VERSION:"([0-9.]+)"', bundle)
    assert found, "no PACKAGE_VERSION in swagger-ui-bundle.js"
    return tuple(int(part) for part in found.group(1).split("."))


def test_the_openapi_route_serves_the_committed_document() -> None:
    response = docs.openapi_document(event("/v1/openapi.json"))
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "application/json"
    assert response["body"] == openapi.render() == (ROOT / "openapi.json").read_text()


def test_a_client_that_asks_for_the_openapi_media_type_gets_it() -> None:
    accept = {"accept": "application/vnd.oai.openapi+json;version=3.1, application/json;q=0.5"}
    response = docs.openapi_document(event("/v1/openapi.json", accept))
    assert response["headers"]["content-type"] == "application/vnd.oai.openapi+json;version=3.1"


def test_the_viewer_renders_openapi_3_1_so_the_page_loads_the_real_document() -> None:
    # Swagger UI renders OpenAPI 3.1 from 5.0 on (its isOAS31 check); 4 could not.
    assert swagger_ui_version() >= (5, 0)
    assert "isOAS31" in (docs.swagger_ui_dir() / "swagger-ui-bundle.js").read_text()
    assert openapi.build_document()["openapi"] == "3.1.0"
    page = docs.swagger_page(event("/docs"))["body"]
    assert 'url: "/v1/openapi.json"' in page
    assert "openapi-3.0" not in page


def test_the_swagger_page_loads_only_local_assets() -> None:
    response = docs.swagger_page(event("/docs"))
    assert response["statusCode"] == 200
    assert response["headers"]["content-type"].startswith("text/html")
    page = response["body"]
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources
    assert all(source.startswith("/docs/") for source in sources), sources
    assert "://" not in page  # no CDN, nothing remote
    assert 'url: "/v1/openapi.json"' in page
    assert "/docs/LICENSE" in sources  # the licence of what the page serves
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
        ("LICENSE", "text/plain; charset=utf-8"),
    ],
)
def test_assets_come_from_the_swagger_ui_py_wheel(name: str, content_type: str) -> None:
    response = docs.swagger_asset(event(f"/docs/{name}", asset=name))
    assert response["isBase64Encoded"] is True
    assert response["headers"]["content-type"] == content_type
    assert "site-packages" in str(docs.swagger_ui_dir())
    assert docs.swagger_ui_dir().parts[-2:] == ("swagger_ui", "static")


def test_the_served_licence_is_swagger_ui_s_apache_licence() -> None:
    response = docs.swagger_asset(event("/docs/LICENSE", asset="LICENSE"))
    assert "Apache License" in base64.b64decode(response["body"]).decode()


@pytest.mark.parametrize(
    "name",
    ["index.html", "..", "swagger-initializer.js", "openapi.json", "swagger-editor-bundle.js"],
)
def test_anything_but_the_pages_assets_is_not_found(name: str) -> None:
    response = docs.swagger_asset(event(f"/docs/{name}", asset=name))
    assert response["statusCode"] == 404
    assert json.loads(response["body"]) == {"message": "Not Found"}


def test_the_documentation_routes() -> None:
    assert [(r.method, r.path) for r in docs.doc_routes()] == [
        ("GET", "/v1/openapi.json"),
        ("GET", "/docs"),
        ("GET", "/docs/"),
        ("GET", "/docs/{asset}"),
    ]


def test_swagger_ui_groups_each_operation_under_its_collection_named_as_in_the_path() -> None:
    document = openapi.build_document()
    groups = [tag["name"] for tag in document["tags"]]
    assert len(set(groups)) == len(groups), groups
    used = set()
    for path, methods in document["paths"].items():
        segments = [s for s in path.split("/")[2:] if not s.startswith("{")]
        # /v1/workspaces/{workspace_id}/providers writes workspace-providers: the nested routes
        # belong to the collection they write, named from their own two collections.
        collection = segments[0] if segments[0] in groups else f"{segments[0][:-1]}-{segments[1]}"
        for method, spec in methods.items():
            assert spec["tags"] == [collection], (path, method, spec["tags"])
            assert re.fullmatch(r"[a-z]+(-[a-z]+)*", collection), collection
            used.add(collection)
    assert used == set(groups)
    assert all(tag["description"].strip() for tag in document["tags"])


def test_the_swagger_page_opens_with_two_sentences_then_headed_sections() -> None:
    description = openapi.build_document()["info"]["description"]
    opening, *rest = description.split("\n\n")
    assert len(re.findall(r"[.!?](?:\s|$)", opening)) <= 2, opening
    assert "Authorize" in opening
    # Everything after the opening sits under a heading, so the page can be skimmed.
    assert rest, description
    assert rest[0].startswith("### "), rest[0]
    assert all(len(paragraph) <= 600 for paragraph in rest), [len(p) for p in rest]
