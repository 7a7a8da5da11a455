"""Documentation routes of the local server: the OpenAPI document and a Swagger UI for it.

- ``GET /v1/openapi.json``: ``welldev.openapi.render()``, the OpenAPI 3.1 document (the same
  text as the committed ``openapi.json``), as ``application/json``, or as
  ``application/vnd.oai.openapi+json;version=3.1`` when the client asks for that type;
- ``GET /docs``: a Swagger UI page (``docs.html``) that loads that document, with its assets
  served from the ``swagger-ui-py`` wheel's static files under ``/docs/<file>`` (nothing comes
  from a CDN). The wheel (25.7.1) ships Swagger UI 5.24, which renders OpenAPI 3.1 as it is.
  Its licence (Apache-2.0) is served as ``/docs/LICENSE`` and linked from the page.

These routes are the local server's own (no authorizer, no function): API Gateway has none
of them.
"""

from __future__ import annotations

import base64
import functools
import importlib.util
import json
import string
from pathlib import Path
from typing import Any

from welldev import openapi
from welldev.gateway import RouteTarget

OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.1"
OPENAPI_PATH = "/v1/openapi.json"
DOCS_PATH = "/docs"
SWAGGER_UI_ASSETS = {
    "swagger-ui.css": "text/css",
    "index.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "favicon-32x32.png": "image/png",
    "favicon-16x16.png": "image/png",
    "LICENSE": "text/plain; charset=utf-8",
}

# The document, rendered once.
_rendered = functools.cache(openapi.render)
# The page: Swagger UI's own assets, and the document's title and route filled in.
PAGE = string.Template(Path(__file__).with_name("docs.html").read_text()).substitute(
    title=openapi.TITLE, openapi_path=OPENAPI_PATH
)


def doc_routes() -> list[RouteTarget]:
    return [
        RouteTarget("GET", OPENAPI_PATH, local=openapi_document),
        RouteTarget("GET", DOCS_PATH, local=swagger_page),
        RouteTarget("GET", f"{DOCS_PATH}/", local=swagger_page),
        RouteTarget("GET", DOCS_PATH + "/{asset}", local=swagger_asset),
    ]


def openapi_document(event: dict[str, Any]) -> dict[str, Any]:
    accept = (event.get("headers") or {}).get("accept", "")
    wanted = "application/vnd.oai.openapi+json" in accept.lower()
    return _text(200, OPENAPI_MEDIA_TYPE if wanted else "application/json", _rendered())


def swagger_page(event: dict[str, Any]) -> dict[str, Any]:
    return _text(200, "text/html; charset=utf-8", PAGE)


def swagger_asset(event: dict[str, Any]) -> dict[str, Any]:
    name = (event.get("pathParameters") or {}).get("asset", "")
    if name not in SWAGGER_UI_ASSETS:
        return _text(404, "application/json", json.dumps({"message": "Not Found"}))
    data = (swagger_ui_dir() / name).read_bytes()
    return {
        "statusCode": 200,
        "headers": {"content-type": SWAGGER_UI_ASSETS[name], "cache-control": "max-age=3600"},
        "body": base64.b64encode(data).decode("ascii"),
        "isBase64Encoded": True,
    }


def swagger_ui_dir() -> Path:
    """The Swagger UI distribution inside the ``swagger-ui-py`` wheel (a dev dependency), found
    without importing the package, whose ``__init__`` loads web-framework glue (Jinja2 and the
    rest) this page does not use."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("swagger-ui-py is not installed (a development dependency)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _text(status: int, content_type: str, text: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": content_type}, "body": text}
