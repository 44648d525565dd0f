"""The slot engine (iracing_sync.recurrence) against the slot semantics of docs/architecture.md.

Expected starts are derived in each test from the descriptor's own fields (start_date + offset days,
first_session_time, repeat_minutes) or from the raw sample JSON, never copied from the engine's output.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from iracing_sync.models.iracing import RaceTimeDescriptor
from iracing_sync.models.records import Slot, WeekPattern
from iracing_sync.recurrence import collate, descriptor_starts, expand, expand_week
from iracing_sync.schedule import parse_schedule_body, week_patterns
from iracing_sync_local import SAMPLES_DIR

DAY = timedelta(days=1)
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def _at(d: date, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=UTC)


def _repeating(
    start_date: date,
    offsets: list[int],
    first: time,
    repeat: int | None,
    minutes: int = 20,
    *,
    super_session: bool = False,
) -> RaceTimeDescriptor:
    return RaceTimeDescriptor(
        repeating=True,
        super_session=super_session,
        session_minutes=minutes,
        start_date=start_date,
        day_offset=offsets,
        first_session_time=first,
        repeat_minutes=repeat,
    )


def _fixed(times: list[datetime], minutes: int = 30, *, super_session: bool = False) -> RaceTimeDescriptor:
    return RaceTimeDescriptor(
        repeating=False, super_session=super_session, session_minutes=minutes, session_times=times
    )


def _week(*descriptors: RaceTimeDescriptor, season_id: int = 1, week: int = 0) -> WeekPattern:
    return WeekPattern(season_id=season_id, series_id=10, race_week_num=week, descriptors=list(descriptors))


def _spec_day_starts(day: date, first: time, repeat: int) -> list[datetime]:
    """Starts on one day per the contract: first_session_time, then every `repeat` minutes while on that day."""
    first_minute = first.hour * 60 + first.minute
    return [_at(day) + timedelta(minutes=m) for m in range(first_minute, 24 * 60, repeat)]


def _load_week(sample: str, race_week_num: int) -> tuple[WeekPattern, dict[str, Any]]:
    raw = json.loads((SAMPLES_DIR / sample).read_text(encoding="utf-8"))
    weeks = {w.race_week_num: w for w in week_patterns(parse_schedule_body(raw))}
    raw_week = next(w for w in raw["schedules"] if w.get("race_week_num", w.get("raceWeekNum")) == race_week_num)
    return weeks[race_week_num], raw_week


# --- descriptor_starts: repeating --------------------------------------------------------------


def test_descriptor_starts_day_offset_counts_from_start_date_not_weekday() -> None:
    # Given a descriptor whose start_date is a Thursday and offsets 0 and 2
    thursday = date(2023, 7, 6)
    assert thursday.weekday() == 3
    d = _repeating(thursday, [0, 2], time(0, 30), 720)
    # When expanded over all time
    starts = list(descriptor_starts(d, *EVER))
    # Then the sessions fall on Thursday and Saturday (start_date + offset days)
    assert {s.date() for s in starts} == {thursday, thursday + 2 * DAY}


def test_descriptor_starts_cadence_restarts_each_day_at_first_session_time() -> None:
    # Given a 7-hour cadence from 01:00 (not a divisor of a day) on two consecutive days
    day0 = date(2024, 1, 2)
    d = _repeating(day0, [0, 1], time(1, 0), 7 * 60)
    # When expanded
    starts = list(descriptor_starts(d, *EVER))
    # Then each day restarts at 01:00 rather than continuing the previous day's cadence
    expected = _spec_day_starts(day0, time(1, 0), 420) + _spec_day_starts(day0 + DAY, time(1, 0), 420)
    assert starts == expected
    assert _at(day0 + DAY, 1) in starts
    assert _at(day0 + DAY, 5) not in starts  # where an uninterrupted cadence (22:00 + 7 h) would land


def test_descriptor_starts_window_start_inclusive_end_exclusive() -> None:
    # Given hourly sessions at :00
    day0 = date(2025, 9, 9)
    d = _repeating(day0, [0], time(0, 0), 60)
    # When the window edges land exactly on slot starts
    starts = list(descriptor_starts(d, _at(day0, 12), _at(day0, 15)))
    # Then the start edge is included and the end edge is not
    assert starts == [_at(day0, 12), _at(day0, 13), _at(day0, 14)]


def test_descriptor_starts_window_inside_a_gap_yields_nothing() -> None:
    day0 = date(2025, 9, 9)
    d = _repeating(day0, [0], time(0, 15), 60)
    assert list(descriptor_starts(d, _at(day0, 12, 16), _at(day0, 13, 15))) == []


def test_descriptor_starts_without_repeat_minutes_runs_once_a_day() -> None:
    # Given a repeating descriptor with no repeat_minutes on three days
    day0 = date(2024, 3, 5)
    d = _repeating(day0, [0, 1, 2], time(18, 0), None)
    # Then there is exactly one session a day, at first_session_time
    assert list(descriptor_starts(d, *EVER)) == [_at(day0 + i * DAY, 18) for i in range(3)]


def test_descriptor_starts_duplicate_offsets_yield_each_start_once() -> None:
    day0 = date(2024, 3, 5)
    d = _repeating(day0, [1, 1, 0, 1], time(23, 0), 1440)
    assert list(descriptor_starts(d, *EVER)) == [_at(day0, 23), _at(day0 + DAY, 23)]


def test_descriptor_starts_empty_day_offset_yields_nothing() -> None:
    d = _repeating(date(2024, 3, 5), [], time(0, 0), 60)
    assert list(descriptor_starts(d, *EVER)) == []


def test_descriptor_starts_first_session_late_in_day_stays_on_that_day() -> None:
    # Given a first session at 23:50 and a 30-minute cadence
    day0 = date(2024, 2, 28)
    d = _repeating(day0, [0, 1], time(23, 50), 30)
    # Then each day has only its 23:50 session (the next one would be on the following day)
    assert list(descriptor_starts(d, *EVER)) == [_at(day0, 23, 50), _at(day0 + DAY, 23, 50)]


def test_descriptor_starts_leap_day_offset_lands_on_feb_29() -> None:
    d = _repeating(date(2024, 2, 27), [2], time(12, 0), 1440)
    assert list(descriptor_starts(d, *EVER)) == [_at(date(2024, 2, 29), 12)]


@pytest.mark.parametrize("weekday", range(7))
def test_descriptor_starts_week_starting_on_any_weekday_starts_on_its_start_date(weekday: int) -> None:
    # Given a week whose start_date falls on each weekday in turn
    monday = date(2024, 1, 1)
    start = monday + weekday * DAY
    assert start.weekday() == weekday
    d = _repeating(start, [0], time(6, 0), 1440)
    # Then its only session is on that start date
    assert list(descriptor_starts(d, *EVER)) == [_at(start, 6)]


# --- descriptor_starts: fixed session_times ----------------------------------------------------


def test_descriptor_starts_non_repeating_yields_session_times_inside_window() -> None:
    t = [datetime(2023, 12, 12, 2, tzinfo=UTC), datetime(2023, 12, 12, 15, tzinfo=UTC)]
    d = _fixed(t)
    assert list(descriptor_starts(d, t[0], t[1])) == [t[0]]
    assert list(descriptor_starts(d, t[0], t[1] + timedelta(seconds=1))) == t


def test_descriptor_starts_non_repeating_empty_session_times_yields_nothing() -> None:
    assert list(descriptor_starts(_fixed([]), *EVER)) == []


# --- expand_week / collate / expand ------------------------------------------------------------


def test_expand_week_slot_carries_length_super_session_and_week_identity() -> None:
    # Given one super-session descriptor of 93 minutes
    t = datetime(2023, 12, 16, 15, tzinfo=UTC)
    week = WeekPattern(
        season_id=4696,
        series_id=426,
        race_week_num=3,
        series_name="S",
        track_id=7,
        track_name="T",
        config_name="C",
        descriptors=[_fixed([t], 93, super_session=True)],
    )
    # When expanded
    (slot,) = list(expand_week(week, *EVER))
    # Then the slot has the week's identity, end = start + session_minutes and the super flag
    assert (slot.season_id, slot.series_id, slot.race_week_num) == (4696, 426, 3)
    assert slot.start_time == t
    assert slot.end_time == t + timedelta(minutes=93)
    assert slot.super_session is True
    assert (slot.series_name, slot.track_id, slot.track_name, slot.config_name) == ("S", 7, "T", "C")


@pytest.mark.parametrize("repeating", [True, False])
def test_expand_week_repeating_filter_keeps_only_that_kind_of_descriptor(repeating: bool) -> None:
    # Given a week with a repeating (00:00 and 12:00) and a fixed (03:00) descriptor
    day0 = date(2024, 1, 2)
    week = _week(_repeating(day0, [0], time(0, 0), 720), _fixed([_at(day0, 3)]))
    # When expanded with the filter
    starts = [s.start_time for s in expand_week(week, *EVER, repeating=repeating)]
    # Then only that kind's starts come out
    assert starts == ([_at(day0, 0), _at(day0, 12)] if repeating else [_at(day0, 3)])


def test_expand_week_without_descriptors_yields_no_slots() -> None:
    assert list(expand_week(_week(), *EVER)) == []


def test_collate_duplicates_collapse_to_first_and_sort_by_start_season_week() -> None:
    # Given slots out of order with one duplicate key
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    t1 = t0 + timedelta(minutes=15)

    def slot(season: int, week: int, start: datetime, minutes: int = 10) -> Slot:
        return Slot(
            season_id=season,
            series_id=1,
            race_week_num=week,
            start_time=start,
            end_time=start + timedelta(minutes=minutes),
        )

    first_dup = slot(5, 1, t0, 10)
    items = [slot(9, 0, t1), slot(5, 2, t0), first_dup, slot(3, 7, t1), slot(5, 1, t0, 99)]
    # When collated
    result = collate(items)
    # Then keys are unique, sorted by (start, season, week), and the first duplicate wins
    assert [s.key for s in result] == sorted({s.key for s in items})
    assert len(result) == len(items) - 1
    assert result[0] == first_dup


def test_expand_overlapping_descriptors_collapse_to_one_slot_per_start() -> None:
    # Given two descriptors of one week that share a start (hourly and two-hourly from 00:00)
    day0 = date(2024, 5, 7)
    week = _week(_repeating(day0, [0], time(0, 0), 60), _repeating(day0, [0], time(0, 0), 120))
    # When expanded
    slots = expand([week], *EVER)
    # Then each start appears once
    assert [s.start_time for s in slots] == _spec_day_starts(day0, time(0, 0), 60)


def test_expand_same_start_in_two_weeks_is_two_slots() -> None:
    # Given two weeks of one season with a session at the same instant (the 8-day-week overlap)
    day0 = date(2023, 11, 28)
    weeks = [_week(_repeating(day0, [0], time(0, 0), 1440), week=w) for w in (10, 11)]
    # Then the slot key includes race_week_num, so nothing collapses
    assert [s.race_week_num for s in expand(weeks, *EVER)] == [10, 11]


def test_expand_result_sorted_by_start_then_season_then_week() -> None:
    day0 = date(2024, 5, 7)
    weeks = [
        _week(_repeating(day0, [0, 1], time(0, 0), 360), season_id=s, week=w)
        for s, w in [(7, 1), (3, 4), (3, 2), (9, 0)]
    ]
    slots = expand(weeks, *EVER)
    assert [s.key for s in slots] == sorted(s.key for s in slots)
    assert len(slots) == len(weeks) * 2 * 4


# --- real variants from the bundled extracts ---------------------------------------------------


def test_expand_weekly_race_challenge_hourly_plus_fixed_super_session() -> None:
    # Given week 0 of the 2024 S1 Weekly Race Challenge (camelCase): hourly at :30 on 7 days + one super session
    week, raw = _load_week("extract_series_seasons_2024s1_weekly_race_challenge_camelcase.json", 0)
    rep, fixed = raw["raceTimeDescriptors"]
    assert rep["repeating"] and not fixed["repeating"]
    # When the whole week is expanded
    slots = expand([week], *EVER)
    # Then the starts are the hourly pattern of each day plus the fixed super-session time
    first = time.fromisoformat(rep["firstSessionTime"])
    day0 = date.fromisoformat(rep["startDate"])
    hourly = [t for o in rep["dayOffset"] for t in _spec_day_starts(day0 + o * DAY, first, rep["repeatMinutes"])]
    supers = [datetime.fromisoformat(t) for t in fixed["sessionTimes"]]
    assert [s.start_time for s in slots] == sorted(set(hourly) | set(supers))
    assert {s.start_time for s in slots if s.super_session} == set(supers)
    assert all(s.end_time - s.start_time == timedelta(minutes=rep["sessionMinutes"]) for s in slots)


def test_expand_chili_bowl_two_non_repeating_descriptors_union_with_flags() -> None:
    # Given the 2023 Chili Bowl week: super-session times and regular times in two fixed descriptors
    week, raw = _load_week("extract_series_seasons_2023_chili_bowl_camelcase.json", 0)
    by_flag = {
        d["superSession"]: {datetime.fromisoformat(t) for t in d["sessionTimes"]} for d in raw["raceTimeDescriptors"]
    }
    # When expanded
    slots = expand([week], *EVER)
    # Then every listed time is a slot, flagged by its descriptor
    assert {s.start_time for s in slots} == by_flag[True] | by_flag[False]
    assert len(slots) == len(by_flag[True] | by_flag[False])
    for s in slots:
        assert s.start_time in by_flag[s.super_session]


def test_expand_lotus_week3_split_repeating_descriptors_each_on_own_days() -> None:
    # Given week 3 of the 2023 S3 Lotus series: two repeating descriptors with different start dates,
    # offset subsets and first times
    week, raw = _load_week("extract_series_seasons_2023s3_lotus_split_descriptors_camelcase.json", 3)
    descs = raw["raceTimeDescriptors"]
    assert len(descs) == 2 and len({d["startDate"] for d in descs}) == 2
    expected: set[datetime] = set()
    for d in descs:
        day0 = date.fromisoformat(d["startDate"])
        for o in d["dayOffset"]:
            expected |= set(
                _spec_day_starts(day0 + o * DAY, time.fromisoformat(d["firstSessionTime"]), d["repeatMinutes"])
            )
    # When expanded
    slots = expand([week], *EVER)
    # Then each descriptor contributes only on its own days, at its own first time
    assert [s.start_time for s in slots] == sorted(expected)
    first_times = {
        s.start_time.date(): min(t.start_time for t in slots if t.start_time.date() == s.start_time.date())
        for s in slots
    }
    for d in descs:
        day0 = date.fromisoformat(d["startDate"])
        for o in d["dayOffset"]:
            assert first_times[day0 + o * DAY].time() == time.fromisoformat(d["firstSessionTime"])


def test_expand_dallara_8_day_week_overlaps_next_week_first_day() -> None:
    # Given the 2023 S4 Dallara F3 season: week 10 has day_offset 0..7, week 11 starts the 8th day
    raw = json.loads((SAMPLES_DIR / "extract_series_seasons_2023s4_dallara_fir_8day_week.json").read_text("utf-8"))
    weeks = {w.race_week_num: w for w in week_patterns(parse_schedule_body(raw))}
    raw10 = raw["schedules"][10]["race_time_descriptors"][0]
    assert max(raw10["day_offset"]) == 7
    eighth_day = date.fromisoformat(raw10["start_date"]) + 7 * DAY
    assert eighth_day == date.fromisoformat(raw["schedules"][11]["race_time_descriptors"][0]["start_date"])
    # When the eighth day is expanded for weeks 10 and 11
    slots = expand([weeks[10], weeks[11]], _at(eighth_day), _at(eighth_day + DAY))
    # Then both weeks race at every start of that day, each with its own session length
    per_day = _spec_day_starts(eighth_day, time.fromisoformat(raw10["first_session_time"]), raw10["repeat_minutes"])
    assert sorted({s.start_time for s in slots}) == per_day
    assert {s.race_week_num for s in slots} == {10, 11}
    assert len(slots) == 2 * len(per_day)
    for s in slots:
        length = raw["schedules"][s.race_week_num]["race_time_descriptors"][0]["session_minutes"]
        assert s.end_time - s.start_time == timedelta(minutes=length)


@pytest.mark.parametrize("descriptors", [None, []], ids=["missing", "empty"])
def test_expand_week_without_race_time_descriptors_is_not_an_error(descriptors: list[Any] | None) -> None:
    # Given an older-format week whose race_time_descriptors key is missing or empty
    week: dict[str, Any] = {"season_id": 1, "race_week_num": 0, "start_date": "2023-03-14"}
    if descriptors is not None:
        week["race_time_descriptors"] = descriptors
    seasons = parse_schedule_body({"season_id": 1, "schedules": [week]})
    # Then it expands to no slots
    assert expand(week_patterns(seasons), *EVER) == []
