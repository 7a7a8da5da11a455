"""What the local runtime needs to know from ``template.yaml``: functions, routes, authorizers,
queues and schedules.

The template is the single description of the deployable; the local server and local invoke
read it here so they cannot drift from it. Reading follows SAM's own rules where they matter
locally: ``Globals`` merge into every resource (maps merge, lists add up, scalars are
overridden), an ``HttpApi`` event without ``ApiId`` belongs to the implicit
``ServerlessHttpApi``, and a route's ``Auth.Authorizer`` overrides the API's
``DefaultAuthorizer`` (``NONE`` turns authorization off for that route). A nested stack
(``AWS::Serverless::Application`` with a local ``Location``) is read too: its functions are the
template's, and a path of an HttpApi's ``DefinitionBody`` whose integration names a nested
stack's output is a route to the function whose alias that output is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from welldev.cfn_yaml import CloudFormationYamlError, get_att_parts, load_yaml
from welldev.intrinsics import Conditions, resolve_list, resolve_value, select_branch

FUNCTION_TYPE = "AWS::Serverless::Function"
QUEUE_TYPE = "AWS::SQS::Queue"
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
APPLICATION_TYPE = "AWS::Serverless::Application"
IMPLICIT_HTTP_API = "ServerlessHttpApi"
DEFAULT_ROUTE = "$default"

# SAM's defaults when a function says nothing.
DEFAULT_TIMEOUT_SECONDS = 3
DEFAULT_MEMORY_MB = 128
# API Gateway's default when an authorizer sets no result TTL.
DEFAULT_AUTHORIZER_TTL_SECONDS = 300
DEFAULT_SQS_BATCH_SIZE = 10
# SQS's default visibility timeout when a queue sets none.
DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30
# The units of an EventBridge rate expression, in seconds (singular for 1, plural otherwise).
RATE_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_RATE = re.compile(r"rate\(\s*(\d+)\s+([a-z]+?)(s?)\s*\)")
_CRON = re.compile(r"cron\([^()]+\)")


class TemplateError(ValueError):
    """The template is missing, unreadable, or says something the local runtime cannot use."""


# ---------------------------------------------------------------------------------------------
# The model the local runtime works with.
# ---------------------------------------------------------------------------------------------

AuthorizerKind = Literal["lambda", "jwt", "iam"]


@dataclass(frozen=True)
class Authorizer:
    """An HTTP API authorizer. Only ``lambda`` ones can run locally."""

    name: str
    kind: AuthorizerKind
    function_id: str | None = None
    # API Gateway selection expressions, e.g. "$request.header.Authorization".
    identity_sources: tuple[str, ...] = ()
    ttl_seconds: int = DEFAULT_AUTHORIZER_TTL_SECONDS
    simple_responses: bool = False
    payload_format_version: str = "2.0"


@dataclass(frozen=True)
class CorsConfiguration:
    """An HTTP API's ``CorsConfiguration``, its values resolved (header names lower-cased)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class HttpApi:
    logical_id: str
    default_authorizer: str | None
    authorizers: Mapping[str, Authorizer]
    # None when the API has no CorsConfiguration (or its condition leaves it out).
    cors: CorsConfiguration | None = None


@dataclass(frozen=True)
class HttpRoute:
    """One ``HttpApi`` event of a function, with the authorizer that applies to it."""

    api_id: str
    method: str  # upper case; "ANY" matches every method
    path: str  # "/v1/things/{id}", or "$default" for the catch-all route
    function_id: str
    event_name: str
    # The effective authorizer: the route's own Auth.Authorizer, else the API's default.
    authorizer: str | None
    payload_format_version: str = "2.0"

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class SqsEvent:
    function_id: str
    event_name: str
    queue_id: str | None  # logical id of the queue, when the template names one
    batch_size: int
    batching_window_seconds: int
    report_batch_item_failures: bool


@dataclass(frozen=True)
class ScheduleEvent:
    """A ``Schedule`` event of a function: the EventBridge rule that invokes it on a schedule."""

    function_id: str
    event_name: str
    expression: str  # "rate(1 minute)" or "cron(...)"
    # The rate's period; None for a cron expression, which has no fixed one.
    rate_seconds: int | None
    # The rule's name: Name when literal, else the logical id SAM gives the rule.
    rule_name: str
    # False when the template disables the rule (Enabled: false, State: DISABLED).
    enabled: bool = True
    # The rule's Input: the JSON the target receives instead of the scheduled event.
    input: str | None = None


