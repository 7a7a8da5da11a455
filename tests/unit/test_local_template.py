"""Reading template.yaml for the local runtime: tags, Globals, routes, authorizers, SQS."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from welldev import template as sam
from welldev.cfn_yaml import CloudFormationYamlError, load_yaml
from welldev.intrinsics import LOCAL_ACCOUNT_ID, resolve_value

FIXTURE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  DbUser:
    Type: String
    Default: well_api
  DbHost:
    Type: String
  Timeout:
    Type: Number
    Default: 20
Globals:
  Function:
    CodeUri: src/
    Runtime: python3.13
    Timeout: !Ref Timeout
    Layers: [!Ref SharedLayer]
    Environment:
      Variables:
        DB_AUTH: iam
        DB_USER: !Ref DbUser
        DB_HOST: !Ref DbHost
        SERVICE: !Sub "wellapi-${AWS::StackName}"
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: ApiKey
        Authorizers:
          ApiKey:
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            Identity:
              Headers: [Authorization]
              ReauthorizeEvery: 60
            AuthorizerPayloadFormatVersion: 2.0
            EnableSimpleResponses: true
  ListFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: things.list.handler
      MemorySize: 256
      Layers: [!Ref OtherLayer]
      Environment:
        Variables:
          DB_AUTH: secret
          EXTRA: "1"
      Events:
        List:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: get, Path: /v1/things}
        Retrieve:
          Type: HttpApi
          Properties: {ApiId: !Ref Api, Method: GET, Path: "/v1/things/{id}"}
  PublicFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: public-fn
      Handler: things.public.handler
      Events:
        Health:
          Type: HttpApi
          Properties:
            ApiId: !Ref Api
            Method: GET
            Path: /health
            Auth:
              Authorizer: NONE
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: auth/
      Handler: app.handler
  SyncFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: sync.handler
      Events:
        Batch:
          Type: SQS
          Properties:
            Queue: !GetAtt SyncQueue.Arn
            BatchSize: 25
            MaximumBatchingWindowInSeconds: 2
            FunctionResponseTypes: [ReportBatchItemFailures]
  SyncQueue:
    Type: AWS::SQS::Queue
"""


@pytest.fixture
def fixture_template(tmp_path: Path) -> sam.Template:
    path = tmp_path / "template.yaml"
    path.write_text(FIXTURE)
    return sam.load(path)


def test_short_form_tags_load_as_their_long_form() -> None:
    document = load_yaml(
        textwrap.dedent(
            """
            a: !Ref Thing
            b: !GetAtt Fn.Arn
            c: !GetAtt [Db, Endpoint.Address]
            d: !Sub "${AWS::Region}-x"
            e: !Sub ["${A}", {A: !Ref P}]
            f: !Join [",", [a, b]]
            g: !If [IsProd, 1, 2]
            h: !Select [0, !Split [",", "a,b"]]
            i: !FindInMap [M, K, V]
            j: !GetAZs ""
            k: !ImportValue Shared
            l: !Base64 text
            m: !And [!Equals [a, b], !Not [!Condition C], !Or [!Condition D]]
            n: !GetAtt Db.Endpoint.Address
            """
        )
    )
    assert document == {
        "a": {"Ref": "Thing"},
        "b": {"Fn::GetAtt": ["Fn", "Arn"]},
        "c": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
        "d": {"Fn::Sub": "${AWS::Region}-x"},
        "e": {"Fn::Sub": ["${A}", {"A": {"Ref": "P"}}]},
        "f": {"Fn::Join": [",", ["a", "b"]]},
        "g": {"Fn::If": ["IsProd", 1, 2]},
        "h": {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]},
        "i": {"Fn::FindInMap": ["M", "K", "V"]},
        "j": {"Fn::GetAZs": ""},
        "k": {"Fn::ImportValue": "Shared"},
        "l": {"Fn::Base64": "text"},
        "m": {
            "Fn::And": [
                {"Fn::Equals": ["a", "b"]},
                {"Fn::Not": [{"Condition": "C"}]},
                {"Fn::Or": [{"Condition": "D"}]},
            ]
        },
        "n": {"Fn::GetAtt": ["Db", "Endpoint.Address"]},
    }


