"""The walking skeleton end to end: SyncCurrentSeasons through moto's interpreter with the real handlers,
the fake iRacing server and DynamoDB Local; then the slots API answers from DynamoDB with exactly the slots
the expand command computes from the raw body."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import datetime
from typing import Any

import pytest
import requests

from iracing_sync.store.schema import Item
from iracing_sync.store.seasons import SlotItem, WeekItem
from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import SAMPLES, load_sample

pytestmark = pytest.mark.integration

GUIDE = load_sample("season_race_guide_2025-09-09.json")


def expand_cli(start: str, end: str, schedule: str = "series_seasons.json") -> list[dict[str, Any]]:
    """What `iracing-sync slots expand` prints for the same window."""
    from iracing_sync_local.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["slots", "expand", "--schedule", str(SAMPLES / schedule), "--from", start, "--to", end]) == 0
    return json.loads(out.getvalue())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def synced(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> dict[str, Any]:
    """Given the 2025-09-09 snapshot synced once by the real state machines (tests below only read)."""
    module_fake_iracing.clear_requests()
    module_step_functions.run("sync_series", {}, progress=False)
    summary: dict[str, Any] = module_step_functions.run("sync_current_seasons", {}, progress=False)
    summary["requests"] = [r.path for r in module_fake_iracing.requests_to("/data/")]
    return summary


def _key(slot: dict[str, Any]) -> tuple[Any, ...]:
    return (slot["season_id"], slot["series_id"], slot["race_week_num"], slot["start_time"], slot["end_time"])


def test_sync_current_seasons_stores_every_active_season(synced: dict[str, Any]) -> None:
    # Then every season of the body is stored, none failed, with one listing request for all schedules
    seasons = load_sample("series_seasons.json")
    assert synced["status"] == "SUCCEEDED"
    assert synced["failed"] == []
    assert synced["seasons_synced"] == len(seasons) == 35
    assert synced["requests"] == ["/data/series/get", "/data/series/assets", "/data/series/seasons"]
    assert synced["items_written"] > 0 and synced["items_deleted"] == 0


def test_resync_of_the_same_snapshot_writes_nothing(synced: dict[str, Any], module_step_functions: Any) -> None:
    # When the same snapshot is synced again, every season reconciled (force: no change detection)
    again = module_step_functions.run("sync_current_seasons", {"force": True}, progress=False)
    # Then nothing is written or deleted; everything is unchanged
    assert again["items_written"] == 0 and again["items_deleted"] == 0
    assert again["items_unchanged"] == synced["items_written"]


def test_slots_api_equals_expand_over_the_race_guide_block(synced: dict[str, Any], api: str) -> None:
    # When the API is asked for the race guide's block
    start, end = GUIDE["block_begin_time"], GUIDE["block_end_time"]
    response = requests.get(f"{api}/slots", params={"from": start, "to": end}, timeout=10)
    # Then it answers from DynamoDB with the same slots as the expand command, in the same order
    assert response.status_code == 200
    served = response.json()["slots"]
    expected = expand_cli(start, end)
    assert [_key(s) for s in served] == [_key(s) for s in expected]
    assert len(served) == len(GUIDE["sessions"]) == 133


@pytest.mark.parametrize(
    ("start", "end"), [("2025-09-08T00:00:00Z", "2025-09-16T00:00:00Z"), ("2025-02-01", "2025-03-01")]
)
def test_slots_api_equals_expand_for_other_windows(synced: dict[str, Any], api: str, start: str, end: str) -> None:
    served = requests.get(f"{api}/slots", params={"from": start, "to": end}, timeout=30).json()["slots"]
    expected = expand_cli(start, end)
    assert expected, "the window should hold slots"
    assert [_key(s) for s in served] == [_key(s) for s in expected]


def test_season_slots_equal_expand_for_every_season(synced: dict[str, Any], api: str) -> None:
    # Given each season's whole schedule
    everything = expand_cli("2024-01-01", "2027-01-01")
    for season in load_sample("series_seasons.json"):
        sid = season["season_id"]
        # When its slots are asked for without a window
        served = requests.get(f"{api}/seasons/{sid}/slots", timeout=30).json()["slots"]
        # Then they are exactly the expansion of its schedule
        assert [_key(s) for s in served] == [_key(s) for s in everything if s["season_id"] == sid], sid


def test_patterns_are_stored_once_per_week_and_fixed_times_as_slots(synced: dict[str, Any]) -> None:
    from iracing_sync.store import schema

    seasons = load_sample("series_seasons.json")
    weeks = sum(len(s["schedules"]) for s in seasons)
    fixed_times = {
        (w["season_id"], w["race_week_num"], t)
        for s in seasons
        for w in s["schedules"]
        for d in w.get("race_time_descriptors") or []
        if not d["repeating"]
        for t in d["session_times"]
    }
    items = [i for s in seasons for i in Item.query(schema.season_key(s["season_id"]))]
    assert sum(isinstance(i, WeekItem) for i in items) == weeks
    assert sum(isinstance(i, SlotItem) for i in items) == len(fixed_times)
    # Far fewer items than one row per race slot
    total_slots = len(expand_cli("2024-01-01", "2027-01-01"))
    assert len(items) * 10 < total_slots


def test_slots_api_bad_input_is_a_clear_4xx(synced: dict[str, Any], api: str) -> None:
    cases = {
        "/slots?from=yesterday&to=2025-09-10": 400,
        "/slots?from=2025-09-10&to=2025-09-09": 422,
        "/slots?to=2025-09-10": 400,
        "/seasons/abc": 400,
        "/seasons/999999": 404,
        "/series/999999": 404,
    }
    for path, status in cases.items():
        response = requests.get(api + path, timeout=10)
        assert response.status_code == status, (path, response.text)
        assert set(response.json()["error"]) == {"code", "message"}, path


def test_series_and_seasons_routes(synced: dict[str, Any], api: str) -> None:
    series = requests.get(f"{api}/series", timeout=10).json()["series"]
    assert len(series) == len(load_sample("series_get.json"))
    one = requests.get(f"{api}/series/47", timeout=10).json()
    assert one["series_id"] == 47 and one["series_name"]
    seasons = requests.get(f"{api}/series/47/seasons", timeout=10).json()["seasons"]
    assert [s["season_id"] for s in seasons] == [5376]
    season = requests.get(f"{api}/seasons/5376", timeout=10).json()
    assert len(season["weeks"]) == len(
        next(s for s in load_sample("series_seasons.json") if s["season_id"] == 5376)["schedules"]
    )
    assert datetime.fromisoformat(season["weeks"][0]["week_end_time"].replace("Z", "+00:00"))
