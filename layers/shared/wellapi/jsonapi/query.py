"""Strict parsing of the query string into a typed request for the read engine.

Every parameter is either one JSON:API reserves (include, fields, sort, page, filter) used as
we define it, or one of ours (``workspace_id``, legacy ``workspaceId``; the platform's flat
pagination ``limit`` and ``cursor``). Anything else, a repeated parameter, or a malformed value
is a 400 naming the parameter.

A List pages in one of three forms, never two in one request (400 ``MIXED_PAGINATION``): the
cursor pagination profile's ``page[size]``, ``page[after]``, ``page[before]`` (the default);
the platform's ``limit`` and ``cursor``, whose value is the token of the previous answer's
``links.next`` (or ``links.prev``); or numbered pages, ``page[number]`` with ``page[size]``, as
page-number clients send them, as deep as ``MAX_PAGE_DEPTH`` rows (400 ``PAGE_NUMBER_TOO_DEEP``
beyond: a numbered page reads every row before it). The page links answer in the form the
request used; past the depth a numbered page's ``next`` is a cursor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qsl, unquote_plus
from uuid import UUID

from wellapi.errors import InvalidQueryParameter
from wellapi.jsonapi import CURSOR_PROFILE
from wellapi.jsonapi.cursor import ChangePlace, Cursor, decode_change_place, decode_cursor
from wellapi.jsonapi.ids import canonical_uuid
from wellapi.resources import PARENTS, Parent, Resource
from wellapi.resources.feed import SYNC_RUN_ID_MAX
from wellapi.resources.utc import to_utc

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 500
# Bounds a request's SQL: more ids than this in one filter is a client error, not a query.
MAX_FILTER_VALUES = 100
RANGE_OPERATORS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}
WORKSPACE_PARAMETERS = ("workspace_id", "workspaceId")
# The platform's flat pagination, beside the profile's ``page[...]``.
LIMIT_PARAMETER = "limit"
CURSOR_PARAMETER = "cursor"
PAGE_SIZE_PARAMETER = "page[size]"
PAGE_NUMBER_PARAMETER = "page[number]"
PROFILE_PAGE_PARAMETERS = (PAGE_SIZE_PARAMETER, "page[after]", "page[before]")
FLAT_PAGE_PARAMETERS = (LIMIT_PARAMETER, CURSOR_PARAMETER)
# How deep a numbered page may start: it skips every row before it, so its cost grows with its
# depth (docs/api.md, "Pages"). The same as the bound of meta.total, so a numbered
# List whose total is exact can link its last page.
MAX_PAGE_DEPTH = 1000

# How a List asked for its page, and so how its links ask for the next: the cursor
# pagination profile's page[...] (also when it named neither), the platform's flat form, or
# numbered pages.
Pagination = Literal["profile", "flat", "number"]

_NAME = re.compile(r"^(?P<family>[A-Za-z_]+)(?P<path>(?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_DIGITS = re.compile(r"[0-9]+")

# What a read answers: a collection, one resource, the resource one of its relationships
# points at (whose type is the relationship's), or that relationship's linkage alone.
# ``feed``: the changes feed, a collection read forward in commit order (``operations.feed``).
ReadKind = Literal["list", "retrieve", "related", "relationship", "feed"]


@dataclass(frozen=True)
class RangeFilter:
    attribute: str
    operator: str
    value: datetime


@dataclass(frozen=True)
class ReadQuery:
    include: tuple[str, ...] = ()
    fields: dict[str, frozenset[str]] = field(default_factory=dict)
    sort: str = "created_at"
    descending: bool = True
    relationship_filters: tuple[tuple[str, tuple[UUID, ...]], ...] = ()
    attribute_filters: tuple[tuple[str, tuple[str | bool, ...]], ...] = ()
    ranges: tuple[RangeFilter, ...] = ()
    page_size: int = DEFAULT_PAGE_SIZE
    after: Cursor | None = None
    before: Cursor | None = None
    workspace_id: UUID | None = None
    workspace_parameter: str | None = None
    include_requested: bool = False
    pagination: Pagination = "profile"
    # A numbered page's number (1 for the first); None when the List pages by cursor.
    page_number: int | None = None
    # The changes feed's cursor: the place of the last record the previous page showed.
    position: ChangePlace | None = None

    @property
    def sort_token(self) -> str:
        return ("-" if self.descending else "") + self.sort

    @property
    def offset(self) -> int:
        """The rows a numbered page skips: every row of the pages before it."""
        return ((self.page_number or 1) - 1) * self.page_size


def _bad(
    detail: str, parameter: str, code: str = "INVALID_QUERY_PARAMETER"
) -> InvalidQueryParameter:
    return InvalidQueryParameter(detail, parameter=parameter, code=code)


def split_list(value: str, parameter: str) -> tuple[str, ...]:
    items = tuple(v.strip() for v in value.split(","))
    if any(not v for v in items):
        raise _bad("The list has an empty item.", parameter)
    return items


def parse_uuid(value: str, parameter: str) -> UUID:
    parsed = canonical_uuid(value)
    if parsed is None:
        raise _bad(f"'{value}' is not a UUID.", parameter, "INVALID_UUID")
    return parsed


def parse_timestamp(value: str, parameter: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise _bad(
            f"'{value}' is not an ISO-8601 timestamp.", parameter, "INVALID_FILTER"
        ) from error
    if parsed.tzinfo is None:
        raise _bad(
            "The timestamp needs a UTC offset (for example 2026-05-10T08:00:00Z).",
            parameter,
            "INVALID_FILTER",
        )
    try:
        return to_utc(parsed)
    except ValueError as error:
        raise _bad(f"'{value}' is out of range.", parameter, "INVALID_FILTER") from error


def _parse_include(
    resource: Resource, related: Parent | None, value: str, parameter: str
) -> tuple[str, ...]:
    if value == "":
        return ()
    names = split_list(value, parameter)
    # A related route answers with a platform record, which has no relationships of its own.
    answered = related.type if related is not None else resource.type
    known = () if related is not None else tuple(r.name for r in resource.relationships)
    for name in names:
        if name not in known:
            raise _bad(
                f"'{name}' is not a relationship of {answered} that can be included.",
                parameter,
                "INVALID_INCLUDE",
            )
    return tuple(dict.fromkeys(names))


def fields_of(resource: Resource, type_name: str) -> tuple[str, ...] | None:
    """What ``fields[type_name]`` may name when reading ``resource`` (None: no such type)."""
    if type_name == resource.type:
        return resource.field_names
    if type_name in PARENTS:
        return tuple(a.name for a in PARENTS[type_name].attributes)
    return None


def _parse_fields(
    resource: Resource, related: Parent | None, type_name: str, value: str, parameter: str
) -> frozenset[str]:
    known = fields_of(resource, type_name)
    if known is None:
        raise _bad(
            f"'{type_name}' is not a resource type of this API.", parameter, "INVALID_FIELDS"
        )
    if related is not None and type_name != related.type:
        raise _bad(
            f"This route answers with {related.type} resources only.", parameter, "INVALID_FIELDS"
        )
    if value == "":
        return frozenset()
    names = split_list(value, parameter)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise _bad(f"{type_name} has no field '{unknown[0]}'.", parameter, "INVALID_FIELDS")
    return frozenset(names)


def _unsupported_sort(
    detail: str, parameter: str, meta: dict[str, object] | None = None
) -> InvalidQueryParameter:
    # Collections follow the cursor pagination profile, which names this error by a type link.
    return InvalidQueryParameter(
        detail,
        parameter=parameter,
        code="INVALID_SORT",
        links={"type": f"{CURSOR_PROFILE}/unsupported-sort"},
        meta=meta,
    )


def _sorts_taken(resource: Resource) -> str:
    """The sorts a List of ``resource`` takes, and why no other, in a sentence or two."""
    taken = f"The sorts of {resource.type} are: {', '.join(resource.sort_values)}."
    return f"{taken} {resource.sort_note}" if resource.sort_note else taken


def _parse_sort(resource: Resource, value: str, parameter: str) -> tuple[str, bool]:
    names = [v.strip() for v in value.split(",")]
    descending = names[0].startswith("-")
    bare = names[0].removeprefix("-")
    if len(names) == 1 and bare in resource.sorts:
        return bare, descending
    fault = (
        f"Sorting by '{bare}' is not supported."
        if len(names) == 1 and bare
        else "Sort by one field, optionally with '-'."
    )
    # The sorts there are, in ``detail`` for a person and ``meta.sorts`` for a program.
    raise _unsupported_sort(
        f"{fault} {_sorts_taken(resource)}", parameter, {"sorts": list(resource.sort_values)}
    )


def _whole_number(value: str, parameter: str, bound: int, expected: str) -> int | None:
    """``value`` as a whole number from 1, or None when it is over ``bound``; 400 naming
    ``parameter`` (which must be ``expected``) when it is no whole number from 1."""
    # The profile's "positive integer" is ^[0-9]+$ read in base 10: not str.isdigit(), which
    # also accepts other scripts' digits and superscripts (int() then fails on the latter).
    digits = value.lstrip("0")
    if not _DIGITS.fullmatch(value) or not digits:
        raise _bad(f"{parameter} must be {expected}.", parameter, "INVALID_PAGE_PARAMETER")
    # Any larger whole number is over the bound however long it is (and a very long one is
    # never handed to int()).
    if len(digits) > len(str(bound)) or int(digits) > bound:
        return None
    return int(digits)


def _parse_page_size(value: str, parameter: str) -> int:
    expected = f"a whole number from 1 to {MAX_PAGE_SIZE}"
    size = _whole_number(value, parameter, MAX_PAGE_SIZE, expected)
    if size is None:
        # The profile names its error by a type link; ``limit`` is not the profile's.
        profile = parameter != LIMIT_PARAMETER
        raise InvalidQueryParameter(
            f"{parameter} may be at most {MAX_PAGE_SIZE}.",
            parameter=parameter,
            code="PAGE_SIZE_TOO_LARGE",
            title="Page size requested is too large.",
            links={"type": f"{CURSOR_PROFILE}/max-size-exceeded"} if profile else None,
            meta={"page": {"maxSize": MAX_PAGE_SIZE}},
        )
    return size


def _parse_page_number(value: str) -> int:
    """A page number: a whole number from 1 (one past any depth is simply too deep)."""
    number = _whole_number(value, PAGE_NUMBER_PARAMETER, MAX_PAGE_DEPTH, "a whole number from 1")
    return MAX_PAGE_DEPTH + 1 if number is None else number


def _check_page_depth(number: int, size: int) -> None:
    """A numbered page starts at most ``MAX_PAGE_DEPTH`` rows deep."""
    if (number - 1) * size < MAX_PAGE_DEPTH:
        return
    deepest = (MAX_PAGE_DEPTH - 1) // size + 1
    raise InvalidQueryParameter(
        f"With page[size]={size}, page[number] may be at most {deepest}: a numbered page "
        f"starts at most {MAX_PAGE_DEPTH} rows deep. Follow links.next to read further.",
        parameter=PAGE_NUMBER_PARAMETER,
        code="PAGE_NUMBER_TOO_DEEP",
        title="Page number is too deep.",
        meta={"page": {"maxDepth": MAX_PAGE_DEPTH}},
    )


@dataclass
class _Filters:
    relationships: list[tuple[str, tuple[UUID, ...]]] = field(default_factory=list)
    attributes: list[tuple[str, tuple[str | bool, ...]]] = field(default_factory=list)
    ranges: list[RangeFilter] = field(default_factory=list)


def _relationship_filters(resource: Resource) -> tuple[str, ...]:
    # The feed filters on its own attributes only: its scope is the workspace it acts in.
    return tuple(r.name for r in resource.relationships) if resource.scope != "feed" else ()


def _ranges(resource: Resource) -> bool:
    return "created_at" in resource.field_names


def known_filters(resource: Resource) -> list[str]:
    """Every filter parameter ``resource`` takes, as a client writes it, in the parser's order."""
    names = [f"filter[{name}]" for name in (*_relationship_filters(resource), *resource.filters)]
    if _ranges(resource):
        names += [f"filter[created_at][{operator}]" for operator in RANGE_OPERATORS]
    return names


