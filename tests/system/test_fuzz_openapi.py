"""Schemathesis against the committed OpenAPI document and the local server, on every route.

The server is the one ``wellapi run`` serves (the template, the key authorizer, the functions
as ``well_api``), in this process on an ephemeral port (``welldev.serving``). The
requests are generated from ``openapi.json`` by Schemathesis' coverage phase (boundary and
invalid values of every parameter and body member, deterministic) and its fuzzing phase
(Hypothesis, positive and negative data), and sent with real API keys: the member keys of two
workspaces, and a service key of the first (service principals act across workspaces by
design: their requests aim at their own workspace's ids only and are not held to the leak
check; so they never make rows that span both workspaces). Each case is given to one caller,
chosen from its content, and some of its valid ids are swapped for real ones, the caller's own
or the other workspace's, so that requests reach rows instead of 404s and attack the other
tenant.

Every response must:

- not be a server error (5xx);
- conform to the OpenAPI document: a documented status, content type and headers, a body that
  validates against the response schema; invalid input rejected; auth enforced (Schemathesis'
  checks ``not_a_server_error``, ``status_code_conformance``, ``content_type_conformance``,
  ``response_headers_conformance``, ``response_schema_conformance``,
  ``negative_data_rejection``, ``ignored_auth``);
- when it is a JSON:API document, validate against the JSON:API 1.1 schema (jsonschema-rs);
- leave the other workspace's rows exactly as they were (after every write by a member).

``make test`` runs a bounded pass: few examples per operation, deterministic generation (the
same requests every run). ``make fuzz`` runs the same test long: ``WELLAPI_FUZZ_EXAMPLES``
examples per operation, with a fresh random seed each run (``WELLAPI_FUZZ_SEED``, which the
Makefile prints so that a failure can be replayed), and writes the number of requests sent, by
status, to ``.local/fuzz.json``.
"""

from __future__ import annotations

import collections
import io
import json
import os
import random
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import pg8000.native
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support import tenancy as tn
from tests.support.api import JSONAPI, assert_valid_document
from wellapi.operations.registry import OPERATIONS, ROUTES
from wellapi.resources import PROVIDER_CATALOG, resource_named
from welldev import api_keys
from welldev import database as local_db
from welldev.serving import Served, serving

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("WELLAPI_FUZZ_EXAMPLES", "6"))
SEED_SETTING = os.environ.get("WELLAPI_FUZZ_SEED", "")  # "": deterministic, "random", or a number
SEED = random.SystemRandom().randrange(2**32) if SEED_SETTING == "random" else None
if SEED_SETTING.isdigit():
    SEED = int(SEED_SETTING)

_settings: dict[str, Any] = {
    "generation": {
        "mode": "all",
        "max-examples": EXAMPLES,
        "deterministic": SEED is None,
        "database": "none",
    },
    "phases": {
        "examples": {"enabled": False},
        # A method a route lacks is the $default route's 405, which no operation documents
        # (tests/unit/test_unmatched_routes.py and tests/system/test_local_run.py test it).
        "coverage": {"unexpected-methods": []},
        "stateful": {"enabled": False},
    },
}
if SEED is not None:
    _settings["seed"] = SEED
SCHEMA = schemathesis.openapi.from_path(
    ROOT / "openapi.json", config=schemathesis.Config.from_dict(_settings)
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    ignored_auth,
]


# ---- the callers and the ids they aim at -------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    name: str
    key: str
    side: tn.Side  # the workspace it acts in
    other: tn.Side  # the other workspace, whose ids it also aims at
    service: bool = False  # may act in any workspace (README: service keys), so never judged

    @property
    def must_not_touch(self) -> tn.Side | None:
        return None if self.service else self.other


def _route_resources() -> dict[tuple[str, str], str]:
    """(METHOD, path template) -> the resource its ``{id}`` names."""
    routes = {}
    for resource, operation in ROUTES:
        op = OPERATIONS[operation]
        target = PROVIDER_CATALOG if operation == "catalog" else resource_named(resource)
        routes[(op.method, op.path(target))] = resource
    return routes