def test_dates_stay_text_as_cloudformation_reads_them() -> None:
    assert load_yaml("Version: 2012-10-17\n") == {"Version": "2012-10-17"}


def test_an_unknown_tag_is_an_error_not_a_silent_value() -> None:
    with pytest.raises(CloudFormationYamlError, match="not valid YAML"):
        load_yaml("a: !Reff Thing\n")


def test_every_function_is_read_with_globals_merged(fixture_template: sam.Template) -> None:
    listing = fixture_template.function("ListFunction")
    assert listing.handler == "things.list.handler"
    assert listing.code_uri == fixture_template.path.parent / "src"
    assert listing.timeout_seconds == 20  # Globals, through !Ref to a parameter's default
    assert listing.memory_mb == 256
    assert listing.function_name == "ListFunction"
    assert listing.environment == {
        "DB_AUTH": "secret",  # the function's own value wins
        "DB_USER": {"Ref": "DbUser"},
        "DB_HOST": {"Ref": "DbHost"},
        "SERVICE": {"Fn::Sub": "wellapi-${AWS::StackName}"},
        "EXTRA": "1",
    }
    public = fixture_template.function("PublicFunction")
    assert public.function_name == "public-fn"
    assert public.memory_mb == sam.DEFAULT_MEMORY_MB
    assert fixture_template.function("AuthorizerFunction").code_uri.name == "auth"


def test_routes_carry_their_effective_authorizer(fixture_template: sam.Template) -> None:
    routes = {route.route_key: route for route in fixture_template.routes}
    assert set(routes) == {"GET /v1/things", "GET /v1/things/{id}", "GET /health"}
    assert routes["GET /v1/things"].authorizer == "ApiKey"  # the API's default
    assert routes["GET /v1/things/{id}"].function_id == "ListFunction"
    assert routes["GET /health"].authorizer is None  # Auth: {Authorizer: NONE}
    assert {route.api_id for route in routes.values()} == {"Api"}


def test_the_lambda_authorizer_is_read_with_its_function_and_cache(
    fixture_template: sam.Template,
) -> None:
    api = fixture_template.http_apis["Api"]
    assert api.default_authorizer == "ApiKey"
    assert api.authorizers["ApiKey"] == sam.Authorizer(
        name="ApiKey",
        kind="lambda",
        function_id="AuthorizerFunction",
        identity_sources=("$request.header.Authorization",),
        ttl_seconds=60,
        simple_responses=True,
        payload_format_version="2.0",
    )


def test_sqs_events_are_read(fixture_template: sam.Template) -> None:
    (event,) = fixture_template.function("SyncFunction").sqs_events
    assert event == sam.SqsEvent(
        function_id="SyncFunction",
        event_name="Batch",
        queue_id="SyncQueue",
        batch_size=25,
        batching_window_seconds=2,
        report_batch_item_failures=True,
    )


def test_queues_are_read_with_their_visibility_timeout_and_redrive_policy() -> None:
    template = sam.load(Path(__file__).resolve().parents[2] / "template.yaml")
    assert template.queues["SyncQueue"] == sam.SqsQueue(
        logical_id="SyncQueue",
        queue_name="SyncQueue",
        visibility_timeout_seconds=720,
        max_receive_count=5,
        dead_letter_queue_id="SyncDeadLetterQueue",
    )
    assert template.queues["SyncDeadLetterQueue"].max_receive_count is None


