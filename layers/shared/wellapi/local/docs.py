"""Documentation routes of the local server: the OpenAPI document and a Swagger UI for it.

- ``GET /v1/openapi.json``: ``wellapi.openapi.render()``, the OpenAPI 3.1 document (the same
  text as the committed ``openapi.json``), as ``application/json``, or as
  ``application/vnd.oai.openapi+json;version=3.1`` when the client asks for that type;
- ``GET /docs``: a Swagger UI page, with its assets served from the ``swagger-ui-bundle``
  wheel under ``/docs/<file>`` (nothing comes from a CDN).

Swagger UI 4 (the version ``swagger-ui-bundle`` 1.1.0 ships, the latest on PyPI) renders
OpenAPI 3.0 only: given a 3.1 document it shows "Unable to render this definition". The page
therefore loads ``/docs/openapi-3.0.json``, the same document translated for display
(``openapi_30``); ``/v1/openapi.json`` stays the real one.

These routes are the local server's own (no authorizer, no function): API Gateway has none
of them.
"""

from __future__ import annotations

import base64
import functools
import json
import mimetypes
from pathlib import Path
from typing import Any

from wellapi import openapi
from wellapi.local.gateway import LocalRoute

OPENAPI_MEDIA_TYPE = "application/vnd.oai.openapi+json;version=3.1"
DOCS_PATH = "/docs"
SWAGGER_UI_ASSETS = (
    "swagger-ui.css",
    "swagger-ui-bundle.js",
    "swagger-ui-standalone-preset.js",
    "favicon-32x32.png",
    "favicon-16x16.png",
)

PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <title>Well junction-resources API (local)</title>
    <link rel="stylesheet" type="text/css" href="/docs/swagger-ui.css">
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32">
    <link rel="icon" type="image/png" href="/docs/favicon-16x16.png" sizes="16x16">
    <style>html { box-sizing: border-box; } body { margin: 0; }</style>
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js" charset="UTF-8"></script>
    <script src="/docs/swagger-ui-standalone-preset.js" charset="UTF-8"></script>
    <script>
      // The OpenAPI 3.1 document is /v1/openapi.json; this viewer (Swagger UI 4) reads 3.0
      // only, so it loads the same document translated for display.
      window.onload = function () {
        window.ui = SwaggerUIBundle({
          url: "/docs/openapi-3.0.json",
          dom_id: "#swagger-ui",
          deepLinking: true,
          presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
          layout: "StandaloneLayout"
        });
      };
    </script>
  </body>
</html>
"""


def doc_routes() -> list[LocalRoute]:
    return [
        LocalRoute("GET", "/v1/openapi.json", openapi_document),
        LocalRoute("GET", DOCS_PATH, swagger_page),
        LocalRoute("GET", f"{DOCS_PATH}/", swagger_page),
        LocalRoute("GET", f"{DOCS_PATH}/openapi-3.0.json", openapi_30_document),
        LocalRoute("GET", DOCS_PATH + "/{asset}", swagger_asset),
    ]


@functools.cache
def _rendered() -> str:
    return openapi.render()


@functools.cache
def _rendered_30() -> str:
    return json.dumps(openapi_30(openapi.build_document()), indent=2, sort_keys=True) + "\n"


def openapi_document(event: dict[str, Any]) -> dict[str, Any]:
    accept = (event.get("headers") or {}).get("accept", "")
    wanted = "application/vnd.oai.openapi+json" in accept.lower()
    return _text(200, OPENAPI_MEDIA_TYPE if wanted else "application/json", _rendered())


def openapi_30_document(event: dict[str, Any]) -> dict[str, Any]:
    return _text(200, "application/json", _rendered_30())


def swagger_page(event: dict[str, Any]) -> dict[str, Any]:
    return _text(200, "text/html; charset=utf-8", PAGE)


def swagger_asset(event: dict[str, Any]) -> dict[str, Any]:
    name = (event.get("pathParameters") or {}).get("asset", "")
    if name not in SWAGGER_UI_ASSETS:
        return _text(404, "application/json", json.dumps({"message": "Not Found"}))
    data = (swagger_ui_dir() / name).read_bytes()
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return {
        "statusCode": 200,
        "headers": {"content-type": content_type, "cache-control": "max-age=3600"},
        "body": base64.b64encode(data).decode("ascii"),
        "isBase64Encoded": True,
    }


def swagger_ui_dir() -> Path:
    """The Swagger UI distribution inside the ``swagger-ui-bundle`` wheel (a dev dependency)."""
    import swagger_ui_bundle

    return Path(str(swagger_ui_bundle.swagger_ui_path))


def _text(status: int, content_type: str, text: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": content_type}, "body": text}


# ---------------------------------------------------------------------------------------------
# OpenAPI 3.1 -> 3.0, for the viewer only
# ---------------------------------------------------------------------------------------------


def openapi_30(document: dict[str, Any]) -> dict[str, Any]:
    """The document in OpenAPI 3.0 terms, for a viewer that reads nothing newer.

    Only what this project's document uses is translated: ``type: [T, "null"]`` becomes
    ``type: T`` with ``nullable: true``, ``const: v`` becomes ``enum: [v]``, and a ``oneOf``
    that admits ``{"type": "null"}`` becomes the other alternatives with ``nullable: true``.
    """
    translated = _schema_30(document)
    assert isinstance(translated, dict)
    translated["openapi"] = "3.0.3"
    return translated


def _schema_30(node: Any) -> Any:
    if isinstance(node, list):
        return [_schema_30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _schema_30(value) for key, value in node.items()}
    kind = out.get("type")
    if isinstance(kind, list):
        others = [k for k in kind if k != "null"]
        if len(others) == 1:
            out["type"] = others[0]
        else:
            del out["type"]
        if "null" in kind:
            out["nullable"] = True
    if "const" in out:
        out["enum"] = [out.pop("const")]
    for combinator in ("oneOf", "anyOf"):
        options = out.get(combinator)
        if isinstance(options, list) and {"type": "null"} in options:
            rest = [option for option in options if option != {"type": "null"}]
            del out[combinator]
            if len(rest) == 1 and "$ref" not in rest[0]:
                out.update(rest[0])
            elif len(rest) == 1:
                out["allOf"] = rest
            else:
                out[combinator] = rest
            out["nullable"] = True
    return out
