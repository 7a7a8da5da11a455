"""``.local/demo.json``: the demo's workspaces and keys, and where the local server listens.

``wellapi run`` writes it with the URL it serves on and, under ``aws``, where its local AWS is
(``record_aws``); ``wellapi seed`` keeps both (the URL, or the one it is told); ``wellapi
enqueue``, ``queue`` and ``events`` find the local AWS by it. Standard library only, so a
command that needs nothing else from the demo does not import the seed's schema.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

DEMO_FILE = Path(".local") / "demo.json"
DEFAULT_PORT = 3000


def read_demo(path: Path) -> dict[str, Any] | None:
    """The previous ``.local/demo.json``, or None when there is none that can be read."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def write_demo(path: Path, document: dict[str, Any]) -> None:
    """Write ``.local/demo.json``, readable by its owner only: it holds live API keys. What it
    recorded of the local AWS (``record_aws``) stays."""
    previous = read_demo(path) or {}
    write_private(path, {**document, "aws": previous["aws"]} if "aws" in previous else document)


def write_private(path: Path, document: Any) -> None:
    """Write ``document`` as JSON to ``path``, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.touch(mode=0o600)
    temporary.chmod(0o600)
    temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    temporary.replace(path)


def record_aws(aws: dict[str, Any]) -> None:
    """Record where the local AWS of ``wellapi run`` is (``welldev.local_aws``)."""
    write_private(DEMO_FILE, {**(read_demo(DEMO_FILE) or {}), "aws": aws})


def default_base_url() -> str:
    """``$PORT`` when set, else the base URL the last ``wellapi run`` wrote, else port 3000."""
    if "PORT" in os.environ:
        return f"http://127.0.0.1:{int(os.environ['PORT'])}"
    base_url = (read_demo(DEMO_FILE) or {}).get("base_url")
    if isinstance(base_url, str):
        return base_url.rstrip("/")
    return f"http://127.0.0.1:{DEFAULT_PORT}"
