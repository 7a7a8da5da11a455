"""What ``sam local invoke`` needs of the local stack, and its flags as ``wellapi`` reads them.

``sam local invoke`` runs a function in a Docker container, which reaches the host as
``host.docker.internal``, with the template's variables overridden by the ``--env-vars`` file
(its ``Parameters``, then the function's entry; only variables the template declares).
``wellapi run`` writes that file, ``.local/sam-env.json``: each function's ``DATABASE_URL`` logs
in as the role the function uses in AWS, at the address the database listens on for containers.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import pg8000.native

from wellapi.roles import DEPLOYED_ROLES, HEAL_ROLE
from welldev import stack as local_stack
from welldev.database import LocalDatabase
from welldev.demo_file import write_private
from welldev.function_roles import role_of

# The host as a container sees it (Docker Desktop; on Linux, `--add-host` maps it).
CONTAINER_HOST = "host.docker.internal"
# The host as this machine sees it.
LOOPBACK = "127.0.0.1"
ENV_VARS_FILE = Path(".local") / "sam-env.json"
# The variables the file sets: the first three declared in the template's Globals, the
# healer's URL by the scheduled functions (SAM ignores any other).
SET_VARIABLES = ("DB_AUTH", "DATABASE_URL", "DB_USER", "HEAL_DATABASE_URL")
_PAIR = re.compile(r"ParameterKey=([^,\s]+),ParameterValue=(\S*)")


class SamFlagError(ValueError):
    """A flag of ``sam local invoke`` given a value it does not take."""


def parameter_overrides(given: Iterable[str]) -> dict[str, str]:
    """``--parameter-overrides`` as SAM reads it: ``Key=Value`` pairs separated by spaces, or
    CloudFormation's ``ParameterKey=Key,ParameterValue=Value``; each flag may hold several."""
    overrides: dict[str, str] = {}
    for item in " ".join(given).split():
        if (found := _PAIR.fullmatch(item)) is not None:
            overrides[found[1]] = found[2]
            continue
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise SamFlagError(f"--parameter-overrides: not Key=Value: {item!r}")
        overrides[key] = value
    return overrides


def read_env_vars(path: Path) -> dict[str, dict[str, Any]]:
    """An ``--env-vars`` file: a JSON object whose every value is an object of variables."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SamFlagError(f"--env-vars: {path} not found") from None
    except ValueError as error:
        raise SamFlagError(f"--env-vars: {path} is not JSON: {error}") from None
    if not isinstance(document, dict) or not all(isinstance(v, dict) for v in document.values()):
        raise SamFlagError(
            f"--env-vars: {path} must be an object of objects: "
            '{"Parameters": {"NAME": "value"}, "<LogicalId>": {"NAME": "value"}}'
        )
    return document


def env_var_overrides(
    document: Mapping[str, Mapping[str, Any]], function: local_stack.Function
) -> dict[str, str]:
    """The variables the file gives ``function``, as SAM CLI applies them: ``Parameters``,
    then the function's own entry, only for variables the template declares for it."""
    overrides = {**document.get("Parameters", {}), **(document.get(function.logical_id) or {})}
    return {name: str(value) for name, value in overrides.items() if name in function.environment}


def seen_from_the_host(value: str) -> str:
    """A value written for a container, as this machine reaches the same place."""
    return value.replace(CONTAINER_HOST, LOOPBACK)


def env_vars_document(
    template: local_stack.Stack, logins: Mapping[str, tuple[str, str]]
) -> dict[str, dict[str, str]]:
    """The ``--env-vars`` file: each function's ``DATABASE_URL`` and user from ``logins``, by
    ``role_of``'s role (``""``: the administrator, the migration's, whose user owns the schema),
    and the healer's URL for the functions that log in as it too."""
    document: dict[str, dict[str, str]] = {}
    for logical_id, function in sorted(template.functions.items()):
        url, user = logins[role_of(template, function) or ""]
        values = dict(zip(SET_VARIABLES, ("url", url, user, logins[HEAL_ROLE][0]), strict=True))
        document[logical_id] = {k: v for k, v in values.items() if k in function.environment}
    return document


def container_url(url: str) -> str:
    """A database URL of this machine as a container reaches it: loopback becomes the host."""
    parts = urlsplit(url)
    if parts.hostname not in ("localhost", LOOPBACK, "::1"):
        return url
    login, at, _ = parts.netloc.rpartition("@")
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{login}{at}{CONTAINER_HOST}{port}"))


def write_for_containers(
    template: local_stack.Stack,
    db: LocalDatabase,
    admin: pg8000.native.Connection,
    tcp: tuple[str, int] | None,
    path: Path = ENV_VARS_FILE,
) -> str:
    """Write the ``--env-vars`` file for ``db``; what to tell the user about it. ``tcp``: where
    the embedded server listens (None: ``db`` is ``DATABASE_URL``'s). Its administrator, whose
    TCP login needs a password, gets a new random one, written only to this file."""
    if tcp is not None:
        host, port = tcp
        secret = secrets.token_urlsafe(24)
        admin.run(f"ALTER ROLE CURRENT_USER PASSWORD {pg8000.native.literal(secret)}")
        user = str(admin.run("SELECT current_user")[0][0])
        server = LocalDatabase(f"postgresql://{CONTAINER_HOST}:{port}")
        admin_url = server.with_database(db.name).url_for(user, secret)
    else:
        parts = urlsplit(db.admin_url)
        if not parts.hostname:
            return f"no {path}: the database is on a Unix socket, which no container reaches"
        host, port = parts.hostname, parts.port or 5432
        user = unquote(parts.username or "")
        admin_url = container_url(db.admin_url)
    reached = urlsplit(admin_url).hostname
    logins = {role: (LocalDatabase(admin_url).url_for(role), role) for role in DEPLOYED_ROLES}
    logins[""] = (admin_url, user)
    # Readable by its owner only: it holds the roles' passwords.
    write_private(path, env_vars_document(template, logins))
    return (
        f"sam local: the database listens on port {port} of {host} for containers "
        f"({reached}:{port}); --env-vars {path} logs each function in as its role"
    )
