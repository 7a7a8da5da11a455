"""Content negotiation exactly as JSON:API 1.1 says.

A JSON:API media type may carry only the ``ext`` and ``profile`` parameters. We support no
extensions. An ``Accept`` header that lists the JSON:API media type only with other
parameters (or only with extensions we lack) gets 406; a request body must be sent as the
JSON:API media type with no parameter but ``ext``/``profile`` (415 otherwise).
"""

from __future__ import annotations

from wellapi.errors import NotAcceptable, UnsupportedMediaType
from wellapi.jsonapi import MEDIA_TYPE

ALLOWED_PARAMETERS = frozenset({"ext", "profile"})
SUPPORTED_EXTENSIONS: frozenset[str] = frozenset()


def _split_parameters(value: str) -> tuple[str, dict[str, str]]:
    parts = [p.strip() for p in value.split(";")]
    params: dict[str, str] = {}
    for part in parts[1:]:
        if not part:
            continue
        name, _, raw = part.partition("=")
        params[name.strip().lower()] = raw.strip().strip('"')
    return parts[0].lower(), params


def _split_media_ranges(header: str) -> list[str]:
    """Split on commas that are not inside a quoted parameter value."""
    ranges: list[str] = []
    current: list[str] = []
    quoted = False
    for char in header:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            ranges.append("".join(current))
            current = []
        else:
            current.append(char)
    ranges.append("".join(current))
    return [r for r in (s.strip() for s in ranges) if r]


def _extensions_supported(params: dict[str, str]) -> bool:
    ext = params.get("ext")
    if ext is None:
        return True
    return all(uri in SUPPORTED_EXTENSIONS for uri in ext.split())


def check_accept(header: str | None) -> None:
    if not header:
        return
    instances = [_split_parameters(r) for r in _split_media_ranges(header)]
    jsonapi = [params for media, params in instances if media == MEDIA_TYPE]
    if not jsonapi:
        return
    usable = [p for p in jsonapi if set(p) - {"q"} <= ALLOWED_PARAMETERS]
    if not usable:
        raise NotAcceptable(
            "Accept lists the JSON:API media type only with parameters other than ext and profile.",
            header="Accept",
        )
    if not any(_extensions_supported(p) for p in usable):
        raise NotAcceptable("This API supports no JSON:API extensions.", header="Accept")


def check_content_type(header: str | None) -> None:
    if not header:
        raise UnsupportedMediaType(f"Send the request body as {MEDIA_TYPE}.", header="Content-Type")
    media, params = _split_parameters(header)
    if media != MEDIA_TYPE:
        raise UnsupportedMediaType(f"Send the request body as {MEDIA_TYPE}.", header="Content-Type")
    unknown = set(params) - ALLOWED_PARAMETERS
    if unknown:
        raise UnsupportedMediaType(
            f"Media type parameter '{sorted(unknown)[0]}' is not allowed; only ext and profile.",
            header="Content-Type",
        )
    if not _extensions_supported(params):
        raise UnsupportedMediaType(
            "This API supports no JSON:API extensions.", header="Content-Type"
        )
