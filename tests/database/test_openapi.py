"""The committed OpenAPI document: generated from the descriptions, and true to the API."""

from __future__ import annotations

import ast
import json

import jsonschema_rs
import pytest

from tests.conftest import ROOT
from tests.support import factories as f
from tests.support import writes as w
from tests.support.api import get, related
from wellapi import errors
from wellapi.errors import ERROR_CODES
from wellapi.operations.registry import OPERATIONS
from wellapi.resources import PARENTS, PROVIDER_CATALOG, RESOURCES
from wellapi.resources import tables as schema
from welldev import openapi, openapi_text


def test_committed_document_matches_the_resource_descriptions():
    committed = (ROOT / "openapi.json").read_text()
    assert committed == openapi.render(), "openapi.json is stale: run `make openapi`"


def test_document_is_openapi_3_1_with_jsonapi_media_types():
    document = openapi.build_document()
    assert document["openapi"] == "3.1.0"
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            body = spec.get("requestBody")
            if body:
                assert list(body["content"]) == ["application/vnd.api+json"], (path, method)
            for status, response in spec["responses"].items():
                content = dict(response.get("content", {}))
                # API Gateway's own answers (a body over 10 MB, throttling) are
                # {"message": ...} as application/json, never ours; a path no route has is ours.
                gateway = content.pop("application/json", None)
                if gateway is not None:
                    assert int(status) in openapi.GATEWAY_STATUSES, (path, method, status)
                    assert gateway["schema"] == {"$ref": "#/components/schemas/GatewayMessage"}
                assert list(content) in (["application/vnd.api+json"], []), (path, status)


def test_every_route_has_one_operation():
    document = openapi.build_document()
    declared = {
        (method.upper(), path) for path, methods in document["paths"].items() for method in methods
    }
    # Seven routes of every resource, and the six of their own (catalog, select, remove, enrol,
    # unenrol, the feed).
    assert len(declared) == len(openapi.ROUTES) == 7 * len(RESOURCES) + 6
    for _resource, operation in openapi.ROUTES:
        assert OPERATIONS[operation].method in {m for m, _ in declared}


def _validator(name: str):
    document = openapi.build_document()
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


@pytest.mark.parametrize(
    "resource",
    ["account_workspace_connectors", "workspace_group_workspaces", "workspace_providers"],
)
def test_responses_conform_to_the_document(resource, api_database, admin):
    a = f.tenant(admin)
    if resource == "account_workspace_connectors":
        pk, _ = a.account()
        row = f.provenance(admin, resource, pk, a.workspace_connector_pk)
    elif resource == "workspace_group_workspaces":
        g, _ = f.group(admin)
        row = f.enrol(admin, g, a.workspace_pk, a.person_pk)
    else:
        p, _ = f.provider(admin)
        row = f.workspace_provider(admin, a.workspace_pk, p)
    includes = ",".join(r.name for r in openapi.RESOURCES[resource].relationships)
    listed = get(resource, a.claims(), query=f"include={includes}")
    name = openapi.pascal(resource)
    errors = list(_validator(f"{name}Collection").iter_errors(listed.json))
    assert not errors, [e.message for e in errors[:3]]
    one = get(resource, a.claims(), row_id=str(row), query=f"include={includes}")
    errors = list(_validator(f"{name}Document").iter_errors(one.json))
    assert not errors, [e.message for e in errors[:3]]
    bad = get(resource, a.claims(), query="bogus=1")
    assert not list(_validator("ErrorDocument").iter_errors(bad.json))
    assert json.loads(bad.body)["errors"][0]["source"] == {"parameter": "bogus"}
    # Every relationship's related-resource and relationship routes, with and without the
    # workspace named (the links carry it then).
    answered = set()
    for rel in openapi.RESOURCES[resource].relationships:
        for query in ("", f"workspace_id={a.workspace_id}"):
            for linkage, kind in ((False, "RelatedDocument"), (True, "RelationshipDocument")):
                reply = related(
                    resource, a.claims(), str(row), rel.name, linkage=linkage, query=query
                )
                assert reply.status == 200, reply.body
                errors = list(_validator(f"{name}{kind}").iter_errors(reply.json))
                assert not errors, (rel.name, kind, [e.message for e in errors[:3]])
                answered.add((linkage, reply.json["data"] is None))
    assert {(False, False), (True, False)} <= answered
    if resource == "workspace_group_workspaces":  # an empty relationship: both null
        g, _ = f.group(admin)
        anonymous = f.enrol(admin, g, a.workspace_pk)
        for linkage, kind in ((False, "RelatedDocument"), (True, "RelationshipDocument")):
            reply = related(resource, a.claims(), str(anonymous), "created_by", linkage=linkage)
            assert reply.json["data"] is None, reply.body
            assert not list(_validator(f"{name}{kind}").iter_errors(reply.json))
    unknown = related(resource, a.claims(), str(row), "bogus")
    assert unknown.status == 404
    assert not list(_validator("ErrorDocument").iter_errors(unknown.json))
    assert unknown.json["errors"][0]["code"] == "UNKNOWN_RELATIONSHIP"


