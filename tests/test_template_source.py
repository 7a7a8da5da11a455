"""template.yaml is written from template/ by welldev.template_writer, and never drifts from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from welldev import template_writer
from welldev.cfn_yaml import load_yaml
from welldev.openapi import ROUTES

MAX_LINES = 800


def test_template_yaml_is_what_its_sources_write():
    committed = template_writer.TARGET.read_text("utf-8")
    assert committed == template_writer.render(), (
        "template.yaml is stale or was edited by hand: edit template/ and run `make template.yaml`"
    )


def test_every_source_file_is_short_enough_to_read():
    sources = sorted(template_writer.SOURCE_DIR.rglob("*.yaml"))
    assert sources
    for path in sources:
        assert len(path.read_text("utf-8").splitlines()) <= MAX_LINES, path


def test_every_source_file_is_in_the_layout():
    laid_out = {
        part.file if isinstance(part, template_writer.Verbatim) else f"per-function/{part.file}"
        for part in template_writer.LAYOUT
    }
    present = {
        path.relative_to(template_writer.SOURCE_DIR).as_posix()
        for path in template_writer.SOURCE_DIR.rglob("*.yaml")
    }
    assert present == laid_out


def test_there_is_one_api_function_per_route_with_its_own_logical_id():
    functions = template_writer.api_functions()
    assert sorted((f["resource"], f["operation"]) for f in functions) == sorted(ROUTES)
    assert len({f["Function"] for f in functions}) == len(ROUTES)


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    copy = tmp_path / "template"
    shutil.copytree(template_writer.SOURCE_DIR, copy)
    return copy


def test_a_function_declared_by_hand_gets_its_log_group_and_failing_alarm(sources: Path):
    sync = sources / "sync.yaml"
    sync.write_text(
        sync.read_text("utf-8")
        + "\n  ReplayFunction:\n    Type: AWS::Serverless::Function\n"
        + "    Properties:\n      Handler: replay.handler\n"
    )
    resources = load_yaml(template_writer.render(sources))["Resources"]
    group = resources["ReplayFunctionLogGroup"]["Properties"]
    assert group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${AWS::StackName}/ReplayFunction"}
    alarm = resources["ReplayFunctionFailingAlarm"]["Properties"]
    assert alarm["AlarmDescription"].startswith("ReplayFunction failed")


def test_a_placeholder_the_writer_does_not_know_is_refused(sources: Path):
    block = sources / "per-function" / "api-function.yaml"
    block.write_text(block.read_text("utf-8") + "      Description: <summary>\n")
    with pytest.raises(template_writer.TemplateSourceError, match=r"api-function\.yaml.*<summary>"):
        template_writer.render(sources)


def test_a_placeholder_of_api_functions_is_refused_in_a_block_for_every_function(sources: Path):
    block = sources / "per-function" / "log-group.yaml"
    block.write_text(block.read_text("utf-8") + "      Tags: [{Key: route, Value: <path>}]\n")
    with pytest.raises(template_writer.TemplateSourceError, match=r"log-group\.yaml.*<path>"):
        template_writer.render(sources)


def test_a_per_function_source_without_a_block_is_refused(sources: Path):
    block = sources / "per-function" / "failing-alarm.yaml"
    block.write_text("  # a comment and nothing else\n")
    with pytest.raises(template_writer.TemplateSourceError, match=r"failing-alarm\.yaml"):
        template_writer.render(sources)


def test_check_says_when_template_yaml_is_stale(monkeypatch, tmp_path, capsys):
    target = tmp_path / "template.yaml"
    target.write_text(template_writer.render() + "  # edited by hand\n")
    monkeypatch.setattr(template_writer, "TARGET", target)
    assert template_writer.main(["--check"]) == 1
    assert "make template.yaml" in capsys.readouterr().err
    assert template_writer.main([]) == 0
    assert template_writer.main(["--check"]) == 0