ROUTE_RESOURCES = _route_resources()
WORKSPACE_PARAMETERS = ("workspace_id", "workspaceId")
RECORD_TABLES = {"account": "accounts", "company": "companies", "people": "peoples"}
ANY_UUID = re.compile(
    r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
)


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        UUID(value)
    except ValueError:
        return False
    return True


@dataclass
class Fuzzing:
    served: Served
    world: tn.World
    callers: tuple[Caller, ...]
    admin: pg8000.native.Connection
    log: io.StringIO

    def caller_for(self, case: schemathesis.Case) -> tuple[Caller, random.Random]:
        """A caller and a source of choices, both derived from the case's content only.

        Generated UUIDs are left out: Schemathesis does not always draw them from the seeded
        source, and which UUID a case carries changes nothing about how it is aimed.
        """
        content = json.dumps(
            [case.operation.label, case.path_parameters, case.query, case.body],
            sort_keys=True,
            default=_stable_text,
        )
        content = ANY_UUID.sub("<uuid>", content)
        choices = random.Random(zlib.crc32(content.encode()))
        return choices.choice(self.callers), choices

    def aim(self, case: schemathesis.Case, caller: Caller, choices: random.Random) -> None:
        """Swap some valid ids of the case for real ones: the caller's, or the other side's."""
        resource = ROUTE_RESOURCES[(case.method.upper(), case.path)]
        # Mostly coherent requests (every id the caller's own, or every id the other side's),
        # sometimes a mix.
        plan = choices.random()
        if caller.service or plan < 0.4:
            sides: tuple[tn.Side, ...] = (caller.side,)
        elif plan < 0.8:
            sides = (caller.other,)
        else:
            sides = (caller.side, caller.other)
        path = case.path_parameters or {}
        for name, value in list(path.items()):
            if _is_uuid(value) and choices.random() < 0.75:
                side = choices.choice(sides)
                path[name] = str(choices.choice(self._path_ids(name, resource, side)))
        query = case.query or {}
        for name in WORKSPACE_PARAMETERS:
            if name in query and _is_uuid(query[name]) and choices.random() < 0.75:
                side = choices.choice(sides)
                query[name] = str(choices.choice((side.workspace[1], side.spare_workspace[1])))
        data = case.body.get("data") if isinstance(case.body, dict) else None
        if isinstance(data, dict) and _is_uuid(data.get("id")) and "id" in path:
            data["id"] = path["id"]  # a PATCH names its row twice: keep them equal
        relationships = _relationships(case.body)
        for name, linkage in relationships.items():
            if _is_uuid(linkage.get("id")) and choices.random() < 0.75:
                side = choices.choice(sides)
                linkage["id"] = str(self._parent_id(name, side, choices))

    def _path_ids(self, name: str, resource: str, side: tn.Side) -> list[UUID]:
        w = self.world
        if name == "id":
            return [side.row(resource)[1]]
        if name == "workspace_id":
            return [side.workspace[1], side.spare_workspace[1]]
        if name == "workspace_group_id":
            return [side.group[1]]
        if name == "provider_id":
            return [side.provider[1], w.shared_provider[1], w.free_provider[1]]
        raise AssertionError(f"no ids for the path parameter {name}")

    def _parent_id(self, relationship: str, side: tn.Side, choices: random.Random) -> UUID:
        if relationship == "workspace":
            return choices.choice((side.workspace[1], side.spare_workspace[1]))
        if relationship == "provider":
            w = self.world
            return choices.choice((side.provider[1], w.shared_provider[1], w.free_provider[1]))
        if relationship in ("account", "company", "people"):
            return side.records[relationship][1]
        if relationship == "workspace_connector":
            return side.workspace_connector[1]
        if relationship == "workspace_group":
            return side.group[1]
        return side.person[1]  # created_by

    def digest(self, side: tn.Side) -> str:
        """Every junction row in ``side``'s workspaces or group, as one checksum."""
        workspaces = f"{side.workspace[0]}, {side.spare_workspace[0]}"
        ledgers = [
            f"SELECT '{table}:' || t::text FROM core_api.{table} t "
            f"JOIN core_api.workspace_connectors wc ON wc.pk = t.workspace_connector_pk "
            f"JOIN core_api.{RECORD_TABLES[record]} r "
            f"ON r.pk = t.{record}_pk "
            f"WHERE wc.workspace_pk IN ({workspaces}) OR r.workspace_pk IN ({workspaces})"
            for table, record in tn.PROVENANCE.items()
        ]
        others = [
            "SELECT 'wgw:' || t::text FROM core_api.workspace_group_workspaces t "
            f"WHERE t.workspace_pk IN ({workspaces}) OR t.workspace_group_pk = {side.group[0]}",
            "SELECT 'wp:' || t::text FROM core_api.workspace_providers t "
            f"WHERE t.workspace_pk IN ({workspaces})",
        ]
        sql = (
            "SELECT count(*), coalesce(md5(string_agg(x, E'\\n' ORDER BY x)), '') FROM ("
            + " UNION ALL ".join(ledgers + others)
            + ") s(x)"
        )
        count, checksum = self.admin.run(sql)[0]
        return f"{count}:{checksum}"