def test_catalog_responses_conform_to_the_document(api_database, admin):
    a = f.tenant(admin)
    p, _ = f.provider(admin)
    f.workspace_provider(admin, a.workspace_pk, p)
    reply = w.catalog(a.claims(), a.workspace_id, "include=workspace_provider")
    assert reply.status == 200, reply.body
    errors = list(_validator("ProviderCatalogCollection").iter_errors(reply.json))
    assert not errors, [e.message for e in errors[:3]]
    # The catalog's rows are the platform's providers: no links, theirs or their
    # relationship's; the included workspace_provider links to its own route.
    assert reply.json["included"]
    for row in reply.json["data"]:
        assert "links" not in row
        assert "links" not in row["relationships"]["workspace_provider"]
    for included in reply.json["included"]:
        assert included["links"]["self"].endswith(f"?workspace_id={a.workspace_id}")


# ---- documentation that teaches: words, error codes, examples ----------------------------------


def _operations(document=None):
    document = document or openapi.build_document()
    for path, methods in document["paths"].items():
        for method, spec in methods.items():
            yield path, method, spec


# Every operation's 401s: no key, not a key, a key not accepted.
CREDENTIALS = {"CREDENTIALS_MISSING", "CREDENTIALS_MALFORMED", "CREDENTIALS_INVALID"}


def _documented_codes(spec) -> dict[str, int]:
    """Every error code an operation's responses give, with the status that gives it."""
    codes = {}
    for status, response in spec["responses"].items():
        content = response.get("content", {}).get("application/vnd.api+json", {})
        for code in content.get("examples", {}):
            codes[code] = int(status)
    return codes


def test_every_operation_has_a_summary_and_a_description_naming_its_error_codes():
    for path, method, spec in _operations():
        assert spec["summary"].strip(), (path, method)
        assert len(spec["description"]) > 200, (path, method)
        codes = _documented_codes(spec)
        assert CREDENTIALS | {"SERVICE_UNAVAILABLE"} <= codes.keys(), (path, method)
        assert "WWW-Authenticate" in spec["responses"]["401"]["headers"], (path, method)
        for code, status in codes.items():
            assert f"`{code}`" in spec["description"], (path, method, code)
            assert ERROR_CODES[code].status == status, (path, method, code)
            assert (
                f"`{code}`: {ERROR_CODES[code].meaning}"
                in spec["responses"][str(status)]["description"]
            )
        # Every JSON:API error response names its codes, and only its own status's.
        for status, response in spec["responses"].items():
            if "application/vnd.api+json" in response.get("content", {}) and int(status) >= 400:
                examples = response["content"]["application/vnd.api+json"]["examples"]
                assert examples, (path, method, status)


