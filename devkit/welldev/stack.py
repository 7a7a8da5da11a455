"""The stack the local runtime runs: its functions, routes, authorizer, CORS, queues and schedules.

The API functions and their routes come from the operation registry (``wellapi.operations``);
the rest is described here, and the template writer writes each value below into
``template.yaml`` (its ``<<Name>>`` placeholders, ``template_values``). So what a function gets
locally is what the template gives it in AWS, and ``make run`` never reads the template back.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_ROUTE = "$default"
HTTP_API = "HttpApi"
AUTHORIZER = "ApiKeyAuthorizer"
SYNC_QUEUE = "SyncQueue"
DEAD_LETTER_QUEUE = "SyncDeadLetterQueue"

# Lambda's runtime and the size of every function (the Globals).
RUNTIME = "python3.13"
MEMORY_MB = 512
# Above the worst a request can wait on the database (a connect and a read, then one more of
# each after a dropped connection: 2 x (3 + 6) s, wellapi.settings), below API Gateway's 30 s;
# tests/unit/test_template.py checks the order.
TIMEOUT_SECONDS = 20
# Stand-ins for AWS::AccountId and AWS::StackName when nothing is deployed.
LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_STACK_NAME = "local"


def local_region() -> str:
    """AWS::Region locally: the environment's, as boto3 reads it."""
    return os.environ.get("AWS_REGION", "us-east-1")


class StackError(ValueError):
    """The stack says something the local runtime cannot run (or a parameter it lacks)."""


@dataclass(frozen=True)
class Ref:
    """``!Ref <Parameter>``: the parameter's value, locally its default unless overridden."""

    name: str


@dataclass(frozen=True)
class Deployed:
    """A value only a deployment has (an endpoint, a resource's name), written into the template
    as this YAML; locally the variable is left unset (or set by the local AWS)."""

    yaml: str


Value = str | Ref | Deployed


@dataclass(frozen=True)
class Authorizer:
    """An HTTP API Lambda REQUEST authorizer (payload format 2.0) with simple responses and no
    identity source (so no cache: ``AUTHORIZER_TTL_SECONDS``)."""

    name: str
    function_id: str


@dataclass(frozen=True)
class CorsConfiguration:
    """An HTTP API's ``CorsConfiguration`` (header names lower-cased)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None


@dataclass(frozen=True)
class HttpRoute:
    """One route of the HTTP API to a function, with the authorizer that applies to it."""

    method: str  # upper case; "ANY" matches every method
    path: str  # "/v1/things/{id}", or "$default" for the catch-all route
    function_id: str
    authorizer: str | None

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsEvent:
    function_id: str
    event_name: str
    queue_id: str
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class ScheduleEvent:
    """A ``Schedule`` event of a function: the EventBridge rule that invokes it on a schedule."""

    function_id: str
    event_name: str
    expression: str  # "rate(1 minute)"


@dataclass(frozen=True)
class SqsQueue:
    """A queue of the stack: what an event source mapping needs to know."""

    logical_id: str  # and its QueueName
    visibility_timeout_seconds: int
    # RedrivePolicy: receives before a message moves to the dead-letter queue (None: never).
    max_receive_count: int | None = None
    dead_letter_queue_id: str | None = None


@dataclass(frozen=True)
class Function:
    logical_id: str
    code_uri: Path  # absolute
    handler: str
    # The Globals' variables and the function's own.
    environment: Mapping[str, Value]
    timeout_seconds: int = TIMEOUT_SECONDS
    memory_mb: int = MEMORY_MB
    runtime: str = RUNTIME
    http_routes: tuple[HttpRoute, ...] = ()
    sqs_events: tuple[SqsEvent, ...] = ()
    schedule_events: tuple[ScheduleEvent, ...] = ()


@dataclass(frozen=True)
class Stack:
    parameters: Mapping[str, str | None]  # name -> value (None: only a deployment has one)
    functions: Mapping[str, Function]
    # The HTTP API's authorizer, and its CorsConfiguration (None: none, no CorsOrigins).
    authorizer: Authorizer | None
    cors: CorsConfiguration | None
    queues: Mapping[str, SqsQueue] = field(default_factory=dict)

    @property
    def routes(self) -> tuple[HttpRoute, ...]:
        return tuple(route for f in self.functions.values() for route in f.http_routes)

    def function(self, logical_id: str) -> Function:
        try:
            return self.functions[logical_id]
        except KeyError:
            known = ", ".join(sorted(self.functions)) or "none"
            raise StackError(f"no function {logical_id!r} (functions: {known})") from None


def resolve_environment(stack: Stack, function: Function) -> dict[str, str]:
    """The function's variables that have a value locally (not those a deployment gives)."""
    values = {
        name: stack.parameters.get(raw.name) if isinstance(raw, Ref) else raw
        for name, raw in function.environment.items()
    }
    return {name: value for name, value in values.items() if isinstance(value, str)}


