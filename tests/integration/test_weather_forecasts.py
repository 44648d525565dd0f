"""Weeks' forecasts through the real current-seasons machine, against the fake iRacing, which re-signs every
weather_url on every fetch as iRacing does and serves the one real forecast body at each link's object.

The season is the real IMSA 2026 S1 schedule (season 5935, 12 weeks, each with weather_url) with every date moved
by whole days so that its week 0 runs now, week 1 starts within the 8-day horizon and week 2 after it.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from iracing_sync_local.fake_iracing import SNAPSHOTS, FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions
from tests.conftest import load_sample

pytestmark = pytest.mark.integration

SEASON = 5935
FORECAST = load_sample("weather_forecast_2024-04-13_envelope.json")["content"]


def moved_to_now() -> dict[str, Any]:
    """The real 5935 schedule as a series/seasons element, every date moved so week 0 started 2 days ago."""
    body = load_sample("series_season_schedule.json")
    first = date.fromisoformat(body["schedules"][0]["start_date"])
    shift = (datetime.now(UTC).date() - timedelta(days=2)) - first
    text = re.sub(
        r"\d{4}-\d{2}-\d{2}", lambda m: (date.fromisoformat(m.group(0)) + shift).isoformat(), json.dumps(body)
    )
    return {**json.loads(text), "series_id": body["schedules"][0]["series_id"]}


def listings() -> int:
    folder = Path(os.environ["ARCHIVE_DIR"]) / "raw" / "series" / "seasons" / "_"
    return len(list(folder.glob("*.json.gz"))) if folder.is_dir() else 0


def with_object(season: dict[str, Any], week: int, name: str) -> dict[str, Any]:
    """The season with week ``week``'s forecast object renamed (as when iRacing publishes another forecast)."""
    changed = json.loads(json.dumps(season))
    weather = changed["schedules"][week]["weather"]
    weather["weather_url"] = re.sub(r"rw\d+_evt\d+_display\.json", name, weather["weather_url"])
    return changed


def fetches(fake: FakeIracing) -> list[str]:
    return [r.path for r in fake.requests_to("/weather-s3/")]


@pytest.fixture
def served(fake_iracing: FakeIracing) -> dict[str, Any]:
    season = moved_to_now()
    fake_iracing.serve("series/seasons", [season])
    return season


def test_due_forecasts_are_fetched_once_converted_and_served(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, served: dict[str, Any], api: str
) -> None:
    # Given a season whose week 0 runs and week 1 starts within 8 days; When the current seasons are synced
    summary = step_functions.run("sync_current_seasons", progress=False)
    assert summary["status"] == "SUCCEEDED" and summary["seasons_synced"] == 1
    # Then exactly the two due weeks' forecasts were fetched, without iRacing's auth header (S3 links)
    assert sorted(fetches(fake_iracing)) == sorted(
        f"/weather-s3/scorpio-assets.s3.amazonaws.com/members/messaging-services/non_expiring/weather-forecast/"
        f"season/{SEASON}/rw{week}_evt5_display.json"
        for week in (0, 1)
    )
    assert not any(r.had_authorization for r in fake_iracing.requests_to("/weather-s3/"))
    # And each is served in units: deg C (x100), hPa (x10), m/s (x100), percent (x100, cloud x10), mm/h (x10)
    body = requests.get(f"{api}/seasons/{SEASON}/weeks/0/forecast", timeout=30).json()
    assert body["object"].endswith(f"/season/{SEASON}/rw0_evt5_display.json") and "?" not in body["object"]
    assert [h["time_offset"] for h in body["hours"]] == [k["time_offset"] for k in FORECAST]
    for hour, raw in zip(body["hours"], FORECAST, strict=True):
        assert hour["air_temp_c"] == pytest.approx(raw["air_temp"] / 100)
        assert hour["air_temp_f"] == pytest.approx(raw["air_temp"] / 100 * 9 / 5 + 32, abs=0.01)
        assert hour["pressure_hpa"] == pytest.approx(raw["pressure"] / 10)
        assert hour["wind_speed_ms"] == pytest.approx(raw["wind_speed"] / 100)
        assert hour["wind_dir_deg"] == raw["wind_dir"]
        assert hour["precip_chance_pct"] == pytest.approx(raw["precip_chance"] / 100)
        assert hour["rel_humidity_pct"] == pytest.approx(raw["rel_humidity"] / 100)
        assert hour["cloud_cover_pct"] == pytest.approx(raw["cloud_cover"] / 10)
        assert hour["precip_amount_mmh"] == pytest.approx(raw["precip_amount"] / 10)
        assert hour["timestamp"] == raw["timestamp"] and hour["affects_session"] == raw["affects_session"]
    # And a week beyond the horizon has none
    assert requests.get(f"{api}/seasons/{SEASON}/weeks/2/forecast", timeout=30).status_code == 404
    # And the week's answer carries its rain chance and weather in a racer's units
    week = requests.get(f"{api}/seasons/{SEASON}", timeout=30).json()["weeks"][1]
    summary_raw = served["schedules"][1]["weather"]["weather_summary"]
    assert week["rain_chance"] == round(summary_raw["precip_chance"])
    assert week["weather"]["temp_high_c"] == max(summary_raw["temp_high"], summary_raw["temp_low"])
    assert week["weather"]["temp_high_f"] == round(max(summary_raw["temp_high"], summary_raw["temp_low"]) * 1.8 + 32, 1)


