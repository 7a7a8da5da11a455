"""Parsing of JSON:API request documents (create and update of one resource).

Every problem is reported with a JSON Pointer to the member at fault, all of them at once
when they are of one kind; nothing is written unless the document is clean.

What a document may hold is JSON:API 1.1's (https://jsonapi.org/format/1.1/), quoted beside
each rule below. In short: the members the specification defines and this server does not use
(``lid``, ``links``, ``meta``, ``jsonapi``, a top-level ``included``) are accepted with any value
and ignored, and so is every member the specification does not define in the object it is in
and every @-member; a name in ``attributes`` or ``relationships`` is a field of the resource,
and one the resource does not have is 400 as ever. Where the specification leaves the server
a choice, the choice is the one a generic client (kitsu, jsona, devour, jsonapi-client) needs:
such a client sends back the resource it fetched, ``links``, ``meta``, ``included`` and all.

A resource's ``type``, and a linkage's, may be today's (what every read emits), the
platform's canonical one (``canonical_type``), or either in another case or number
(``accepted_types``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from wellapi.errors import (
    ApiError,
    Conflict,
    ErrorList,
    Forbidden,
    InvalidJson,
    OutsidePeriods,
    PayloadTooLarge,
    SchemaValidationError,
    Unprocessable,
)
from wellapi.jsonapi.ids import CLIENT_ID_PAST, canonical_uuid, of_now
from wellapi.jsonapi.ids import pointer as json_pointer
from wellapi.resources import Attribute, Parent, Resource
from wellapi.resources.changes import ResourceDocument
from wellapi.resources.utc import to_utc

# API Gateway accepts 10 MB; a single junction resource is a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024
# A create or update document nests five levels (data.relationships.<name>.data.id); meta may
# hold more. A body deeper than this is refused as not JSON whatever the interpreter's parser
# would accept (3.11's gave up near a thousand levels, 3.13's near ten thousand), so the answer
# does not depend on it; below it, a member nested where it does not belong is reported with
# its pointer like any other schema error.
MAX_DEPTH = 512

Mode = Literal["create", "update"]


def canonical_type(described: Resource | Parent) -> str:
    """The platform's canonical ``type`` of a resource or of a record a relationship points at.

    The platform's naming conventions make the canonical type plural kebab-case, the name of
    the collection: its path under ``/v1`` (``account-workspace-connectors``,
    ``workspace-groups``, ``people``). Reads keep emitting ``described.type``.
    """
    return described.path


def _spellings(words: list[str]) -> tuple[str, ...]:
    """``words`` as a generic client may write them: snake, kebab, camel and Pascal case."""
    camel = words[0] + "".join(word.capitalize() for word in words[1:])
    return ("_".join(words), "-".join(words), camel, camel[:1].upper() + camel[1:])


def accepted_types(described: Resource | Parent) -> tuple[str, ...]:
    """The ``type`` values a write takes for it: today's (what reads emit), the canonical
    one, then every spelling a generic client derives from a model's name (kitsu writes
    ``workspaceProviders``, @orbit/jsonapi ``workspaceProvider``, devour
    ``workspace_provider``): snake, kebab, camel or Pascal case, singular or plural. Each
    names this resource and no other; any other type is another resource's, and 409."""
    singular, plural = described.type.split("_"), described.path.split("-")
    return tuple(
        dict.fromkeys(
            (described.type, canonical_type(described), *_spellings(singular), *_spellings(plural))
        )
    )


def _is_at_member(name: str) -> bool:
    # JSON:API 1.1, 7.8.3 @-Members: "Member names MAY also begin with an at sign (U+0040
    # COMMERCIAL AT, "@"). Members named this way are called "@-Members". @-Members MAY
    # appear anywhere in a document." ... "@-Members MUST be ignored when interpreting this
    # specification's definitions and processing instructions given outside of this
    # subsection. For example, an attribute is defined above as any member of the attributes
    # object. However, because @-Members must be ignored when interpreting that definition,
    # an @-Member that occurs in an attributes object is not an attribute."
    return name.startswith("@")


# A resource object's own members that a client's model keeps beside its attributes and sends
# back among them (jsona does, with its defaults): no resource here has an attribute by these
# names (a test holds it), so such an object, in ``attributes``, is the fetched resource's
# links or meta carried back, ignored like the resource object's own. Any other value is 400.
CARRIED_BACK = frozenset({"links", "meta"})