def _unknown_filter(resource: Resource, parameter: str) -> InvalidQueryParameter:
    # The filters there are, in ``detail`` for a person and ``meta.filters`` for a program.
    known = known_filters(resource)
    return InvalidQueryParameter(
        f"{parameter} is not a filter of {resource.type}; its filters are: {', '.join(known)}.",
        parameter=parameter,
        code="INVALID_FILTER",
        meta={"filters": known},
    )


def _parse_filter(
    resource: Resource, path: list[str], value: str, parameter: str, acc: _Filters
) -> None:
    name = path[0] if path else ""
    if name in _relationship_filters(resource) and len(path) == 1:
        ids = split_list(value, parameter)
        if len(ids) > MAX_FILTER_VALUES:
            raise _bad(f"At most {MAX_FILTER_VALUES} ids per filter.", parameter, "INVALID_FILTER")
        acc.relationships.append(
            (name, tuple(dict.fromkeys(parse_uuid(v, parameter) for v in ids)))
        )
        return
    if name == "created_at" and len(path) == 2 and path[1] in RANGE_OPERATORS and _ranges(resource):
        acc.ranges.append(RangeFilter("created_at", path[1], parse_timestamp(value, parameter)))
        return
    if name in resource.filters and len(path) == 1:
        attribute = resource.attribute(name)
        values: tuple[str | bool, ...]
        if attribute.kind == "string":
            # One value: the changes feed's sync run (its index is scanned one run at a time).
            # What a sync message's run id may be (no control character), one at a time.
            if (
                not 1 <= len(value) <= SYNC_RUN_ID_MAX
                or "," in value
                or any(c < " " or c == "\x7f" for c in value)
            ):
                raise _bad(
                    f"filter[{name}] takes one value of 1 to {SYNC_RUN_ID_MAX} characters, "
                    "without a comma or a control character.",
                    parameter,
                    "INVALID_FILTER",
                )
            values = (value,)
        elif attribute.kind == "boolean":
            if value not in ("true", "false"):
                raise _bad(f"filter[{name}] must be true or false.", parameter, "INVALID_FILTER")
            values = (value == "true",)
        else:
            items = split_list(value, parameter)
            bad = [v for v in items if v not in attribute.enum]
            if bad:
                allowed = ", ".join(attribute.enum)
                raise _bad(f"'{bad[0]}' is not one of: {allowed}.", parameter, "INVALID_FILTER")
            values = tuple(dict.fromkeys(items))
        acc.attributes.append((name, values))
        return
    raise _unknown_filter(resource, parameter)


