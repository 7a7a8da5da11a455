"""``wellapi invoke`` and ``wellapi event`` as a SAM user types them: ``sam local invoke``'s
flags, an event of the wrong kind refused, and the ``--env-vars`` file ``make run`` writes, as
SAM CLI applies such a file (the system tier holds it to SAM CLI's own reading)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.support.template import ROOT
from wellapi.roles import (
    API_ROLE,
    AUTH_ROLE,
    DEPLOYED_ROLES,
    DRAIN_ROLE,
    HEAL_ROLE,
    OPERATOR_ROLE,
    SYNC_ROLE,
)
from welldev import cli, event_kinds, sam_local
from welldev import stack as local_stack

EVENTS = ROOT / "events"
ADMIN = "admin"
# One event of each kind, and a function invoked with each.
BY_KIND = {
    event_kinds.API: ("account-workspace-connectors-list.json", "WorkspaceProvidersListFunction"),
    event_kinds.AUTHORIZER: ("authorizer.json", "AuthorizerFunction"),
    event_kinds.SQS: ("sync-provenance-linked.json", "SyncFunction"),
    event_kinds.SCHEDULE: ("sweep-schedule.json", "SweepFunction"),
    event_kinds.CLOUDFORMATION: ("migration-create.json", "MigrationFunction"),
}


@cache
def _template() -> local_stack.Stack:
    return local_stack.load()


def _event(name: str) -> Any:
    return json.loads((EVENTS / name).read_text())


def _index() -> dict[str, list[str]]:
    return dict(json.loads((EVENTS / "index.json").read_text()))


def test_every_canonical_event_is_of_a_kind_its_function_is_invoked_with() -> None:
    for function_id, files in _index().items():
        for name in files:
            event_kinds.check(_template(), function_id, _event(name))


@pytest.mark.parametrize("kind", sorted(BY_KIND))
def test_an_event_is_refused_by_every_function_not_invoked_with_its_kind(kind: str) -> None:
    name, _ = BY_KIND[kind]
    event = _event(name)
    assert event_kinds.kind_of(event) == kind
    for other_kind, (_, function_id) in BY_KIND.items():
        accepted = event_kinds.kinds_for(_template(), _template().function(function_id))
        if kind in accepted:
            continue
        with pytest.raises(event_kinds.WrongEventKind) as refused:
            event_kinds.check(_template(), function_id, event)
        assert function_id in str(refused.value)
        assert kind in str(refused.value)
        assert other_kind in str(refused.value)


def _wellapi(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(["invoke", "-t", str(ROOT / "template.yaml"), *argv])
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["SyncFunction", str(EVENTS / "authorizer.json")], "an SQS batch"),
        (["-e", str(EVENTS / "sync-poison.json"), "WorkspaceProvidersListFunction"], "an SQS"),
        (["--event", str(EVENTS / "unmatched.json"), "AuthorizerFunction"], "authorizer"),
        (["SyncFunction"], "a direct invoke"),  # no event: {}, as sam local invoke sends
    ],
)
def test_invoke_refuses_an_event_of_the_wrong_kind_before_any_database_work(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = _wellapi(capsys, *argv)
    assert code == 2
    assert "is invoked with" in err
    assert named in err


def test_invoke_takes_the_event_once(capsys: pytest.CaptureFixture[str]) -> None:
    event = str(EVENTS / "sync-poison.json")
    code, err = _wellapi(capsys, "SyncFunction", event, "-e", event)
    assert code == 2
    assert "two events" in err


def test_invoke_names_the_functions_when_none_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _wellapi(capsys, "-e", str(EVENTS / "authorizer.json"))
    assert code == 2
    assert "name the function" in err
    assert "AuthorizerFunction" in err


def test_invoke_names_a_missing_template(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["invoke", "--template-file", str(tmp_path / "nowhere.yaml"), "SyncFunction"])
    assert code == 2
    assert "nowhere.yaml not found" in capsys.readouterr().err
    # Another template: the local stack is the registry's, which writes template.yaml alone.
    (tmp_path / "other.yaml").write_text("Resources: {}\n")
    code = cli.main(["invoke", "-t", str(tmp_path / "other.yaml"), "SyncFunction"])
    assert code == 2
    assert "only " + str(ROOT / "template.yaml") + " runs locally" in capsys.readouterr().err


def test_parameter_overrides_are_read_in_both_of_sams_forms() -> None:
    given = [
        "LogLevel=DEBUG CorsOrigins=http://localhost:5173",
        "ParameterKey=DbName,ParameterValue=other ParameterKey=Empty,ParameterValue=",
    ]
    assert sam_local.parameter_overrides(given) == {
        "LogLevel": "DEBUG",
        "CorsOrigins": "http://localhost:5173",
        "DbName": "other",
        "Empty": "",
    }
    with pytest.raises(sam_local.SamFlagError, match="not Key=Value"):
        sam_local.parameter_overrides(["LogLevel"])


def test_an_override_reaches_the_template_as_sam_local_gives_it() -> None:
    overridden = local_stack.load(sam_local.parameter_overrides(["SyncDbUser=someone_else"]))
    environment = local_stack.resolve_environment(overridden, overridden.function("SyncFunction"))
    assert environment["DB_USER"] == "someone_else"


def test_env_vars_apply_as_sam_applies_them() -> None:
    sync = _template().function("SyncFunction")
    document = {
        "Parameters": {"DB_AUTH": "url", "POWERTOOLS_LOG_LEVEL": "DEBUG", "NOT_DECLARED": "x"},
        "SyncFunction": {"DB_AUTH": "secret", "DATABASE_URL": "postgresql://h/db"},
        "AuthorizerFunction": {"DATABASE_URL": "postgresql://elsewhere/db"},
    }
    assert sam_local.env_var_overrides(document, sync) == {
        "DB_AUTH": "secret",  # the function's own entry over Parameters
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
        "DATABASE_URL": "postgresql://h/db",
    }  # a variable the template does not declare is ignored, as SAM ignores it


@pytest.mark.parametrize(
    "bad", ['["not", "an", "object"]', '{"SyncFunction": "DATABASE_URL=x"}', "{not json"]
)
def test_an_env_vars_file_sam_would_refuse_is_refused(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "env.json"
    path.write_text(bad)
    with pytest.raises(sam_local.SamFlagError, match="--env-vars"):
        sam_local.read_env_vars(path)


def test_the_env_vars_file_logs_each_function_in_as_its_role_with_declared_variables() -> None:
    logins = {
        role: (f"postgresql://{role}:pw@{sam_local.CONTAINER_HOST}:5/well", role)
        for role in DEPLOYED_ROLES
    }
    logins[""] = (f"postgresql://{ADMIN}:secret@{sam_local.CONTAINER_HOST}:5/well", ADMIN)
    document = sam_local.env_vars_document(_template(), logins)

    url_of = {user: url for url, user in logins.values()}
    assert set(document) == set(_template().functions)
    for function_id, values in document.items():
        function = _template().function(function_id)
        assert set(values) == set(sam_local.SET_VARIABLES) & set(function.environment)
        assert values["DATABASE_URL"] == url_of[values["DB_USER"]]
        assert values.get("HEAL_DATABASE_URL", url_of[HEAL_ROLE]) == url_of[HEAL_ROLE]
    users = {function_id: values["DB_USER"] for function_id, values in document.items()}
    assert users["AuthorizerFunction"] == AUTH_ROLE
    assert users["SyncFunction"] == users["SweepFunction"] == SYNC_ROLE
    assert users["DrainFunction"] == DRAIN_ROLE
    assert users["OperatorFunction"] == OPERATOR_ROLE
    assert users["MigrationFunction"] == ADMIN  # its user owns the schema
    assert users["WorkspaceProvidersListFunction"] == users["UnmatchedFunction"] == API_ROLE
    # The scheduled functions heal the roles as the healer, beside their own work.
    healers = {
        function_id for function_id, values in document.items() if "HEAL_DATABASE_URL" in values
    }
    assert healers == {"SweepFunction", "DrainFunction"}


def test_a_container_reaches_this_machines_database_through_the_host_name() -> None:
    assert (
        sam_local.container_url("postgresql://u:p@localhost:5433/well")
        == "postgresql://u:p@host.docker.internal:5433/well"
    )
    elsewhere = "postgresql://u:p@db.example:5432/well"
    assert sam_local.container_url(elsewhere) == elsewhere
    assert (
        sam_local.seen_from_the_host("postgresql://u:p@host.docker.internal:5433/well")
        == "postgresql://u:p@127.0.0.1:5433/well"
    )


@pytest.mark.parametrize(
    ("given", "said"),
    [("0.0.0.0", "every interface"), ("127.0.0.1,::", "every interface"), ("db", "not an IP")],
)
def test_the_database_listens_only_on_addresses_of_this_machine_named_one_by_one(
    given: str, said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as refused:
        cli.main(["run", "--db-listen", given])
    assert refused.value.code == 2
    assert said in capsys.readouterr().err


def test_an_event_that_is_not_json_is_named_in_a_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"Records": [')
    code, err = _wellapi(capsys, "SyncFunction", "-e", str(broken))
    assert code == 2
    assert f"wellapi: {broken}: not a JSON event" in err
    assert "Traceback" not in err
