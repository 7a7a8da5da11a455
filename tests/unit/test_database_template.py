"""database.yaml, the database side of a deploy: what the API stack needs of it, read from the
template (docs/deploy.md, "The first deploy"). ``make template`` runs SAM's, cfn-lint's and
checkov's checks on it; ``tests/unit/test_database_bootstrap.py`` runs its two functions,
``tests/database/test_migration_user.py`` their statements on PostgreSQL, and
``tests/unit/test_template_iam.py`` holds its roles to name their resources, as the API stack's.
"""

from __future__ import annotations

import re
from typing import Any

from tests.support.template import DATABASE, TEMPLATE, statements
from wellapi.domain import POSTGRES_MAJORS

RESOURCES = DATABASE["Resources"]
USERS = (
    *("DbUser", "SyncDbUser", "AuthDbUser", "DrainDbUser", "HealDbUser", "OperatorDbUser"),
    "MigrationDbUser",
)
# The largest stack it may become before CloudFormation's 500 (as tests/system/test_stack_sizes).
MOST_RESOURCES = 400


def _of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


def test_its_outputs_are_exactly_the_api_parameters_a_deploy_must_give():
    api = TEMPLATE["Parameters"]
    outputs = set(DATABASE["Outputs"])
    assert outputs <= set(api)
    required = {name for name, p in api.items() if "Default" not in p}
    # Everything the API stack cannot default comes from here, but the producer's role, which
    # is another team's (docs/deploy.md, "Before the first deploy").
    assert required - outputs == {"SyncProducerRoleArn"}
    assert "DbProxyReaderEndpoint" in outputs  # reads go to the reader


def test_the_users_are_named_as_the_api_stack_names_them():
    for user in USERS:
        declared = DATABASE["Parameters"][user]
        if user in TEMPLATE["Parameters"] and "Default" in TEMPLATE["Parameters"][user]:
            assert declared["Default"] == TEMPLATE["Parameters"][user]["Default"], user
        assert declared["AllowedPattern"] == "^[a-z_][a-z0-9_]{0,62}$"


def test_the_cluster_is_a_supported_major_with_a_writer_and_a_reader():
    pattern = DATABASE["Parameters"]["EngineVersion"]["AllowedPattern"]
    majors = tuple(int(m) for m in re.match(r"\^\(([\d|]+)\)", pattern).group(1).split("|"))
    assert majors == tuple(POSTGRES_MAJORS)
    assert int(DATABASE["Parameters"]["EngineVersion"]["Default"].split(".")[0]) in majors
    (cluster,) = _of_type("AWS::RDS::DBCluster").values()
    properties = cluster["Properties"]
    assert properties["Engine"] == "aurora-postgresql"
    assert properties["EnableIAMDatabaseAuthentication"] is True
    assert properties["StorageEncrypted"] is True
    assert properties["ManageMasterUserPassword"] is True  # no password in the template
    assert properties["MasterUserSecret"] == {
        "KmsKeyId": {"Fn::GetAtt": ["MasterSecretKey", "Arn"]}
    }
    assert properties["EnableHttpEndpoint"] is False  # MigrationUserFunction's, while it runs
    assert cluster["DeletionPolicy"] == cluster["UpdateReplacePolicy"] == "Snapshot"
    instances = _of_type("AWS::RDS::DBInstance")
    tiers = sorted(i["Properties"]["PromotionTier"] for i in instances.values())
    assert tiers == [0, 1]
    for instance in instances.values():
        assert instance["Properties"]["DBClusterIdentifier"] == {"Ref": "DbCluster"}
        assert instance["Properties"]["PubliclyAccessible"] is False


def test_the_proxy_authenticates_with_iam_end_to_end_and_lends_within_the_budget():
    (proxy,) = _of_type("AWS::RDS::DBProxy").values()
    assert proxy["Properties"]["DefaultAuthScheme"] == "IAM_AUTH"
    assert "Auth" not in proxy["Properties"]  # no Secrets Manager secret per user
    assert proxy["Properties"]["RequireTLS"] is True
    (targets,) = _of_type("AWS::RDS::DBProxyTargetGroup").values()
    pool = targets["Properties"]["ConnectionPoolConfigurationInfo"]
    # Below the functions' 6 s read bound (docs/deploy.md), so the proxy's error comes first.
    assert pool["ConnectionBorrowTimeout"] <= 5
    (reader,) = _of_type("AWS::RDS::DBProxyEndpoint").values()
    assert reader["Properties"]["TargetRole"] == "READ_ONLY"