def _undecodable(raw_query: str) -> InvalidQueryParameter:
    """The error naming the first parameter whose name or value is not UTF-8 once decoded."""
    for piece in raw_query.split("&"):
        try:
            parse_qsl(piece, keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            name = unquote_plus(piece.partition("=")[0], errors="replace")
            return _bad(f"{name} is not valid UTF-8 once percent-decoded.", name)
    return _bad("The query string is not valid UTF-8.", "query")  # pragma: no cover


def parse_read_query(
    resource: Resource, raw_query: str, kind: ReadKind, related: Parent | None = None
) -> ReadQuery:
    """The query of a read of ``resource``; ``related`` is the type a related route answers."""
    try:
        pairs = parse_qsl(raw_query, keep_blank_values=True, strict_parsing=False, errors="strict")
    except UnicodeDecodeError as error:
        raise _undecodable(raw_query) from error
    seen: set[str] = set()
    given = _Given(resource, kind, related)
    for name, value in pairs:
        if name in seen:
            raise _bad(f"{name} is given more than once.", name, "DUPLICATE_QUERY_PARAMETER")
        seen.add(name)
        form = _page_form(name, feed=given.feed) if given.collection else None
        if form is not None:
            _check_page_form(given.forms, name, form)
        _read_parameter(given, name, value)
    _check_combinations(given)
    return _read_query(given)


@dataclass
class _Given:
    """What a query string gave, as its parameters are read one at a time."""

    resource: Resource
    kind: ReadKind
    # The type a related route answers.
    related: Parent | None
    filters: _Filters = field(default_factory=_Filters)
    include: tuple[str, ...] = ()
    include_requested: bool = False
    fields: dict[str, frozenset[str]] = field(default_factory=dict)
    sort: str = "created_at"
    descending: bool = True
    page_size: int = DEFAULT_PAGE_SIZE
    page_number: int | None = None
    # Each cursor as sent, with the parameter that sent it: (value, name).
    after_raw: tuple[str, str] | None = None
    before_raw: tuple[str, str] | None = None
    flat_raw: tuple[str, str] | None = None
    # The first page parameter of each form the request gave, to name a clash: page[size]
    # is the profile's and the numbered pages' both ("size").
    forms: dict[str, str] = field(default_factory=dict)
    workspace_id: UUID | None = None
    workspace_parameter: str | None = None

    @property
    def feed(self) -> bool:
        return self.kind == "feed"

    @property
    def collection(self) -> bool:
        return self.kind in ("list", "feed")

    @property
    def documents(self) -> bool:
        # A relationship route answers linkage only: nothing to include and no fields to
        # choose; the feed's records are written whole and have nothing to include.
        return self.kind not in ("relationship", "feed")


def _page_form(name: str, *, feed: bool) -> str | None:
    """The pagination form a List's parameter belongs to, if it is a page parameter."""
    if name in FLAT_PAGE_PARAMETERS:
        return "flat"
    if name == PAGE_SIZE_PARAMETER:
        return "size"
    if name == PAGE_NUMBER_PARAMETER:
        # The feed reads forward from a place only: page[number] is not its parameter.
        return None if feed else "number"
    return "profile" if name in PROFILE_PAGE_PARAMETERS else None


# The forms a page parameter's form cannot be given with.
_CLASHES = {
    "flat": {"size", "profile", "number"},
    "size": {"flat"},
    "profile": {"flat", "number"},
    "number": {"flat", "profile"},
}


def _check_page_form(forms: dict[str, str], name: str, form: str) -> None:
    """Notes the form a page parameter belongs to: a request pages in one form only
    (page[size] goes with the profile's cursors or with page[number])."""
    others = [first for f, first in forms.items() if f in _CLASHES[form]]
    forms.setdefault(form, name)
    if others:
        other = others[0]
        raise _bad(
            f"{name} cannot be combined with {other}: page with limit and cursor, with "
            "page[size], page[after] and page[before], or with page[number] and page[size], "
            "one form only.",
            name,
            "MIXED_PAGINATION",
        )


def _pagination(forms: dict[str, str]) -> Pagination:
    if "flat" in forms:
        return "flat"
    return "number" if "number" in forms else "profile"


def _read_parameter(given: _Given, name: str, value: str) -> None:
    """Reads one parameter into ``given``, or raises the 400 naming it."""
    match = _NAME.match(name)
    family = match.group("family") if match else ""
    path = _SEGMENT.findall(match.group("path")) if match else []
    resource, related = given.resource, given.related
    collection, feed = given.collection, given.feed
    if family == "include" and not path and given.documents:
        given.include = _parse_include(resource, related, value, name)
        given.include_requested = True
    elif family == "fields" and len(path) == 1 and given.documents:
        given.fields[path[0]] = _parse_fields(resource, related, path[0], value, name)
    elif family == "sort" and not path and collection and not feed:
        given.sort, given.descending = _parse_sort(resource, value, name)
    elif ((family == "page" and path == ["size"]) or name == LIMIT_PARAMETER) and collection:
        given.page_size = _parse_page_size(value, name)
    elif name == PAGE_NUMBER_PARAMETER and collection and not feed:
        given.page_number = _parse_page_number(value)
    elif (name == CURSOR_PARAMETER and collection) or (feed and name == "page[after]"):
        given.flat_raw = (value, name)
    elif family == "page" and path in (["after"], ["before"]) and collection and not feed:
        if path == ["after"]:
            given.after_raw = (value, name)
        else:
            given.before_raw = (value, name)
    elif family == "filter" and path and collection:
        _parse_filter(resource, path, value, name, given.filters)
    elif name in WORKSPACE_PARAMETERS:
        if given.workspace_parameter is not None:
            raise _bad("Give workspace_id once.", name, "DUPLICATE_QUERY_PARAMETER")
        given.workspace_id = parse_uuid(value, name)
        given.workspace_parameter = name
    else:
        raise _bad(
            f"{name} is not a query parameter of this endpoint.",
            name,
            "UNKNOWN_QUERY_PARAMETER",
        )


def _check_combinations(given: _Given) -> None:
    """The parameters that are each valid but cannot be given together."""
    if given.page_number is not None:
        _check_page_depth(given.page_number, given.page_size)
    if given.after_raw and given.before_raw:
        raise InvalidQueryParameter(
            "page[after] and page[before] cannot be combined.",
            parameter=given.before_raw[1],
            code="RANGE_PAGINATION_NOT_SUPPORTED",
            links={"type": f"{CURSOR_PROFILE}/range-pagination-not-supported"},
        )
    if given.sort == "updated_at" and given.filters.ranges:
        # Rows made in a time range may have been updated at any time since: no index scan
        # reads them in updated_at order without stepping over every other row updated meanwhile.
        raise _unsupported_sort(
            f"sort={'-' if given.descending else ''}updated_at cannot be combined with "
            f"filter[created_at][{given.filters.ranges[0].operator}]; sort by created_at instead.",
            "sort",
        )


def _cursor(given: _Given, value: str, parameter: str, *, flat: bool = False) -> Cursor:
    """The cursor ``parameter`` gave, which must have been issued for the List's sort."""
    cursor = decode_cursor(value, parameter, flat=flat)
    sort = "-" + given.sort if given.descending else given.sort
    if cursor.sort == sort:
        return cursor
    detail = f"The cursor was issued for sort={cursor.sort}; this request sorts by {sort}."
    if cursor.sort.removeprefix("-") not in given.resource.sorts:
        # Issued for a sort this List no longer takes (a ledger's updated_at): say which it takes.
        detail = f"{detail} {_sorts_taken(given.resource)}"
    raise InvalidQueryParameter(detail, parameter=parameter, code="INVALID_CURSOR")


def _read_query(given: _Given) -> ReadQuery:
    """The query ``given`` asks for, its cursors decoded."""
    flat_raw = given.flat_raw
    position = None
    if given.feed and flat_raw:
        # The feed reads forward only: its one cursor, in either form, is a record's place.
        position = decode_change_place(*flat_raw)
        flat_raw = None
    after_raw, before_raw = given.after_raw, given.before_raw
    after = _cursor(given, *after_raw) if after_raw else None
    before = _cursor(given, *before_raw) if before_raw else None
    if flat_raw:
        flat = _cursor(given, *flat_raw, flat=True)
        if flat.backward:
            before = replace(flat, backward=False)
        else:
            after = flat
    return ReadQuery(
        include=given.include,
        fields=given.fields,
        sort=given.sort,
        descending=given.descending,
        relationship_filters=tuple(given.filters.relationships),
        attribute_filters=tuple(given.filters.attributes),
        ranges=tuple(given.filters.ranges),
        page_size=given.page_size,
        after=after,
        before=before,
        workspace_id=given.workspace_id,
        workspace_parameter=given.workspace_parameter,
        include_requested=given.include_requested,
        pagination=_pagination(given.forms),
        page_number=given.page_number,
        position=position,
    )