def test_who_may_call_each_operation_is_said_per_resource_and_kind_of_key():
    document = openapi.build_document()
    for path, method, spec in _operations(document):
        assert "**Who may call it.**" in spec["description"], (path, method)
        assert ".local/demo.json" in spec["description"], (path, method)
    ledger = document["paths"]["/v1/account-workspace-connectors"]
    assert "A service key only" in ledger["post"]["description"]
    assert "`service_key`" in ledger["post"]["description"]
    assert "`workspaces[0].api_key`" in ledger["get"]["description"]
    enrolment = document["paths"]["/v1/workspace-group-workspaces/{id}"]["patch"]
    assert "Nobody" in enrolment["description"]
    assert set(_documented_codes(enrolment)) == {
        "BAD_REQUEST",
        *CREDENTIALS,
        "FORBIDDEN",
        "NOT_ACCEPTABLE",
        "INTERNAL_ERROR",
        "SERVICE_UNAVAILABLE",
        # The $default route's, for an id holding an encoded slash (another path).
        "ROUTE_NOT_FOUND",
        "METHOD_NOT_ALLOWED",
    }
    create = document["paths"]["/v1/workspace-providers"]["post"]
    assert {"WORKSPACE_PROVIDER_ALREADY_EXISTS", "SELECTED_IMPLIES_MATCHED"} <= set(
        _documented_codes(create)
    )


def test_the_text_table_has_an_entry_for_every_operation():
    assert OPERATIONS.keys() <= openapi_text.TEXT["operations"].keys()
    # GET /v1/<resource>/{id}/<relationship> and .../relationships/<relationship>: one entry
    # each, which can also speak of one relationship.
    for kind in ("related", "relationship"):
        for resource in RESOURCES.values():
            for rel in resource.relationships:
                text = openapi_text.describe(resource, kind, rel.name)
                assert rel.name in text.summary
                assert resource.type in text.description
                assert {"NOT_FOUND", "UNKNOWN_RELATIONSHIP"} <= set(text.codes)
                assert "{" not in text.summary
            text = openapi_text.describe(resource, kind)
            for rel in resource.relationships:
                assert rel.name in text.summary
                assert f"`{rel.name}`" in text.description


def test_a_type_takes_the_article_its_sound_wants():
    text = openapi.render()
    for resource in (*RESOURCES.values(), PROVIDER_CATALOG):
        article = "an" if resource.type[0] in "aeiou" else "a"
        wrong = "a" if article == "an" else "an"
        for spelled in (resource.type, f"`{resource.type}`"):
            assert f" {wrong} {spelled}" not in text, spelled
    summaries = {spec["operationId"]: spec["summary"] for *_, spec in _operations()}
    assert summaries["account_workspace_connectors_retrieve"] == (
        "Retrieve an account_workspace_connector"
    )
    assert summaries["workspace_providers_create"] == "Create a workspace_provider"


def _by_operation_id(document=None):
    return {spec["operationId"]: spec for *_, spec in _operations(document)}


def _schema(document, spec):
    return spec["responses"]["200"]["content"]["application/vnd.api+json"]["schema"]["$ref"]


# Each List and the List it is (the catalog is the workspace provider's operation).
LISTS = {f"{key}_list": r for key, r in RESOURCES.items()}
LISTS["workspace_providers_catalog"] = PROVIDER_CATALOG


@pytest.mark.parametrize(("operation", "resource"), LISTS.items(), ids=list(LISTS))
def test_a_lists_sort_takes_its_resources_own_sorts_and_a_ledgers_says_why(operation, resource):
    (sort,) = [p for p in _by_operation_id()[operation]["parameters"] if p["name"] == "sort"]

    by_ledger = ["created_at", "-created_at"]
    by_both = [*by_ledger, "updated_at", "-updated_at"]
    assert sort["schema"]["enum"] == (by_ledger if resource.walks else by_both)
    assert ("GET /v1/changes" in sort["description"]) == bool(resource.walks)


