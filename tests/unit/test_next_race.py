"""next_slots: the next race(s) of a schedule at an instant, against the naive reference and real data."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iracing_sync.models.iracing import RaceTimeDescriptor
from iracing_sync.models.records import Slot, WeekPattern
from iracing_sync.recurrence import expand, next_slots
from iracing_sync.schedule import parse_schedule_body, week_patterns
from tests.conftest import load_sample
from tests.unit.test_recurrence_properties import PROPERTY, naive_keys, seasons_of_weeks

DAY = timedelta(days=1)
FAR = datetime(2100, 1, 1, tzinfo=UTC)
DAY0 = date(2025, 9, 9)


def _at(hh: int, mm: int = 0, day: date = DAY0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC)


def _two_hourly(days: int = 2, *, season_id: int = 1, week: int = 0, minutes: int = 20) -> WeekPattern:
    descriptor = RaceTimeDescriptor(
        repeating=True,
        session_minutes=minutes,
        start_date=DAY0,
        day_offset=list(range(days)),
        first_session_time=time(0, 45),
        repeat_minutes=120,
    )
    return WeekPattern(season_id=season_id, series_id=9, race_week_num=week, descriptors=[descriptor])


@PROPERTY
@given(data=st.data(), weeks=seasons_of_weeks(), count=st.integers(1, 6))
def test_next_slots_equal_the_first_slots_of_the_naive_reference(
    data: st.DataObject, weeks: list[WeekPattern], count: int
) -> None:
    # Given random weeks and an instant often exactly on a session start, sometimes anywhere near them
    anchors = [d.start_date for w in weeks for d in w.descriptors if d.start_date is not None] or [DAY0]
    lo = datetime.combine(min(anchors), time(0), UTC) - 2 * DAY
    everything = naive_keys(weeks, lo, lo + 60 * DAY)
    starts = [key[0] for key, _, _ in everything]
    on_a_start = data.draw(st.booleans())
    if starts and on_a_start:
        at = data.draw(st.sampled_from(starts))
    else:
        at = lo + timedelta(minutes=data.draw(st.integers(0, 45 * 24 * 60)))
    # When the next `count` slots are asked for
    ours = next_slots(weeks, at, count)
    # Then they are the reference's first `count` slots starting at or after `at` (key, end, super flag)
    assert [(s.key, s.end_time, s.super_session) for s in ours] == naive_keys(weeks, at, FAR)[:count]
    # and the same as the head of expand over a window from `at`
    assert ours == expand(weeks, at, FAR)[:count]


def test_next_slots_instant_on_a_start_is_included() -> None:
    assert [s.start_time for s in next_slots([_two_hourly()], _at(2, 45), 2)] == [_at(2, 45), _at(4, 45)]


def test_next_slots_instant_just_after_a_start_skips_it() -> None:
    after = _at(2, 45) + timedelta(microseconds=1)
    assert [s.start_time for s in next_slots([_two_hourly()], after)] == [_at(4, 45)]


def test_next_slots_crosses_to_the_next_session_day_and_week() -> None:
    # Given week 0 racing on day 0 and week 1 racing on day 3
    week0 = _two_hourly(1)
    later = _two_hourly(1, week=1).descriptors[0].model_copy(update={"start_date": DAY0 + 3 * DAY})
    week1 = WeekPattern(season_id=1, series_id=9, race_week_num=1, descriptors=[later])
    # When asked after day 0's last session
    (slot,) = next_slots([week0, week1], _at(23))
    # Then the answer is week 1's first session
    assert (slot.race_week_num, slot.start_time) == (1, _at(0, 45, DAY0 + 3 * DAY))


def test_next_slots_after_the_schedule_ends_is_empty() -> None:
    assert next_slots([_two_hourly()], _at(0, 0, DAY0 + 2 * DAY), 3) == []


def test_next_slots_fewer_than_count_when_the_schedule_runs_out() -> None:
    assert len(next_slots([_two_hourly(1)], _at(20), 10)) == 2  # 20:45 and 22:45


def test_next_slots_count_zero_or_no_weeks_is_empty() -> None:
    assert next_slots([_two_hourly()], _at(0), 0) == []
    assert next_slots([], _at(0), 5) == []


def test_next_slots_same_instant_in_other_offset_gives_same_answer() -> None:
    at = _at(3, 10)
    plus9 = at.astimezone(timezone(timedelta(hours=9)))
    assert next_slots([_two_hourly()], plus9, 3) == next_slots([_two_hourly()], at, 3)


def test_next_slots_two_seasons_at_the_same_start_both_count_in_order() -> None:
    # Given two seasons racing at the same times, When the next 3 slots are asked for
    slots = next_slots([_two_hourly(season_id=20), _two_hourly(season_id=10)], _at(1), 3)
    # Then both seasons' 02:45 slots come first (by season), then the 04:45 one of the lower season
    assert [(s.start_time, s.season_id) for s in slots] == [(_at(2, 45), 10), (_at(2, 45), 20), (_at(4, 45), 10)]


def test_next_slots_fixed_slots_merge_and_rank_after_patterns() -> None:
    # Given a ready fixed slot at 01:00 and one on the pattern's 02:45 start
    week = _two_hourly()
    lone = Slot(season_id=1, series_id=9, race_week_num=0, start_time=_at(1), end_time=_at(2))
    clash = Slot(season_id=1, series_id=9, race_week_num=0, start_time=_at(2, 45), end_time=_at(5))
    slots = next_slots([week], _at(0, 50), 3, fixed=[clash, lone])
    # Then the fixed slot is next, and the pattern's slot wins the shared key
    assert [s.start_time for s in slots] == [_at(1), _at(2, 45), _at(4, 45)]
    assert slots[0] is lone
    assert slots[1].end_time == _at(3, 5)


@pytest.mark.parametrize("at", ["2025-09-09T07:31:00+00:00", "2025-10-01T12:00:00+00:00", "2025-12-24T23:59:59+00:00"])
def test_next_slots_of_every_real_series_equal_expand_after_at(at: str) -> None:
    # Given the 2025-09-09 snapshot's weeks, grouped by series
    weeks = week_patterns(parse_schedule_body(load_sample("series_seasons.json")))
    instant = datetime.fromisoformat(at)
    everything = expand(weeks, instant, instant + 120 * DAY)
    for series_id in {w.series_id for w in weeks}:
        # When each series' next 3 races are asked for
        ours = next_slots([w for w in weeks if w.series_id == series_id], instant, 3)
        # Then they are its first 3 slots of the expansion from `at`
        assert ours == [s for s in everything if s.series_id == series_id][:3], series_id
