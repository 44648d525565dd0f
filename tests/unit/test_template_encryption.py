"""Encryption at rest: AWS-owned and AWS-managed keys, no customer-managed key ($1 to $3 a month)."""

from __future__ import annotations

import json

from tests.support.template import (
    as_list,
    iam_statements,
    resources,
    template,
)


def test_no_customer_managed_key_and_nothing_asks_for_one() -> None:
    assert not resources("AWS::KMS::Key") and not resources("AWS::KMS::Alias")
    text = json.dumps(template()["Resources"])
    for property_name in ("KmsKeyId", "KMSMasterKeyId", "KmsMasterKeyId", "SSESpecification"):
        assert property_name not in text, property_name
    for name, statement in iam_statements():
        assert not any(str(a).startswith("kms:") for a in as_list(statement["Action"])), name