def test_a_queue_may_name_itself_and_give_its_redrive_policy_as_json(tmp_path: Path) -> None:
    document = {
        "Resources": {
            "Jobs": {
                "Type": "AWS::SQS::Queue",
                "Properties": {
                    "QueueName": "jobs",
                    "RedrivePolicy": '{"deadLetterTargetArn": "arn:x", "maxReceiveCount": 2}',
                },
            },
            "Bare": {"Type": "AWS::SQS::Queue"},
        }
    }
    template = sam.parse(document, tmp_path / "template.yaml")
    assert template.queues["Jobs"] == sam.SqsQueue(
        logical_id="Jobs",
        queue_name="jobs",
        visibility_timeout_seconds=sam.DEFAULT_VISIBILITY_TIMEOUT_SECONDS,
        max_receive_count=2,
        dead_letter_queue_id=None,
    )
    assert template.queues["Bare"].max_receive_count is None
    document["Resources"]["Jobs"]["Properties"]["RedrivePolicy"] = "{not json"
    with pytest.raises(sam.TemplateError, match="RedrivePolicy is not JSON"):
        sam.parse(document, tmp_path / "template.yaml")


def test_environment_values_resolve_what_needs_no_deployment(
    fixture_template: sam.Template,
) -> None:
    resolved = sam.resolve_environment(fixture_template, fixture_template.function("ListFunction"))
    assert resolved.values == {
        "DB_AUTH": "secret",
        "DB_USER": "well_api",
        "SERVICE": "wellapi-local",
        "EXTRA": "1",
    }
    assert resolved.unresolved == ("DB_HOST",)  # a parameter without a default


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "true"),
        (5432, "5432"),
        ({"Fn::Join": ["-", ["a", {"Ref": "P"}]]}, "a-p"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "x,y"]}]}, "y"),
        ({"Fn::Sub": ["${A}/${!Literal}", {"A": "a"}]}, "a/${Literal}"),
        ({"Fn::Sub": "${Resource.Arn}"}, None),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, None),
        ({"Ref": "SomeResource"}, None),
        ({"Ref": "AWS::AccountId"}, LOCAL_ACCOUNT_ID),
    ],
)
def test_intrinsic_values(value: object, expected: str | None) -> None:
    assert resolve_value(value, {"P": "p"}) == expected


def test_globals_merge_like_sam() -> None:
    merged = sam.merge_globals(
        {"Env": {"A": "1", "B": "1"}, "Layers": ["g"], "Timeout": 3, "Url": {"Ref": "X"}},
        {"Env": {"B": "2"}, "Layers": ["f"], "Timeout": 9, "Url": {"Ref": "Y"}},
    )
    assert merged == {
        "Env": {"A": "1", "B": "2"},
        "Layers": ["g", "f"],
        "Timeout": 9,
        "Url": {"Ref": "Y"},
    }


def test_an_event_without_api_id_belongs_to_the_implicit_api(tmp_path: Path) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        textwrap.dedent(
            """
            Resources:
              Fn:
                Type: AWS::Serverless::Function
                Properties:
                  Handler: app.handler
                  Events:
                    Any: {Type: HttpApi, Properties: {Path: "/{proxy+}", Method: any}}
                    Default: {Type: HttpApi}
            """
        )
    )
    template = sam.load(path)
    assert {r.route_key for r in template.routes} == {"ANY /{proxy+}", "$default"}
    assert set(template.http_apis) == {sam.IMPLICIT_HTTP_API}


@pytest.mark.parametrize(
    ("events", "message"),
    [
        (
            "A: {Type: HttpApi, Properties: {Path: /x, Method: GET}}\n"
            "B: {Type: HttpApi, Properties: {Path: /x, Method: get}}",
            "declared by both",
        ),
        (
            "A: {Type: HttpApi, Properties: {Path: /x, Method: GET, Auth: {Authorizer: Nope}}}",
            "not declared",
        ),
        ("A: {Type: HttpApi, Properties: {Path: x, Method: GET}}", "must start with '/'"),
        ("A: {Type: HttpApi, Properties: {Path: /x}}", "both Path and Method"),
    ],
)
def test_templates_the_local_runtime_cannot_serve_are_refused(
    tmp_path: Path, events: str, message: str
) -> None:
    path = tmp_path / "template.yaml"
    path.write_text(
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      Handler: app.handler\n      Events:\n" + textwrap.indent(events, " " * 8) + "\n"
    )
    with pytest.raises(sam.TemplateError, match=message):
        sam.load(path)


