"""The change bus of ``wellapi run``'s local AWS (welldev.local_aws), served for a test and
recorded in a demo file of its own; change events to put on it, and what ``wellapi events``
shows of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from welldev import cli, demo_file, local_aws
from welldev import stack as local_stack


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[local_aws.LocalAws]:
    """The project template's local AWS, recorded in a demo file of the test's."""
    served = local_aws.LocalAws.start(local_stack.load())
    monkeypatch.setattr(demo_file, "DEMO_FILE", tmp_path / "demo.json")
    demo_file.record_aws(served.record())
    for name, value in served.environment().items():
        monkeypatch.setenv(name, value)
    try:
        yield served
    finally:
        served.stop()


def entry(detail: Any) -> dict[str, Any]:
    """A change event as the drainer puts it (``detail`` as given when it is a string)."""
    return {
        "Source": "well.junctions",
        "DetailType": "workspace_provider.selected",
        "Detail": detail if isinstance(detail, str) else json.dumps(detail),
        "Time": "2026-11-21T09:29:55.123Z",
        "EventBusName": "local-changes",
    }


def shown(capsys: pytest.CaptureFixture[str], *options: str) -> dict[str, Any]:
    """The document ``wellapi events`` printed."""
    assert cli.main(["events", *options]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document
