"""ScheduleProcessor: what a week item carries for a slot (names, license, cars, race length), every descriptor
kept, and where the time index files the week (its first and last session start)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iracing_sync.models.iracing_bodies import Season
from iracing_sync.models.records import CarCatalog, CarRef, license_letter
from iracing_sync.recurrence import expand
from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body, week_patterns
from iracing_sync.store.schema import LONG_WEEKS, week_time_keys
from iracing_sync_local import SAMPLES_DIR


def _raw(name: str) -> Any:
    return json.loads((SAMPLES_DIR / name).read_text(encoding="utf-8"))


def _catalog() -> CarCatalog:
    """The catalog the bundled car/get and carclass/get make (what the reference sync stores)."""
    classes = _raw("carclass_get.json")
    return CarCatalog(
        car_names={c["car_id"]: c["car_name"] for c in _raw("car_get.json")},
        class_cars={c["car_class_id"]: tuple(sorted(x["car_id"] for x in c["cars_in_class"])) for c in classes},
    )


def _season(season_id: int, body: str = "series_seasons.json") -> tuple[dict[str, Any], Season]:
    raw = next(s for s in _raw(body) if s["season_id"] == season_id)
    (season,) = parse_schedule_body(copy.deepcopy(raw))
    return raw, season


def test_processor_week_carries_what_a_slot_shows_from_the_raw_season() -> None:
    # Given season 5376 (NASCAR Class C: car class 71) and the stored catalog
    raw, season = _season(5376)
    catalog = _catalog()
    # When processed
    record = ScheduleProcessor(catalog).process(season)
    # Then each week carries its season's name and license, its category, track and race length, and the cars of
    # its car class with their names, as the raw bodies say
    class_cars = catalog.class_cars[71]
    for week, raw_week in zip(record.weeks, raw["schedules"], strict=True):
        p = week.pattern
        assert (p.season_name, p.series_name) == (raw["season_name"], raw_week["series_name"])
        assert (p.license_group, license_letter(p.license_group)) == (3, "C")
        assert (p.category, p.track_id) == (raw_week["category"], raw_week["track"]["track_id"])
        assert (p.race_laps, p.race_minutes) == (raw_week["race_lap_limit"], raw_week["race_time_limit"])
        assert p.cars == tuple(CarRef(car_id=c, car_name=catalog.car_names[c]) for c in class_cars)
    assert (record.series_name, record.category) == ("NASCAR iRacing Class C Series", "oval")


def test_processor_car_rotation_week_races_its_own_cars_named_by_iracing_or_the_catalog() -> None:
    # Given a week that lists its own cars (one with iRacing's name, one without) besides its season's classes
    raw, _ = _season(5376)
    raw = copy.deepcopy(raw)
    raw["schedules"][0]["race_week_cars"] = [{"car_id": 155, "car_name": "As iRacing names it"}, {"car_id": 123}]
    (season,) = parse_schedule_body(raw)
    # When processed
    week = ScheduleProcessor(_catalog()).process(season).weeks[0].pattern
    # Then the week races exactly those (by ID), named by iRacing first, else by the catalog
    assert week.cars == (
        CarRef(car_id=123, car_name=_catalog().car_names[123]),
        CarRef(car_id=155, car_name="As iRacing names it"),
    )


def test_processor_without_a_catalog_knows_no_class_cars() -> None:
    _, season = _season(5376)
    assert all(w.pattern.cars == () for w in ScheduleProcessor().process(season).weeks)


def test_processor_keeps_fixed_session_times_in_the_week_and_as_slots() -> None:
    # Given an annual season whose weeks list fixed session times (5379)
    raw, season = _season(5379)
    record = ScheduleProcessor().process(season)
    week, raw_week = record.weeks[0], raw["schedules"][0]
    # Then the week keeps its fixed descriptor, and its first and last starts are its first and last session
    times = [datetime.fromisoformat(t) for d in raw_week["race_time_descriptors"] for t in d["session_times"]]
    assert [d.repeating for d in week.pattern.descriptors] == [False]
    assert (week.first_start, week.last_start) == (min(times), max(times))
    # And its slots are the same whether expanded from the week or taken from the fixed slots
    ever = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    assert expand([w.pattern for w in record.weeks], *ever) == record.fixed_slots
    assert record.fixed_slots[0].season_name == raw["season_name"]


def test_processor_expansion_equals_the_raw_bodys_for_every_season() -> None:
    # The processed weeks (every descriptor kept) expand to what the raw body expands to
    seasons = parse_schedule_body(_raw("series_seasons.json"))
    ever = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    stored = [w.pattern for s in seasons for w in ScheduleProcessor().process(s).weeks]
    assert [s.key for s in expand(stored, *ever)] == [s.key for s in expand(week_patterns(seasons), *ever)]


@pytest.mark.parametrize(
    ("body", "span_days", "long_weeks"),
    [("series_seasons.json", {1, 7}, 0), ("extract_series_seasons_2023s4_dallara_fir_8day_week.json", {7, 8}, 1)],
)
def test_week_time_keys_file_short_weeks_by_month_and_long_weeks_apart(
    body: str, span_days: set[int], long_weeks: int
) -> None:
    # Given every week of a body (the 2023 S4 extract has an 8-day week)
    weeks = [w for s in parse_schedule_body(_raw(body)) for w in ScheduleProcessor().process(s).weeks if w.first_start]
    assert {(w.span_end - w.span_start).days for w in weeks if w.span_end and w.span_start} >= span_days
    for w in weeks:
        assert w.first_start is not None and w.last_start is not None
        keys = week_time_keys(w.first_start, w.last_start, w.pattern.season_id, w.pattern.race_week_num)
        # Then a week starting sessions for less than 7 days is filed by its first start in that month's partition,
        # a longer one by its last start in the long weeks' partition
        if w.last_start - w.first_start < timedelta(days=7):
            assert keys["tpk"] == f"W#{w.first_start:%Y-%m}" and keys["tsk"].startswith(f"{w.first_start:%Y-%m-%dT}")
        else:
            assert keys["tpk"] == LONG_WEEKS and keys["tsk"].startswith(f"{w.last_start:%Y-%m-%dT}")
    assert sum(w.last_start - w.first_start >= timedelta(days=7) for w in weeks if w.last_start and w.first_start) == (
        long_weeks
    )


def test_processor_version_changes_with_the_catalog() -> None:
    # (what a sync that skips unchanged raw seasons must also compare)
    assert ScheduleProcessor().version != ScheduleProcessor(_catalog()).version
    assert ScheduleProcessor(_catalog()).version == ScheduleProcessor(_catalog()).version