def _carried_back(name: str, value: Any) -> bool:
    return name in CARRIED_BACK and isinstance(value, dict)


def _type_names(types: tuple[str, ...]) -> str:
    # Today's and the canonical one; the other spellings are said, not listed.
    return " or ".join(types[:2]) + " (snake, kebab or camel case, singular or plural)"


class _DuplicateKey(ValueError):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    # Python's json module accepts NaN and Infinity; JSON (RFC 8259) has no such values.
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes | None) -> dict[str, Any]:
    """The request body as a JSON object: anything else is not a JSON:API document."""
    if body is None or not body.strip():
        raise InvalidJson("The request has no body; send a JSON:API document.", pointer="")
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(
            f"The request body is larger than {MAX_BODY_BYTES} bytes.", pointer=""
        )
    try:
        text = body.decode("utf-8")
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except _DuplicateKey as error:
        raise InvalidJson(
            f"The member '{error}' appears twice in one object.", pointer=""
        ) from error
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise InvalidJson("The request body is not valid JSON.", pointer="") from error
    if not isinstance(value, dict):
        raise InvalidJson("The request body must be a JSON object.", pointer="")
    if _nests_deeper_than(value, MAX_DEPTH):
        raise InvalidJson(f"The request body nests deeper than {MAX_DEPTH} levels.", pointer="")
    if "\\u" in text and _has_lone_surrogate(value):
        raise InvalidJson(
            "The request body escapes a UTF-16 surrogate that is not part of a pair "
            "(\\ud800-\\udfff): it stands for no character.",
            pointer="",
        )
    return value