@pytest.mark.parametrize("key", list(RESOURCES))
def test_the_related_and_relationship_routes_of_every_resource(key):
    document = openapi.build_document()
    resource = RESOURCES[key]
    name = openapi.pascal(key)
    names = [rel.name for rel in resource.relationships]
    types = sorted({rel.parent.type for rel in resource.relationships})
    paths = document["paths"]
    related_op = paths[f"/v1/{resource.path}/{{id}}/{{relationship}}"]["get"]
    linkage_op = paths[f"/v1/{resource.path}/{{id}}/relationships/{{relationship}}"]["get"]
    assert related_op["operationId"] == f"{key}_related"
    assert linkage_op["operationId"] == f"{key}_relationship"
    for spec in (related_op, linkage_op):
        path = [p for p in spec["parameters"] if p["in"] == "path"]
        assert [p["name"] for p in path] == ["id", "relationship"]
        assert path[0]["schema"] == openapi.UUID_SCHEMA
        assert path[1]["schema"] == {"type": "string", "enum": names}
        assert path[1]["example"] in names
        assert path[0]["example"] == openapi.examples.row_id(resource)
        codes = _documented_codes(spec)
        assert codes["UNKNOWN_RELATIONSHIP"] == 404
        assert codes["NOT_FOUND"] == 404
        assert codes["INVALID_ID"] == 400
        assert codes["UNKNOWN_QUERY_PARAMETER"] == 400
        assert codes["FORBIDDEN"] == 403
        assert "`UNKNOWN_RELATIONSHIP`" in spec["responses"]["404"]["description"]
        # A slash in the id makes another path: the $default route's 404, never API Gateway's.
        assert codes["ROUTE_NOT_FOUND"] == 404
        assert "API Gateway's own answer" not in spec["responses"]["404"]["description"]
        assert list(spec["responses"]["404"]["content"]) == ["application/vnd.api+json"]
        for rel in names:
            assert f"`{rel}`" in spec["description"]
    query = {p["name"]: p for p in related_op["parameters"] if p["in"] == "query"}
    assert list(query) == [
        "include",
        *(f"fields[{t}]" for t in types),
        "workspace_id",
        "workspaceId",
    ]
    assert query["include"]["schema"] == {"type": "string", "const": ""}
    for t in types:
        fields = jsonschema_rs.validator_for(query[f"fields[{t}]"]["schema"])
        for attribute in PARENTS[t].attributes:
            assert fields.is_valid(attribute.name)
        assert fields.is_valid("")
        assert not fields.is_valid("bogus")
    assert {"INVALID_INCLUDE", "INVALID_FIELDS"} <= _documented_codes(related_op).keys()
    assert [p["name"] for p in linkage_op["parameters"] if p["in"] == "query"] == [
        "workspace_id",
        "workspaceId",
    ]
    # The relationship route takes neither include nor fields: not its codes.
    assert not {"INVALID_INCLUDE", "INVALID_FIELDS"} & _documented_codes(linkage_op).keys()
    assert _schema(document, related_op).endswith(f"/{name}RelatedDocument")
    assert _schema(document, linkage_op).endswith(f"/{name}RelationshipDocument")
    schemas = document["components"]["schemas"]
    records = schemas[f"{name}RelatedDocument"]["properties"]["data"]["oneOf"]
    assert records == [
        {"$ref": f"#/components/schemas/{openapi.pascal(t)}Parent"} for t in types
    ] + [{"type": "null"}]
    related_document = schemas[f"{name}RelatedDocument"]
    assert related_document["properties"]["links"]["required"] == ["self"]
    assert "included" not in related_document["properties"]
    linkage_document = schemas[f"{name}RelationshipDocument"]
    assert linkage_document["properties"]["links"]["required"] == ["self", "related"]
    linkages = linkage_document["properties"]["data"]["oneOf"]
    assert [item.get("properties", {}).get("type") for item in linkages] == [
        *({"const": t} for t in types),
        None,
    ]
    # The resource's own relationships link to both routes.
    resource_schema = schemas[f"{name}Resource"]
    assert resource_schema["required"] == ["type", "id", "links"]
    for rel in names:
        member = resource_schema["properties"]["relationships"]["properties"][rel]
        assert member["required"] == ["data", "links"]
        assert member["properties"]["links"]["required"] == ["self", "related"]


