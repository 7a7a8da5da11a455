"""``make bench``: this run's figures against the faster Python peer's published ones (issue #32).

The peers, Django REST framework JSON:API and FastAPI + SQLAlchemy 2 + pydantic, were measured
side by side with this project on this kind of machine (2-core VM, Python 3.13, PostgreSQL,
the same API Gateway events, in-process handlers, medians of 150 to 600 requests, each peer
given the index its List needs). They are not run here: the goal compares this run's medians
with those published figures, the faster peer's for each request, and holds the project to at
least twice as fast. Each peer figure is the faster of the two; the request it stands for is
this bench's case of the same kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from welldev.bench.report import Report

GOAL = 2.0


@dataclass(frozen=True)
class Peer:
    case: str  # this run's figure the peer's is held against
    peer_ms: float  # the faster peer's median, ms (of CPU for the cold start)
    faster_peer: str


PUBLISHED = {
    "retrieve": Peer("warm.retrieve.handler", 4.46, "DRF-JSON:API"),
    "list_default": Peer("warm.list_default.handler", 7.54, "FastAPI"),
    "list_100_two_includes": Peer("warm.list.handler", 13.14, "FastAPI"),
    "create": Peer("warm.create.handler", 6.24, "DRF-JSON:API"),
    "cold_start_first_retrieve": Peer(
        "first_request.AccountWorkspaceConnectorsRetrieveFunction.cpu", 413.0, "DRF-JSON:API"
    ),
}


def compare_with_peers(report: Report) -> None:
    """``peers.<request>``: how many times faster than the faster peer (goal >= 2x)."""
    compared = {}
    for name, peer in PUBLISHED.items():
        ours = report.figures.get(peer.case)
        if ours is None:
            continue  # the phase that measures it did not run
        report.ratio(f"peers.{name}", peer.peer_ms / ours.median, GOAL, higher_is_better=True)
        compared[name] = {
            "ours": peer.case,
            "faster_peer": peer.faster_peer,
            "peer_ms": peer.peer_ms,
        }
    if compared:
        report.details["peers"] = {
            "method": (
                "this run's median against the faster peer's published median (issue #32: "
                "DRF-JSON:API and FastAPI + SQLAlchemy + pydantic, same kind of machine, not "
                "run here)"
            ),
            "requests": compared,
        }