@dataclass(frozen=True)
class SqsQueue:
    """An ``AWS::SQS::Queue`` of the template: what an event source mapping needs to know."""

    logical_id: str
    queue_name: str  # QueueName when literal, else the logical id
    visibility_timeout_seconds: int
    # RedrivePolicy: receives before a message moves to the dead-letter queue (None: never).
    max_receive_count: int | None = None
    dead_letter_queue_id: str | None = None


@dataclass(frozen=True)
class Function:
    logical_id: str
    function_name: str  # FunctionName when literal, else the logical id (as SAM local does)
    code_uri: Path  # absolute
    handler: str
    runtime: str | None
    timeout_seconds: int
    memory_mb: int
    # Environment.Variables with Globals merged in; values may be intrinsic functions.
    environment: Mapping[str, Any]
    http_routes: tuple[HttpRoute, ...]
    sqs_events: tuple[SqsEvent, ...]
    schedule_events: tuple[ScheduleEvent, ...] = ()


@dataclass(frozen=True)
class Template:
    path: Path
    parameters: Mapping[str, Any]  # parameter name -> default value (None when it has none)
    functions: Mapping[str, Function]
    http_apis: Mapping[str, HttpApi]
    queues: Mapping[str, SqsQueue] = field(default_factory=dict)

    @property
    def routes(self) -> tuple[HttpRoute, ...]:
        return tuple(route for f in self.functions.values() for route in f.http_routes)

    def function(self, logical_id: str) -> Function:
        try:
            return self.functions[logical_id]
        except KeyError:
            known = ", ".join(sorted(self.functions)) or "none"
            raise TemplateError(
                f"no function {logical_id!r} in {self.path.name} (functions: {known})"
            ) from None


# ---------------------------------------------------------------------------------------------
# Extraction
# ---------------------------------------------------------------------------------------------


def load(path: Path, parameter_overrides: Mapping[str, str] | None = None) -> Template:
    """Read ``template.yaml`` into the local runtime's model.

    ``parameter_overrides`` replace parameters' defaults, as ``sam local --parameter-overrides``
    (and ``sam deploy``) do.
    """
    path = path.resolve()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(f"{path} not found") from None
    try:
        document = load_yaml(text)
    except CloudFormationYamlError as error:
        raise TemplateError(f"{path.name}: {error}") from error
    return parse(document, path, parameter_overrides)


def parse(
    document: Mapping[str, Any],
    path: Path,
    parameter_overrides: Mapping[str, str] | None = None,
) -> Template:
    """Build the model from an already loaded template; ``path`` anchors relative CodeUris."""
    resources = _mapping(document.get("Resources"), "Resources")
    globals_ = _mapping(document.get("Globals"), "Globals")
    function_globals = _mapping(globals_.get("Function"), "Globals.Function")
    api_globals = _mapping(globals_.get("HttpApi"), "Globals.HttpApi")

    parameters = {
        name: _mapping(spec, f"Parameters.{name}").get("Default")
        for name, spec in _mapping(document.get("Parameters"), "Parameters").items()
    }
    for name, value in (parameter_overrides or {}).items():
        if name not in parameters:
            known = ", ".join(sorted(parameters)) or "none"
            raise TemplateError(f"no parameter {name!r} to override (parameters: {known})")
        parameters[name] = value
    conditions = Conditions(_mapping(document.get("Conditions"), "Conditions"), parameters)
    http_apis = {
        logical_id: _http_api(
            logical_id, merge_globals(api_globals, _properties(resource)), conditions
        )
        for logical_id, resource in resources.items()
        if _is_type(resource, HTTP_API_TYPE)
    }
    functions: dict[str, Function] = {}
    for logical_id, resource in resources.items():
        if not _is_type(resource, FUNCTION_TYPE):
            continue
        properties = merge_globals(function_globals, _properties(resource))
        functions[logical_id] = _function(
            logical_id, properties, path.parent, parameters, http_apis, api_globals
        )

    for logical_id, resource in resources.items():
        if _is_type(resource, APPLICATION_TYPE):
            functions.update(_nested_functions(logical_id, resource, path, parameters))
    _add_definition_routes(resources, functions, http_apis, path.parent)

    queues = {
        logical_id: _queue(logical_id, _properties(resource), parameters)
        for logical_id, resource in resources.items()
        if _is_type(resource, QUEUE_TYPE)
    }
    template = Template(
        path=path,
        parameters=parameters,
        functions=functions,
        http_apis=http_apis,
        queues=queues,
    )
    _check_routes(template)
    return template


