"""The artifacts of ``sam build`` work the way Lambda loads them: a packaging mistake fails CI.

``make test`` runs ``sam build`` before pytest; these tests read ``.aws-sam/build`` and never
build. A missing build fails, it is not skipped. Every handler in the built template is
imported by a fresh interpreter that sees only what Lambda puts on ``sys.path``: the function's
code directory, the layer's ``python/`` directory and what the python3.13 runtime provides
(the standard library, boto3 and its dependencies), never the repository or the venv.

The layer is installed from the runtime lock with hashes required; these tests also hold it to
the lock, to the versions this test run imports, and to nothing that never runs in Lambda.
"""

from __future__ import annotations

import email.parser
import importlib.metadata
import importlib.util
import json
import os
import re
import ssl
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from tests.support.sam_build import BUILD, REBUILD_HINT, Build
from wellapi.handlers.entry_points import binding_of
from welldev import database as local_db

ROOT = Path(__file__).resolve().parents[2]
RUNTIME_LOCK = ROOT / "layers" / "shared" / "requirements.txt"
DEV_LOCK = ROOT / "requirements-dev.txt"

# What the python3.13 Lambda runtime provides besides the standard library.
RUNTIME_PACKAGES = ("boto3", "botocore", "jmespath", "s3transfer", "dateutil", "urllib3", "six")
# Never part of an artifact, at its top level (third-party packages may carry their own tests).
NEVER_SHIPPED = {".venv", ".local", ".git", ".aws-sam", "tests", "wellapi.egg-info"}
# What never runs in Lambda, so never ships in the layer (layers/shared/Makefile removes it):
# console scripts and headers at the top level, test suites and test helpers anywhere, C and
# Cython sources, type stubs, caches, and SQLAlchemy's dialects other than PostgreSQL.
NEVER_IN_LAYER_TOP = {"bin", "include"}
NEVER_IN_LAYER_DIRS = {"tests", "testing", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".cache"}
NEVER_IN_LAYER_SUFFIXES = {".c", ".cpp", ".h", ".hpp", ".pyx", ".pxd", ".pyi"}
SQLALCHEMY_DIALECTS = {"postgresql"}
# PEP 552: the flags word follows the magic number; bit 0 = hash-based, bit 1 = check_source.
UNCHECKED_HASH = 0b01

