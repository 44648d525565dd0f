"""Every state machine, run by moto's interpreter with the real handlers, on the bundled snapshot and with
faults injected by the fake iRacing server: one bad season never sinks the others, a 429 is retried, a
maintenance window fails the run cleanly with nothing lost."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iracing_sync.store.schema import Item
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import ExecutionFailed, LocalStepFunctions
from tests.conftest import load_sample

pytestmark = pytest.mark.integration


def stored_partition(season_id: int) -> dict[str, str | None]:
    from iracing_sync.store import schema

    return {i.sk: i.content_hash for i in Item.query(schema.season_key(season_id))}


def run_record(summary: dict[str, Any]) -> dict[str, Any]:
    from iracing_sync.store import runs

    return next(r.model_dump() for r in runs.list_sync_runs() if r.run_id == summary["run_id"])


def test_sync_reference_data_stores_series_classes_cars_and_tracks(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    from iracing_sync.store import catalog

    # When the reference data machine runs (the daily schedule's: the series, then the reference data)
    summary = step_functions.run("sync_reference_data", progress=False)
    # Then every series, car class, car and track configuration is stored, with car IDs and map layer URLs
    series, classes, cars, tracks = (
        load_sample(f) for f in ("series_get.json", "carclass_get.json", "car_get.json", "track_get.json")
    )
    assert summary["status"] == "SUCCEEDED"
    assert summary["items_written"] == len(series) + len(classes) + len(cars) + len(tracks)
    # series/get + series/assets, then carclass/get, car/assets, car/get, track/assets, track/get
    assert len(fake_iracing.requests_to("/data/")) == 2 + 5
    assert {s.series_id for s in catalog.list_series()} == {s["series_id"] for s in series}
    stored_classes = {c.car_class_id: c for c in catalog.list_car_classes()}
    some_class = classes[0]
    assert stored_classes[some_class["car_class_id"]].car_ids == sorted(
        c["car_id"] for c in some_class["cars_in_class"]
    )
    track = next(t for t in catalog.list_tracks() if t.track_id == 1)
    assert track.time_zone and track.track_map_layers["background"].endswith("background.svg")
    assert track.track_map_layers["background"].startswith("https://")
    assert run_record(summary)["status"] == "SUCCEEDED"


def test_sync_reference_data_with_series_refused_still_stores_the_reference_data_and_is_partial(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    from iracing_sync.store import catalog

    # Given iRacing refuses series/get (a permanent error: not retried)
    fake_iracing.fail_next("/data/series/get", 404)
    # When the reference data machine runs
    summary = step_functions.run("sync_reference_data", progress=False)
    # Then the reference data is stored all the same, and the run is PARTIAL with the series task's failure
    classes, cars, tracks = (load_sample(f) for f in ("carclass_get.json", "car_get.json", "track_get.json"))
    assert summary["status"] == "PARTIAL"
    assert summary["items_written"] == len(classes) + len(cars) + len(tracks)
    assert [f["error"] for f in summary["failed"]] == ["PermanentError"]
    assert "series/get" in summary["failed"][0]["reason"]
    assert catalog.list_series() == []
    assert run_record(summary)["status"] == "PARTIAL"


def test_sync_season_by_id_uses_season_schedule(step_functions: LocalStepFunctions, fake_iracing: FakeIracing) -> None:
    summary = step_functions.run("sync_season", {"season_ids": [5935]}, progress=False)
    weeks = load_sample("series_season_schedule.json")["schedules"]
    assert summary["seasons_synced"] == 1 and summary["failed"] == []
    assert [r.query for r in fake_iracing.requests_to("/data/series/season_schedule")] == [{"season_id": "5935"}]
    assert sum(k.startswith("WEEK#") for k in stored_partition(5935)) == len(weeks)


def test_one_failing_season_leaves_the_others_stored_and_is_reported(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    # Given iRacing refuses one of three seasons for good
    fake_iracing.fail_season(5376, 404)
    # When the three are synced
    summary = step_functions.run("sync_season", {"season_ids": [5935, 5376, 5862]}, progress=False)
    # Then the other two are stored and the failure is reported with its season and reason
    assert summary["status"] == "PARTIAL" and summary["seasons_synced"] == 2
    assert [f["season_id"] for f in summary["failed"]] == [5376]
    assert summary["failed"][0]["error"] == "PermanentError" and "404" in summary["failed"][0]["reason"]
    assert stored_partition(5935) and stored_partition(5862) and not stored_partition(5376)
    assert run_record(summary)["failed"] == summary["failed"]


def test_a_malformed_season_in_series_seasons_is_skipped_and_reported(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    # Given a series/seasons body in which one season lost a field we rely on
    body = load_sample("series_seasons.json")
    broken = body[3]["season_id"]
    del body[3]["schedules"][0]["race_week_num"]
    fake_iracing.fail_next("/data/series/seasons", 200, body=json.dumps(body))
    # When all current seasons are synced
    summary = step_functions.run("sync_current_seasons", progress=False)
    # Then that season is reported with season, field and reason; every other season is stored
    assert summary["seasons_synced"] == len(body) - 1
    (failure,) = summary["failed"]
    assert failure["season_id"] == broken and failure["error"] == "MalformedPayload"
    assert "race_week_num" in failure["reason"]
    assert not stored_partition(broken)


def test_a_429_mid_run_is_retried_and_the_run_completes(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    # Given iRacing answers the next season_schedule with 429
    fake_iracing.fail_next("/data/series/season_schedule", 429)
    # When two seasons are synced
    summary = step_functions.run("sync_season", {"season_ids": [5935, 5862]}, progress=False)
    # Then the refused request was retried and both seasons are stored
    assert summary["status"] == "SUCCEEDED" and summary["seasons_synced"] == 2
    statuses = [r.status for r in fake_iracing.requests_to("/data/series/season_schedule")]
    assert statuses.count(429) == 1 and statuses.count(200) == 2


def test_a_maintenance_window_fails_the_run_cleanly_with_nothing_lost(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    # Given a synced snapshot
    step_functions.run("sync_current_seasons", progress=False)
    before = {s["season_id"]: stored_partition(s["season_id"]) for s in load_sample("series_seasons.json")}
    # When iRacing is down for maintenance for longer than the retries last
    fake_iracing.maintenance(times=20, html=True)
    with pytest.raises(ExecutionFailed) as failed:
        step_functions.run("sync_current_seasons", progress=False)
    # Then the execution fails, the run is recorded as failed with the reason, and nothing stored changed
    assert failed.value.error == "SyncFailed"
    from iracing_sync.store import runs

    latest = runs.list_sync_runs(limit=1)[0].model_dump()
    assert latest["status"] == "FAILED" and latest["failed"][0]["error"] == "RetryableError"
    assert "503" in latest["failed"][0]["reason"]
    assert {sid: stored_partition(sid) for sid in before} == before


def test_sync_past_seasons_stores_each_past_season_with_its_facts(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    from iracing_sync.store import seasons

    # When the past seasons of series 306 (real past_seasons body) and 47 are synced
    summary = step_functions.run("sync_past_seasons", {"series_ids": [306, 47]}, progress=False)
    # Then every listed past season is stored under its series, with the facts from past_seasons
    listed = load_sample("series_past_seasons.json")["series"]["seasons"]
    assert summary["failed"] == []
    stored = {int(s.season_id): s for s in seasons.list_seasons_of_series(306)}
    assert set(stored) == {s["season_id"] for s in listed}
    first = listed[0]
    assert stored[first["season_id"]].season_year == first["season_year"]
    assert stored[first["season_id"]].season_name == first["season_name"]
    assert seasons.list_seasons_of_series(47)
    assert summary["seasons_synced"] == len(stored) + len(seasons.list_seasons_of_series(47))


def test_sync_all_past_seasons_backfills_every_series(
    step_functions: LocalStepFunctions, settings_env: pytest.MonkeyPatch
) -> None:
    from iracing_sync.store import seasons
    from tests.integration.conftest import _point_at

    # Given an iRacing whose budget is no constraint here (pacing is measured by the backfill benchmark)
    with FakeIracing("2025-09-09", rate_limit=100_000) as fake:
        _point_at(settings_env, fake)
        # When every series' past seasons are backfilled
        summary = step_functions.run("sync_all_past_seasons", progress=False, timeout=600)
        # Then every past season iRacing listed is stored, none failed, one listing request per series
        listed = {r.query["series_id"] for r in fake.requests_to("/data/series/past_seasons")}
    assert summary["failed"] == [] and summary["status"] == "SUCCEEDED"
    assert len(listed) == len(load_sample("series_get.json"))
    stored = sum(len(seasons.list_seasons_of_series(int(sid))) for sid in listed)
    assert stored == summary["seasons_synced"] > 100