def test_only_records_this_api_serves_have_links_in_the_schemas():
    schemas = openapi.build_document()["components"]["schemas"]
    for type_name in PARENTS:
        parent = schemas[f"{openapi.pascal(type_name)}Parent"]
        assert parent["additionalProperties"] is False
        if type_name == "workspace_provider":  # the catalog's include: one of ours
            assert parent["required"] == ["type", "id", "links"]
        else:
            assert "links" not in parent["properties"], type_name
    catalog = schemas["ProviderCatalogResource"]
    assert "links" not in catalog["properties"]
    assert "links" not in catalog["required"]
    member = catalog["properties"]["relationships"]["properties"]["workspace_provider"]
    assert "links" not in member["properties"]
    # A platform record with links does not validate: the schema holds the server to it.
    validator = _validator("AccountParent")
    record = {"type": "account", "id": "0b9a3b5e-2222-4b5e-9d5e-0b9a3b5e2222"}
    assert validator.is_valid(record)
    assert not validator.is_valid({**record, "links": {"self": "https://api.test/v1/x"}})


def _source_codes() -> tuple[dict[str, str], list[str]]:
    """Every literal error code in the package's source (not the local runtime), with where it
    is, and the places that build a code from something else (f-strings)."""
    found: dict[str, str] = {}
    dynamic: list[str] = []
    package = ROOT / "layers" / "shared" / "wellapi"
    for path in sorted(package.rglob("*.py")):
        if "local" in path.relative_to(package).parts:
            continue
        tree = ast.parse(path.read_text())
        where = str(path.relative_to(package))
        code_positions = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                names = [a.arg for a in node.args.args]
                if "code" in names:
                    code_positions[node.name] = names.index("code")
                    defaults = node.args.defaults
                    index = names.index("code") - (len(names) - len(defaults))
                    if index >= 0 and isinstance(defaults[index], ast.Constant):
                        found[defaults[index].value] = where
        for node in ast.walk(tree):
            values = []
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    targets = (
                        item.targets
                        if isinstance(item, ast.Assign)
                        else [item.target]
                        if isinstance(item, ast.AnnAssign) and item.value is not None
                        else []
                    )
                    if [getattr(t, "id", None) for t in targets] == ["code"]:
                        values.append(item.value)
            if isinstance(node, ast.Call):
                values += [k.value for k in node.keywords if k.arg == "code"]
                name = getattr(node.func, "id", None)
                if name in code_positions and len(node.args) > code_positions[name]:
                    values.append(node.args[code_positions[name]])
            for value in values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    found[value.value] = where
                elif isinstance(value, ast.Constant) and isinstance(value.value, bytes):
                    continue  # a wire message's type byte (store/connections.py), not an error
                elif isinstance(value, ast.JoinedStr):
                    dynamic.append(f"{where}:{value.lineno}")
                elif not isinstance(value, ast.Name):  # a parameter passed on
                    raise AssertionError(f"{where}:{value.lineno}: a code of an unknown form")
    return found, dynamic


