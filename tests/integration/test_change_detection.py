"""An hourly sync that costs almost nothing when iRacing changed nothing: change detection before the fan-out.

The current-seasons machine hashes each season's raw body and compares it with the hash its last sync stored
(one BatchGetItem per 100 seasons): only new or changed seasons become Map items, an identical body is not
archived again, and a season that left iRacing's listing is marked inactive."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

from iracing_sync_local import stepfunctions
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions
from tests.conftest import load_sample
from tests.support.dynamodb_proxy import DynamoDBProxy

pytestmark = pytest.mark.integration


def archived_listings() -> int:
    folder = Path(os.environ["ARCHIVE_DIR"]) / "raw" / "series" / "seasons" / "_"
    return len(list(folder.glob("*.json.gz"))) if folder.is_dir() else 0


def test_an_unchanged_resync_costs_one_request_no_map_item_and_two_invocations(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, dynamodb_proxy: DynamoDBProxy
) -> None:
    # Given the snapshot synced once
    first = step_functions.run("sync_current_seasons", progress=False)
    assert first["seasons_synced"] == 35 and first["seasons_unchanged"] == 0
    archived = archived_listings()
    fake_iracing.clear_requests()
    dynamodb_proxy.reset_counts()
    del stepfunctions.invocations[:]
    # When the same iRacing answer is synced again
    again = step_functions.run("sync_current_seasons", progress=False)
    # Then no season task starts: one iRacing data request, the listing and the run record only
    assert again["status"] == "SUCCEEDED" and again["failed"] == []
    assert again["seasons_synced"] == 0 and again["seasons_unchanged"] == 35
    assert [r.path for r in fake_iracing.requests_to("/data/")] == ["/data/series/seasons"]
    assert stepfunctions.invocations == [("SeriesFunction", "list_current"), ("SeasonFunction", "record_run")]
    # And the stored hashes were read in one BatchGetItem (35 seasons), nothing was written but the run's records
    assert dynamodb_proxy.operations["BatchGetItem"] == 1
    assert again["items_written"] == again["items_deleted"] == 0
    # And the identical body was not archived again
    assert archived_listings() == archived


def test_only_the_changed_season_is_synced_and_one_that_left_is_marked_inactive(
    step_functions: LocalStepFunctions, replay: Any
) -> None:
    from iracing_sync.store import seasons

    body = load_sample("series_seasons.json")
    replay(body)
    step_functions.run("sync_current_seasons", progress=False)
    assert seasons.get_season_facts(5376).active is True  # type: ignore[union-attr]
    # Given iRacing now lists one season with another track in week 3, and no longer lists season 5376
    changed = copy.deepcopy([s for s in body if s["season_id"] != 5376])
    changed[0]["schedules"][3]["track"] = {"track_id": 1, "track_name": "Somewhere Else", "config_name": None}
    del stepfunctions.invocations[:]
    replay(changed)
    # When the hourly sync runs
    summary = step_functions.run("sync_current_seasons", progress=False)
    # Then only that season was synced (one Map item), the 33 others are unchanged
    syncs = [a for f, a in stepfunctions.invocations if a == "sync"]
    assert len(syncs) == 1 and summary["seasons_synced"] == 1 and summary["seasons_unchanged"] == 33
    stored = seasons.get_season(changed[0]["season_id"])
    assert stored is not None and stored.weeks[3].pattern.track_name == "Somewhere Else"
    # And the season that left the listing is inactive (its weeks stay, as iRacing's history)
    assert seasons.get_season_facts(5376).active is False  # type: ignore[union-attr]
    assert seasons.get_season(5376) is not None
    # And listed again unchanged, it is synced again and active
    replay(body)
    back = step_functions.run("sync_current_seasons", progress=False)
    assert back["seasons_synced"] == 2  # 5376 back, and the changed season changed back
    assert seasons.get_season_facts(5376).active is True  # type: ignore[union-attr]


def test_force_syncs_every_listed_season(step_functions: LocalStepFunctions, replay: Any) -> None:
    replay(load_sample("series_seasons.json"))
    step_functions.run("sync_current_seasons", progress=False)
    # When a full reconcile is asked for
    summary = step_functions.run("sync_current_seasons", {"force": True}, progress=False)
    # Then every season is a Map item again, and finds nothing to write
    assert summary["seasons_synced"] == 35 and summary["seasons_unchanged"] == 0
    assert summary["items_written"] == 0 and summary["items_unchanged"] > 0


def test_fields_iracing_changes_by_itself_do_not_make_a_season_changed(
    step_functions: LocalStepFunctions, replay: Any
) -> None:
    body = load_sample("series_seasons.json")
    replay(body)
    step_functions.run("sync_current_seasons", progress=False)
    # Given an hour later iRacing's listing differs only in what it updates on its own (sign-ups, current week)
    later = copy.deepcopy(body)
    for season in later:
        season["reg_user_count"] = season.get("reg_user_count", 0) + 17
        season["race_week"] = season.get("race_week", 0) + 1
    replay(later)
    # When the hourly sync runs, Then no season is synced again: only stored facts count
    summary = step_functions.run("sync_current_seasons", progress=False)
    assert summary["seasons_synced"] == 0 and summary["seasons_unchanged"] == 35
