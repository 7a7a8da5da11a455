"""The region every deploy command uses (docs/deploy.md, "The region"): ``AWS_REGION``, else
``AWS_DEFAULT_REGION``, else the AWS profile's, for ``welldev.deploy``'s checks as for the
Makefile's ``sam deploy``, which is given ``AWS_REGION`` as ``--region`` (SAM CLI, like botocore,
reads only the other two); samconfig names none, which ``sam deploy`` would put first."""

from __future__ import annotations

import os
import stat
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from welldev import deploy

VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No region from the machine: no variable, and a profile file that names none."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config").write_text("[default]\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    return monkeypatch


@pytest.mark.parametrize(
    ("variables", "profile", "wanted"),
    [
        ({"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-west-2"}, "", "eu-central-1"),
        ({"AWS_REGION": "eu-central-1"}, "ap-south-1", "eu-central-1"),
        ({"AWS_DEFAULT_REGION": "us-west-2"}, "ap-south-1", "us-west-2"),
        ({"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-west-2"}, "", "us-west-2"),
        ({}, "ap-south-1", "ap-south-1"),
        ({}, "", None),
    ],
)
@pytest.mark.parametrize("action", ["preflight", "preflight-database", "overrides"])
def test_every_command_works_in_the_first_region_named(
    environment, tmp_path, capsys, action, variables, profile, wanted
):
    for name, value in variables.items():
        environment.setenv(name, value)
    if profile:
        (tmp_path / "config").write_text(f"[default]\nregion = {profile}\n")
    regions: list[Any] = []

    def seen(session: Any, *_: Any) -> Any:
        regions.append(session.region_name)
        return {"Name": "value"} if action == "overrides" else []

    for name in ("check", "check_database", "parameters"):
        environment.setattr(deploy, name, seen)

    assert deploy.main([action, "staging"]) == 0
    assert regions == [wanted]
    assert capsys.readouterr().out == ("Name=value\n" if action == "overrides" else "")


def test_samconfig_names_no_region_which_sam_deploy_would_put_before_the_shells():
    for name in ("samconfig.toml", "samconfig-database.toml"):
        environments = tomllib.loads((deploy.ROOT / name).read_text())
        for environment, commands in environments.items():
            if isinstance(commands, dict):
                named = [c for c, s in commands.items() if "region" in s.get("parameters", {})]
                assert named == [], f"{name}: {environment}.{named}"


# Stands for the Makefile's tools, and says how it was called.
FAKE_TOOL = '#!/bin/sh\necho "$(basename "$0") $*" >> "{log}"\n'


@pytest.mark.parametrize("target", ["deploy-database", "deploy"])
@pytest.mark.parametrize(
    ("variables", "flag"),
    [
        ({"AWS_REGION": "eu-south-2", "AWS_DEFAULT_REGION": "us-west-2"}, "--region eu-south-2"),
        ({"AWS_DEFAULT_REGION": "us-west-2"}, None),  # which sam deploy reads itself
    ],
)
def test_the_makefiles_deploys_give_sam_aws_region(environment, tmp_path, target, variables, flag):
    log, tools = tmp_path / "calls", tmp_path / "bin"
    tools.mkdir()
    for tool in ("python", "sam"):
        (tools / tool).write_text(FAKE_TOOL.format(log=log))
        (tools / tool).chmod(stat.S_IRWXU)
    for name, value in variables.items():
        environment.setenv(name, value)
    # The install is the suite's own: never remade for this.
    make = ["make", "-s", "-o", "install", target, "CONFIG_ENV=staging", f"BIN={tools}"]
    subprocess.run(make, cwd=deploy.ROOT, env=dict(os.environ), check=True, capture_output=True)

    calls = log.read_text().splitlines()
    (deployed,) = [line for line in calls if line.startswith("sam deploy")]
    assert [line for line in calls if "--region" in line] == ([deployed] if flag else [])
    assert flag is None or flag in deployed
