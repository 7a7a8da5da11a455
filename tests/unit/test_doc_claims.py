"""What the documents claim about themselves and the repository, held where a test can hold it.

- every document in ``docs/`` opens, under its title, with the reader it is for (``*For ...``);
- each is short enough to read: ``docs/performance.md`` (today's figures, the history is in
  git) at most 2,000 words, every other document at most 3,000;
- the table of ``events/README.md`` names every file of ``events/``, and the number it gives
  for the API events is theirs;
- every ``make <target>`` a document names is a target of the Makefile;
- every section a text names by its title (``docs/api.md, "Pages"``, ``README's "A first
  request"``, ``"CORS" in [deploy.md](deploy.md)``, ``see "CORS" below``), in the documents,
  the code, the template, the migrations and the tests, is a heading of that document or the
  bold lead of one of its paragraphs (``**What a consumer does.**``);
- the glossary of ``docs/code.md`` defines at most seven words of the project's own, none of
  them a word PostgreSQL or SAM already uses for something else, and the fields of a walk
  and a read shape take none of those words either.

``test_doc_links.py`` holds the Markdown links themselves.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from wellapi.operations.registry import ROUTES
from wellapi.resources import resource_named

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md"))
READMES = [ROOT / "README.md", ROOT / "events/README.md"]
WORD_LIMIT = 3000
WORD_LIMITS = {"performance.md": 2000}

# Where a section may be named: everything people write, not what is generated from it
# (openapi.json is written from devkit/welldev/openapi_text.yaml, which is read) nor vendored.
SCANNED_FOLDERS = (
    "docs",
    "events",
    "devkit",
    "layers",
    "functions",
    "migrations",
    "template",
    "tests",
)
SCANNED_SUFFIXES = {".md", ".py", ".toml", ".yaml", ".yml", ".json", ".mjs", ".sql", ".txt"}
SKIPPED_PARTS = {"vendor", "node_modules", "__pycache__", ".venv", ".local"}
ROOT_FILES = ("README.md", "samconfig.toml", "template.yaml", "pyproject.toml", "Makefile")

QUOTE = r'\\?["“](?P<section>[A-Z`][^"”\\\n]{0,80}?)\\?["”]'
DOCUMENT = (
    r"(?:\[[^\]\n]*\]\((?P<link>[^)\s#]+\.md)\)"
    r"|(?P<bare>(?:\.\./|docs/|events/)?(?:[a-z][a-z-]*\.md|README(?:\.md)?)))"
)
# docs/api.md, "Pages" / [deploy.md](deploy.md), "CORS" / the README's "A first request" /
# docs/api.md says under "Unmatched routes"
NAMED_AFTER = re.compile(DOCUMENT + r"(?:'s)?,?\s+(?:says\s+)?(?:under\s+)?" + QUOTE)
# "Limits" in [operations.md](operations.md)
NAMED_BEFORE = re.compile(QUOTE + r"\s+in\s+" + DOCUMENT)
# see "CORS" below / ("Events", below) / (above, "What a consumer does")
NAMED_HERE = re.compile(
    QUOTE + r",?\s+(?:below|above)\b|\b(?:below|above),\s+" + QUOTE.replace("section", "section2")
)


def _words(path: Path) -> int:
    return len(path.read_text("utf-8").split())


def _code_spans_and_blocks(text: str) -> Iterator[str]:
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            yield line
        else:
            yield from re.findall(r"`+([^`]+)`+", line)


def _make_targets_named(text: str) -> set[str]:
    named = set()
    for code in _code_spans_and_blocks(text):
        for match in re.finditer(r"(?:^|[\s;&|(])make\s+(?:[A-Z_]+=\S*\s+)*([a-z][\w.-]*)", code):
            named.add(match.group(1))
    return named


def makefile_targets(makefile: str) -> set[str]:
    targets = set()
    for line in makefile.splitlines():
        if match := re.match(r"([a-z][\w.\- ]*?)\s*:(?!=)", line):
            targets.update(match.group(1).split())
    return targets


def _normalised(title: str) -> str:
    return " ".join(re.sub(r"[`*_]", "", title).lower().rstrip(".:").split())


@functools.cache
def section_titles(document: Path) -> frozenset[str]:
    """The headings of a Markdown document, and the bold leads of its paragraphs and items."""
    titles = set()
    fenced = False
    for line in document.read_text("utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            continue
        elif heading := re.match(r"#{1,6}\s+(.*)", line):
            titles.add(_normalised(heading.group(1)))
        elif lead := re.match(r"\s*(?:[-*]\s+|\d+\.\s+)?\*\*(.+?)\*\*", line):
            titles.add(_normalised(lead.group(1)))
    return frozenset(titles)


def _names_a_section(title: str, section: str) -> bool:
    # A title may be named by its beginning: "The order" is "The order, and the rule ...".
    wanted = _normalised(section)
    return title == wanted or title.startswith(wanted + " ") or title.startswith(wanted + ",")


def _target(source: Path, root: Path, link: str | None, bare: str | None) -> Path:
    if link:
        return (source.parent / link).resolve()
    assert bare is not None
    if bare.startswith("README"):
        return root / "README.md"
    if bare.startswith(("docs/", "events/")):
        return root / bare
    beside = (source.parent / bare).resolve()
    return beside if beside.exists() else root / "docs" / bare


def _joined(text: str) -> str:
    # A name wrapped onto the next line of a comment or a docstring is one name.
    return re.sub(r"\s*\n\s*(?:#+|//|\*)?\s*", " ", text)


def unresolved_sections(files: list[Path], root: Path) -> list[str]:
    broken = []
    for source in files:
        raw = source.read_text("utf-8")
        if ".md" not in raw and "README" not in raw and source.suffix != ".md":
            continue
        text = _joined(raw)
        named: list[tuple[Path, str]] = []
        for pattern in (NAMED_AFTER, NAMED_BEFORE):
            for m in pattern.finditer(text):
                named.append((_target(source, root, m["link"], m["bare"]), m["section"]))
        if source.suffix == ".md":
            for m in NAMED_HERE.finditer(text):
                named.append((source, m["section"] or m["section2"]))
        for document, section in named:
            where = f"{source.relative_to(root)}: {document.name}, {section!r}"
            if not document.exists():
                broken.append(f"{where} (no such document)")
            elif not any(_names_a_section(t, section) for t in section_titles(document)):
                broken.append(f"{where} (no such section)")
    return broken


def scanned_files(root: Path) -> list[Path]:
    files = [root / name for name in ROOT_FILES if (root / name).exists()]
    for folder in SCANNED_FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            parts = set(path.relative_to(root).parts)
            # This file's own examples name sections that are not there, on purpose.
            if path.suffix in SCANNED_SUFFIXES and not parts & SKIPPED_PARTS and path.is_file():
                files.append(path)
    return [path for path in files if path != Path(__file__).resolve()]


@pytest.mark.parametrize("document", DOCS, ids=lambda p: p.name)
def test_every_document_says_first_whom_it_is_for(document: Path) -> None:
    paragraphs = [p.strip() for p in document.read_text("utf-8").split("\n\n") if p.strip()]
    assert paragraphs[0].startswith("# "), document.name
    assert "\n" not in paragraphs[0], document.name
    assert paragraphs[1].startswith("*For "), f"{document.name}: {paragraphs[1][:80]!r}"


@pytest.mark.parametrize("document", DOCS + READMES, ids=lambda p: p.name)
def test_every_document_is_short_enough_to_read(document: Path) -> None:
    limit = WORD_LIMITS.get(document.name, WORD_LIMIT)
    assert _words(document) <= limit, f"{document.name}: {_words(document)} words, over {limit}"


def test_the_events_table_names_every_file_of_events() -> None:
    readme = (ROOT / "events/README.md").read_text("utf-8")
    table = readme.split("| files | function | what AWS sends |", 1)[1].split("\n\n", 1)[0]
    pattern = "| `<kebab-resource>-<operation>.json` ("
    [pattern_row] = [row for row in table.splitlines() if row.startswith(pattern)]
    named = set(re.findall(r"`([\w.-]+\.json)`", table.replace(pattern_row, "")))
    files = {path.name for path in (ROOT / "events").glob("*.json")}
    # The API events the pattern row stands for: one per route, named after it.
    api_events = {f"{resource_named(key).path}-{op}.json" for key, op in ROUTES}
    assert named - files == set(), "the table names files events/ does not hold"
    assert files - named - api_events == set(), "files of events/ the table does not name"
    assert api_events <= files, "routes without their event"


def test_every_make_target_a_document_names_is_in_the_makefile() -> None:
    targets = makefile_targets((ROOT / "Makefile").read_text("utf-8"))
    for document in [*READMES, *DOCS, ROOT / "samconfig.toml"]:
        missing = _make_targets_named(document.read_text("utf-8")) - targets
        assert missing == set(), f"{document.relative_to(ROOT)} names `make {sorted(missing)}`"


def test_every_section_a_text_names_is_in_its_document() -> None:
    assert unresolved_sections(scanned_files(ROOT), ROOT) == []


GLOSSARY_LIMIT = 7
# Words that already mean something to a PostgreSQL or SAM engineer: a project word must not
# take them (a table partition, a SAM template, a plan the planner makes).
COLLIDING_WORDS = ("partition", "template", "plan", "family")


def _glossary() -> list[str]:
    text = (ROOT / "docs/code.md").read_text("utf-8")
    section = text.split("\n## Glossary\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^- \*\*([^*]+)\*\*", section, flags=re.MULTILINE)


def test_the_glossary_holds_at_most_seven_words_none_a_postgresql_or_sam_term() -> None:
    words = _glossary()
    assert 0 < len(words) <= GLOSSARY_LIMIT, words
    assert not [w for w in words if any(c in w.lower() for c in COLLIDING_WORDS)], words


def test_the_resource_descriptions_name_no_part_with_a_colliding_word() -> None:
    from wellapi.resources import description
    from wellapi.store import shapes

    fields = {f for cls in (description.Walk, shapes.ReadShape) for f in cls.__dataclass_fields__}
    assert not [f for f in fields if any(c in f for c in COLLIDING_WORDS)], fields


def test_the_checks_find_what_drifted(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(
        "# A\n\n*For someone.*\n\n## The order, and the rule\n\n**What a consumer does.** x\n\n"
        'See "The order" below, ("Gone", above), and "Limits" in [b.md](b.md).\n'
    )
    (docs / "b.md").write_text("# B\n\n## Limits\n")
    (tmp_path / "README.md").write_text("# R\n\n## A first request\n")
    (tmp_path / "code.py").write_text(
        '# (docs/a.md, "What a consumer\n# does"), (docs/b.md, "Pages"), the README\'s "A first'
        ' request", README, "Deploying", (docs/c.md, "X")\n'
    )
    files = [docs / "a.md", docs / "b.md", tmp_path / "code.py"]
    assert unresolved_sections(files, tmp_path) == [
        "docs/a.md: a.md, 'Gone' (no such section)",
        "code.py: b.md, 'Pages' (no such section)",
        "code.py: README.md, 'Deploying' (no such section)",
        "code.py: c.md, 'X' (no such document)",
    ]
    assert makefile_targets("a b: c\n\trun\nX := 1\nd:\n.PHONY: e\n$(S): f\n") == {"a", "b", "d"}
    assert _make_targets_named(
        "`make run`, `PORT=1 make run-x` and\n```sh\nmake  bench\n```\nto make the thing"
    ) == {"run", "run-x", "bench"}
