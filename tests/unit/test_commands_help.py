"""Every command of the toolkit answers ``--help`` with its usage and exit 0, never a traceback
nor the work itself: each ``python -m welldev.<module>`` that runs as a program (found by its
``__main__`` block, or a package's ``__main__.py``, so a new one is held too) and every
``wellapi`` command of ``welldev.cli.COMMANDS``. Run in this process, as ``python -m`` runs
them."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest

from welldev import cli

DEVKIT = Path(__file__).resolve().parents[2] / "devkit"
# Programs the toolkit starts itself, which no person runs: an execution environment of
# `wellapi run` (its argument the descriptor of its parent's pipe) and the bench's
# Lambda-like child (run by path, its arguments the bench's).
STARTED_BY_THE_TOOLKIT = {"welldev.environment_worker", "welldev.bench.child_handler"}
MAIN_BLOCK = re.compile(r'^if __name__ == "__main__":', re.MULTILINE)


def programs() -> set[str]:
    """The modules of ``welldev`` that ``python -m`` runs as a program."""
    found = set()
    for path in (DEVKIT / "welldev").rglob("*.py"):
        module = ".".join(path.relative_to(DEVKIT).with_suffix("").parts)
        if path.name == "__main__.py":
            found.add(module.removesuffix(".__main__"))
        elif MAIN_BLOCK.search(path.read_text(encoding="utf-8")):
            found.add(module)
    return found


def test_the_programs_are_found_and_those_the_toolkit_starts_still_exist():
    assert {"welldev.deploy", "welldev.bench", "welldev.schema_dump"} <= programs()
    assert programs() >= STARTED_BY_THE_TOOLKIT


# Running a module already imported (the test's own imports) is what runpy warns about.
@pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")
@pytest.mark.parametrize("module", sorted(programs() - STARTED_BY_THE_TOOLKIT))
def test_every_program_answers_help(module, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [module, "--help"])
    with pytest.raises(SystemExit) as exited:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: python -m {module}")


# Each command as typed: `keys create` under `keys`, which answers too.
WELLAPI = sorted({"", *cli.COMMANDS, *(c.split()[0] for c in cli.COMMANDS)})


@pytest.mark.parametrize("command", WELLAPI, ids=lambda c: c or "wellapi")
def test_every_wellapi_command_answers_help(command, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([*command.split(), "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: wellapi {command}".rstrip())
