"""welldev.bench.peers: a peer is timed only once it answers what the API answers, and each of
its connections goes where the phase sends it (the database's socket, or a delaying proxy)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from welldev.bench.errors import BenchError
from welldev.bench.peers import connect_kwargs, same_answer

ROW = "company_workspace_connector"


def _answer(status: int, rows: list[str], included: tuple[str, ...] = ()) -> dict[str, Any]:
    document = {
        "data": [{"type": ROW, "id": r} for r in rows],
        "included": [{"type": "company", "id": c} for c in included],
    }
    return {"statusCode": status, "body": json.dumps(document)}


def test_a_peer_answering_the_same_rows_and_included_passes():
    ours = _answer(200, ["a", "b"], ("x", "y"))
    same_answer("drf", "list", ours, _answer(200, ["a", "b"], ("y", "x")))


@pytest.mark.parametrize(
    "theirs",
    [
        _answer(200, ["b", "a"], ("x", "y")),
        _answer(200, ["a"], ("x", "y")),
        _answer(200, ["a", "b"], ("x",)),
        _answer(404, []),
    ],
    ids=["other order", "fewer rows", "fewer included", "other status"],
)
def test_a_peer_answering_otherwise_is_not_timed(theirs):
    with pytest.raises(BenchError):
        same_answer("fastapi", "list", _answer(200, ["a", "b"], ("x", "y")), theirs)


def test_a_peer_connects_to_the_socket_or_through_the_proxy_named():
    url = "postgresql://postgres:@/bench?host=/srv/pg"
    direct = connect_kwargs(url, "drf", "direct", None)
    assert direct == {
        "dbname": "bench",
        "user": "postgres",
        "host": "/srv/pg",
        "application_name": "bench_drf_direct",
    }
    proxied = connect_kwargs(url, "drf", "1ms", 5999)
    assert (proxied["host"], proxied["port"]) == ("127.0.0.1", 5999)