def test_a_missing_template_or_function_is_named(tmp_path: Path) -> None:
    with pytest.raises(sam.TemplateError, match="not found"):
        sam.load(tmp_path / "template.yaml")
    (tmp_path / "template.yaml").write_text("Resources: {}\n")
    with pytest.raises(sam.TemplateError, match="no function 'Nope'"):
        sam.load(tmp_path / "template.yaml").function("Nope")


def test_the_project_template_is_readable() -> None:
    template = sam.load(Path(__file__).resolve().parents[2] / "template.yaml")
    assert template.routes
    for route in template.routes:
        assert route.function_id in template.functions


NESTED_PARENT = """
Parameters:
  DbUser: {Type: String, Default: well_api}
  Unused: {Type: String, Default: x}
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: ApiKey
        Authorizers:
          ApiKey: {FunctionArn: !Ref AuthorizerFunction.Alias}
      DefinitionBody:
        openapi: "3.0.1"
        paths:
          "/v1/things/{id}":
            get:
              x-amazon-apigateway-integration:
                type: aws_proxy
                uri: !Sub functions/${ThingsStack.Outputs.ReadAlias}/invocations
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Properties: {Handler: authorizer.handler}
  ThingsStack:
    Type: AWS::Serverless::Application
    Properties:
      Location: stacks/things.yaml
      Parameters: {DbUser: !Ref DbUser}
"""
NESTED_CHILD = """
Parameters:
  DbUser: {Type: String}
Globals:
  Function:
    CodeUri: ../functions/
    Environment:
      Variables: {DB_USER: !Ref DbUser}
Resources:
  ReadFunction:
    Type: AWS::Serverless::Function
    Properties: {Handler: things.read.handler}
Outputs:
  ReadAlias:
    Value: !Ref ReadFunction.Alias
"""


def _nested(tmp_path: Path, parent: str = NESTED_PARENT, child: str = NESTED_CHILD) -> Path:
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "things.yaml").write_text(child)
    (tmp_path / "template.yaml").write_text(parent)
    return tmp_path / "template.yaml"