def _has_lone_surrogate(value: object) -> bool:
    """Whether a parsed document holds half a surrogate pair (from a ``\\udXXX`` escape):
    json.loads lets it through as a string no UTF-8 encoder can write, so echoing it in an
    answer or a log line would fail there. A whole pair is one character, and encodes."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _nests_deeper_than(value: Any, limit: int) -> bool:
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            node = list(node.values())
        if not isinstance(node, list):
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in node)
    return False


def _expect_object(value: Any, pointer: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SchemaValidationError("Expected a JSON object.", pointer=pointer)
    return value


def _check_value(attribute: Attribute, value: Any, pointer: str) -> Any:
    if value is None:
        if attribute.nullable:
            return None
        raise SchemaValidationError(f"{attribute.name} may not be null.", pointer=pointer)
    if attribute.kind == "boolean" and not isinstance(value, bool):
        raise SchemaValidationError(f"{attribute.name} must be true or false.", pointer=pointer)
    if attribute.kind == "enum" and (not isinstance(value, str) or value not in attribute.enum):
        allowed = ", ".join(attribute.enum)
        raise SchemaValidationError(f"{attribute.name} must be one of: {allowed}.", pointer=pointer)
    if attribute.kind == "string" and not isinstance(value, str):
        raise SchemaValidationError(f"{attribute.name} must be a string.", pointer=pointer)
    if attribute.kind == "datetime":
        return _timestamp(attribute, value, pointer)
    return value


def _timestamp(attribute: Attribute, value: Any, pointer: str) -> datetime:
    """An ISO-8601 date and time with a UTC offset, as the API renders them (``…Z``)."""
    problem = (
        f"{attribute.name} must be an ISO-8601 date and time with a UTC offset "
        "(for example 2026-05-10T08:00:00Z)."
    )
    if not isinstance(value, str):
        raise SchemaValidationError(problem, pointer=pointer)
    try:
        return to_utc(datetime.fromisoformat(value))
    except ValueError as error:
        raise SchemaValidationError(problem, pointer=pointer) from error


def _linkage_id(resource: Resource, name: str, value: Any, pointer: str) -> UUID | None:
    rel = resource.relationship(name)
    # 7.2.2.2: "A relationship's name is given by its key. The value at that key MUST be an
    # object ("relationship object")."
    member = _expect_object(value, pointer)
    # 7.2.2.2 lists a relationship object's members (links, data, meta); any other, and any
    # @-member, is ignored (7 Document Structure: "Client and server implementations MUST
    # ignore non-compliant members."), and so are links and meta, which say nothing to a write.
    # 9.1 (and 9.2.2 for a PATCH): "If a relationship is provided in the relationships member
    # of the resource object, its value MUST be a relationship object with a data member."
    if "data" not in member:
        raise SchemaValidationError("A relationship needs a data member.", pointer=pointer)
    data = member["data"]
    if data is None:
        if rel.required:
            raise Unprocessable(
                f"{name} is required and may not be null.", pointer=f"{pointer}/data"
            )
        return None
    # 7.2.2.4: "Resource linkage MUST be represented as ... a single resource identifier
    # object for non-empty to-one relationships." Every relationship here is to-one.
    linkage = _expect_object(data, f"{pointer}/data")
    # 7.3: "A "resource identifier object" MUST contain a type member. It MUST also contain an
    # id member, except when it represents a new resource to be created on the server. In
    # this case, a lid member MUST be included that identifies the new resource." ... "A
    # "resource identifier object" MAY also include a meta member". meta and lid are accepted
    # and ignored; so is any other member (7: "MUST ignore non-compliant members"), such as the
    # attributes a client copies from an included record.
    types = accepted_types(rel.parent)
    if linkage.get("type") not in types:
        raise Conflict(
            f"{name} must point at a resource of type {_type_names(types)}.",
            pointer=f"{pointer}/data/type",
        )
    raw = linkage.get("id")
    if raw is None and "lid" in linkage:
        # A lid names a resource created by the same document: this server creates one
        # resource per request, so the linkage names nothing it can find.
        raise SchemaValidationError(
            "The id must be a string UUID: a linkage here names an existing resource by its "
            "id (a lid, which names a resource created by the same document, is not taken).",
            pointer=f"{pointer}/data/id",
        )
    if not isinstance(raw, str):
        raise SchemaValidationError("The id must be a string UUID.", pointer=f"{pointer}/data/id")
    parsed = canonical_uuid(raw)
    if parsed is None:
        raise SchemaValidationError(f"'{raw}' is not a UUID.", pointer=f"{pointer}/data/id")
    return parsed


def parse_resource_document(
    resource: Resource,
    body: bytes | None,
    mode: Mode,
    *,
    row_id: UUID | None = None,
    preset: dict[str, UUID] | None = None,
) -> ResourceDocument:
    """Parse and check a document; ``preset`` relationships come from the URL path.

    Its media type was checked before (``wellapi.http.request.parse_request``), with the ``Accept``
    header, ahead of the query string. A problem of the document or of its resource object
    (``data``, its ``type``, its ``id``) is raised at once; those of the object's fields are
    gathered and reported together, the most fundamental kind first.
    """
    data = _primary_data(parse_json(body), resource, mode, row_id)
    errors: list[ApiError] = []
    raw_attributes = _expect_object(data.get("attributes", {}), "/data/attributes")
    attributes, read_only = _attributes(resource, raw_attributes, mode, errors)
    raw_relationships = _expect_object(data.get("relationships", {}), "/data/relationships")
    relationships = _relationships(resource, raw_relationships, mode, errors)
    _apply_preset(relationships, preset or {}, errors)
    if mode == "create":
        errors += _missing_members(resource, raw_attributes, raw_relationships, relationships)
    _raise_first_kind(errors)
    client_id = canonical_uuid(data.get("id")) if mode == "create" else None
    if client_id is not None and resource.time_ordered_id and not of_now(client_id):
        raise OutsidePeriods(
            f"The id of this resource ({resource.type}) is a version 7 UUID made now: its time "
            f"is the row's created_at and names the period the row is kept in. Send one made at "
            f"most {CLIENT_ID_PAST.seconds // 60} minutes before the request, or none.",
            pointer="/data/id",
        )
    return ResourceDocument(attributes, relationships, read_only, client_id)


def _primary_data(
    document: dict[str, Any], resource: Resource, mode: Mode, row_id: UUID | None
) -> dict[str, Any]:
    """The document's resource object (``data``), once it and its ``type`` and ``id`` are right."""
    # 7 Document Structure: "Unless otherwise noted, objects defined by this specification or
    # any applied extensions MUST NOT contain any additional members. Client and server
    # implementations MUST ignore non-compliant members." So a top-level member other than
    # those of 7.1, and any @-member, is ignored; of 7.1's, jsonapi, links and meta (which may
    # hold anything: 7.5 "Any members MAY be specified within meta objects.") say nothing to a
    # write and are ignored too, and so is included (below).
    # 7.1: "The members data and errors MUST NOT coexist in the same document."
    if "data" in document and "errors" in document:
        raise SchemaValidationError(
            "The members data and errors must not coexist in one document.", pointer="/errors"
        )
    # 7.1: "A document MUST contain at least one of the following top-level members: data,
    # errors, meta"; and 9.1, 9.2: "The request MUST include a single resource object as
    # primary data." A write's document therefore has data, whatever else it has.
    if "data" not in document:
        raise SchemaValidationError("The document needs a data member.", pointer="")
    # 7.1: "included: an array of resource objects that are related to the primary data" and
    # "If a document does not contain a top-level data key, the included member MUST NOT be
    # present either." (it has data, above). The specification gives included no meaning in a
    # request, and this server creates or updates one resource per request: included is
    # accepted, whatever it holds, and ignored. A client that fetched a resource with include
    # (kitsu, jsona) sends it back with it.
    data = _expect_object(document["data"], "/data")
    # 7.2: "A resource object MUST contain at least the following top-level members: id,
    # type"; with "Exception: The id member is not required when the resource object
    # originates at the client and represents a new resource to be created on the server. In
    # that case, a client MAY include a lid member". 7.2 lists the others it MAY contain
    # (attributes, relationships, links, meta). lid, links and meta are accepted and ignored
    # (whatever their value: the server never reads them), and so is any other member and every
    # @-member (7: "MUST ignore non-compliant members").
    # 7.2.1: "The values of the id, type, and lid members MUST be strings." (lid, never read,
    # is not looked at.)
    if not isinstance(data.get("type"), str):
        raise SchemaValidationError("data.type must be a string.", pointer="/data/type")
    # 9.1.2.6: "A server MUST return 409 Conflict when processing a POST request in which the
    # resource object's type is not among the type(s) that constitute the collection
    # represented by the endpoint." 9.2.3.6: "A server MUST return 409 Conflict when
    # processing a PATCH request in which the resource object's type or id do not match the
    # server's endpoint." The endpoint's types are today's and the canonical one.
    types = accepted_types(resource)
    if data["type"] not in types:
        raise Conflict(
            f"This endpoint takes resources of type {_type_names(types)}.", pointer="/data/type"
        )
    _check_id(data, mode, row_id)
    return data