def test_every_error_code_the_package_can_raise_is_registered_and_documented():
    found, dynamic = _source_codes()
    assert len(found) > 25  # the scan sees the codes
    assert sorted(set(found) - ERROR_CODES.keys()) == [], "register them in ERROR_CODES"
    # The one code built from a name: a live-row conflict, for the resources whose table has a
    # live unique index (the provenance ledgers have none, so no conflict).
    assert [d.split(":")[0] for d in dynamic] == ["resources/rules.py"], dynamic
    conflicts = {
        resource.rules.conflict(resource).error_code
        for key, resource in RESOURCES.items()
        if any(index.unique for index in schema.table(resource.table.name).indexes)
    }
    assert conflicts == {
        "WORKSPACE_GROUP_WORKSPACE_ALREADY_EXISTS",
        "WORKSPACE_PROVIDER_ALREADY_EXISTS",
    }
    assert conflicts <= ERROR_CODES.keys()
    # Nothing registered that nothing raises, and every code documented somewhere.
    assert ERROR_CODES.keys() == set(found) | conflicts
    documented = {code for *_, spec in _operations() for code in _documented_codes(spec)}
    assert sorted(ERROR_CODES.keys() - documented) == []
    # An error class's own code has its status and title.
    for cls in (errors.ApiError, *_subclasses(errors.ApiError)):
        registered = ERROR_CODES[cls.code]
        assert (registered.status, registered.title) == (cls.status, cls.title), cls


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _schema_validator(document, schema):
    return jsonschema_rs.validator_for({**schema, "components": document["components"]})


def test_every_example_validates_against_its_own_schema():
    document = openapi.build_document()
    checked = 0
    for path, method, spec in _operations(document):
        for parameter in spec["parameters"]:
            if "example" in parameter:
                validator = _schema_validator(document, parameter["schema"])
                assert validator.is_valid(parameter["example"]), (path, method, parameter)
                checked += 1
        body = spec.get("requestBody", {}).get("content", {}).get("application/vnd.api+json")
        if body:
            validator = _schema_validator(document, body["schema"])
            for name, example in body["examples"].items():
                errors = [e.message for e in validator.iter_errors(example["value"])]
                assert not errors, (path, method, name, errors)
                checked += 1
    assert checked >= 30
    validator = _validator("ErrorDocument")
    for code, example in document["components"]["examples"].items():
        assert not list(validator.iter_errors(example["value"])), code
        assert example["value"]["errors"][0]["code"] == code


def test_path_parameters_have_examples_from_the_demo():
    for path, method, spec in _operations():
        for parameter in spec["parameters"]:
            if parameter["in"] == "path":
                assert "example" in parameter, (path, method, parameter["name"])


def test_no_operation_shows_two_inputs_with_one_name():
    for path, method, spec in _operations():
        names = [p["name"] for p in spec["parameters"]]
        assert len(names) == len(set(names)), (path, method, names)


def test_operations_scoped_by_the_path_take_no_workspace_parameter():
    document = openapi.build_document()
    for path in ("/v1/workspaces/{workspace_id}/providers",):
        for method in ("get", "post"):
            names = {p["name"] for p in document["paths"][path][method]["parameters"]}
            assert not names & {"workspaceId"}, (path, method)
            parameters = document["paths"][path][method]["parameters"]
            assert [p["in"] for p in parameters if p["name"] == "workspace_id"] == ["path"]
    remove = document["paths"]["/v1/workspaces/{workspace_id}/providers/{provider_id}"]["delete"]
    assert [p["name"] for p in remove["parameters"]] == ["workspace_id", "provider_id"]
    # The unenrol path's {workspace_id} is the enrolled workspace; the workspace the key acts
    # in keeps its legacy query name only, described apart.
    unenrol = document["paths"][
        "/v1/workspace-groups/{workspace_group_id}/workspaces/{workspace_id}"
    ]["delete"]
    by_name = {(p["name"], p["in"]): p["description"] for p in unenrol["parameters"]}
    assert set(by_name) == {
        ("workspace_group_id", "path"),
        ("workspace_id", "path"),
        ("workspaceId", "query"),
    }
    assert by_name[("workspace_id", "path")] != by_name[("workspaceId", "query")]


def test_the_security_scheme_renders_in_swagger_ui():
    description = openapi.build_document()["components"]["securitySchemes"]["apiKey"]["description"]
    # Swagger UI renders descriptions as HTML-sanitised Markdown: <prefix> would vanish.
    assert "<" not in description
    assert ">" not in description
    assert "`Authorization: Bearer wk_{prefix}_{secret}`" in description


