"""Planning's pure parts on real bodies: the 2026 schedule shape, weather in a racer's units, the forecast horizon
and change detection, ownership (one rule on records and on stored JSON), the credit threshold and its knapsack."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iracing_sync.archive import unsigned_digest
from iracing_sync.forecast_sync import forecasts_due
from iracing_sync.models.catalog import Car, TrackConfig, catalog_of
from iracing_sync.models.iracing import WeatherSummary
from iracing_sync.models.iracing_bodies import CarClass
from iracing_sync.models.planning import Ownership
from iracing_sync.planner import cheapest_tracks, credit_threshold, week_access
from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body
from iracing_sync.store.grid import grid_weeks
from iracing_sync.store.season_writes import Stored
from iracing_sync.store.seasons import _grid_weeks
from iracing_sync.sync import _needs_sync, record_hash
from iracing_sync.weather import forecast_object, weather_out
from tests.conftest import load_sample

NEW_SHAPE = ("series_season_schedule_2026s1_gr86_5895.json", "series_season_schedule_2026s1_13thweek_6259.json")
OLD_SHAPE = (
    "series_seasons.json",
    "series_season_schedule.json",
    "series_seasons_2023s2_full.json",
    "extract_series_seasons_2024s1_full_camelcase.json",
)


def _catalog() -> Any:
    cars = [Car.model_validate(c) for c in load_sample("car_get.json")]
    tracks = [TrackConfig.model_validate(t) for t in load_sample("track_get.json")]
    classes = [CarClass.model_validate(c) for c in load_sample("carclass_get.json")]
    return catalog_of(cars, {c.car_class_id: tuple(c.car_ids) for c in classes}, tracks)


CATALOG = _catalog()


@pytest.mark.parametrize("name", NEW_SHAPE)
def test_a_2026_week_takes_its_race_length_from_the_race_session_as_the_old_fields_say(name: str) -> None:
    (season,) = parse_schedule_body(load_sample(name))
    for week in season.schedules:
        race = week.race_session
        assert race is not None and race.type_name == "Race"
        # the race event_session and the older fields agree on every week of both bodies
        assert (week.race_laps, week.race_minutes) == (week.race_lap_limit, week.race_time_limit)
    if name.endswith("5895.json"):  # the Nordschleife week: 3 laps, unlimited time (10080 minutes)
        assert (season.schedules[5].race_laps, season.schedules[5].race_minutes) == (3, None)


@pytest.mark.parametrize("name", OLD_SHAPE)
def test_an_older_week_keeps_its_fields_for_race_length(name: str) -> None:
    body = load_sample(name)
    for season in parse_schedule_body(body if isinstance(body, list) else body):
        for week in season.schedules:
            assert week.race_session is None
            assert (week.race_laps, week.race_minutes) == (week.race_lap_limit, week.race_time_limit)


def test_a_car_rotation_week_in_the_2026_shape_keeps_its_cars() -> None:
    # Given the real car-rotation weeks of 2024 S1 (race_week_cars), and the same weeks written in the 2026 shape:
    # their cars as race_week_car_classes (the season's class, its cars_in_class), race_week_cars left out
    old = [s for s in load_sample("extract_series_seasons_2024s1_full_camelcase.json") if _rotating(s)]
    new = copy.deepcopy(old)
    for season in new:
        for week in season["schedules"]:
            cars = week.pop("raceWeekCars", None) or []
            week["race_week_car_classes"] = [
                {
                    "car_class_id": season["carClassIds"][0],
                    "cars_in_class": [
                        {
                            "car_id": c["carId"],
                            "car_name": c["carName"],
                            "car_name_abbreviated": c["carNameAbbreviated"],
                        }
                        for c in cars
                    ],
                }
            ]
    processor = ScheduleProcessor(CATALOG)
    rotating = 0
    for before, after in zip(parse_schedule_body(old), parse_schedule_body(new), strict=True):
        weeks = zip(processor.process(before).weeks, processor.process(after).weeks, strict=True)
        for a, b in weeks:
            # Then every week keeps the same cars (names too), and so the same packages
            assert a.pattern.cars == b.pattern.cars and a.pattern.plan == b.pattern.plan
            rotating += len({c.car_id for c in a.pattern.cars}) < 5
    assert len(old) >= 2 and rotating >= 30


def _rotating(season: dict[str, Any]) -> bool:
    return any(w.get("raceWeekCars") for w in season["schedules"])


# --- weather --------------------------------------------------------------------------------------------------


def test_every_real_summary_reads_in_both_units_with_its_rain_chance() -> None:
    summaries = [
        w["weather"]["weather_summary"]
        for s in load_sample("series_seasons.json")
        for w in s["schedules"]
        if (w.get("weather") or {}).get("weather_summary")
    ]
    assert len(summaries) == 527
    for raw in summaries:
        out = weather_out(WeatherSummary.model_validate(raw))
        assert out is not None and out["summary"] == {**out["summary"], **raw}
        assert raw["temp_units"] == 1 and raw["wind_units"] == 1  # (every real summary: Celsius, km/h)
        assert out["temp_low_c"] == round(min(raw["temp_low"], raw["temp_high"]), 1)
        assert out["temp_high_f"] == round(max(raw["temp_low"], raw["temp_high"]) * 1.8 + 32, 1)
        assert out["wind_high_kph"] == round(max(raw["wind_low"], raw["wind_high"]), 1)
        assert out["wind_high_mph"] == round(max(raw["wind_low"], raw["wind_high"]) / 1.609344, 1)
        assert out["wind_dir"] == ("N", "NE", "E", "SE", "S", "SW", "W", "NW")[raw["wind_dir"]]
        assert out["rain_chance"] == round(raw["precip_chance"]) and 0 <= out["rain_chance"] <= 100
        assert out["skies_low"] in ("clear", "partly cloudy", "mostly cloudy", "overcast")


def test_an_unknown_unit_code_reads_as_null_and_keeps_the_raw_value() -> None:
    out = weather_out(WeatherSummary(temp_high=70, temp_low=60, temp_units=7, wind_high=5, wind_units=9))
    assert out is not None and out["temp_high_c"] is None and out["wind_high_kph"] is None
    assert out["summary"]["temp_high"] == 70 and out["summary"]["temp_units"] == 7
    assert weather_out(WeatherSummary(temp_high=68, temp_low=50, temp_units=0))["temp_high_c"] == 20.0  # type: ignore[index]


def test_a_listing_digest_ignores_the_re_signed_weather_links_but_not_their_objects() -> None:
    body = load_sample("series_seasons.json")[:3]
    re_signed = copy.deepcopy(body)
    for season in re_signed:
        for week in season["schedules"]:
            week["weather"]["weather_url"] = week["weather"]["weather_url"].split("?")[0] + "?X-Amz-Signature=new"
    assert unsigned_digest(re_signed) == unsigned_digest(body)
    assert json.dumps(re_signed) != json.dumps(body)
    moved = copy.deepcopy(body)
    moved[0]["schedules"][0]["weather"]["weather_url"] = "https://elsewhere.example/rw0.json?X-Amz-Signature=x"
    assert unsigned_digest(moved) != unsigned_digest(body)


def test_a_week_entering_the_horizon_sends_its_season_on_until_its_forecast_is_fetched() -> None:
    # Given the real 5935 schedule stored (its hash), no forecast fetched yet
    raw = load_sample("series_season_schedule.json")
    processor = ScheduleProcessor(CATALOG)
    (season,) = parse_schedule_body(raw)
    stored = Stored(body_hash=record_hash(processor.process(season), processor))
    start = datetime.fromisoformat(raw["schedules"][0]["start_date"]).replace(tzinfo=UTC)
    # When the listing looks 9 days before its first week: nothing is due, the season is unchanged
    assert not _needs_sync(raw, stored, processor, start - timedelta(days=9))
    # When it looks 7 days before: week 0's forecast is due, not fetched: the season goes on
    soon = start - timedelta(days=7)
    assert list(forecasts_due(season, soon)) == [0]
    assert _needs_sync(raw, stored, processor, soon)
    # And once its sync noted that object, no more; a new object (another forecast) sends it on again
    url = raw["schedules"][0]["weather"]["weather_url"]
    done = stored._replace(forecasts={0: forecast_object(url)})
    assert not _needs_sync(raw, done, processor, soon)
    assert _needs_sync(raw, done._replace(forecasts={0: forecast_object(url) + "x"}), processor, soon)


# --- ownership and credit -------------------------------------------------------------------------------------


def test_one_ownership_rule_on_records_and_on_stored_grid_weeks() -> None:
    member = load_sample("member_info_ownership_redacted.json")
    owned = Ownership(
        frozenset(i for p in member["car_packages"] for i in p["content_ids"]),
        frozenset(i for p in member["track_packages"] for i in p["content_ids"]),
    )
    processor = ScheduleProcessor(CATALOG)
    decided = set()
    for season in parse_schedule_body(load_sample("series_seasons_2023s2_full.json")):
        weeks = processor.process(season).weeks
        stored = grid_weeks(json.loads(json.dumps(_grid_weeks(weeks))))  # (as a grid item holds and gives them)
        for week, on_grid in zip(weeks, stored, strict=True):
            p = week.pattern
            on_record = owned.access(p.track_id, p.cars, p.plan)
            on_json = week_access(on_grid, owned)
            assert on_grid["cars"] == [c.model_dump() for c in p.cars]
            assert on_record.enterable is on_json.enterable
            assert (on_record.track is None) is (on_json.track is None)
            assert {c.package_id for c in on_record.cars} == {c["package_id"] for c in on_json.cars}
            decided.add(on_record.enterable)
    assert decided == {True, False}


@pytest.mark.parametrize(("weeks", "needed"), [(12, 8), (13, 9), (8, 6), (7, 5), (36, 24), (1, 1)])
def test_credit_asks_two_thirds_of_the_weeks_rounded_up(weeks: int, needed: int) -> None:
    assert credit_threshold(weeks) == needed == math.ceil(weeks * 0.66)  # (my-racing-planner's 0.66 agrees)


def test_the_cheapest_tracks_are_exact_where_most_weeks_first_is_not() -> None:
    # 4 weeks to go: A unlocks 3 for $14.95, B and C 2 each for $8.00: B + C ($16) beats A + B ($22.95)
    a, b, c = ({"package_id": i, "price": p, "purchasable": True} for i, p in ((1, 14.95), (2, 8.0), (3, 8.0)))
    found = cheapest_tracks([(a, 3), (b, 2), (c, 2)], 4)
    assert found is not None and found.cost == 1600 and [p["package_id"] for p in found.packages] == [2, 3]
    assert cheapest_tracks([(a, 3)], 4) is None
    not_for_sale = {**a, "purchasable": False}
    assert cheapest_tracks([(not_for_sale, 3), (b, 2)], 2).packages == (b,)  # type: ignore[union-attr]