# No function needs these when it starts: the ORM is for nothing the runtime does (75-150 ms of
# cold start), boto3 only where credentials are made (wellapi.store.connections.prepare_at_init:
# during init, in Lambda with IAM or Secrets Manager credentials; not here, where DB_AUTH is unset).
# `make bench` holds each function's cold start against the third-party modules it loads, so
# this list is what keeps that floor honest.
NEVER_IMPORTED = ("sqlalchemy.orm", "boto3")
# What each kind of function loads at init, from the layer or the runtime (INIT_MODULES):
# wellapi's modules one by one, Powertools' by subpackage, other packages by name. A function
# loads what its first request uses and nothing more (no SQLAlchemy, no router, no pydantic
# outside the sync and operator functions); a new import anywhere fails here until it is added
# on purpose.
# Every function: the driver (pg8000 and what it imports), Powertools' logger (importing the
# package aws_lambda_powertools also loads its metrics and tracing modules: its __init__ does,
# and its user-agent hook imports botocore, which the Lambda runtime holds anyway), settings.
# A package's __init__ (wellapi.store, wellapi.handlers, wellapi.http) is a module of its own:
# its docstring, nothing else.
_COMMON = (
    *("asn1crypto", "botocore", "dateutil", "jmespath", "pg8000", "scramp", "six"),
    "typing_extensions",
    *(f"aws_lambda_powertools{m}" for m in ("", ".exceptions", ".logging", ".metrics")),
    *(f"aws_lambda_powertools{m}" for m in (".package_logger", ".shared", ".tracing")),
    *(f"aws_lambda_powertools{m}" for m in (".utilities", ".utilities.jmespath_utils")),
    "aws_lambda_powertools.warnings",
    *(f"wellapi{m}" for m in ("", ".errors", ".roles", ".settings")),
    # The connection, the statements and rows it sends and reads (and what of pg8000 it uses
    # beyond its documented API), the notices it hears.
    *(f"wellapi.store{m}" for m in ("", ".connections", ".driver", ".notices", ".rows", ".sql")),
)
# The resources' registry and the resource modules it lists, without their SQL conditions: every API
# function, and the sync and sweep functions, whose ledgers are derived from it.
_RESOURCES = tuple(
    f"wellapi.resources{m}"
    for m in (
        *("", ".description", ".rules", ".parents", ".ledgers", ".enrolments", ".providers"),
        ".feed",
    )
)
# Every API function: the handler, the request and the document, the composer of its statements.
_API = (
    *(f"wellapi.http{m}" for m in ("", ".principal", ".proofs", ".request", ".response")),
    "wellapi.store.shapes",
    *(f"wellapi.sqltext{m}" for m in ("", ".statements", ".reads", ".document", ".text")),
    # The words the rules' conditions are written in; the ledgers' (a read hides a revoked
    # connector's rows).
    *("wellapi.resources.conditions", "wellapi.resources.ledgers_sql"),
    *_RESOURCES,
    *("wellapi.handlers", "wellapi.handlers.api", "wellapi.handlers.entry_points"),
    "wellapi.domain",
    *(f"wellapi.jsonapi{m}" for m in ("", ".cursor", ".document", ".ids", ".media", ".query")),
    *("wellapi.operations", "wellapi.resources.utc"),
)
# Every write function: the document parser and the conditional write they share (with the
# statements of a retry-safe create, which its delete and update load and never send).
_WRITE = (
    "wellapi.resources.changes",
    "wellapi.jsonapi.body",
    "wellapi.operations.conditional_write",
    "wellapi.store.idempotency",
)
INIT_MODULES: dict[str, list[str]] = {
    "read": sorted((*_COMMON, *_API, "wellapi.operations.read")),
    # A related-resource or relationship read: the retrieve's modules (what every operation
    # shares, in wellapi.operations) and its own, no more.
    "related": sorted((*_COMMON, *_API, "wellapi.operations.related")),
    # The changes feed: its operation and its statement, nothing of the generic read's.
    "feed": sorted((*_COMMON, *_API, "wellapi.operations.feed", "wellapi.store.feed")),
    "write": sorted((*_COMMON, *_API, *_WRITE, "wellapi.operations.write")),
    "nested write": sorted((*_COMMON, *_API, *_WRITE, "wellapi.operations.nested")),
    # The $default route's function: every operation's module, which the registry imports for
    # their routes (it runs none of them), and its own; it connects to nothing.
    "unmatched": sorted(
        (
            *_COMMON,
            *_API,
            *_WRITE,
            *(f"wellapi.operations.{m}" for m in ("read", "related", "feed", "write", "nested")),
            *("wellapi.operations.registry", "wellapi.operations.unmatched"),
            *("wellapi.store.feed", "wellapi.handlers.unmatched"),
        )
    ),
    "authorizer": sorted(
        (
            *_COMMON,
            *("wellapi.handlers", "wellapi.handlers.authorizer", "wellapi.http"),
            "wellapi.http.keys",
            "wellapi.http.principal",
            "wellapi.http.proofs",
        )
    ),
    "sync": sorted(
        (
            *_COMMON,
            *(f"aws_lambda_powertools.{m}" for m in ("middleware_factory", "utilities.batch")),
            "aws_lambda_powertools.utilities.data_classes",
            *("annotated_types", "pydantic", "pydantic_core", "typing_inspection"),
            *("wellapi.domain", "wellapi.resources.utc"),
            *("wellapi.sync", "wellapi.handlers", "wellapi.handlers.sync"),
            *("wellapi.sync.ledgers", "wellapi.sync.messages", "wellapi.sync.batches"),
            *_RESOURCES,
            # The words of the resolving statement, composed per batch's groups.
            "wellapi.resources.conditions",
        )
    ),
    # The scheduled sweeper (the ledgers' periods, revocations, retention): no batch utility, no
    # data classes, no pydantic (it reads no message).
    "sweep": sorted(
        (
            *_COMMON,
            "wellapi.domain",
            *("wellapi.sync", "wellapi.handlers", "wellapi.handlers.sweep"),
            *("wellapi.handlers.scheduled", "wellapi.sync.role_defaults"),
            *("wellapi.sync.sweeper", "wellapi.sync.ledgers"),
            *("wellapi.sync.retention", "wellapi.sync.periods"),
            *_RESOURCES,
        )
    ),
    # The scheduled change drainer: the database, its own SQL, nothing of the resources (boto3's
    # EventBridge client is made on the first run, not at init).
    "drain": sorted(
        (
            *_COMMON,
            *("wellapi.sync", "wellapi.handlers", "wellapi.handlers.drain", "wellapi.sync.drainer"),
            *("wellapi.handlers.scheduled", "wellapi.sync.role_defaults"),
        )
    ),
    # The operator's actions: pydantic for its events, a key's making, nothing of the resources.
    "operator": sorted(
        (
            *_COMMON,
            *("annotated_types", "pydantic", "pydantic_core", "typing_inspection"),
            *("wellapi.domain", "wellapi.handlers", "wellapi.handlers.operator"),
            *("wellapi.http", "wellapi.http.keys"),
        )
    ),
    # The custom resource that runs the migrations: Alembic, and so SQLAlchemy.
    "migration": sorted(
        (
            *_COMMON,
            *("alembic", "greenlet", "mako", "markupsafe", "sqlalchemy"),
            *("wellapi.domain", "wellapi.handlers", "wellapi.handlers.migration"),
        )
    ),
}