def test_the_proxy_may_connect_as_each_user_and_nobody_else():
    role = RESOURCES["ProxyRole"]["Properties"]
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Action"] == "rds-db:connect"
    named = sorted(
        re.search(r"/\$\{(\w+)\}$", r["Fn::Sub"]).group(1) for r in statement["Resource"]
    )
    assert named == sorted(USERS)
    for resource in statement["Resource"]:
        assert ":dbuser:${DbCluster.DBClusterResourceId}/" in resource["Fn::Sub"]


def test_ddl_and_role_changes_are_logged_with_pgaudit_in_the_engines_family():
    (group,) = _of_type("AWS::RDS::DBClusterParameterGroup").values()
    properties = group["Properties"]
    family, values = properties["Family"]["Fn::Sub"]
    assert family == "aurora-postgresql${Major}"
    assert values["Major"] == {"Fn::Select": [0, {"Fn::Split": [".", {"Ref": "EngineVersion"}]}]}
    assert properties["Parameters"] == {
        "log_statement": "ddl",  # docs/operations.md, RoleDefaultsChangedAlarm
        "shared_preload_libraries": "pg_stat_statements,pgaudit",
        "pgaudit.log": "ddl,role",
    }
    (cluster,) = _of_type("AWS::RDS::DBCluster").values()
    assert cluster["Properties"]["DBClusterParameterGroupName"] == {"Ref": "DbClusterParameters"}


def test_the_master_secret_has_a_key_of_the_stacks_and_one_reader():
    key = RESOURCES["MasterSecretKey"]["Properties"]
    assert key["EnableKeyRotation"] is True
    (account,) = key["KeyPolicy"]["Statement"]
    assert account["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    policy = RESOURCES["MasterSecretPolicy"]["Properties"]
    assert policy["SecretId"] == {"Fn::GetAtt": ["DbCluster", "MasterUserSecret.SecretArn"]}
    (deny,) = policy["ResourcePolicy"]["Statement"]
    assert (deny["Effect"], deny["Principal"], deny["Action"]) == (
        "Deny",
        "*",
        "secretsmanager:GetSecretValue",
    )
    reader, service_linked = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert reader == {"Fn::GetAtt": ["MigrationUserRole", "Arn"]}
    assert service_linked["Fn::Sub"].endswith("/rds.amazonaws.com/AWSServiceRoleForRDS")
    assert deny["Condition"]["BoolIfExists"] == {"aws:PrincipalIsAWSService": "false"}
    decrypt = [
        s for s in statements(RESOURCES["MigrationUserRole"]) if s["Action"] == "kms:Decrypt"
    ]
    assert [s["Resource"] for s in decrypt] == [{"Fn::GetAtt": ["MasterSecretKey", "Arn"]}]


def test_every_service_role_is_assumed_for_this_account_alone():
    for name, role in _of_type("AWS::IAM::Role").items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            condition = statement["Condition"]["StringEquals"]
            assert condition == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}, name


def test_the_endpoints_allow_what_the_stack_uses_alone():
    (s3,) = _endpoint("s3")["PolicyDocument"]["Statement"]
    assert s3["Action"] == "s3:PutObject"  # a custom resource's response, at its pre-signed URL
    bucket, region = s3["Resource"]["Fn::Sub"]
    assert bucket.endswith(":s3:::cloudformation-custom-resource-response-${Region}/*")
    assert region == {"Region": {"Fn::Join": ["", {"Fn::Split": ["-", {"Ref": "AWS::Region"}]}]}}
    (events,) = _endpoint("events")["PolicyDocument"]["Statement"]
    assert events["Action"] == "events:PutEvents"
    assert events["Resource"]["Fn::Sub"].endswith(":${AWS::AccountId}:event-bus/*")