def _check_id(data: dict[str, Any], mode: Mode, row_id: UUID | None) -> None:
    """The resource object's ``id``: a UUID or none on a create, the URL's on an update."""
    # 7.2.2: "The values of the id and type members MUST be strings."
    if mode == "create" and "id" in data:
        if not isinstance(data["id"], str):
            raise SchemaValidationError("data.id must be a string.", pointer="/data/id")
        # 9.1.1: "A server MUST return 403 Forbidden in response to an unsupported request to
        # create a resource with a client-generated ID." A UUID is supported; nothing else is.
        if canonical_uuid(data["id"]) is None:
            raise Forbidden(
                f"'{data['id']}' is not a UUID: a client-generated id must be one "
                "(8-4-4-4-12 hexadecimal digits), or left out for the server to choose.",
                pointer="/data/id",
                code="CLIENT_GENERATED_ID_NOT_ALLOWED",
            )
    # 9.2: "The PATCH request MUST include a single resource object as primary data. The
    # resource object MUST contain type and id members."
    if mode == "update":
        if not isinstance(data.get("id"), str):
            raise SchemaValidationError("data.id must be the resource's id.", pointer="/data/id")
        if canonical_uuid(data["id"]) != row_id:
            raise Conflict("data.id does not match the id in the URL.", pointer="/data/id")


