"""One meaning per name across the shipped package (``layers/shared/wellapi``).

A class, function or constant defined at the top of two modules under one name is two things
a reader must tell apart by where they come from; each gets a name of its own instead. The
exceptions are the names that mean the same thing wherever they are: a module's logger and
metrics, a Lambda entry point's ``handler``, ``__all__``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "layers" / "shared" / "wellapi"
ONE_MEANING_EVERYWHERE = {"logger", "metrics", "handler", "__all__"}


def defined_names(source: str) -> set[str]:
    """The names a module defines at its top level (imports are not definitions)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.TypeAlias):
            names.add(node.name.id)
    return names


def names_with_two_meanings(root: Path) -> dict[str, list[str]]:
    where: dict[str, list[str]] = defaultdict(list)
    for path in sorted(root.rglob("*.py")):
        for name in defined_names(path.read_text("utf-8")):
            where[name].append(str(path.relative_to(root)))
    return {
        name: modules
        for name, modules in where.items()
        if len(modules) > 1 and name not in ONE_MEANING_EVERYWHERE
    }


def test_no_name_is_defined_twice_in_the_shipped_package():
    assert names_with_two_meanings(PACKAGE) == {}


def test_the_check_finds_a_name_defined_in_two_modules(tmp_path):
    (tmp_path / "a.py").write_text("class Parent:\n    pass\n\nlogger = 1\n")
    (tmp_path / "b.py").write_text("from a import Parent as P\n\nParent: int = 1\nlogger = 2\n")
    (tmp_path / "c.py").write_text("def Parent() -> None: ...\n")
    (tmp_path / "d.py").write_text("type Parent = int\n")
    assert names_with_two_meanings(tmp_path) == {"Parent": ["a.py", "b.py", "c.py", "d.py"]}
