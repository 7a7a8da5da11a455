"""The repository stands alone: a user clones it and nothing else.

No tracked file may refer to anything outside the repository: not the sibling folders of the
machine it was written on, and no absolute path of a user's or a developer's machine. (Paths
that name the Lambda environment, such as ``/opt/python`` or ``/var/task``, are the same
everywhere and are not this kind of reference.) The patterns are assembled from pieces so that
this file does not match them itself.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UP = re.escape("..") + "/"

OUTSIDE = {
    "a sibling folder of the checkout": re.compile(UP + r"(?:shared|main|\.library)\b"),
    "a path under the developers' work folder": re.compile(r"(?<![\w.-])/" + "work" + r"/"),
    "a home directory": re.compile(r"(?<![\w.-])/(?:home/[a-z_][\w.-]*|root|Users/[\w.-]+)/"),
    "a Windows user folder": re.compile(r"\b[A-Za-z]:\\+Users\\", re.I),
    "the shared folder of the specifications": re.compile(
        r"(?<!layers/)\b" + "shared" + r"/(?:spec|docs|jsonapi|hooks)\b"
    ),
}


def tracked_files() -> list[Path]:
    listing = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True, text=True
    ).stdout
    return [ROOT / name for name in listing.split("\0") if name]


def references_outside(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return []
    return [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {what}: "
        f"{match.group(0)!r}"
        for what, pattern in OUTSIDE.items()
        for match in pattern.finditer(text)
    ]


def test_no_tracked_file_refers_to_anything_outside_the_repository():
    files = [p for p in tracked_files() if p.is_file()]
    assert ROOT / "README.md" in files
    assert [r for path in files for r in references_outside(path)] == []


def test_the_check_finds_each_kind_of_outside_reference():
    # Every pattern must catch what it names, or the test above could pass on anything.
    samples = {
        "a sibling folder of the checkout": "see " + ".." + "/shar" + "ed/x.txt",
        "a path under the developers' work folder": "open('/" + "work/main/x')",
        "a home directory": "PYTHON=/" + "root/.pyenv/versions/3.13.0/bin/python3.13",
        "a Windows user folder": "C:" + "\\Users\\ada\\well",
        "the shared folder of the specifications": 'ROOT.parent / "x" ; ' + "shared" + "/jsonapi",
    }
    assert set(samples) == set(OUTSIDE)
    for what, text in samples.items():
        assert OUTSIDE[what].search(text) is not None, what
    assert not any(
        p.search("layers/shared/requirements.txt /opt/python /var/task") for p in OUTSIDE.values()
    )


# No file a person writes is over MAX_LINES: past that a module, a test file or a document holds
# more than one concern. What is exempt is written by a program (and held to its source by a
# test) or taken as it is from elsewhere.
MAX_LINES = 800
NOT_WRITTEN_BY_HAND = (
    re.compile(r"^(?:template|stacks/[\w-]+)\.yaml$"),  # make template.yaml, from template/
    re.compile(r"^openapi\.json$"),  # make openapi
    re.compile(r"^(?:layers/shared/)?requirements(?:-\w+)?\.txt$"),  # make lock
    re.compile(
        r"^layers/shared/wellapi/store/certs/[\w-]+\.pem$"
    ),  # AWS's CA bundles, as published
    re.compile(r"^tests/vendor/"),  # the JSON:API schemas, as published
    re.compile(r"^migrations/schema\.sql$"),  # make generate, from the migrations
)


def long_files(paths: list[str]) -> list[str]:
    long = []
    for name in paths:
        if any(pattern.match(name) for pattern in NOT_WRITTEN_BY_HAND):
            continue
        try:
            lines = (ROOT / name).read_text(encoding="utf-8").count("\n")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        if lines > MAX_LINES:
            long.append(f"{name}: {lines} lines")
    return long


def test_no_file_written_by_hand_is_over_800_lines():
    names = [p.relative_to(ROOT).as_posix() for p in tracked_files() if p.is_file()]
    assert long_files(names) == []


def test_the_line_limit_exempts_only_what_a_program_writes():
    assert not any(p.match("README.md") for p in NOT_WRITTEN_BY_HAND)
    assert not any(p.match("devkit/welldev/cli.py") for p in NOT_WRITTEN_BY_HAND)
    assert not any(p.match("template/monitoring.yaml") for p in NOT_WRITTEN_BY_HAND)
    assert not any(p.match("migrations/versions/0001_baseline.py") for p in NOT_WRITTEN_BY_HAND)
    assert any(p.match("migrations/schema.sql") for p in NOT_WRITTEN_BY_HAND)


def python_lines(folder: str) -> int:
    """Lines of the tracked Python files under ``folder``."""
    paths = [p for p in tracked_files() if p.suffix == ".py" and p.is_relative_to(ROOT / folder)]
    return sum(p.read_text(encoding="utf-8").count("\n") for p in paths)


def test_the_toolkit_is_smaller_than_the_product_it_serves():
    # The toolkit (the local stack, the generators, the bench) serves the product: it stays
    # smaller, measured as issue #51 measures it, lines of Python in devkit/ against the layer.
    assert 0 < python_lines("devkit") < python_lines("layers/shared")


def unclosed_fence(text: str) -> int | None:
    """The line of a Markdown code fence opened and never closed, if any."""
    opened = None
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("```"):
            opened = None if opened else number
    return opened


def test_every_markdown_file_closes_the_code_blocks_it_opens():
    # An unclosed fence turns the rest of a document into one code block.
    unclosed = {
        str(path.relative_to(ROOT)): line
        for path in tracked_files()
        if path.suffix == ".md" and (line := unclosed_fence(path.read_text("utf-8")))
    }
    assert unclosed == {}


def test_a_stray_fence_is_found():
    assert unclosed_fence("text\n```sh\nmake run\n```\n") is None
    assert unclosed_fence("```sh\nmake run\n```\nsaid.\n```\nmore") == 5