def test_a_nested_stack_s_functions_are_served_on_the_routes_the_parent_writes_to_them(
    tmp_path: Path,
) -> None:
    template = sam.load(_nested(tmp_path), {"DbUser": "well_other"})
    function = template.function("ReadFunction")
    # Its code is found from its own template's folder.
    assert function.code_uri == (tmp_path / "functions").resolve()
    (route,) = function.http_routes
    assert (route.route_key, route.authorizer) == ("GET /v1/things/{id}", "ApiKey")
    # Its parameters are the values the parent passes down.
    environment = sam.resolve_environment(template, function).values
    assert environment == {"DB_USER": "well_other"}


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("${ThingsStack.Outputs.ReadAlias}", "${ReadFunction.Arn}", "a nested stack's output"),
        ("${ThingsStack.Outputs.ReadAlias}", "${Api.Outputs.ReadAlias}", "a nested stack's"),
        ("Location: stacks/things.yaml", "Location: stacks/gone.yaml", "not found"),
        ("Location: stacks/things.yaml", "Location: {ApplicationId: x}", "local Location"),
    ],
)
def test_a_route_or_nested_stack_the_local_runtime_cannot_follow_is_refused(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = _nested(tmp_path, NESTED_PARENT.replace(old, new))
    with pytest.raises(sam.TemplateError, match=message):
        sam.load(path)


def test_a_nested_stack_s_output_must_be_a_function_s_alias(tmp_path: Path) -> None:
    child = NESTED_CHILD.replace("!Ref ReadFunction.Alias", "!GetAtt ReadFunction.Arn")
    with pytest.raises(sam.TemplateError, match=r"ReadAlias must be !Ref <Function>\.Alias"):
        sam.load(_nested(tmp_path, child=child))


def resources(**resources: object) -> dict[str, object]:
    return {"Resources": resources}


def function(**properties: object) -> dict[str, object]:
    return {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.h", **properties}}


def http_api(**auth: object) -> dict[str, object]:
    return {"Type": "AWS::Serverless::HttpApi", "Properties": {"Auth": auth}}


def test_other_authorizer_spellings_are_read() -> None:
    document = resources(
        Api=http_api(
            EnableIamAuthorizer=True,
            Authorizers={
                "Jwt": {"JwtConfiguration": {"issuer": "x"}, "IdentitySource": "$request.header.A"},
                "Raw": {
                    "FunctionArn": {"Fn::Sub": "${AuthFn.Arn}"},
                    "IdentitySource": "$request.header.A, $request.querystring.q",
                    "AuthorizerResultTtlInSeconds": 0,
                },
            },
        ),
        AuthFn=function(),
    )
    api = sam.parse(document, Path("/x/template.yaml")).http_apis["Api"]
    assert api.authorizers["Jwt"].kind == "jwt"
    assert api.authorizers["AWS_IAM"].kind == "iam"
    raw = api.authorizers["Raw"]
    assert raw.function_id == "AuthFn"
    assert raw.identity_sources == ("$request.header.A", "$request.querystring.q")
    assert raw.ttl_seconds == 0


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (resources(Fn=function(CodeUri={"Bucket": "b", "Key": "k"})), "local CodeUri"),
        (resources(Fn=function(Handler="nodot")), "module.function"),
        (resources(Fn=function(Timeout={"Ref": "Missing"})), "Timeout must be a number"),
        (resources(Api=http_api(DefaultAuthorizer="Nope")), "DefaultAuthorizer 'Nope'"),
        (
            resources(Api=http_api(Authorizers={"A": {"FunctionArn": "arn:aws:lambda:..."}})),
            "must be !GetAtt",
        ),
        (
            resources(Api=http_api(Authorizers={"A": {"FunctionArn": {"Fn::GetAtt": "X.Arn"}}})),
            "points at X",
        ),
        (
            resources(
                Fn=function(
                    Events={"E": {"Type": "HttpApi", "Properties": {"ApiId": "Api", "Path": "/"}}}
                )
            ),
            "must be !Ref",
        ),
        (
            resources(
                Fn=function(
                    Events={
                        "E": {
                            "Type": "HttpApi",
                            "Properties": {"ApiId": {"Ref": "Fn"}, "Path": "/", "Method": "GET"},
                        }
                    }
                )
            ),
            "not an HttpApi",
        ),
        ({"Resources": {"Fn": {"Type": sam.FUNCTION_TYPE, "Properties": []}}}, "must be a mapping"),
    ],
)
def test_template_mistakes_are_named(document: dict[str, object], message: str) -> None:
    with pytest.raises(sam.TemplateError, match=message):
        sam.parse(document, Path("/x/template.yaml"))


def test_a_template_that_is_not_yaml_is_a_template_error(tmp_path: Path) -> None:
    (tmp_path / "template.yaml").write_text("- just\n- a list\n")
    with pytest.raises(sam.TemplateError, match="mapping at the top level"):
        sam.load(tmp_path / "template.yaml")


@pytest.mark.parametrize(
    "value",
    [
        {"Fn::Join": ["-", ["a", {"Fn::GetAtt": ["Queue", "Arn"]}]]},
        {"Fn::Select": [5, ["a"]]},
        {"Fn::Select": [0, {"Fn::GetAtt": ["Queue", "Arns"]}]},
        {"Ref": "AWS::NoValue"},
        {"Fn::If": ["Cond", "a", "b"]},
        ["a", "list"],
        None,
    ],
)
def test_values_that_need_a_deployment_or_a_condition_are_unresolved(value: object) -> None:
    assert resolve_value(value, {}) is None


def test_a_list_parameter_resolves_to_its_comma_joined_default() -> None:
    assert resolve_value({"Ref": "Subnets"}, {"Subnets": ["a", "b"]}) == "a,b"
    assert resolve_value({"Fn::Select": ["1", ["x", "y"]]}, {}) == "y"
