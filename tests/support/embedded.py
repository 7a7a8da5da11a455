"""A directory for an embedded PostgreSQL that a test starts itself, removed afterwards.

Under the repository's ``.local`` rather than pytest's temporary root: run as root, the server
runs as the ``pgserver`` user, for whom the wheel opens the parent directories, and another
pytest session of the same user closes its root (0700) again at any moment.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT_LOCAL = Path(__file__).resolve().parents[2] / ".local"


@contextmanager
def server_home() -> Iterator[Path]:
    ROOT_LOCAL.mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="embedded-", dir=ROOT_LOCAL))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)