# Run in the Lambda-like interpreter; argv[1] is the sys.path to prepend as JSON. "loaded" is
# every module the import loaded from the layer or the runtime (not the standard library, not
# the function's own directory), named as INIT_MODULES names them.
IMPORT_HANDLER = """
import importlib, json, os, sys
paths = json.loads(sys.argv[1])
sys.path[:0] = paths
roots = tuple(os.path.abspath(p) + os.sep for p in paths[1:])
before = set(sys.modules)
module_name, _, attribute = sys.argv[2].rpartition(".")
handler = getattr(importlib.import_module(module_name), attribute)
wellapi = importlib.import_module("wellapi")
never = tuple(json.loads(sys.argv[3]))


def named(module):
    parts = module.split(".")
    if parts[0] == "wellapi":
        return module
    if parts[0] == "aws_lambda_powertools":
        return ".".join(parts[: 3 if parts[1:2] == ["utilities"] else 2])
    return parts[0]


loaded = {
    named(m)
    for m in set(sys.modules) - before
    if (getattr(sys.modules[m], "__file__", None) or "").startswith(roots)
}
print(json.dumps({
    "callable": callable(handler),
    "wellapi": wellapi.__file__,
    "never_imported": sorted(
        m for m in sys.modules if any(m == n or m.startswith(n + ".") for n in never)
    ),
    "loaded": sorted(loaded),
}))
"""
MIGRATE = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
from wellapi.handlers.migration import handler
print(json.dumps(handler({}, None)))
"""
LIST_REVISIONS = """
import json, sys
sys.path[:0] = json.loads(sys.argv[1])
from alembic.script import ScriptDirectory
from wellapi.handlers.migration import alembic_config
script = ScriptDirectory.from_config(alembic_config())
revisions = sorted(s.revision for s in script.walk_revisions())
print(json.dumps({"dir": script.dir, "revisions": revisions}))
"""


@pytest.fixture(scope="module")
def runtime_packages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding only what the Lambda runtime provides, linked from the venv."""
    directory = tmp_path_factory.mktemp("lambda-runtime")
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None, f"{name} is not installed"
        assert spec.origin is not None, f"{name} is not installed"
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        (directory / source.name).symlink_to(source)
    return directory


