"""The revisions are numbered (docs/adding-a-resource.md, "3. The migration"): each is
``migrations/versions/<NNNN>_<name>.py``, its ``revision`` the file's number and its
``down_revision`` the number before it, in one line from ``0001``, the baseline's."""

from __future__ import annotations

import re
from pathlib import Path

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"
FILE = re.compile(r"(\d{4})_[a-z0-9_]+\.py")


def _assigned(text: str, name: str) -> str | None:
    (value,) = re.findall(rf"^{name}: str(?: \| None)? = (None|\"\d{{4}}\")$", text, re.MULTILINE)
    return None if value == "None" else value.strip('"')


def test_each_revision_is_its_files_number_after_the_one_before():
    files = sorted(p.name for p in VERSIONS.glob("*.py"))
    assert files[0] == "0001_baseline.py"
    for number, name in enumerate(files, 1):
        assert (found := FILE.fullmatch(name)), f"{name}: not <NNNN>_<name>.py"
        text = (VERSIONS / name).read_text(encoding="utf-8")
        assert found[1] == _assigned(text, "revision") == f"{number:04d}", name
        assert _assigned(text, "down_revision") == (f"{number - 1:04d}" if number > 1 else None)
