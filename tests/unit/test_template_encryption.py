"""Encryption at rest: one customer-managed key, which the services that write with it may use."""

from __future__ import annotations

import fnmatch
from typing import Any

from tests.support.template import (
    as_list,
    functions,
    iam_statements,
    policy_template,
    props,
    ref_target,
    resources,
    sub_string,
    table_props,
    template,
)


def _key_of(value: Any) -> str:
    """The logical ID of the template's AWS::KMS::Key that a KmsKeyId-like property names (else fail)."""
    target = ref_target(value)
    assert target is not None, f"{value!r} is not this stack's key (an AWS-managed key's policy is not ours)"
    assert template()["Resources"][target]["Type"] == "AWS::KMS::Key", target
    return target


def _key_allows(key: str, service: str, actions: set[str]) -> list[dict[str, Any]]:
    """The key policy's Allow statements for a service principal that cover every one of ``actions``."""
    statements = props(key)["KeyPolicy"]["Statement"]
    return [
        s
        for s in statements
        if s["Effect"] == "Allow"
        and service in {sub_string(p) for p in as_list(s.get("Principal", {}).get("Service", []))}
        and all(any(fnmatch.fnmatchcase(a, p) for p in as_list(s["Action"])) for a in actions)
    ]


def test_alarm_topic_key_admits_cloudwatch_to_decrypt_and_generate_data_keys() -> None:
    (topic,) = resources("AWS::SNS::Topic")
    # Given the topic the alarms notify is encrypted with this stack's key (alias/aws/sns admits no service)
    key = _key_of(props(topic)["KmsMasterKeyId"])
    # Then CloudWatch may use that key for what publishing to an encrypted topic takes, from this account only
    allowed = _key_allows(key, "cloudwatch.amazonaws.com", {"kms:Decrypt", "kms:GenerateDataKey*"})
    assert allowed, f"{key}: CloudWatch cannot publish to {topic}"
    assert all(s["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"} for s in allowed)
    alarms = resources("AWS::CloudWatch::Alarm")
    assert alarms and all(ref_target(a) == topic for x in alarms.values() for a in x["Properties"]["AlarmActions"])


def test_stack_key_rotates_and_outlives_the_retained_table() -> None:
    (key,) = resources("AWS::KMS::Key")
    resource = template()["Resources"][key]

    assert props(key)["EnableKeyRotation"] is True
    # A deleted key would leave the retained table unreadable.
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    assert template()["Resources"]["IracingSyncTable"]["DeletionPolicy"] == "Retain"
    (alias,) = resources("AWS::KMS::Alias").values()
    assert alias["Properties"]["TargetKeyId"] == {"Ref": key}


def test_table_is_encrypted_with_the_stack_key() -> None:
    sse = table_props()["SSESpecification"]

    assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS"
    assert _key_of(sse["KMSMasterKeyId"]) == "StackKey"


def test_log_groups_are_encrypted_with_the_stack_key_that_admits_their_names() -> None:
    # CloudWatch Logs' principal is regional (a !Sub in the template).
    (statement,) = _key_allows("StackKey", "logs.${AWS::Region}.amazonaws.com", {"kms:Encrypt", "kms:GenerateDataKey"})
    patterns = [sub_string(p) for p in statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]]
    arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    for name in resources("AWS::Logs::LogGroup"):
        group = props(name)
        assert _key_of(group["KmsKeyId"]) == "StackKey", name
        # Given the key admits CloudWatch Logs only for the stack's log group names, each group's name is one of them
        assert any(fnmatch.fnmatchcase(arn + sub_string(group["LogGroupName"]), p) for p in patterns), name


def test_functions_with_table_access_may_use_the_table_key_only_through_dynamodb() -> None:
    for name in functions():
        kms = [s for n, s in iam_statements() if n == name and any(a.startswith("kms:") for a in as_list(s["Action"]))]
        item_writes = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
        own = [a for n, s in iam_statements() if n == name for a in as_list(s["Action"])]
        writes = bool(policy_template(name, "DynamoDBCrudPolicy")) or bool(item_writes & set(own))
        # A table stream's records are encrypted with the table's key too.
        streams = any(e.get("Type") == "DynamoDB" for e in props(name).get("Events", {}).values())
        reads = writes or streams or bool(policy_template(name, "DynamoDBReadPolicy"))
        assert bool(kms) == reads, name
        for statement in kms:
            assert ref_target(statement["Resource"]) == "StackKey", name
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]
            assert sub_string(via) == "dynamodb.${AWS::Region}.amazonaws.com", name
        actions = {a for s in kms for a in as_list(s["Action"])}
        # Reading decrypts the table key; only writers get more.
        assert actions == ({"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} if writes else {"kms:Decrypt"}), name
