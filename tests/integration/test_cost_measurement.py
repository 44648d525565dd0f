"""What the cost bench (bench/cost/) measures with: the metering proxy's capacity units against DynamoDB
Local's own figures, and the local runner's timed invocations and execution list."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from iracing_sync_local import stepfunctions
from iracing_sync_local.dynamodb_local import DynamoDBLocal, free_port
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions
from tests.support.dynamodb_proxy import DynamoDBProxy

pytestmark = pytest.mark.integration


@pytest.fixture
def metered(dynamodb: DynamoDBLocal) -> Iterator[tuple[DynamoDBProxy, Any, str]]:
    """A metering proxy in front of DynamoDB Local, a client through it, and a table with an index (ALL)."""
    proxy = DynamoDBProxy(free_port(), dynamodb.port, meter=True).start()
    client = boto3.client("dynamodb", endpoint_url=f"http://127.0.0.1:{proxy.port}")
    table = f"metering-{uuid.uuid4().hex[:8]}"
    client.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "g", "AttributeType": "S"},
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "by_g",
                "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    yield proxy, client, table
    client.delete_table(TableName=table)
    proxy.stop()


def _put(table: str, key: str, size: int = 1500) -> dict[str, Any]:
    return {"Put": {"TableName": table, "Item": {"pk": {"S": key}, "g": {"S": "x"}, "v": {"S": "x" * size}}}}


def test_metering_proxy_counts_the_units_dynamodb_local_reports_for_a_client_that_asked_none(
    metered: tuple[DynamoDBProxy, Any, str],
) -> None:
    proxy, client, table = metered
    proxy.reset_counts()
    # When a client writes a 1.5 KB item held by one index, and reads it back, asking for no capacity
    client.put_item(TableName=table, Item=_put(table, "a")["Put"]["Item"])
    item = client.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]
    # Then its requests still work, and the proxy counted 2 KB in the table and the index, one eventual read
    assert item["v"]["S"] == "x" * 1500
    assert proxy.write_units == 4.0 and proxy.read_units == 0.5


def test_metering_proxy_bills_each_action_of_a_transaction_where_dynamodb_local_bills_one(
    metered: tuple[DynamoDBProxy, Any, str],
) -> None:
    proxy, client, table = metered
    # Given one action's transaction: the proxy's rule and DynamoDB Local's figure agree
    proxy.reset_counts()
    one = client.transact_write_items(TransactItems=[_put(table, "t0")], ReturnConsumedCapacity="TOTAL")
    local_one = one["ConsumedCapacity"][0]["CapacityUnits"]
    assert proxy.write_units == local_one == 8.0  # 2 x (2 KB table + 2 KB index)
    # When a transaction writes three such items
    proxy.reset_counts()
    three = client.transact_write_items(
        TransactItems=[_put(table, f"t{i}") for i in range(1, 4)], ReturnConsumedCapacity="TOTAL"
    )
    # Then the proxy bills three actions, while DynamoDB Local reports the units of one
    assert proxy.write_units == 3 * local_one
    assert three["ConsumedCapacity"][0]["CapacityUnits"] == local_one


def test_the_local_runner_times_every_invocation_it_dispatches(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    del stepfunctions.invocations[:]
    del stepfunctions.timed_invocations[:]
    # When a season is synced twice
    for _ in range(2):
        step_functions.run("sync_season", {"season_ids": [5935]}, progress=False)
    # Then every dispatched invocation was timed, in order
    assert [(t.function, t.action) for t in stepfunctions.timed_invocations] == stepfunctions.invocations
    assert stepfunctions.invocations and all(t.seconds > 0 for t in stepfunctions.timed_invocations)
    # And the machine's executions are listed newest first
    executions = step_functions.executions(step_functions.arn("sync_season"))
    started = [step_functions.history(arn)[0]["timestamp"] for arn in executions]
    assert len(executions) == 2 and started[0] >= started[1]


def test_the_cost_bench_counts_each_change_a_run_hands_the_relay_and_times_the_relay(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    from bench.cost.measure import relayed

    # When a season is synced for the first time, then again unchanged
    with relayed() as first:
        step_functions.run("sync_season", {"season_ids": [5935]}, progress=False)
    with relayed() as again:
        step_functions.run("sync_season", {"season_ids": [5935]}, progress=False)
    # Then the first run handed the relay its one change (season_added) in one timed invocation, the second nothing
    assert [n for n, _ in first] == [1] and first[0][1] > 0
    assert again == []
    # And the runner's own dispatch is back as it was
    assert stepfunctions.invoke.__name__ == "invoke"