def test_an_unchanged_hour_archives_and_fetches_nothing_though_every_link_is_re_signed(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, served: dict[str, Any]
) -> None:
    # Given the season synced once, its due forecasts fetched
    step_functions.run("sync_current_seasons", progress=False)
    archived, fetched = listings(), len(fetches(fake_iracing))
    first_links = _links(fake_iracing)
    # When the next hour's run finds the same schedules (iRacing signs every weather_url anew)
    again = step_functions.run("sync_current_seasons", progress=False)
    # Then the links it got were re-signed, and yet no season went on, nothing was archived or fetched again
    assert _links(fake_iracing) != first_links
    assert again["seasons_synced"] == 0 and again["seasons_unchanged"] == 1
    assert listings() == archived and len(fetches(fake_iracing)) == fetched


def _links(fake: FakeIracing) -> list[str]:
    """The weather_url links of the series/seasons body the fake serves now (one fetch's signatures)."""
    token = fake.issue_token()
    wrapper = requests.get(
        f"{fake.api_url}/data/series/seasons", headers={"Authorization": f"Bearer {token}"}, timeout=30
    ).json()
    body = requests.get(wrapper["link"], timeout=30).json()
    return [w["weather"]["weather_url"] for s in body for w in s["schedules"]]


def test_a_new_forecast_object_is_fetched_though_the_schedule_did_not_change(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, served: dict[str, Any]
) -> None:
    step_functions.run("sync_current_seasons", progress=False)
    fake_iracing.clear_requests()
    # When iRacing publishes another forecast for week 1 (a new object), nothing else changing
    fake_iracing.serve("series/seasons", [with_object(served, 1, "rw1_evt6_display.json")])
    summary = step_functions.run("sync_current_seasons", progress=False)
    # Then the season goes on for it, and only that forecast is fetched
    assert summary["seasons_synced"] == 1 and summary["items_written"] == 0
    assert [p.rsplit("/", 1)[-1] for p in fetches(fake_iracing)] == ["rw1_evt6_display.json"]


def test_a_forecast_that_cannot_be_fetched_or_parsed_is_recorded_and_never_fails_the_season(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, served: dict[str, Any], api: str
) -> None:
    # Given week 0's forecast link refused once (403, an expired S3 link) and week 1's body not a forecast
    fake_iracing.fail_next(
        "/weather-s3/scorpio-assets.s3.amazonaws.com/members/messaging-services/"
        f"non_expiring/weather-forecast/season/{SEASON}/rw0",
        403,
    )
    fake_iracing.forecast_body = json.dumps({"error": "not a forecast"}).encode()
    # When the season is synced
    summary = step_functions.run("sync_current_seasons", progress=False)
    # Then the season is stored all the same, and neither week has a forecast, each saying why
    assert summary["status"] == "SUCCEEDED" and summary["failed"] == [] and summary["seasons_synced"] == 1
    for week in (0, 1):
        response = requests.get(f"{api}/seasons/{SEASON}/weeks/{week}/forecast", timeout=30)
        assert response.status_code == 404 and "forecast" in response.json()["error"]["message"]
    # And the next run tries the refused one again (it may be back), not the unusable one (the same object)
    fake_iracing.forecast_body = json.dumps(FORECAST).encode()
    fake_iracing.clear_requests()
    again = step_functions.run("sync_current_seasons", progress=False)
    assert again["seasons_synced"] == 1
    assert [p.rsplit("/", 1)[-1] for p in fetches(fake_iracing)] == ["rw0_evt5_display.json"]
    assert requests.get(f"{api}/seasons/{SEASON}/weeks/0/forecast", timeout=30).status_code == 200
    assert requests.get(f"{api}/seasons/{SEASON}/weeks/1/forecast", timeout=30).status_code == 404


def test_at_its_capture_time_the_snapshot_gets_the_forecasts_then_due_as_the_demo_shows_them(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, settings_env: pytest.MonkeyPatch, api: str
) -> None:
    # Given the bundled 2025-09-09 snapshot, and the sync's forecast clock at its capture (as `iracing-sync demo` sets)
    captured = SNAPSHOTS["2025-09-09"].captured_at
    assert captured is not None
    settings_env.setenv("FORECAST_NOW", captured)
    at = datetime.fromisoformat(captured)
    # When the current seasons are synced
    summary = step_functions.run("sync_current_seasons", progress=False)
    assert summary["status"] == "SUCCEEDED" and summary["failed"] == []
    # Then the forecasts fetched are exactly those of the weeks running then or starting within 8 days (recomputed
    # from the raw body: a week runs from its start_date, UTC, to its week_end_time)
    due = set()
    for season in load_sample("series_seasons.json"):
        for week in season["schedules"]:
            start = datetime.fromisoformat(f"{week['start_date']}T00:00:00+00:00")
            end = datetime.fromisoformat(week["week_end_time"])
            if week["weather"].get("weather_url") and start - timedelta(days=8) <= at < end:
                due.add((season["season_id"], week["race_week_num"]))
    fetched = {
        (int(m[1]), int(m[2])) for m in (re.search(r"/season/(\d+)/rw(\d+)_", p) for p in fetches(fake_iracing)) if m
    }
    assert len(due) >= 35 and fetched == due
    # And the API serves each (the planner's Season view opens one per week), none beyond
    season_id, week = min(due)
    assert requests.get(f"{api}/seasons/{season_id}/weeks/{week}/forecast", timeout=30).json()["hours"]
    assert requests.get(f"{api}/seasons/{season_id}/weeks/{week + 3}/forecast", timeout=30).status_code == 404