def test_the_title_is_the_project_name_of_the_readme():
    heading = (ROOT / "README.md").read_text().splitlines()[0]
    assert heading == "# " + openapi.build_document()["info"]["title"]


def test_an_update_may_carry_every_member_at_its_current_value():
    schemas = openapi.build_document()["components"]["schemas"]
    for key, resource in RESOURCES.items():
        data = schemas[f"{openapi.pascal(key)}UpdateRequest"]["properties"]["data"]
        attributes = data["properties"]["attributes"]["properties"]
        relationships = data["properties"]["relationships"]["properties"]
        assert list(attributes) == [a.name for a in resource.attributes], key
        assert list(relationships) == [r.name for r in resource.relationships], key
        for attribute in resource.attributes:
            described = attributes[attribute.name]
            assert "readOnly" not in described
            if attribute.writable == "always":
                assert described["description"] == "Writable."
            else:
                assert "only at its current value" in described["description"], attribute
        for rel in resource.relationships:
            assert "only at its current linkage" in relationships[rel.name]["description"]
    ledger = schemas["AccountWorkspaceConnectorsUpdateRequest"]["properties"]["data"]
    assert "direction" in ledger["properties"]["attributes"]["properties"]
    assert (
        "IMMUTABLE_FIELD"
        in (ledger["properties"]["attributes"]["properties"]["direction"]["description"])
    )
    # A fetched resource sent back as it is validates (links included).
    base = "https://api.test/v1/account-workspace-connectors/0b9a3b5e-1111-4b5e-9d5e-0b9a3b5e1111"
    fetched = {
        "data": {
            "type": "account_workspace_connector",
            "id": "0b9a3b5e-1111-4b5e-9d5e-0b9a3b5e1111",
            "attributes": {
                "direction": "input",
                "created_at": "2026-11-21T09:30:00Z",
                "updated_at": "2026-11-21T09:30:00Z",
                "deleted_at": None,
            },
            "relationships": {
                "account": {
                    "data": {"type": "account", "id": "0b9a3b5e-2222-4b5e-9d5e-0b9a3b5e2222"},
                    "links": {
                        "self": f"{base}/relationships/account",
                        "related": f"{base}/account",
                    },
                },
                "workspace_connector": {
                    "data": {
                        "type": "workspace_connector",
                        "id": "0b9a3b5e-3333-4b5e-9d5e-0b9a3b5e3333",
                    },
                    "links": {
                        "self": f"{base}/relationships/workspace_connector",
                        "related": f"{base}/workspace_connector",
                    },
                },
            },
            "links": {"self": base},
        }
    }
    assert _validator("AccountWorkspaceConnectorsResource").is_valid(fetched["data"])
    errors = list(_validator("AccountWorkspaceConnectorsUpdateRequest").iter_errors(fetched))
    assert not errors, [e.message for e in errors]


def test_every_post_takes_an_idempotency_key_and_marks_a_replayed_answer():
    posts = [(path, spec) for path, method, spec in _operations() if method == "post"]
    assert len(posts) == len(RESOURCES) + 2  # every resource's create, select and enrol
    for path, spec in posts:
        (header,) = [p for p in spec["parameters"] if p["in"] == "header"]
        assert header["name"] == "Idempotency-Key"
        assert header["required"] is False
        assert (header["schema"]["minLength"], header["schema"]["maxLength"]) == (1, 255)
        answers = [spec["responses"][s] for s in ("200", "201") if s in spec["responses"]]
        assert all("Idempotent-Replayed" in a["headers"] for a in answers), path
        codes = _documented_codes(spec)
        assert codes["INVALID_IDEMPOTENCY_KEY"] == 400
        assert codes["IDEMPOTENCY_KEY_REUSED"] == 422
    others = [spec for _, method, spec in _operations() if method != "post"]
    assert not any(p["in"] == "header" for spec in others for p in spec["parameters"])
