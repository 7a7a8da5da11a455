"""The operator's events: what ``wellapi operator`` (and ``make operator``) reads from its
arguments, what the function takes as an action, what it refuses and how; the deployed function
invoked through its stack's output; the smoke test's line, and the rule and queue it reads a
deployed bus through."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from typing import Any, get_args
from unittest import mock
from uuid import UUID, uuid4

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from wellapi.handlers import operator as handler
from wellapi.http import keys
from welldev import cli, deploy, smoke
from welldev.commands import operator, options

WORKSPACE, PERSON = str(uuid4()), str(uuid4())
# Each action as a user types it, and the event it makes.
TYPED = {
    "make-workspace": (
        ["--name", "Acme", "--id", WORKSPACE],
        {"action": "make_workspace", "name": "Acme", "workspace_id": WORKSPACE},
    ),
    "add-person": (
        ["--workspace", WORKSPACE, "--name", "Ada", "--role", "owner"],
        {"action": "add_person", "workspace_id": WORKSPACE, "full_name": "Ada", "role": "owner"},
    ),
    "add-connector": (
        ["--workspace", WORKSPACE, "--connector", "Bank", "--provider", "well"],
        {
            "action": "add_workspace_connector",
            "workspace_id": WORKSPACE,
            "connector_name": "Bank",
            "provider": "well",
        },
    ),
    "issue-key": (
        [
            *("--workspace", WORKSPACE, "--person", PERSON),
            *("--kind", "service", "--name", "smoke", "--expires-in", "900"),
        ],
        {
            "action": "issue_key",
            "workspace_id": WORKSPACE,
            "person_id": PERSON,
            "kind": "service",
            "name": "smoke",
            "expires_in_seconds": "900",
        },
    ),
    "revoke-key": (["--key", "abcdefghijkl"], {"action": "revoke_key", "key": "abcdefghijkl"}),
    "rotate-key": (
        ["--key", PERSON, "--expires-in", "60"],
        {"action": "rotate_key", "key": PERSON, "expires_in_seconds": "60"},
    ),
}


def parsed(*argv: str) -> Any:
    return cli.parser().parse_args(["operator", *argv])


@pytest.mark.parametrize("action", sorted(options.OPERATOR_ACTIONS))
def test_each_action_typed_is_the_event_the_function_takes(action: str) -> None:
    typed, event = TYPED[action]
    args = parsed(action, *typed)
    assert args.config_env is None
    assert operator.event_of(args) == event
    # The function's own validation takes it (strings as JSON carries them).
    assert handler.parse(event).action == event["action"]


def test_every_option_is_a_member_of_its_action() -> None:
    models = {get_args(m.model_fields["action"].annotation)[0]: m for m in handler.RUN}
    assert set(options.OPERATOR_HELP) == set(options.OPERATOR_ACTIONS)
    for name, said in options.OPERATOR_ACTIONS.items():
        members = {member for _, member, _ in options.operator_options(name)}
        assert members <= set(models[said.split()[0]].model_fields), name


def test_the_environment_is_read_before_the_action_and_a_required_option_is_asked_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert parsed("--config-env", "staging", "revoke-key", "--key", "k").config_env == "staging"
    with pytest.raises(SystemExit) as exit_info:
        parsed("issue-key", "--workspace", WORKSPACE)
    assert exit_info.value.code == 2
    assert "--person" in capsys.readouterr().err


@pytest.mark.parametrize(
    "event",
    [
        {},
        [],
        {"action": "drop_table"},
        {"action": "make_workspace"},
        {"action": "make_workspace", "name": "x", "owner": "me"},
        {"action": "make_workspace", "name": "tab\there"},
        {"action": "add_person", "workspace_id": "nope", "full_name": "x"},
        {"action": "add_person", "workspace_id": WORKSPACE, "full_name": "x", "role": "god"},
        {
            "action": "add_workspace_connector",
            "workspace_id": WORKSPACE,
            "connector_name": "x",
            "provider": "stripe",
        },
        {
            "action": "issue_key",
            "workspace_id": WORKSPACE,
            "person_id": PERSON,
            "kind": "admin",
            "name": "x",
        },
        {
            "action": "issue_key",
            "workspace_id": WORKSPACE,
            "person_id": PERSON,
            "kind": "member",
            "name": "x",
            "expires_in_seconds": 59,
        },
        {"action": "rotate_key", "key": "k", "expires_in_seconds": 400 * 24 * 3600},
    ],
)
def test_an_event_that_is_no_action_is_refused_without_a_database(event: Any) -> None:
    answer = handler.handle(event, None)
    assert list(answer) == ["error"]
    assert answer["error"]["code"] == "INVALID_EVENT"


def test_a_refusal_names_what_is_wrong_and_never_says_a_key_given() -> None:
    key, _, _ = keys.new_key()
    answer = handler.handle({"action": "revoke_key", "key": key, "note": key}, None)
    assert "note" in answer["error"]["detail"]
    assert keys.parse_key(key) is not None
    assert key.split("_", 2)[2] not in json.dumps(answer)


def test_a_key_is_named_by_its_id_its_prefix_or_itself() -> None:
    key, prefix, _ = keys.new_key()
    key_id = uuid4()
    assert handler._key_named(key) == (None, prefix)
    assert handler._key_named(str(key_id)) == (key_id, None)
    assert handler._key_named(prefix) == (None, prefix)


# ---- in AWS: the deployed function ------------------------------------------------------------

FUNCTION = "wellapi-staging-OperatorFunction-abc"


class Session:
    """A session whose clients are stubbed; each call is what the stub expects."""

    def __init__(self) -> None:
        self.clients = {
            name: boto3.client(
                name, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x"
            )
            for name in ("cloudformation", "lambda")
        }
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}

    def client(self, name: str) -> Any:
        return self.clients[name]


@pytest.fixture
def session(monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    made = Session()
    monkeypatch.setattr(deploy, "session", lambda: made)
    stack = {"StackName": "wellapi-staging", "CreationTime": "2026-01-01T00:00:00Z"}
    outputs = [{"OutputKey": "OperatorFunctionName", "OutputValue": FUNCTION}]
    made.stubs["cloudformation"].add_response(
        "describe_stacks",
        {"Stacks": [{**stack, "StackStatus": "UPDATE_COMPLETE", "Outputs": outputs}]},
        {"StackName": "wellapi-staging"},
    )
    with made.stubs["cloudformation"], made.stubs["lambda"]:
        yield made


def invoked(session: Session, event: dict[str, Any], answer: Any, **more: Any) -> None:
    session.stubs["lambda"].add_response(
        "invoke",
        {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(answer).encode()), **more},
        {"FunctionName": FUNCTION, "Qualifier": "live", "Payload": json.dumps(event).encode()},
    )


def test_the_deployed_function_is_invoked_through_its_alias_by_its_stacks_output(
    session: Session,
) -> None:
    event = {"action": "make_workspace", "name": "Acme"}
    invoked(session, event, {"action": "make_workspace", "workspace_id": WORKSPACE})
    assert operator.deployed("staging", [event]) == [
        {"action": "make_workspace", "workspace_id": WORKSPACE}
    ]


def test_a_deployed_function_that_failed_is_said_as_lambda_said_it(session: Session) -> None:
    event = {"action": "revoke_key", "key": "k"}
    failure = {"errorType": "DatabaseUnavailable", "errorMessage": "retry shortly"}
    invoked(session, event, failure, FunctionError="Unhandled")
    with pytest.raises(operator.OperatorFailed, match="DatabaseUnavailable: retry shortly"):
        operator.deployed("staging", [event])


def test_the_session_is_in_aws_region_when_it_is_set() -> None:
    with mock.patch.dict(os.environ, {"AWS_REGION": "ap-southeast-2"}):
        assert deploy.session().region_name == "ap-southeast-2"


# ---- the smoke test ---------------------------------------------------------------------------


def test_the_smoke_line_says_every_check_or_each_that_failed() -> None:
    url = "https://api.example"
    assert smoke.line({}, url) == (
        "smoke: 6/6 passed (list, retrieve, changes, sync message, its rows, its event) "
        "against https://api.example"
    )
    failed = {"its event": "no event within 240 s", "list": "HTTP 503 /v1/x"}
    assert smoke.line(failed, url) == (
        "smoke: 4/6 passed against https://api.example; failed: list (HTTP 503 /v1/x), "
        "its event (no event within 240 s)"
    )


def test_the_smoke_message_is_a_sync_message_of_its_own_run() -> None:
    from wellapi.sync.messages import parse_message

    message = parse_message(smoke.sync_message("smoke-run"))
    assert (message.sync_run_id, message.workspace_connector_id) == (
        "smoke-run",
        UUID(smoke.CONNECTOR),
    )


def test_a_deployed_bus_is_read_through_a_rule_and_a_queue_deleted_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        session = boto3.Session(region_name="eu-west-1")
        events, sqs = session.client("events"), session.client("sqs")
        events.create_event_bus(Name="wellapi-staging-changes")
        detail = {"workspace_id": smoke.WORKSPACE, "sync_run_id": "r", "change": "linked"}
        with smoke.event_queue(session, "wellapi-staging-changes") as received:
            for workspace in (str(uuid4()), smoke.WORKSPACE):
                entry = {
                    "Source": smoke.SOURCE,
                    "DetailType": "x.linked",
                    "Detail": json.dumps({**detail, "workspace_id": workspace}),
                    "EventBusName": "wellapi-staging-changes",
                }
                events.put_events(Entries=[entry])
            (event,) = received()
            assert event["detail"]["workspace_id"] == smoke.WORKSPACE
        assert events.list_rules(EventBusName="wellapi-staging-changes")["Rules"] == []
        assert sqs.list_queues().get("QueueUrls", []) == []
