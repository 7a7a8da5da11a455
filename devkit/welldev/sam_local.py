"""What ``sam local invoke`` needs of the local stack, and its flags as ``wellapi`` reads them.

``sam local invoke`` runs a function in a Docker container, which reaches the host as
``host.docker.internal``; it gives the function the template's environment variables, each
overridden by the ``--env-vars`` file's ``Parameters`` and then by the file's entry for the
function (its logical id or its name), and ignores any variable the template does not declare
for it. ``wellapi run`` writes that file, ``.local/sam-env.json``: each function's
``DATABASE_URL`` logs in as the role the function uses in AWS, with the password that role has
in the local database, at the address the database listens on for containers.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import pg8000.native

from wellapi.roles import APP_ROLES
from welldev import stack as local_stack
from welldev.database import LOCAL_ROLE_PASSWORD, LocalDatabase
from welldev.demo_file import write_private
from welldev.function_roles import role_of

# The host as a container sees it (Docker Desktop; on Linux, `--add-host` maps it).
CONTAINER_HOST = "host.docker.internal"
# The host as this machine sees it.
LOOPBACK = "127.0.0.1"
ENV_VARS_FILE = Path(".local") / "sam-env.json"
# The variables the file sets: all declared in the template's Globals (a variable the template
# does not declare is ignored by SAM).
SET_VARIABLES = ("DB_AUTH", "DATABASE_URL", "DB_USER")
_PAIR = re.compile(r"ParameterKey=([^,\s]+),ParameterValue=(\S*)")


class SamFlagError(ValueError):
    """A flag of ``sam local invoke`` given a value it does not take."""


def parameter_overrides(given: Iterable[str]) -> dict[str, str]:
    """``--parameter-overrides`` as SAM reads it: ``Key=Value`` pairs separated by spaces, or
    CloudFormation's ``ParameterKey=Key,ParameterValue=Value``; each flag may hold several."""
    overrides: dict[str, str] = {}
    for text in given:
        for item in text.split():
            found = _PAIR.fullmatch(item)
            if found is not None:
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
    overrides = dict(document.get("Parameters", {}))
    own = document.get(function.logical_id) or document.get(function.function_name) or {}
    overrides.update(own)
    return {name: str(value) for name, value in overrides.items() if name in function.environment}


def seen_from_the_host(value: str) -> str:
    """A value written for a container, as this machine reaches the same place."""
    return value.replace(CONTAINER_HOST, LOOPBACK)


def role_url(host: str, port: int, database: str, user: str, password: str) -> str:
    login = f"{quote(user, safe='')}:{quote(password, safe='')}"
    return urlunsplit(("postgresql", f"{login}@{host}:{port}", "/" + quote(database), "", ""))


def env_vars_document(
    template: local_stack.Stack, logins: Mapping[str, tuple[str, str]]
) -> dict[str, dict[str, str]]:
    """The ``--env-vars`` file's content: for each function, a ``DATABASE_URL`` for its role.

    ``logins``: the URL and user of each role (``None``'s: the administrator's, for the
    migration function, whose user owns the schema), as ``function_roles.role_of`` names them.
    """
    document: dict[str, dict[str, str]] = {}
    for logical_id in sorted(template.functions):
        function = template.functions[logical_id]
        url, user = logins[role_of(template, function) or ""]
        values = {"DB_AUTH": "url", "DATABASE_URL": url, "DB_USER": user}
        document[logical_id] = {k: v for k, v in values.items() if k in function.environment}
    return document


def _loopback(host: str) -> bool:
    return host in ("localhost", LOOPBACK, "::1")


def container_url(url: str) -> str:
    """A database URL of this machine as a container reaches it: loopback becomes the host."""
    parts = urlsplit(url)
    if not _loopback(parts.hostname or ""):
        return url
    netloc = parts.netloc.rpartition("@")
    login = netloc[0] + netloc[1]
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit(parts._replace(netloc=f"{login}{CONTAINER_HOST}{port}"))


def write_for_containers(
    template: local_stack.Stack,
    db: LocalDatabase,
    admin: pg8000.native.Connection,
    tcp: tuple[str, int] | None,
    path: Path = ENV_VARS_FILE,
) -> str:
    """Write the ``--env-vars`` file for ``db``; what to tell the user about it.

    ``tcp``: where the embedded server listens on loopback (None: ``db`` is ``DATABASE_URL``'s,
    reached as its URL says). The embedded server's administrator, whose TCP login needs a
    password as every role's does, gets a new random one, written only to this file.
    """
    if tcp is not None:
        host, port = tcp
        secret = secrets.token_urlsafe(24)
        admin.run(f"ALTER ROLE CURRENT_USER PASSWORD {pg8000.native.literal(secret)}")
        user = str(admin.run("SELECT current_user")[0][0])
        admin_url = role_url(CONTAINER_HOST, port, db.name, user, secret)
    else:
        parts = urlsplit(db.admin_url)
        if not parts.hostname:
            return f"no {path}: the database is on a Unix socket, which no container reaches"
        host, port = parts.hostname, parts.port or 5432
        user = unquote(parts.username or "")
        admin_url = container_url(db.admin_url)
    reached = CONTAINER_HOST if tcp is not None or _loopback(host) else host
    logins = {"": (admin_url, user)}
    for role in APP_ROLES:
        logins[role] = (role_url(reached, port, db.name, role, LOCAL_ROLE_PASSWORD), role)
    # Readable by its owner only: it holds the roles' passwords.
    write_private(path, env_vars_document(template, logins))
    return (
        f"sam local: the database listens on port {port} of {host} for containers "
        f"({reached}:{port}); --env-vars {path} logs each function in as its role"
    )