def run_like_lambda(
    build: Build,
    runtime: Path,
    code_dir: Path,
    script: str,
    *args: str,
    environment: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a fresh interpreter with the sys.path Lambda gives ``code_dir``.

    ``-I -S``: no PYTHON* variables, no user or venv site-packages, no sitecustomize; ``-B``:
    nothing is written, so the shipped bytecode is what gets used.
    """
    paths = [str(code_dir), str(build.layer), str(runtime)]
    return subprocess.run(
        [sys.executable, "-I", "-S", "-B", "-c", script, json.dumps(paths), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "LAMBDA_TASK_ROOT": str(code_dir),
            "AWS_REGION": "eu-west-1",
            "PATH": "/usr/bin",
            **(environment or {}),
        },
    )


def _files(root: Path) -> dict[str, bytes]:
    """Relative path -> content of every non-bytecode file under ``root``."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def _differences(shipped: dict[str, bytes], source: dict[str, bytes]) -> list[str]:
    return [
        f"{'missing' if name not in shipped else 'extra' if name not in source else 'differs'}:"
        f" {name}"
        for name in sorted(shipped.keys() | source.keys())
        if shipped.get(name) != source.get(name)
    ]


def _bytecode_problems(sources: list[Path]) -> list[str]:
    problems = []
    for source in sources:
        # Beside the source, where Lambda's Python looks: not under sys.pycache_prefix, which
        # the Makefile points at the development cache while the tests run.
        pyc = source.parent / "__pycache__" / f"{source.stem}.{sys.implementation.cache_tag}.pyc"
        if not pyc.is_file():
            problems.append(f"no bytecode: {source}")
            continue
        header = pyc.read_bytes()[:8]
        if header[:4] != importlib.util.MAGIC_NUMBER:
            problems.append(f"not CPython {sys.version_info.major}.{sys.version_info.minor}: {pyc}")
        elif int.from_bytes(header[4:8], "little") != UNCHECKED_HASH:
            problems.append(f"not unchecked-hash: {pyc}")
    return problems


def _subjects(certificates: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{k: v for rdn in c["subject"] for k, v in rdn} for c in certificates]


@pytest.fixture(scope="module")
def imported(build, runtime_packages) -> dict[str, dict[str, Any]]:
    """Each function's handler imported from its artifacts alone: function id -> report."""

    def probe(item: tuple[str, tuple[Path, str]]) -> tuple[str, dict[str, Any]]:
        function_id, (code_dir, handler) = item
        never = json.dumps(NEVER_IMPORTED)
        run = run_like_lambda(build, runtime_packages, code_dir, IMPORT_HANDLER, handler, never)
        if run.returncode != 0:
            return function_id, {"error": (run.stderr.strip().splitlines() or ["no output"])[-1]}
        return function_id, json.loads(run.stdout)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(probe, build.functions.items()))


def test_every_function_imports_its_handler_from_its_artifacts_alone(build, imported):
    # Not only the API: the authorizer, the sync and sweep functions must import from the
    # layer too.
    assert {
        "MigrationFunction",
        "AuthorizerFunction",
        "SyncFunction",
        "SweepFunction",
        "DrainFunction",
    } <= set(build.functions)
    assert build.functions["AuthorizerFunction"][1] == "authorizer.handler"
    assert build.functions["SyncFunction"][1] == "sync.handler"
    assert build.functions["SweepFunction"][1] == "sweep.handler"
    assert len(build.api_code_dirs) >= 43  # 40 routes, the authorizer, sync and sweep

    def problem(function_id: str, report: dict[str, Any]) -> str | None:
        if "error" in report:
            return str(report["error"])
        if not report["callable"]:
            return f"{build.functions[function_id][1]} is not callable"
        if not Path(report["wellapi"]).is_relative_to(build.layer):
            return f"wellapi came from {report['wellapi']}, not the layer"
        return None

    problems = {f: problem(f, report) for f, report in imported.items()}
    assert {f: error for f, error in problems.items() if error} == {}


def test_no_function_imports_the_orm_or_boto3_when_it_starts(imported):
    # The runtime builds its SQL from wellapi.resources.tables's Core tables.
    assert {f: r.get("never_imported", r.get("error")) for f, r in imported.items()} == {
        f: [] for f in imported
    }


def test_migration_function_finds_every_revision_in_its_code_directory(build, runtime_packages):
    code_dir = build.code_dir("MigrationFunction")
    run = run_like_lambda(build, runtime_packages, code_dir, LIST_REVISIONS)
    assert run.returncode == 0, run.stderr

    report = json.loads(run.stdout)
    repository = ScriptDirectory(str(ROOT / "migrations"))
    assert Path(report["dir"]) == code_dir
    assert report["revisions"] == sorted(s.revision for s in repository.walk_revisions())


def test_layer_ships_the_wellapi_sources_and_no_toolkit(build):
    assert not (build.layer / "welldev").exists()
    shipped = _files(build.layer / "wellapi")
    source = _files(ROOT / "layers" / "shared" / "wellapi")
    assert _differences(shipped, source) == [], REBUILD_HINT


