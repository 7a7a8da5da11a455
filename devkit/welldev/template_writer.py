"""Writes ``template.yaml`` from its hand-written sources in ``template/``.

Most of the template is the same few blocks repeated for each function: an API function with
its route, a function's log group, a function's failing alarm. Each of these is written once,
in ``template/per-function/``; everything else is written as it is deployed, in the other
files of ``template/``, put together in the order of ``LAYOUT``.

A per-function file holds one block, which begins at its first line starting with
``  <Function>``; what comes before that line (a section's comment) is written once, before
the first block. A block's placeholders:

- ``<Function>``: the function's logical id (``AccountWorkspaceConnectorsListFunction``);
- ``<resource>``, ``<operation>``: an API function's binding, its entry point being
  ``functions/<resource>/<operation>.py``;
- ``<method>``, ``<path>``: its route, as ``wellapi.operations`` gives it.

The API functions are the API's routes (``welldev.openapi.ROUTES``), one function each, a
resource's together; the log groups and alarms are for every function the other parts declare.

``python -m welldev.template_writer`` (``make template.yaml``) writes the file; ``--check`` only
says whether it is stale (as ``tests/test_template_source.py`` does).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wellapi.operations import OPERATIONS
from wellapi.resources import RESOURCES
from welldev.cfn_yaml import load_yaml
from welldev.openapi import ROUTES

ROOT = Path(__file__).resolve().parents[2]
SOURCE_DIR = ROOT / "template"
TARGET = ROOT / "template.yaml"


@dataclass(frozen=True)
class Verbatim:
    """A file of ``template/``, written as it is."""

    file: str


@dataclass(frozen=True)
class PerFunction:
    """A file of ``template/per-function/``, written once for each API function or each function."""

    file: str
    functions: Literal["api", "every"]


LAYOUT: tuple[Verbatim | PerFunction, ...] = (
    Verbatim("parameters.yaml"),
    Verbatim("globals.yaml"),
    Verbatim("api.yaml"),
    Verbatim("migrations.yaml"),
    PerFunction("api-function.yaml", "api"),
    Verbatim("sync.yaml"),
    PerFunction("log-group.yaml", "every"),
    Verbatim("monitoring.yaml"),
    PerFunction("failing-alarm.yaml", "every"),
    Verbatim("outputs.yaml"),
)

_PLACEHOLDER = re.compile(r"<(\w+)>")
_BLOCK_START = re.compile(r"^  <Function>", re.MULTILINE)


class TemplateSourceError(ValueError):
    """A source file the writer cannot use: no block, or a placeholder it does not know."""


def _pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def api_functions() -> list[dict[str, str]]:
    """The placeholders of each API function: one per route, a resource's routes together."""
    order = list(RESOURCES)
    functions = []
    for resource, operation in sorted(ROUTES, key=lambda route: order.index(route[0])):
        op = OPERATIONS[operation]
        functions.append(
            {
                "Function": f"{_pascal(resource)}{_pascal(operation)}Function",
                "resource": resource,
                "operation": operation,
                "method": op.method,
                "path": op.path(RESOURCES[resource]),
            }
        )
    return functions


def _fill(block: str, values: Mapping[str, str], source: str) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            known = ", ".join(f"<{key}>" for key in values)
            raise TemplateSourceError(f"{source}: unknown placeholder <{name}> (known: {known})")
        return values[name]

    return _PLACEHOLDER.sub(value, block)


def _per_function(path: Path, functions: Sequence[Mapping[str, str]]) -> str:
    text = path.read_text("utf-8")
    start = _BLOCK_START.search(text)
    if start is None:
        raise TemplateSourceError(f"{path.name}: no block (a line starting with '  <Function>')")
    header, block = text[: start.start()], text[start.start() :]
    return header + "\n".join(_fill(block, values, path.name) for values in functions)


def render(source_dir: Path = SOURCE_DIR) -> str:
    """The template the sources make: its parts in ``LAYOUT`` order, a blank line between."""
    parts: dict[int, str] = {}
    for index, part in enumerate(LAYOUT):
        if isinstance(part, Verbatim):
            parts[index] = (source_dir / part.file).read_text("utf-8")
        elif part.functions == "api":
            parts[index] = _per_function(source_dir / "per-function" / part.file, api_functions())
    # Every function the other parts declare, in their order, whatever its kind.
    resources = load_yaml("\n".join(parts[index] for index in sorted(parts)))["Resources"]
    every = [
        {"Function": logical_id}
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    for index, part in enumerate(LAYOUT):
        if isinstance(part, PerFunction) and part.functions == "every":
            parts[index] = _per_function(source_dir / "per-function" / part.file, every)
    return "\n".join(parts[index] for index in range(len(LAYOUT)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m welldev.template_writer",
        description="Write template.yaml from its sources in template/.",
    )
    parser.add_argument("--check", action="store_true", help="only say whether it is stale")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if TARGET.read_text("utf-8") != text:
            print(f"stale: {TARGET} (make template.yaml writes it)", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
