"""The table in template.yaml is the PynamoDB model: keys, indexes, billing, TTL, recovery, encryption."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

# PynamoDB reads the table name and region when iracing_sync.store is imported (tests/conftest.py
# normally sets these first; setdefault keeps this module runnable on its own).
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

from iracing_sync.store.schema import Item  # noqa: E402
from tests.support.template import table_props  # noqa: E402


def _keys(key_schema: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in key_schema}


def test_table_key_schema_equals_item_model_keys() -> None:
    schema = Item._get_schema()

    assert _keys(table_props()["KeySchema"]) == _keys(schema["key_schema"])
    assert _keys(table_props()["KeySchema"]) == {"HASH": Item._hash_keyname, "RANGE": Item._range_keyname}
    assert table_props()["KeySchema"][0]["KeyType"] == "HASH"


def test_table_attribute_definitions_equal_item_model_key_attributes() -> None:
    schema = Item._get_schema()
    declared = [d["AttributeName"] for d in table_props()["AttributeDefinitions"]]

    assert len(declared) == len(set(declared)), "an attribute is defined twice"
    assert {d["AttributeName"]: d["AttributeType"] for d in table_props()["AttributeDefinitions"]} == {
        d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]
    }


def _index_shape(index: Mapping[str, Any], name_key: str, key_schema_key: str, projection_key: str) -> dict[str, Any]:
    projection = index[projection_key]
    return {
        "name": index[name_key],
        "keys": _keys(index[key_schema_key]),
        "projection": projection["ProjectionType"],
        "non_key_attributes": set(projection.get("NonKeyAttributes", [])),
    }


def test_table_global_secondary_indexes_equal_item_model_indexes() -> None:
    schema = Item._get_schema()
    declared = [
        _index_shape(i, "IndexName", "KeySchema", "Projection") for i in table_props().get("GlobalSecondaryIndexes", [])
    ]
    modelled = [_index_shape(i, "index_name", "key_schema", "projection") for i in schema["global_secondary_indexes"]]

    assert sorted(declared, key=lambda i: i["name"]) == sorted(modelled, key=lambda i: i["name"])
    assert {i["name"] for i in modelled} == set(Item._indexes)
    assert not table_props().get("LocalSecondaryIndexes") and not schema["local_secondary_indexes"]


def test_table_billing_mode_equals_item_model() -> None:
    assert table_props()["BillingMode"] == Item.Meta.billing_mode == "PAY_PER_REQUEST"
    assert all("ProvisionedThroughput" not in i for i in table_props()["GlobalSecondaryIndexes"])


def test_table_time_to_live_attribute_is_the_item_model_ttl_attribute() -> None:
    from pynamodb.attributes import TTLAttribute

    (ttl,) = (name for name, attribute in Item.get_attributes().items() if isinstance(attribute, TTLAttribute))
    assert table_props()["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}


def test_table_has_point_in_time_recovery_and_encryption() -> None:
    assert table_props()["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    # (no SSESpecification: DynamoDB encrypts every table at rest with its AWS-owned key)
    assert "SSESpecification" not in table_props()
    assert "TableName" not in table_props()
