"""The region every deploy command uses (``welldev.deploy.region``; docs/deploy.md, "The
region"): the environment's ``region`` in its samconfig files, else ``AWS_REGION``, else
``AWS_DEFAULT_REGION``, else the AWS profile's; the Makefile's deploy targets give it to ``sam
deploy``, which reads neither the profile's order nor ``AWS_REGION`` itself."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from welldev import deploy

VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE")
SAMCONFIGS = ("samconfig.toml", "samconfig-database.toml")


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No region from the machine: no variable, and a profile file that names none."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "config").write_text("[default]\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    return monkeypatch


def _samconfigs(tmp_path: Path, **regions: str) -> Path:
    """The repository's samconfig files under ``tmp_path``, ``region`` added to staging's deploy
    settings in those named (``api``, ``database``)."""
    for name, key in zip(SAMCONFIGS, ("api", "database"), strict=True):
        text = (deploy.ROOT / name).read_text()
        if key in regions:
            section = "[staging.deploy.parameters]\n"
            text = text.replace(section, f'{section}region = "{regions[key]}"\n', 1)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize(
    ("variables", "profile", "wanted"),
    [
        ({"AWS_REGION": "eu-central-1", "AWS_DEFAULT_REGION": "us-west-2"}, "", "eu-central-1"),
        ({"AWS_DEFAULT_REGION": "us-west-2"}, "ap-south-1", "us-west-2"),
        ({"AWS_REGION": "", "AWS_DEFAULT_REGION": "us-west-2"}, "", "us-west-2"),
        ({}, "ap-south-1", "ap-south-1"),
    ],
)
def test_a_variable_comes_before_the_profile_and_aws_region_first(
    environment, tmp_path, variables, profile, wanted
):
    for name, value in variables.items():
        environment.setenv(name, value)
    if profile:
        (tmp_path / "config").write_text(f"[default]\nregion = {profile}\n")
    assert deploy.region("staging") == wanted


def test_the_environments_region_in_samconfig_comes_first(environment, tmp_path):
    environment.setenv("AWS_REGION", "eu-central-1")
    environment.setattr(deploy, "ROOT", _samconfigs(tmp_path, database="sa-east-1"))
    assert deploy.region("staging") == "sa-east-1"
    assert deploy.region("production") == "eu-central-1"  # it names none there


def test_two_regions_for_one_environment_or_none_at_all_stop_the_deploy(environment, tmp_path):
    with pytest.raises(deploy.DeployError, match="no region: set AWS_REGION"):
        deploy.region("staging")
    environment.setattr(
        deploy, "ROOT", _samconfigs(tmp_path, api="eu-west-1", database="us-east-1")
    )
    with pytest.raises(deploy.DeployError, match="name two regions for staging"):
        deploy.region("staging")


@pytest.mark.parametrize("variable", ["AWS_REGION", "AWS_DEFAULT_REGION"])
@pytest.mark.parametrize("action", ["preflight", "preflight-database", "overrides", "region"])
def test_every_command_works_in_the_region_a_variable_names(environment, capsys, variable, action):
    environment.setenv(variable, "eu-north-1")
    sessions: list[dict[str, Any]] = []
    environment.setattr(
        deploy, "boto3", SimpleNamespace(Session=lambda **given: sessions.append(given))
    )
    environment.setattr(deploy, "check", lambda *_: [])
    environment.setattr(deploy, "check_database", lambda *_: [])
    environment.setattr(deploy, "parameters", lambda *_: {"Name": "value"})

    assert deploy.main([action, "staging"]) == 0
    assert sessions == ([] if action == "region" else [{"region_name": "eu-north-1"}])
    assert capsys.readouterr().out == {"region": "eu-north-1\n", "overrides": "Name=value\n"}.get(
        action, ""
    )


def test_no_region_is_said_before_aws_is_asked(environment, capsys):
    assert deploy.main(["preflight", "staging"]) == 1
    assert capsys.readouterr().err.startswith("preflight: no region: set AWS_REGION")


# Stands for the Makefile's tools: says how it was called; asked for the region, it is Python.
FAKE_TOOL = """#!/bin/sh
echo "$(basename "$0") $*" >> "{log}"
case "$*" in "-m welldev.deploy region "*) exec "{python}" "$@";; esac
"""


@pytest.mark.parametrize("target", ["deploy-database", "deploy"])
def test_the_makefiles_deploys_give_sam_the_region(environment, tmp_path, target):
    log, tools = tmp_path / "calls", tmp_path / "bin"
    tools.mkdir()
    for tool in ("python", "sam"):
        (tools / tool).write_text(FAKE_TOOL.format(log=log, python=sys.executable))
        (tools / tool).chmod(stat.S_IRWXU)
    environment.setenv("AWS_REGION", "eu-south-2")
    environment.setenv("AWS_DEFAULT_REGION", "us-west-2")
    # The install is the suite's own: never remade for this.
    make = ["make", "-s", "-o", "install", target, "CONFIG_ENV=staging", f"BIN={tools}"]
    subprocess.run(make, cwd=deploy.ROOT, env=dict(os.environ), check=True, capture_output=True)

    deploys = [line for line in log.read_text().splitlines() if line.startswith("sam deploy")]
    assert len(deploys) == 1, log.read_text()
    assert "--region eu-south-2" in deploys[0]
