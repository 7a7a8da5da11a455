"""The API's two Python peers, run by the bench beside it on the same database and events.

Issue #50 holds the API to the best of two peers written as their frameworks' users write
them: Django REST framework with its JSON:API package (``drf_peer``) and FastAPI with
SQLAlchemy and pydantic (``fastapi_peer``). Each serves the company ledger's Retrieve, List
and Create from the same events, as the owner (no row-level security, proof or scope), on a
connection of its own per name as a warm Lambda keeps one, once it answers what the API does.
"""

from __future__ import annotations

import contextlib
import importlib
import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol, cast

import pg8000.native

from wellapi.store.connections import url_connect_kwargs
from welldev.bench.errors import BenchError

if TYPE_CHECKING:
    from welldev.bench.harness import Handler


class Peer(Protocol):
    def handlers(self, databases: Mapping[str, Mapping[str, Any]]) -> dict[str, Handler]: ...

    def close(self) -> None: ...


# Each peer's module, ``<name>_peer``: imported when it serves (its framework takes a second or
# two to import, which no test of what is here should pay).
PEERS = ("drf", "fastapi")


def _module(peer: str) -> Peer:
    return cast(Peer, importlib.import_module(f"{__name__}.{peer}_peer"))


def application_name(peer: str, name: str) -> str:
    """What a peer's connection ``name`` calls itself: its backend is found by it."""
    return f"bench_{peer}_{name}"


def connect_kwargs(admin_url: str, peer: str, name: str, port: int | None) -> dict[str, Any]:
    """psycopg's keywords for the owner's connection ``name``: straight to the database's
    socket, or through the proxy listening on ``port``."""
    pg8000_kwargs = url_connect_kwargs(admin_url)
    kwargs = {"dbname": pg8000_kwargs["database"], "user": pg8000_kwargs["user"]}
    kwargs |= {"password": pg8000_kwargs["password"]} if "password" in pg8000_kwargs else {}
    if port is not None:
        kwargs |= {"host": "127.0.0.1", "port": port}
    elif "unix_sock" in pg8000_kwargs:
        kwargs["host"] = pg8000_kwargs["unix_sock"].rpartition("/.s.PGSQL.")[0]
    else:
        kwargs |= {"host": pg8000_kwargs["host"], "port": pg8000_kwargs["port"]}
    return kwargs | {"application_name": application_name(peer, name)}


@contextlib.contextmanager
def serving(
    admin_url: str, ports: Mapping[str, int | None]
) -> Iterator[dict[str, dict[str, Handler]]]:
    """Each peer's handler per name of ``ports`` (a proxy's port, or None for the socket), its
    connections closed after. Neither peer's List needs an index the API's migrations lack:
    EXPLAIN finds each walking the workspace's connectors by their indexes."""
    modules = {peer: _module(peer) for peer in PEERS}
    try:
        yield {
            peer: module.handlers(
                {name: connect_kwargs(admin_url, peer, name, port) for name, port in ports.items()}
            )
            for peer, module in modules.items()
        }
    finally:
        for module in modules.values():
            module.close()


def backend_pid(admin: pg8000.native.Connection, peer: str, name: str) -> int:
    """The backend serving the peer's connection ``name``."""
    rows = admin.run(
        "SELECT pid FROM pg_stat_activity WHERE application_name = :n",
        n=application_name(peer, name),
    )
    if len(rows) != 1:
        raise BenchError(f"{len(rows)} backends serve {application_name(peer, name)}, not one")
    return int(rows[0][0])


def ids(response: Mapping[str, Any]) -> tuple[list[Any], list[Any]]:
    """The ``(type, id)`` of a document's primary data in order, and of its included."""
    document = json.loads(response["body"])
    data = document["data"]
    primary = [(r["type"], r["id"]) for r in ([data] if isinstance(data, dict) else data)]
    return primary, sorted((r["type"], r["id"]) for r in document.get("included", []))


def same_answer(peer: str, case: str, ours: Mapping[str, Any], theirs: Mapping[str, Any]) -> None:
    """Insist that a peer answered what the API answered: the same status, the same rows in
    the same order, the same included resources (a Create: its relationships)."""
    if theirs.get("statusCode") != ours["statusCode"]:
        raise BenchError(f"peer {peer} answered {case} {theirs.get('statusCode')}: {theirs}")
    if case == "create":
        mine, yours = (json.loads(r["body"])["data"]["relationships"] for r in (ours, theirs))
        same = all(mine[k]["data"]["id"] == yours[k]["data"]["id"] for k in mine)
    else:
        same = ids(ours) == ids(theirs)
    if not same:
        raise BenchError(f"peer {peer} answered {case} with other rows than the API")