# The parameters a function's variables or the API's CORS read, with their defaults (None: no
# default, a deployment names it). ``--parameter-overrides`` replaces them, as in a deploy.
PARAMETERS: dict[str, str | None] = {
    "DbProxyEndpoint": None,
    "DbProxyReaderEndpoint": "",
    "DbName": "well",
    "DbUser": "well_api",
    "SyncDbUser": "well_sync",
    "AuthDbUser": "well_auth",
    "DrainDbUser": "well_drain",
    "HealDbUser": "well_heal",
    "OperatorDbUser": "well_operator",
    "MigrationDbUser": None,
    "LogLevel": "INFO",
    "CorsOrigins": "",
    "LedgerRetentionDays": "0",
}
# Every function's variables (the Globals'); a function's own are added to them.
GLOBAL_ENVIRONMENT: dict[str, Value] = {
    "POWERTOOLS_SERVICE_NAME": "wellapi",
    "POWERTOOLS_METRICS_NAMESPACE": "Well",
    "POWERTOOLS_LOG_LEVEL": Ref("LogLevel"),
    "DB_AUTH": "iam",
    "DB_HOST": Ref("DbProxyEndpoint"),
    # Where the read functions connect when set (docs/deploy.md, "Reads on replicas"); the
    # other functions never read it.
    "DB_READER_HOST": Ref("DbProxyReaderEndpoint"),
    "DB_PORT": "5432",
    "DB_NAME": Ref("DbName"),
    "DB_USER": Ref("DbUser"),
    # Unused in AWS (DB_AUTH=iam). Declared so that `sam local --env-vars` can set them: SAM
    # only overrides variables the template declares (.local/sam-env.json, make run).
    "DATABASE_URL": "",
    "DATABASE_READER_URL": "",
    # How long after its end a ledger period is archived (0: never): the API asks whether an
    # id's period is archived only for an id older than that (docs/archive.md).
    "LEDGER_RETENTION_DAYS": Ref("LedgerRetentionDays"),
}

# What the scheduled functions log in as beside their own role, to heal the others
# (wellapi.sync.role_defaults); the URL, unused in AWS, is declared for `sam local --env-vars`.
HEALER_ENVIRONMENT: dict[str, Value] = {"HEAL_DB_USER": Ref("HealDbUser"), "HEAL_DATABASE_URL": ""}