def _attributes(
    resource: Resource, raw_attributes: dict[str, Any], mode: Mode, errors: list[ApiError]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The attributes a write sets, and those an update sent back as read (each checked
    against the row's by the write); every problem is added to ``errors``."""
    attributes: dict[str, Any] = {}
    read_only: dict[str, Any] = {}
    # 7.2.2.1: "The value of the attributes key MUST be an object (an "attributes object").
    # Members of the attributes object ("attributes") represent information about the
    # resource object in which it's defined." Every member is an attribute, but an @-member
    # (7.8.3: "an @-Member that occurs in an attributes object is not an attribute"): a name
    # the resource does not have is an error, not a member to ignore.
    known = {a.name: a for a in resource.attributes}
    for name, value in raw_attributes.items():
        if _is_at_member(name) or _carried_back(name, value):
            continue
        pointer = json_pointer("data", "attributes", name)
        attribute = known.get(name)
        try:
            if attribute is None:
                raise SchemaValidationError(
                    f"{resource.type} has no attribute '{name}'.", pointer=pointer
                )
            if attribute.writable == "never" and mode == "update":
                # Sent back as read: the write refuses it only if it differs from the row's.
                read_only[name] = _check_value(attribute, value, pointer)
                continue
            if attribute.writable == "never":
                raise Forbidden(_read_only(attribute), pointer=pointer, code="READ_ONLY_FIELD")
            attributes[name] = _check_value(attribute, value, pointer)
        except ApiError as error:
            errors.append(error)
    return attributes, read_only


def _relationships(
    resource: Resource, raw_relationships: dict[str, Any], mode: Mode, errors: list[ApiError]
) -> dict[str, UUID | None]:
    """The id each relationship the document sets points at (None: unset); every problem is
    added to ``errors``."""
    relationships: dict[str, UUID | None] = {}
    # 7.2.2.2: "The value of the relationships key MUST be an object (a "relationships
    # object"). Each member of a relationships object represents a "relationship"": as with
    # attributes, a name the resource does not have is an error; an @-member is no
    # relationship (7.8.3), and is ignored.
    names = {r.name: r for r in resource.relationships}
    for name, value in raw_relationships.items():
        if _is_at_member(name):
            continue
        pointer = json_pointer("data", "relationships", name)
        try:
            rel = names.get(name)
            if rel is None:
                raise SchemaValidationError(
                    f"{resource.type} has no relationship '{name}'.", pointer=pointer
                )
            if rel.writable == "never" and mode == "create":
                raise Forbidden(
                    f"{name} is set by the server.", pointer=pointer, code="READ_ONLY_FIELD"
                )
            relationships[name] = _linkage_id(resource, name, value, pointer)
        except ApiError as error:
            errors.append(error)
    return relationships


def _apply_preset(
    relationships: dict[str, UUID | None], preset: dict[str, UUID], errors: list[ApiError]
) -> None:
    """Sets the relationships the URL's path gives; a document naming another is a conflict."""
    for name, value in preset.items():
        if relationships.get(name, value) != value:
            errors.append(
                Conflict(
                    f"{name} is given by the URL and differs here.",
                    pointer=f"/data/relationships/{name}",
                )
            )
        relationships[name] = value


def _missing_members(
    resource: Resource,
    raw_attributes: dict[str, Any],
    raw_relationships: dict[str, Any],
    relationships: dict[str, UUID | None],
) -> list[ApiError]:
    """What a create lacks: each attribute and relationship it must set and did not send."""
    errors: list[ApiError] = []
    for attribute in resource.attributes:
        if (
            attribute.writable == "create"
            and not attribute.nullable
            and attribute.name not in raw_attributes
        ):
            errors.append(
                Unprocessable(
                    f"{attribute.name} is required.",
                    pointer=f"/data/attributes/{attribute.name}",
                )
            )
    for rel in resource.relationships:
        # A member the document has was checked (and any problem reported) above.
        if (
            rel.required
            and rel.writable != "never"
            and rel.name not in relationships
            and rel.name not in raw_relationships
        ):
            errors.append(
                Unprocessable(f"{rel.name} is required.", pointer=f"/data/relationships/{rel.name}")
            )
    return errors


def _raise_first_kind(errors: list[ApiError]) -> None:
    """One status per response: the most fundamental kind of problem found, all of that kind."""
    for status in (400, 409, 403, 422):
        same = [e for e in errors if e.error_status == status]
        if same:
            raise ErrorList(same)


def _read_only(attribute: Attribute) -> str:
    if attribute.system:
        return f"{attribute.name} is set by the server."
    return f"{attribute.name} cannot be written."


@dataclass(frozen=True)
class DocumentBody:
    """A route's request body (``wellapi.http.request.RequestSpec.body``): one resource document, to
    create or to update. Declared by the write operations, so only a write function loads this
    module.
    """

    mode: Mode

    def parse(
        self,
        resource: Resource,
        body: bytes | None,
        *,
        row_id: UUID | None,
        preset: dict[str, UUID],
    ) -> ResourceDocument:
        return parse_resource_document(resource, body, self.mode, row_id=row_id, preset=preset)


CREATE_BODY = DocumentBody("create")
UPDATE_BODY = DocumentBody("update")