def _stable_text(value: Any) -> str:
    """JSON for what JSON cannot hold, the same in every process (no ``repr`` addresses)."""
    return repr(value) if isinstance(value, bytes | bytearray) else type(value).__name__


def _relationships(body: Any) -> dict[str, dict[str, Any]]:
    """The linkage objects of a request document's relationships, where the shape allows."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        return {}
    members = body["data"].get("relationships")
    if not isinstance(members, dict):
        return {}
    return {
        name: member["data"]
        for name, member in members.items()
        if isinstance(member, dict) and isinstance(member.get("data"), dict)
    }


@pytest.fixture(scope="module")
def fuzzing(api_database: local_db.LocalDatabase) -> Iterator[Fuzzing]:
    admin = local_db.admin_connection(api_database.admin_url)
    world = tn.world(admin)

    def key(side: tn.Side, kind: str) -> str:
        t = side.tenant
        return api_keys.create_key(
            admin, person_id=t.person_id, workspace_id=t.workspace_id, kind=kind, name="fuzz"
        )[1]

    callers = (
        Caller("member of A", key(world.a, "member"), world.a, world.b),
        Caller("member of B", key(world.b, "member"), world.b, world.a),
        Caller("service of A", key(world.a, "service"), world.a, world.b, service=True),
    )
    log = io.StringIO()
    if SEED is not None:
        print(f"schemathesis seed: {SEED} (WELLAPI_FUZZ_SEED={SEED} replays this run)")
    try:
        with serving(api_database, processes=0, log=log) as served:
            yield Fuzzing(served, world, callers, admin, log)
    finally:
        admin.close()
    if SEED is not None:  # make fuzz: what was sent, for the record (.local/fuzz.json)
        statuses = collections.Counter(re.findall(r'^\S+ "[^"]*" (\d{3}) ', log.getvalue(), re.M))
        summary = {
            "seed": SEED,
            "examples_per_operation": EXAMPLES,
            "requests": sum(statuses.values()),
            "statuses": dict(sorted(statuses.items())),
        }
        (ROOT / ".local").mkdir(exist_ok=True)
        (ROOT / ".local" / "fuzz.json").write_text(json.dumps(summary, indent=2) + "\n")


@SCHEMA.parametrize()
def test_generated_requests_get_conforming_answers_and_never_write_across_workspaces(
    case: schemathesis.Case, fuzzing: Fuzzing
) -> None:
    caller, choices = fuzzing.caller_for(case)
    fuzzing.aim(case, caller, choices)
    untouchable = caller.must_not_touch if case.method.upper() != "GET" else None
    before = fuzzing.digest(untouchable) if untouchable is not None else None

    # A case generated without valid credentials (on purpose) is sent as generated.
    negated = SCHEMA.is_security_param_negated(case)
    response = case.call_and_validate(
        base_url=fuzzing.served.url,
        headers=None if negated else {"Authorization": f"Bearer {caller.key}"},
        checks=CHECKS,
    )

    if response.content and response.headers.get("content-type", [""])[0].startswith(JSONAPI):
        assert_valid_document(response.json())
    if untouchable is not None:
        assert fuzzing.digest(untouchable) == before, (
            f"{caller.name} changed the other workspace's rows with {case.method} {case.path}"
        )