def _nested_functions(
    logical_id: str, resource: Mapping[str, Any], path: Path, parameters: Mapping[str, Any]
) -> dict[str, Function]:
    """The functions of a nested stack, its parameters given the values of the parent's
    parameters of the same names (what the parent passes down under the same name)."""
    location = _properties(resource).get("Location")
    if not isinstance(location, str):
        raise TemplateError(f"{logical_id}: only a local Location can run locally")
    child_path = (path.parent / location).resolve()
    try:
        document = load_yaml(child_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TemplateError(f"{logical_id}: {location} not found") from None
    except CloudFormationYamlError as error:
        raise TemplateError(f"{location}: {error}") from error
    declared = _mapping(document.get("Parameters"), f"{location}.Parameters")
    values = {name: parameters[name] for name in declared if parameters.get(name) is not None}
    nested = parse(document, child_path, values)
    return dict(nested.functions)


def _add_definition_routes(
    resources: Mapping[str, Any],
    functions: dict[str, Function],
    http_apis: Mapping[str, HttpApi],
    base_dir: Path,
) -> None:
    """The routes an HttpApi's ``DefinitionBody`` writes to a nested stack's function."""
    for api_id, api in http_apis.items():
        if api_id not in resources:  # the implicit API, which has no body
            continue
        body = _mapping(_properties(resources[api_id]).get("DefinitionBody"), f"{api_id}.Body")
        for path, methods in _mapping(body.get("paths"), f"{api_id}.paths").items():
            for method, operation in _mapping(methods, f"{api_id}.paths.{path}").items():
                where = f"{api_id}.paths.{path}.{method}"
                integration = _mapping(operation, where).get("x-amazon-apigateway-integration")
                function_id = _nested_function_of(resources, integration, base_dir, where)
                route = HttpRoute(
                    api_id=api_id,
                    method=method.upper(),
                    path=path,
                    function_id=function_id,
                    event_name=f"{api_id}{method.upper()}{path}",
                    authorizer=api.default_authorizer,
                    payload_format_version=_version(
                        _mapping(integration, where).get("payloadFormatVersion", "2.0")
                    ),
                )
                function = functions[function_id]
                functions[function_id] = replace(
                    function, http_routes=(*function.http_routes, route)
                )


_STACK_OUTPUT = re.compile(r"\$\{([A-Za-z0-9]+)\.Outputs\.([A-Za-z0-9]+)\}")


def _nested_function_of(
    resources: Mapping[str, Any], integration: Any, base_dir: Path, where: str
) -> str:
    """The function whose alias a nested stack's output is, from an integration's uri
    (``!Sub ...functions/${<Stack>.Outputs.<Output>}/invocations``)."""
    uri = _mapping(integration, where).get("uri")
    match = _STACK_OUTPUT.search(uri.get("Fn::Sub", "")) if isinstance(uri, Mapping) else None
    stack = resources.get(match.group(1)) if match else None
    if match is None or stack is None or not _is_type(stack, APPLICATION_TYPE):
        raise TemplateError(f"{where}: the integration's uri must name a nested stack's output")
    location = base_dir / str(_properties(stack).get("Location"))
    return _output_function(match.group(1), location, match.group(2), where)


def _output_function(stack: str, location: Path, output: str, where: str) -> str:
    # Read again, and small: each nested stack is a few hundred lines.
    document = load_yaml(location.read_text(encoding="utf-8"))
    value = _mapping(_mapping(document.get("Outputs"), "Outputs").get(output), output).get("Value")
    reference = value.get("Ref") if isinstance(value, Mapping) else None
    if not isinstance(reference, str) or not reference.endswith(".Alias"):
        raise TemplateError(f"{where}: {stack}'s output {output} must be !Ref <Function>.Alias")
    return reference.removesuffix(".Alias")


def merge_globals(globals_: Mapping[str, Any], local: Mapping[str, Any]) -> dict[str, Any]:
    """SAM's Globals rule: maps merge recursively, lists are added to, scalars are replaced."""
    merged: dict[str, Any] = dict(globals_)
    for key, value in local.items():
        inherited = merged.get(key)
        if isinstance(inherited, Mapping) and isinstance(value, Mapping) and not _intrinsic(value):
            merged[key] = merge_globals(inherited, value)
        elif isinstance(inherited, list) and isinstance(value, list):
            merged[key] = [*inherited, *value]
        else:
            merged[key] = value
    return merged


def _function(
    logical_id: str,
    properties: Mapping[str, Any],
    base_dir: Path,
    parameters: Mapping[str, Any],
    http_apis: dict[str, HttpApi],
    api_globals: Mapping[str, Any],
) -> Function:
    code_uri = properties.get("CodeUri", ".")
    if not isinstance(code_uri, str):
        raise TemplateError(f"{logical_id}: only a local CodeUri path can run locally")
    handler = properties.get("Handler")
    if not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{logical_id}: Handler must be 'module.function'")
    environment = _mapping(properties.get("Environment"), f"{logical_id}.Environment")
    name = properties.get("FunctionName")

    routes: list[HttpRoute] = []
    sqs: list[SqsEvent] = []
    schedules: list[ScheduleEvent] = []
    for event_name, event in _mapping(properties.get("Events"), f"{logical_id}.Events").items():
        event = _mapping(event, f"{logical_id}.Events.{event_name}")
        event_properties = _mapping(event.get("Properties"), f"{logical_id}.Events.{event_name}")
        if event.get("Type") == "HttpApi":
            routes.append(
                _http_route(logical_id, event_name, event_properties, http_apis, api_globals)
            )
        elif event.get("Type") == "SQS":
            sqs.append(_sqs_event(logical_id, event_name, event_properties))
        elif event.get("Type") == "Schedule":
            schedules.append(_schedule_event(logical_id, event_name, event_properties, parameters))

    return Function(
        logical_id=logical_id,
        function_name=name if isinstance(name, str) else logical_id,
        code_uri=(base_dir / code_uri).resolve(),
        handler=handler,
        runtime=_optional_str(properties.get("Runtime")),
        timeout_seconds=_integer(properties, "Timeout", DEFAULT_TIMEOUT_SECONDS, parameters),
        memory_mb=_integer(properties, "MemorySize", DEFAULT_MEMORY_MB, parameters),
        environment=dict(_mapping(environment.get("Variables"), f"{logical_id}.Variables")),
        http_routes=tuple(routes),
        sqs_events=tuple(sqs),
        schedule_events=tuple(schedules),
    )


def _http_route(
    function_id: str,
    event_name: str,
    properties: Mapping[str, Any],
    http_apis: dict[str, HttpApi],
    api_globals: Mapping[str, Any],
) -> HttpRoute:
    where = f"{function_id}.Events.{event_name}"
    api_ref = properties.get("ApiId")
    if api_ref is None:
        # SAM creates this API the first time an event leaves ApiId out.
        api_id = IMPLICIT_HTTP_API
        if api_id not in http_apis:
            http_apis[api_id] = _http_api(api_id, dict(api_globals), None)
    else:
        api_id = _ref_target(api_ref, where + ".ApiId")
        if api_id not in http_apis:
            raise TemplateError(f"{where}: ApiId names {api_id!r}, which is not an HttpApi")
    api = http_apis[api_id]

    path = properties.get("Path")
    method = properties.get("Method")
    if path is None and method is None:
        path, method = DEFAULT_ROUTE, "ANY"
    if not isinstance(path, str) or not isinstance(method, str):
        raise TemplateError(f"{where}: an HttpApi event needs both Path and Method")
    if path != DEFAULT_ROUTE and not path.startswith("/"):
        raise TemplateError(f"{where}: Path must start with '/'")

    auth = _mapping(properties.get("Auth"), where + ".Auth")
    authorizer = auth.get("Authorizer", api.default_authorizer)
    if authorizer == "NONE":
        authorizer = None
    if authorizer is not None and authorizer not in api.authorizers and authorizer != "AWS_IAM":
        raise TemplateError(f"{where}: authorizer {authorizer!r} is not declared on {api_id}")
    return HttpRoute(
        api_id=api_id,
        method=method.upper(),
        path=path,
        function_id=function_id,
        event_name=event_name,
        authorizer=authorizer,
        payload_format_version=_version(properties.get("PayloadFormatVersion", "2.0")),
    )


def _http_api(
    logical_id: str, properties: Mapping[str, Any], conditions: Conditions | None = None
) -> HttpApi:
    auth = _mapping(properties.get("Auth"), f"{logical_id}.Auth")
    authorizers = {
        name: _authorizer(name, _mapping(spec, f"{logical_id}.Auth.Authorizers.{name}"))
        for name, spec in _mapping(auth.get("Authorizers"), f"{logical_id}.Authorizers").items()
    }
    if auth.get("EnableIamAuthorizer"):
        authorizers["AWS_IAM"] = Authorizer(name="AWS_IAM", kind="iam")
    default = auth.get("DefaultAuthorizer")
    if default is not None and default not in authorizers:
        raise TemplateError(f"{logical_id}: DefaultAuthorizer {default!r} is not declared")
    cors = None
    if "CorsConfiguration" in properties:
        try:
            cors = _cors(logical_id, properties["CorsConfiguration"], conditions)
        except TemplateError:
            raise
        except ValueError as error:  # a condition or an intrinsic the runtime cannot answer
            raise TemplateError(f"{logical_id}.CorsConfiguration: {error}") from error
    return HttpApi(
        logical_id=logical_id, default_authorizer=default, authorizers=authorizers, cors=cors
    )


_CORS_KEYS = {
    "AllowOrigins",
    "AllowMethods",
    "AllowHeaders",
    "ExposeHeaders",
    "MaxAge",
    "AllowCredentials",
}


def _cors(logical_id: str, raw: Any, conditions: Conditions | None) -> CorsConfiguration | None:
    """SAM's ``CorsConfiguration``: ``true`` (every origin), a map, or an ``Fn::If`` of one."""
    where = f"{logical_id}.CorsConfiguration"
    if conditions is None:
        conditions = Conditions({}, {})
    value = select_branch(raw, conditions)
    if value is None or value is False:
        return None
    if value is True:
        return CorsConfiguration(allow_origins=("*",))
    spec = _mapping(value, where)
    unknown = sorted(set(spec) - _CORS_KEYS)
    if unknown:
        raise TemplateError(f"{where}: unknown keys {unknown}")

    def values(key: str, lower: bool = False) -> tuple[str, ...]:
        items = resolve_list(select_branch(spec.get(key), conditions), conditions.parameters)
        if items is None:
            raise TemplateError(f"{where}.{key} cannot be resolved without a deployment")
        return tuple(item.lower() if lower else item for item in items if item)

    max_age = select_branch(spec.get("MaxAge"), conditions)
    max_age_text = None if max_age is None else resolve_value(max_age, conditions.parameters)
    if max_age_text is not None and not max_age_text.isdigit():
        raise TemplateError(f"{where}.MaxAge must be a number of seconds")
    credentials = resolve_value(
        select_branch(spec.get("AllowCredentials", False), conditions), conditions.parameters
    )
    return CorsConfiguration(
        allow_origins=values("AllowOrigins"),
        allow_methods=tuple(m.upper() for m in values("AllowMethods")),
        allow_headers=values("AllowHeaders", lower=True),
        expose_headers=values("ExposeHeaders", lower=True),
        max_age=None if max_age_text is None else int(max_age_text),
        allow_credentials=credentials == "true",
    )


def _authorizer(name: str, spec: Mapping[str, Any]) -> Authorizer:
    if "JwtConfiguration" in spec:
        return Authorizer(name=name, kind="jwt")
    where = f"authorizer {name}"
    identity = _mapping(spec.get("Identity"), where + ".Identity")
    ttl = identity.get("ReauthorizeEvery", spec.get("AuthorizerResultTtlInSeconds"))
    return Authorizer(
        name=name,
        kind="lambda",
        function_id=_function_of_arn(spec.get("FunctionArn"), where + ".FunctionArn"),
        identity_sources=_identity_sources(identity, spec.get("IdentitySource")),
        ttl_seconds=DEFAULT_AUTHORIZER_TTL_SECONDS if ttl is None else int(ttl),
        simple_responses=bool(spec.get("EnableSimpleResponses", False)),
        payload_format_version=_version(spec.get("AuthorizerPayloadFormatVersion", "2.0")),
    )


# SAM's Identity keys and the selection-expression prefix each becomes in API Gateway.
_IDENTITY_PREFIXES = (
    ("Headers", "$request.header."),
    ("QueryStrings", "$request.querystring."),
    ("StageVariables", "$stageVariables."),
    ("Context", "$context."),
)


def _identity_sources(identity: Mapping[str, Any], raw: Any) -> tuple[str, ...]:
    """SAM's ``Identity`` block, or a raw ``IdentitySource`` (a string or a list of them)."""
    sources = [
        prefix + str(value)
        for key, prefix in _IDENTITY_PREFIXES
        for value in identity.get(key) or ()
    ]
    if isinstance(raw, str):
        sources.extend(part.strip() for part in raw.split(",") if part.strip())
    elif isinstance(raw, list):
        sources.extend(str(part) for part in raw)
    return tuple(sources)


def _sqs_event(function_id: str, event_name: str, properties: Mapping[str, Any]) -> SqsEvent:
    queue = properties.get("Queue")
    queue_id: str | None = None
    if isinstance(queue, Mapping) and "Fn::GetAtt" in queue:
        queue_id = get_att_parts(queue["Fn::GetAtt"])[0]
    elif isinstance(queue, Mapping) and "Ref" in queue:
        queue_id = str(queue["Ref"])
    return SqsEvent(
        function_id=function_id,
        event_name=event_name,
        queue_id=queue_id,
        batch_size=int(properties.get("BatchSize", DEFAULT_SQS_BATCH_SIZE)),
        batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
        report_batch_item_failures="ReportBatchItemFailures"
        in (properties.get("FunctionResponseTypes") or ()),
    )


def _schedule_event(
    function_id: str,
    event_name: str,
    properties: Mapping[str, Any],
    parameters: Mapping[str, Any],
) -> ScheduleEvent:
    where = f"{function_id}.Events.{event_name}"
    expression = resolve_value(properties.get("Schedule"), parameters)
    if expression is None:
        raise TemplateError(f"{where}: a Schedule event needs a Schedule expression")
    expression = expression.strip()
    try:
        rate = rate_seconds(expression)
    except ValueError as error:
        raise TemplateError(f"{where}: {error}") from None
    if rate is None and not _CRON.fullmatch(expression):
        raise TemplateError(
            f"{where}: Schedule must be rate(<n> <unit>) or cron(...), not {expression!r}"
        )
    # A value the runtime cannot answer (a condition) leaves the rule enabled.
    state = resolve_value(properties.get("State", "ENABLED"), parameters) or "ENABLED"
    enabled = resolve_value(properties.get("Enabled", True), parameters) or "true"
    name = properties.get("Name")
    payload = properties.get("Input")
    return ScheduleEvent(
        function_id=function_id,
        event_name=event_name,
        expression=expression,
        rate_seconds=rate,
        rule_name=name if isinstance(name, str) else f"{function_id}{event_name}",
        enabled=state.upper() != "DISABLED" and enabled.lower() != "false",
        input=payload if isinstance(payload, str) else None,
    )


def rate_seconds(expression: str) -> int | None:
    """The period of ``rate(<n> <unit>)`` in seconds; None for any other expression.

    As EventBridge has it: a positive whole number, and its unit singular for 1 and plural
    otherwise (``rate(1 minute)``, ``rate(5 minutes)``); seconds too, for local templates.
    """
    match = _RATE.fullmatch(expression)
    if match is None:
        if expression.startswith("rate("):
            raise ValueError(f"{expression!r} is not rate(<n> <unit>)")
        return None
    count, unit, plural = int(match.group(1)), match.group(2), match.group(3)
    if unit not in RATE_UNITS:
        units = ", ".join(RATE_UNITS)
        raise ValueError(f"{expression!r}: unknown unit {unit!r} (units: {units}, or plurals)")
    if count < 1:
        raise ValueError(f"{expression!r}: the rate must be at least 1")
    if (count == 1) == bool(plural):
        expected = f"rate({count} {unit}{'' if count == 1 else 's'})"
        raise ValueError(f"{expression!r}: write {expected}")
    return count * RATE_UNITS[unit]


def _queue(
    logical_id: str, properties: Mapping[str, Any], parameters: Mapping[str, Any]
) -> SqsQueue:
    redrive = properties.get("RedrivePolicy")
    if isinstance(redrive, str):  # CloudFormation also takes the policy as a JSON string
        try:
            redrive = json.loads(redrive)
        except ValueError:
            raise TemplateError(f"{logical_id}.RedrivePolicy is not JSON") from None
    redrive = _mapping(redrive, f"{logical_id}.RedrivePolicy")
    target = redrive.get("deadLetterTargetArn")
    dead_letter_queue_id: str | None = None
    if isinstance(target, Mapping) and "Fn::GetAtt" in target:
        dead_letter_queue_id = get_att_parts(target["Fn::GetAtt"])[0]
    name = properties.get("QueueName")
    return SqsQueue(
        logical_id=logical_id,
        queue_name=name if isinstance(name, str) else logical_id,
        visibility_timeout_seconds=_integer(
            properties, "VisibilityTimeout", DEFAULT_VISIBILITY_TIMEOUT_SECONDS, parameters
        ),
        max_receive_count=(
            _integer(redrive, "maxReceiveCount", 0, parameters)
            if "maxReceiveCount" in redrive
            else None
        ),
        dead_letter_queue_id=dead_letter_queue_id,
    )


def _check_routes(template: Template) -> None:
    seen: dict[tuple[str, str], str] = {}
    for route in template.routes:
        key = (route.api_id, route.route_key)
        if key in seen:
            raise TemplateError(
                f"route {route.route_key!r} on {route.api_id} is declared by both "
                f"{seen[key]} and {route.function_id}"
            )
        seen[key] = route.function_id
    for api in template.http_apis.values():
        for authorizer in api.authorizers.values():
            if authorizer.function_id and authorizer.function_id not in template.functions:
                raise TemplateError(
                    f"authorizer {authorizer.name} on {api.logical_id} points at "
                    f"{authorizer.function_id}, which is not a function of the template"
                )


# ---------------------------------------------------------------------------------------------
# Environment values: the intrinsic functions that can be answered without a deployment.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedEnvironment:
    values: Mapping[str, str]
    # Variables whose value needs a deployed resource (an endpoint, an ARN): left unset.
    unresolved: tuple[str, ...]


def resolve_environment(template: Template, function: Function) -> ResolvedEnvironment:
    values: dict[str, str] = {}
    unresolved: list[str] = []
    for name, raw in function.environment.items():
        value = resolve_value(raw, template.parameters)
        if value is None:
            unresolved.append(name)
        else:
            values[name] = value
    return ResolvedEnvironment(values=values, unresolved=tuple(unresolved))


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _is_type(resource: Any, type_name: str) -> bool:
    return isinstance(resource, Mapping) and resource.get("Type") == type_name


def _properties(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    return _mapping(resource.get("Properties"), "Properties")


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise TemplateError(f"{where} must be a mapping")
    return value


def _intrinsic(value: Mapping[str, Any]) -> bool:
    """``{"Ref": ...}``, ``{"Fn::Sub": ...}``...: a value to replace whole, never to merge into."""
    if len(value) != 1:
        return False
    key = str(next(iter(value)))
    return key in ("Ref", "Condition") or key.startswith("Fn::")


def _integer(
    properties: Mapping[str, Any], key: str, default: int, parameters: Mapping[str, Any]
) -> int:
    value = resolve_value(properties.get(key, default), parameters)
    if value is None or not value.isdigit():
        raise TemplateError(f"{key} must be a number (or !Ref to a parameter with a default)")
    return int(value)


def _optional_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _version(value: Any) -> str:
    # YAML reads an unquoted 2.0 as a float.
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _ref_target(value: Any, where: str) -> str:
    if isinstance(value, Mapping) and "Ref" in value:
        return str(value["Ref"])
    raise TemplateError(f"{where} must be !Ref to a resource of the template")


def _function_of_arn(value: Any, where: str) -> str:
    """The logical id behind ``!GetAtt Fn.Arn``, ``!Sub ${Fn.Arn}`` or ``!Ref Fn.Alias`` (the
    alias SAM publishes with AutoPublishAlias: locally, the function itself)."""
    reference = value.get("Ref") if isinstance(value, Mapping) else None
    if isinstance(reference, str) and reference.endswith(".Alias"):
        return reference.removesuffix(".Alias")
    if isinstance(value, Mapping) and "Fn::GetAtt" in value:
        resource, attribute = get_att_parts(value["Fn::GetAtt"])
        if attribute == "Arn":
            return resource
    if isinstance(value, Mapping) and isinstance(value.get("Fn::Sub"), str):
        match = re.fullmatch(r"\$\{([A-Za-z0-9]+)\.Arn\}", value["Fn::Sub"])
        if match:
            return match.group(1)
    raise TemplateError(
        f"{where} must be !GetAtt <Function>.Arn or !Ref <Function>.Alias of a function in the "
        "template"
    )