CODE = ROOT / "functions"  # every function's CodeUri but the migration's
# The functions ``template/`` declares by hand, with their own variables (``load`` adds Globals').
FUNCTIONS = (
    Function(
        "AuthorizerFunction",
        CODE,
        "authorizer.handler",
        # How long a key's answer is kept in a warm environment; also how long a revoked key
        # may still work (API Gateway's own cache is off: AUTHORIZER_TTL_SECONDS).
        {"DB_USER": Ref("AuthDbUser"), "AUTH_CACHE_SECONDS": "30"},
    ),
    Function(
        "MigrationFunction",
        ROOT / "migrations",
        "wellapi.handlers.migration.handler",
        {"DB_USER": Ref("MigrationDbUser")},
        timeout_seconds=300,
    ),
    Function(
        "SyncFunction",
        CODE,
        "sync.handler",
        {"DB_USER": Ref("SyncDbUser")},
        timeout_seconds=120,
        # The sync queue's consumer (template/sync.yaml says why each value).
        sqs_events=(SqsEvent("SyncFunction", "Queue", SYNC_QUEUE, 10, 2, True),),
    ),
    Function(
        "SweepFunction",
        CODE,
        "sweep.handler",
        # The ledgers' periods, made one ahead of now (wellapi.sync.periods).
        {
            "DB_USER": Ref("SyncDbUser"),
            **HEALER_ENVIRONMENT,
            "LEDGER_PERIOD": Ref("LedgerPeriod"),
            "LEDGER_PERIODS_AHEAD": "1",
        },
        timeout_seconds=60,
        schedule_events=(ScheduleEvent("SweepFunction", "EveryMinute", "rate(1 minute)"),),
    ),
    Function(
        "DrainFunction",
        CODE,
        "drain.handler",
        {
            "DB_USER": Ref("DrainDbUser"),
            **HEALER_ENVIRONMENT,
            # Locally the local AWS's bus (welldev.local_aws).
            "EVENT_BUS_NAME": Deployed(
                "!If [CreateChangeEventBus, !Ref ChangeEventBus, !Ref ChangeEventBusName]"
            ),
        },
        timeout_seconds=60,
        schedule_events=(ScheduleEvent("DrainFunction", "EveryMinute", "rate(1 minute)"),),
    ),
    # Invoked directly, with IAM: no event source (template/operator.yaml). Not ``operator``:
    # the standard library's module of that name is imported already, in Lambda too.
    Function(
        "OperatorFunction", CODE, "operator_actions.handler", {"DB_USER": Ref("OperatorDbUser")}
    ),
)
# No identity source, so no API Gateway cache (template/api.yaml says why).
AUTHORIZER_TTL_SECONDS = 0
# The sync queue (template/sync.yaml says why each).
SYNC_VISIBILITY_TIMEOUT_SECONDS = 720
SYNC_MAX_RECEIVE_COUNT = 5
# The CORS configuration when CorsOrigins names origins (template/api.yaml says why each).
CORS_METHODS = ("GET", "POST", "PATCH", "DELETE", "OPTIONS")
CORS_ALLOW_HEADERS = ("Authorization", "Content-Type", "Accept", "Idempotency-Key")
CORS_EXPOSE_HEADERS = (
    "Location",
    "Idempotent-Replayed",
    "Retry-After",
    "WWW-Authenticate",
    "Apigw-Requestid",
)
CORS_MAX_AGE_SECONDS = 3600


def pascal(snake: str) -> str:
    return "".join(part.capitalize() for part in snake.split("_"))


def api_functions() -> list[dict[str, str]]:
    """The template writer's placeholders of each API function: one per route of the registry."""
    from wellapi.handlers.entry_points import handler_name
    from wellapi.operations.registry import OPERATIONS, ROUTES
    from wellapi.resources import FEEDS, RESOURCES, resource_named

    order = [*RESOURCES, *FEEDS]
    return [
        {
            "Function": f"{pascal(resource)}{pascal(operation)}Function",
            "Stack": f"{pascal(resource)}Stack",
            "resource": resource,
            "operation": operation,
            "handler": handler_name(resource, operation),
            "method": op.method,
            "openapi_method": op.method.lower(),
            "path": path,
            # The route in an execute-api ARN: each path parameter is a wildcard.
            "arn_path": re.sub(r"\{[^}]+\}", "*", path),
        }
        for resource, operation in sorted(ROUTES, key=lambda route: order.index(route[0]))
        for op in [OPERATIONS[operation]]
        for path in [op.path(resource_named(resource))]
    ]


def default_route_function() -> dict[str, str]:
    """The function of the ``$default`` route (the template writer's placeholders)."""
    from wellapi.operations.registry import DEFAULT_ROUTE_FUNCTION

    return {
        "Function": f"{pascal(DEFAULT_ROUTE_FUNCTION)}Function",
        "name": DEFAULT_ROUTE_FUNCTION,
    }


def _yaml(value: Value | int | bool | tuple[str, ...]) -> str:
    """A value as the template writes it: YAML's flow style, a scalar as JSON writes it."""
    if isinstance(value, tuple):
        return "[" + ", ".join(value) + "]"
    if isinstance(value, Ref):
        return f"!Ref {value.name}"
    if isinstance(value, Deployed):
        return value.yaml
    return json.dumps(value)


def _variables(environment: Mapping[str, Value], indent: int) -> str:
    return "\n".join(f"{' ' * indent}{name}: {_yaml(v)}" for name, v in environment.items())