def test_api_functions_ship_exactly_the_entry_points(build):
    source = _files(ROOT / "functions")
    for code_dir in build.api_code_dirs:
        assert _differences(_files(code_dir), source) == [], f"{code_dir.name}: {REBUILD_HINT}"


def test_migration_function_ships_the_alembic_environment_and_every_revision(build):
    own = frozenset({"env.py", "script.py.mako", "versions"})
    source = _files(ROOT / "migrations")
    shipped = _files(build.code_dir("MigrationFunction"))
    assert "Makefile" not in shipped
    assert (
        _differences(
            {k: v for k, v in shipped.items() if k.split("/")[0] in own},
            {k: v for k, v in source.items() if k.split("/")[0] in own},
        )
        == []
    ), REBUILD_HINT


def test_no_artifact_ships_the_venv_local_data_or_tests(build):
    artifacts = [*(d for d, _ in build.functions.values()), build.layer.parent, build.layer]
    shipped = [
        p.relative_to(BUILD).as_posix()
        for artifact in artifacts
        for p in artifact.iterdir()
        if p.name in NEVER_SHIPPED
    ]
    shipped += [
        p.relative_to(BUILD).as_posix()
        for artifact in artifacts
        for p in artifact.rglob(".*")
        if p.name in {".venv", ".local"}
    ]
    assert shipped == []


def test_wellapi_modules_in_the_layer_have_unchecked_hash_bytecode(build):
    modules = sorted((build.layer / "wellapi").rglob("*.py"))
    assert build.layer / "wellapi" / "store" / "connections.py" in modules
    assert _bytecode_problems(modules) == []


def test_every_module_of_the_layer_and_migration_function_has_unchecked_hash_bytecode(build):
    modules = [
        *build.layer.rglob("*.py"),
        *build.code_dir("MigrationFunction").rglob("*.py"),
    ]
    assert _bytecode_problems(modules) == []


def test_layer_ships_ca_bundles_for_rds_and_for_rds_proxy(build):
    certs = build.layer / "wellapi" / "store" / "certs"
    rds = _subjects(
        ssl.create_default_context(cafile=certs / "rds-global-bundle.pem").get_ca_certs()
    )
    proxy = _subjects(
        ssl.create_default_context(cafile=certs / "amazon-root-cas.pem").get_ca_certs()
    )

    assert {s.get("organizationalUnitName") for s in rds} == {"Amazon RDS"}
    assert "Amazon RDS eu-west-1 Root CA RSA2048 G1" in {s["commonName"] for s in rds}
    assert {"Amazon Root CA 1", "Amazon Root CA 3"} <= {s["commonName"] for s in proxy}


def _locked(lock: Path) -> dict[str, str]:
    """Normalised name -> version of every requirement pinned in a lock file."""
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", lock.read_text(), re.M)
    return {_normalised(name): version for name, version in pins}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distributions(site: Path) -> dict[str, str]:
    """Normalised name -> version of every distribution installed in ``site``."""
    found = {}
    for metadata in site.glob("*.dist-info/METADATA"):
        headers = email.parser.HeaderParser().parsestr(metadata.read_text())
        found[_normalised(headers["Name"])] = headers["Version"]
    return found


def _top_level_entries(dist_info: Path) -> set[str]:
    """The top-level files and directories a distribution installed (from its RECORD)."""
    record = (dist_info / "RECORD").read_text().splitlines()
    return {line.split(",")[0].split("/")[0] for line in record if line}


def test_layer_ships_the_locked_version_of_every_runtime_dependency(build):
    assert _distributions(build.layer) == _locked(RUNTIME_LOCK)


def test_layer_ships_the_versions_this_test_run_imports(build):
    shipped = _distributions(build.layer)
    tested = {name: importlib.metadata.version(name) for name in shipped}
    assert tested == shipped


def test_every_runtime_requirement_is_pinned_with_hashes():
    entries = re.split(r"\n(?=[A-Za-z0-9])", RUNTIME_LOCK.read_text().split("\n", 2)[2])
    unhashed = [e.split()[0] for e in entries if e.strip() and "--hash=sha256:" not in e]
    assert unhashed == []
    assert len(entries) == len(_locked(RUNTIME_LOCK))


