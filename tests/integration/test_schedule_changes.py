"""Schedule-change records: what a sync changed, kept 30 days under CHANGES and announced on EventBridge (source
iracing-sync, detail-type Schedule Changed) through the table's stream and the changes relay, here the local
runner's stream and the tests' EventBridge sink. A first sync is one season_added per season; an unchanged
re-sync announces nothing; a changed track, a removed week and a removed fixed time are exactly those records."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iracing_sync_local.stepfunctions import LocalStepFunctions
from tests.conftest import load_sample
from tests.support.events_sink import EventsSink

pytestmark = pytest.mark.integration


def recorded_since(start: datetime) -> list[Any]:
    from iracing_sync.store.changes import list_changes

    return list_changes(start)


def test_a_first_sync_is_one_season_added_per_season_and_announced(
    step_functions: LocalStepFunctions, replay: Any, events: EventsSink
) -> None:
    body = load_sample("series_seasons.json")
    replay(body)
    start = datetime.now(UTC) - timedelta(seconds=1)
    # When the snapshot is synced into an empty table
    summary = step_functions.run("sync_current_seasons", progress=False)
    # Then each season is one season_added change (never a record per week), recorded and announced
    changes = recorded_since(start)
    assert [c.kind for c in changes] == ["season_added"] * len(body) == ["season_added"] * 35
    assert {c.season_id for c in changes} == {s["season_id"] for s in body}
    announced = events.details()
    assert sorted(d["season_id"] for d in announced) == sorted(c.season_id for c in changes)
    assert {(e["Source"], e["DetailType"]) for e in events.entries} == {("iracing-sync", "Schedule Changed")}
    first = next(c for c in changes if c.season_id == 5376)
    assert first.after is not None and first.after["weeks"] == len(
        next(s for s in body if s["season_id"] == 5376)["schedules"]
    )
    assert summary["seasons_synced"] == 35
    # And an unchanged re-sync, every season reconciled, records and announces nothing
    events.clear()
    again_start = datetime.now(UTC)
    step_functions.run("sync_current_seasons", {"force": True}, progress=False)
    assert recorded_since(again_start) == [] and events.entries == []


def test_a_changed_track_a_removed_week_and_a_removed_session_are_exactly_those_changes(
    step_functions: LocalStepFunctions, replay: Any, events: EventsSink
) -> None:
    body = load_sample("series_seasons.json")
    replay(body)
    step_functions.run("sync_current_seasons", progress=False)
    # Given iRacing changes season 5376's week 3 track and drops its last week, and drops a fixed session time
    changed = copy.deepcopy(body)
    season = next(s for s in changed if s["season_id"] == 5376)
    old_track = season["schedules"][3]["track"]
    season["schedules"][3]["track"] = {"track_id": 1, "track_name": "Somewhere Else", "config_name": None}
    dropped_week = season["schedules"].pop()["race_week_num"]
    fixed = next(
        (s, w, d)
        for s in changed
        for w in s["schedules"]
        for d in w.get("race_time_descriptors") or []
        if not d["repeating"] and d["session_times"]
    )
    fixed_season, fixed_week, descriptor = fixed
    dropped_time = descriptor["session_times"].pop()
    events.clear()
    start = datetime.now(UTC) - timedelta(seconds=1)
    replay(changed)
    # When the hourly sync runs
    step_functions.run("sync_current_seasons", progress=False)
    # Then exactly these changes are recorded, with before and after, and announced
    changes = {(c.season_id, c.kind, c.race_week_num): c for c in recorded_since(start)}
    expected = {
        (5376, "track_changed", 3),
        (5376, "week_removed", dropped_week),
        (fixed_season["season_id"], "slot_removed", fixed_week["race_week_num"]),
    }
    assert set(changes) == expected
    track = changes[(5376, "track_changed", 3)]
    assert track.before is not None and track.before["track_id"] == old_track["track_id"]
    assert track.after == {"track_id": 1, "track_name": "Somewhere Else", "config_name": None}
    removed = changes[(fixed_season["season_id"], "slot_removed", fixed_week["race_week_num"])]
    assert removed.before is not None and removed.before["start_time"] == dropped_time.replace(".000", "")
    assert {(d["season_id"], d["kind"], d["race_week_num"]) for d in events.details()} == expected


def test_a_change_eventbridge_refuses_is_a_batch_item_failure_and_announced_when_delivered_again(
    step_functions: LocalStepFunctions, replay: Any, events: EventsSink
) -> None:
    from iracing_sync.store.changes import CHANGES
    from iracing_sync.store.schema import Item
    from iracing_sync_local.stepfunctions import _stream_record, invoke

    # Given two new seasons synced: two season_added changes, announced
    replay(load_sample("series_seasons.json")[:2])
    step_functions.run("sync_current_seasons", progress=False)
    records = [_stream_record(item) for item in Item.query(CHANGES)]
    assert len(records) == 2 and len(events.details()) == 2
    events.clear()
    # When the stream delivers them to the relay and EventBridge refuses the first
    events.refuse(1)
    payload, error = invoke("ChangesRelayFunction", {"Records": records})
    # Then the relay reports exactly that record as a batch item failure (the stream delivers only it again)
    first = records[0]["dynamodb"]["SequenceNumber"]
    assert error is None and payload == {"batchItemFailures": [{"itemIdentifier": first}]}
    assert [d["season_id"] for d in events.details()] == [
        json.loads(records[1]["dynamodb"]["NewImage"]["record"]["S"])["season_id"]
    ]
    # And delivered again, it is announced
    payload, error = invoke("ChangesRelayFunction", {"Records": records[:1]})
    assert error is None and payload == {"batchItemFailures": []}
    assert len(events.details()) == 2
