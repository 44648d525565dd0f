"""DynamoDB throttling (injected by the proxy in front of DynamoDB Local): the sync retries and completes,
with the data intact and no duplicate."""

from __future__ import annotations

import pytest

from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions
from tests.conftest import load_sample
from tests.support.dynamodb_proxy import DynamoDBProxy

pytestmark = pytest.mark.integration


# A season's change set is written in one transaction when it fits (season 5935's does), in batches when not.
@pytest.mark.parametrize("operation", ["TransactWriteItems", "BatchWriteItem"])
def test_throttled_writes_are_retried_and_the_run_completes_intact(
    step_functions: LocalStepFunctions,
    fake_iracing: FakeIracing,
    dynamodb_proxy: DynamoDBProxy,
    settings_env: pytest.MonkeyPatch,
    operation: str,
) -> None:
    from iracing_sync.store import season_writes, seasons

    if operation == "BatchWriteItem":  # make the season's write too large for one transaction
        settings_env.setattr(season_writes, "TRANSACT_LIMIT", 1)
    # Given DynamoDB throttles more writes than the SDK's own retries absorb
    dynamodb_proxy.throttle(operation, 8)
    # When a season is synced
    summary = step_functions.run("sync_season", {"season_ids": [5935]}, progress=False)
    # Then the task was retried by the state machine and the season is stored exactly, once
    assert summary["status"] == "SUCCEEDED" and summary["seasons_synced"] == 1
    assert dynamodb_proxy.operations[operation] > 8
    weeks = load_sample("series_season_schedule.json")["schedules"]
    stored = seasons.get_season(5935)
    assert stored is not None and [w.pattern.race_week_num for w in stored.weeks] == [w["race_week_num"] for w in weeks]
    # And a re-sync finds nothing to write: what was stored is whole
    again = step_functions.run("sync_season", {"season_ids": [5935]}, progress=False)
    assert again["items_written"] == 0 and again["items_deleted"] == 0
