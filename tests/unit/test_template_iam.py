"""Least privilege: explicit actions, resource * only where no resource permission exists, writers alone may write."""

from __future__ import annotations

import json

from tests.support.template import (
    as_list,
    iam_statements,
    policy_template,
    props,
    template,
)

# CloudWatch Logs' vended-log delivery API (Step Functions logging) takes no resource-level permissions.
RESOURCE_STAR_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}


def test_iam_statements_name_explicit_actions() -> None:
    statements = list(iam_statements())

    assert statements
    for name, statement in statements:
        for action in as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{name}: wildcard action {action}"


def test_iam_resource_star_only_for_actions_without_resource_permissions() -> None:
    for name, statement in iam_statements():
        if statement.get("Effect") == "Allow" and "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= RESOURCE_STAR_ACTIONS, name


def test_iam_uses_no_full_access_managed_policy() -> None:
    for name, resource in template()["Resources"].items():
        policies = resource.get("Properties", {}).get("Policies", [])
        for policy in policies if isinstance(policies, list) else [policies]:
            text = json.dumps(policy)
            assert "FullAccess" not in text, f"{name}: {text}"


def test_only_writers_get_table_write_access() -> None:
    assert policy_template("SlotsApiFunction", "DynamoDBReadPolicy") == [{"TableName": {"Ref": "IracingSyncTable"}}]
    assert not policy_template("SlotsApiFunction", "DynamoDBCrudPolicy")
    for name in ("SeriesFunction", "SeasonFunction"):
        assert policy_template(name, "DynamoDBCrudPolicy") == [{"TableName": {"Ref": "IracingSyncTable"}}], name
    # Lists iRacing's seasons and archives the body; it stores nothing in the table.
    assert not policy_template("PastSeasonsFunction", "DynamoDBCrudPolicy")
    # It only shares the iRacing token and rate budget: item-level access to IRACING# keys.
    (shared,) = [
        st
        for name, st in iam_statements()
        if name == "PastSeasonsFunction" and any(str(a).startswith("dynamodb:") for a in as_list(st["Action"]))
    ]
    assert shared["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["IRACING#*"]


def test_archive_bucket_is_private_encrypted_and_expires_raw_payloads() -> None:
    bucket = props("RawArchiveBucket")

    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireRawPayloads"]["Prefix"] == "raw/"
    assert rules["ExpireRawPayloads"]["ExpirationInDays"] == {"Ref": "RawArchiveRetentionDays"}
