"""Every relative link of the README and of docs/ leads to a file, and to a heading there.

A heading's anchor is GitHub's: the heading's text in lower case, without the characters that
are neither word characters, spaces nor hyphens, each space a hyphen; a second heading of the
same text gets ``-1``. Links inside code blocks, and links with a scheme (``https:``), are
left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
HEADING = re.compile(r"#{1,6}\s+(.*)")


def _outside_code(path: Path) -> list[tuple[int, str]]:
    lines: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines.append((number, line))
    return lines


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for _, line in _outside_code(path):
        if match := HEADING.match(line):
            base = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
            anchor, n = base, 0
            while anchor in found:
                n += 1
                anchor = f"{base}-{n}"
            found.add(anchor)
    return found


def broken_links(files: list[Path], root: Path) -> list[str]:
    broken = []
    for path in files:
        for number, line in _outside_code(path):
            for target in LINK.findall(line):
                if re.match(r"[a-z][a-z0-9+.-]*:", target):
                    continue
                name, _, fragment = target.partition("#")
                destination = (path.parent / name).resolve() if name else path
                where = f"{path.relative_to(root)}:{number}: {target}"
                if not destination.exists():
                    broken.append(f"{where} (no such file)")
                elif (
                    fragment
                    and destination.suffix == ".md"
                    and fragment not in anchors(destination)
                ):
                    broken.append(f"{where} (no such heading)")
    return broken


def test_every_relative_link_of_the_readme_and_the_docs_resolves():
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "events/README.md"]
    assert broken_links(files, ROOT) == []


def test_the_check_finds_a_missing_file_and_a_missing_heading(tmp_path):
    (tmp_path / "a.md").write_text(
        "# A `title`, here\n\n## Twice\n\n## Twice\n\n"
        "[ok](#a-title-here) [ok](#twice-1) [ok](b.md) [ok](https://example.com/x.md)\n"
        "[gone](c.md) [gone](#nowhere) [gone](b.md#nowhere)\n"
        "```\n[in code](d.md)\n```\n"
    )
    (tmp_path / "b.md").write_text("# B\n")
    assert broken_links([tmp_path / "a.md"], tmp_path) == [
        "a.md:8: c.md (no such file)",
        "a.md:8: #nowhere (no such heading)",
        "a.md:8: b.md#nowhere (no such heading)",
    ]