def template_values() -> dict[str, str]:
    """What the template writer puts for each ``<<Name>>`` of ``template/``."""
    values = {f"{name}.Default": _yaml(v) for name, v in PARAMETERS.items() if v is not None}
    values |= {
        "Globals.Runtime": RUNTIME,
        "Globals.MemorySize": _yaml(MEMORY_MB),
        "Globals.Timeout": _yaml(TIMEOUT_SECONDS),
        "Globals.Variables": _variables(GLOBAL_ENVIRONMENT, 8).lstrip(),
        "ApiKeyAuthorizer.ReauthorizeEvery": _yaml(AUTHORIZER_TTL_SECONDS),
        "Cors.AllowMethods": _yaml(CORS_METHODS),
        "Cors.AllowHeaders": _yaml(CORS_ALLOW_HEADERS),
        "Cors.ExposeHeaders": _yaml(CORS_EXPOSE_HEADERS),
        "Cors.MaxAge": _yaml(CORS_MAX_AGE_SECONDS),
        "SyncQueue.VisibilityTimeout": _yaml(SYNC_VISIBILITY_TIMEOUT_SECONDS),
        "SyncQueue.maxReceiveCount": _yaml(SYNC_MAX_RECEIVE_COUNT),
    }
    for function in FUNCTIONS:
        name = function.logical_id
        values[f"{name}.Handler"] = function.handler
        values[f"{name}.Timeout"] = _yaml(function.timeout_seconds)
        values[f"{name}.Variables"] = _variables(function.environment, 10).lstrip()
        for schedule in function.schedule_events:
            values[f"{name}.Schedule"] = schedule.expression
        for queue in function.sqs_events:
            values[f"{name}.BatchSize"] = _yaml(queue.batch_size)
            values[f"{name}.MaximumBatchingWindowInSeconds"] = _yaml(queue.batching_window_seconds)
    return values


def check_template(path: Path) -> None:
    """``-t/--template`` as ``sam local`` takes it: only this project's ``template.yaml`` runs."""
    if not path.is_file():
        raise StackError(f"{path} not found")
    if path.resolve() != ROOT / "template.yaml":
        raise StackError(
            f"{path}: only {ROOT / 'template.yaml'} runs locally (its functions are the "
            "operation registry's, welldev.stack)"
        )


def load(parameter_overrides: Mapping[str, str] | None = None) -> Stack:
    """The stack, with ``parameter_overrides`` as ``sam local`` and ``sam deploy`` take them."""
    parameters = dict(PARAMETERS)
    for name, value in (parameter_overrides or {}).items():
        if name not in parameters:
            known = ", ".join(sorted(parameters))
            raise StackError(f"no parameter {name!r} the local stack reads (parameters: {known})")
        parameters[name] = value
    described = [replace(f, environment={**GLOBAL_ENVIRONMENT, **f.environment}) for f in FUNCTIONS]
    default = default_route_function()
    routed = [(default["Function"], f"{default['name']}.handler", "ANY", DEFAULT_ROUTE)]
    routed += [(f["Function"], f["handler"], f["method"], f["path"]) for f in api_functions()]
    functions = described + [
        Function(name, CODE, handler, GLOBAL_ENVIRONMENT, http_routes=(route,))
        for name, handler, method, path in routed
        for route in [HttpRoute(method, path, name, AUTHORIZER)]
    ]
    queues = {
        SYNC_QUEUE: SqsQueue(
            SYNC_QUEUE, SYNC_VISIBILITY_TIMEOUT_SECONDS, SYNC_MAX_RECEIVE_COUNT, DEAD_LETTER_QUEUE
        ),
        # Its visibility timeout is SQS's default: nothing consumes it.
        DEAD_LETTER_QUEUE: SqsQueue(DEAD_LETTER_QUEUE, 30),
    }
    return Stack(
        parameters=parameters,
        functions={f.logical_id: f for f in functions},
        authorizer=Authorizer(AUTHORIZER, "AuthorizerFunction"),
        cors=_cors(parameters.get("CorsOrigins") or ""),
        queues=queues,
    )


def _cors(cors_origins: str) -> CorsConfiguration | None:
    if not cors_origins:  # the template's HasCorsOrigins
        return None
    return CorsConfiguration(
        allow_origins=tuple(o for o in cors_origins.split(",") if o),
        allow_methods=CORS_METHODS,
        allow_headers=tuple(h.lower() for h in CORS_ALLOW_HEADERS),
        expose_headers=tuple(h.lower() for h in CORS_EXPOSE_HEADERS),
        max_age=CORS_MAX_AGE_SECONDS,
    )