def test_runtime_lock_holds_the_pins_of_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = dict(d.split("==") for d in pyproject["project"]["dependencies"])
    locked = _locked(RUNTIME_LOCK)
    assert {_normalised(n): v for n, v in declared.items()} == {
        _normalised(n): locked.get(_normalised(n)) for n in declared
    }


def test_development_lock_pins_every_runtime_dependency_at_its_runtime_lock_version():
    runtime, development = _locked(RUNTIME_LOCK), _locked(DEV_LOCK)
    assert {name: development.get(name) for name in runtime} == runtime


def test_layer_holds_only_the_locked_distributions_and_wellapi(build):
    dist_infos = sorted(build.layer.glob("*.dist-info"))
    owned = {"wellapi", "__pycache__"}.union(*(_top_level_entries(d) for d in dist_infos))
    strays = sorted(p.name for p in build.layer.iterdir() if p.name not in owned)
    assert strays == []


def test_layer_holds_nothing_that_never_runs_in_lambda(build):
    problems = []
    for path in build.layer.rglob("*"):
        parts = path.relative_to(build.layer).parts
        if len(parts) == 1 and parts[0] in NEVER_IN_LAYER_TOP:
            problems.append(f"top-level {parts[0]}/")
        elif path.is_dir() and path.name in NEVER_IN_LAYER_DIRS:
            problems.append(f"{'/'.join(parts)}/")
        elif path.suffix in NEVER_IN_LAYER_SUFFIXES:
            problems.append("/".join(parts))
        elif path.suffix == ".pyc" and f".{sys.implementation.cache_tag}." not in path.name:
            problems.append(f"bytecode of another Python: {'/'.join(parts)}")
        elif (
            parts[:2] == ("sqlalchemy", "dialects")
            and len(parts) == 3
            and path.is_dir()
            and parts[2] not in SQLALCHEMY_DIALECTS | {"__pycache__"}
        ):
            problems.append(f"SQLAlchemy dialect {parts[2]}")
    assert problems == []


@pytest.fixture
def empty_database(server: local_db.LocalDatabase) -> Iterator[local_db.LocalDatabase]:
    name = f"wellapi_packaging_{os.getpid()}"
    yield local_db.create_database(server, name, replace=True)
    local_db.drop_database(server, name)


def test_migration_function_migrates_an_empty_database_from_its_artifacts_alone(
    build, runtime_packages, empty_database
):
    # Runs the Alembic operations the layer's trimming must leave importable.
    code_dir = build.code_dir("MigrationFunction")
    environment = {"DB_AUTH": "url", "DATABASE_URL": empty_database.admin_url}
    run = run_like_lambda(build, runtime_packages, code_dir, MIGRATE, environment=environment)
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout.strip().splitlines()[-1]) == {
        "status": "migrated",
        "revision": "head",
    }

    head = ScriptDirectory(str(ROOT / "migrations")).get_current_head()
    conn = local_db.admin_connection(empty_database.admin_url)
    try:
        assert conn.run("SELECT version_num FROM core_api.alembic_version") == [[head]]
    finally:
        conn.close()


def init_group(handler: str) -> str:
    """Which list of INIT_MODULES a function's handler is held to."""
    if handler in (
        *("authorizer.handler", "sync.handler", "sweep.handler", "drain.handler"),
        "unmatched.handler",
    ):
        return handler.split(".")[0]
    if handler == "operator_actions.handler":
        return "operator"
    if handler.startswith("wellapi.handlers.migration."):
        return "migration"
    binding = binding_of(handler)
    assert binding is not None, handler
    operation = binding[1]
    if operation in ("list", "retrieve", "catalog"):
        return "read"
    if operation in ("related", "relationship"):
        return "related"
    if operation == "feed":
        return "feed"
    return "nested write" if operation in ("select", "remove", "enrol", "unenrol") else "write"


def test_every_function_loads_exactly_its_list_of_modules_at_init(build, imported):
    loaded = {f: r.get("loaded", r.get("error")) for f, r in imported.items()}
    groups = {f: init_group(handler) for f, (_, handler) in build.functions.items()}
    assert loaded == {f: INIT_MODULES[g] for f, g in groups.items()}