def _endpoint(service: str) -> dict[str, Any]:
    (endpoint,) = [
        e["Properties"]
        for e in _of_type("AWS::EC2::VPCEndpoint").values()
        if e["Properties"]["ServiceName"]["Fn::Sub"].endswith(f".{service}")
    ]
    return endpoint


def test_the_default_security_group_is_left_without_rules_and_the_flow_log_keeps_all():
    made = RESOURCES["DefaultSecurityGroupRules"]["Properties"]
    assert made["ServiceToken"] == {"Fn::GetAtt": ["DefaultSecurityGroupFunction", "Arn"]}
    function = RESOURCES["DefaultSecurityGroupFunction"]["Properties"]
    assert function["Environment"]["Variables"]["GROUP_ID"] == {
        "Fn::GetAtt": ["Vpc", "DefaultSecurityGroup"]
    }
    revoke, *_ = statements(RESOURCES["DefaultSecurityGroupRole"])
    assert revoke["Resource"]["Fn::Sub"].endswith(":security-group/${Vpc.DefaultSecurityGroup}")
    (flow_log,) = _of_type("AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["TrafficType"] == "ALL"


def test_only_the_functions_reach_the_proxy_and_only_the_proxy_the_database():
    database = RESOURCES["DatabaseFromProxy"]["Properties"]
    assert database["GroupId"] == {"Ref": "DatabaseSecurityGroup"}
    assert database["SourceSecurityGroupId"] == {"Ref": "ProxySecurityGroup"}
    assert "SecurityGroupIngress" not in RESOURCES["DatabaseSecurityGroup"]["Properties"]
    (into_proxy,) = RESOURCES["ProxySecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert into_proxy["SourceSecurityGroupId"] == {"Ref": "FunctionSecurityGroup"}
    assert (into_proxy["FromPort"], into_proxy["ToPort"]) == (5432, 5432)
    ingress = _of_type("AWS::EC2::SecurityGroupIngress")
    assert list(ingress) == ["DatabaseFromProxy"]


def test_the_subnets_have_no_route_out_of_the_vpc():
    assert not _of_type("AWS::EC2::InternetGateway")
    assert not _of_type("AWS::EC2::NatGateway")
    assert not _of_type("AWS::EC2::Route")
    endpoints = {
        r["Properties"]["ServiceName"]["Fn::Sub"]: r["Properties"]["VpcEndpointType"]
        for r in _of_type("AWS::EC2::VPCEndpoint").values()
    }
    assert endpoints == {
        "com.amazonaws.${AWS::Region}.s3": "Gateway",
        "com.amazonaws.${AWS::Region}.events": "Interface",
    }


def test_the_deploy_makes_the_migration_user_with_names_and_arns_fixed_at_deploy():
    made = RESOURCES["MigrationUser"]
    assert made["Type"] == "Custom::MigrationUser"
    assert made["Properties"]["ServiceToken"] == {"Fn::GetAtt": ["MigrationUserFunction", "Arn"]}
    variables = RESOURCES["MigrationUserFunction"]["Properties"]["Environment"]["Variables"]
    assert variables == {
        "CLUSTER_ARN": {"Fn::GetAtt": ["DbCluster", "DBClusterArn"]},
        "SECRET_ARN": {"Fn::GetAtt": ["DbCluster", "MasterUserSecret.SecretArn"]},
        "DATABASE": {"Ref": "DbName"},
        "MIGRATION_USER": {"Ref": "MigrationDbUser"},
        "STACK_ID": {"Ref": "AWS::StackId"},
        "LOGICAL_ID": "MigrationUser",
        "URL_SUFFIX": {"Ref": "AWS::URLSuffix"},
    }
    # What the request carries is read by CloudFormation alone: a change runs the function again.
    assert {k: made["Properties"][k] for k in ("User", "Database")} == {
        "User": {"Ref": "MigrationDbUser"},
        "Database": {"Ref": "DbName"},
    }
    assert DATABASE["Outputs"]["MigrationDbUser"]["Value"] == {"Ref": "MigrationDbUser"}


def test_the_stack_stays_far_below_cloudformations_resource_limit():
    assert len(RESOURCES) < MOST_RESOURCES
