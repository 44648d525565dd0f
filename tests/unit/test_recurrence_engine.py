"""How the slot engine works, beyond what it computes: its cost, its Slot construction, its packing.

Cost is measured by counting the Python lines the engine executes (sys.monitoring LINE events in
recurrence.py), never by timing: a window holding k slots must cost the same wherever it sits in a
season and however long the season is, which a walk from the week's or day's start would break.
"""

from __future__ import annotations

import copy
import pickle
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import partial
from types import CodeType
from typing import Any

import pytest
from pydantic import TypeAdapter

from iracing_sync import recurrence
from iracing_sync.models.iracing import RaceTimeDescriptor
from iracing_sync.models.records import Slot, WeekPattern
from iracing_sync.recurrence import (
    collate,
    compile_descriptor,
    expand,
    next_slots,
    start_runs,
    to_seconds,
)
from iracing_sync.schedule import parse_schedule_body, week_patterns
from tests.conftest import load_sample

DAY = timedelta(days=1)
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
DAY0 = date(2024, 1, 2)


def _at(d: date, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hh, mm, tzinfo=UTC)


def _minutely(days: int, *, repeat: int = 1, first: time = time(0, 0)) -> WeekPattern:
    """A week of ``days`` session days with a session every ``repeat`` minutes."""
    descriptor = RaceTimeDescriptor(
        repeating=True,
        session_minutes=15,
        start_date=DAY0,
        day_offset=list(range(days)),
        first_session_time=first,
        repeat_minutes=repeat,
    )
    return WeekPattern(season_id=7, series_id=3, race_week_num=0, descriptors=[descriptor])


@contextmanager
def engine_lines() -> Iterator[Callable[[], int]]:
    """Count the lines executed inside recurrence.py while the block runs (sys.monitoring, no tracing of others)."""
    mon = sys.monitoring
    tool = next(i for i in range(6) if mon.get_tool(i) is None)
    target = recurrence.__file__
    count = 0

    def on_line(code: CodeType, line: int) -> Any:
        nonlocal count
        if code.co_filename != target:
            return mon.DISABLE  # never report this line again: only the engine's own lines cost
        count += 1
        return None

    mon.use_tool_id(tool, "engine-cost-test")
    try:
        mon.register_callback(tool, mon.events.LINE, on_line)
        mon.restart_events()
        mon.set_events(tool, mon.events.LINE)
        yield lambda: count
    finally:
        mon.set_events(tool, 0)
        mon.register_callback(tool, mon.events.LINE, None)
        mon.free_tool_id(tool)


def _cost(fn: Callable[[], object]) -> int:
    with engine_lines() as lines:
        fn()
        return lines()


# --- cost is proportional to the slots in the window -------------------------------------------------


def test_expand_cost_same_for_same_slot_count_wherever_the_window_sits() -> None:
    # Given a 1-minute cadence: 3 days of it, and 2,000 days of it (2.88 million slots)
    short, long = _minutely(3), _minutely(2000)
    # When two hours (120 slots) across a midnight are expanded, near the start of the short season
    # and 1,500 days into the long one
    early = (_at(DAY0, 23), _at(DAY0 + DAY, 1))
    late = (_at(DAY0 + 1500 * DAY, 23), _at(DAY0 + 1501 * DAY, 1))
    assert len(expand([short], *early)) == len(expand([long], *late)) == 120
    # Then the engine executes exactly the same number of lines: nothing walks from the season's start
    assert _cost(lambda: expand([short], *early)) == _cost(lambda: expand([long], *late))


def test_expand_cost_does_not_walk_from_the_first_session_of_the_day() -> None:
    # Given a 1-minute cadence, When one slot is asked for at 00:00 and at 23:59
    week = _minutely(1)
    first = _cost(lambda: expand([week], _at(DAY0), _at(DAY0) + timedelta(minutes=1)))
    last = _cost(lambda: expand([week], _at(DAY0, 23, 59), _at(DAY0 + DAY)))
    # Then both cost the same (the first start >= from is computed, not reached by 1,439 steps)
    assert first == last


def test_expand_cost_grows_with_slots_in_window_not_with_pattern() -> None:
    # Given one 1-minute day, When windows of 10, 100 and 1,000 slots are expanded
    week = _minutely(1)
    costs = [_cost(partial(expand, [week], _at(DAY0), _at(DAY0) + timedelta(minutes=n))) for n in (10, 100, 1000)]
    # Then the cost grows linearly with the slots produced: the same per-slot increment each time (to 1%:
    # whether a slot's end instant was already built as an earlier start varies a little)
    per_slot_a = (costs[1] - costs[0]) / 90
    per_slot_b = (costs[2] - costs[1]) / 900
    assert per_slot_b > 0
    assert abs(per_slot_a - per_slot_b) < 0.01 * per_slot_b


def test_next_slots_cost_independent_of_how_far_into_the_schedule() -> None:
    short, long = _minutely(3), _minutely(2000)
    at_short, at_long = _at(DAY0 + DAY, 12, 30), _at(DAY0 + 1500 * DAY, 12, 30)
    assert [s.start_time for s in next_slots([long], at_long, 5)][0] == at_long
    assert _cost(lambda: next_slots([short], at_short, 5)) == _cost(lambda: next_slots([long], at_long, 5))


def test_start_runs_visit_only_days_touching_the_window() -> None:
    # Given 2,000 session days, When a window covers parts of two days
    p = compile_descriptor(_minutely(2000, repeat=60).descriptors[0])
    lo = to_seconds(_at(DAY0 + 1000 * DAY, 22))
    runs = list(start_runs(p, lo, lo + 4 * 3600))
    # Then there is one run per touched day, each already clipped to the window
    assert [(r[0] - lo, len(r)) for r in runs] == [(0, 2), (2 * 3600, 2)]


# --- the Slots it builds are ordinary Slots ------------------------------------------------------------


def _real_slots() -> list[Slot]:
    weeks = week_patterns(parse_schedule_body(load_sample("series_seasons.json")))
    return expand(weeks, datetime(2025, 9, 9, tzinfo=UTC), datetime(2025, 9, 10, tzinfo=UTC))


def test_engine_slots_equal_validated_slots_in_every_respect() -> None:
    # Given the engine's slots of a real day (built with Slot._make), and the same fields validated by pydantic
    validate = TypeAdapter(Slot).validate_python
    for ours in _real_slots()[:200]:
        validated = validate(ours._asdict())
        # Then type, equality, hash, JSON form, repr, pickling and copies all agree
        assert type(ours) is Slot and type(validated) is Slot
        assert ours == validated and hash(ours) == hash(validated)
        assert ours.to_json() == validated.to_json()
        assert repr(ours) == repr(validated)
        assert pickle.loads(pickle.dumps(ours)) == validated
        assert copy.deepcopy(ours) == validated
        assert ours.start_time.tzinfo is UTC and ours.end_time.tzinfo is UTC


def test_engine_slots_are_frozen_and_copies_do_not_leak_into_others() -> None:
    a, b = _real_slots()[:2]
    with pytest.raises(AttributeError):
        a.season_id = 1  # type: ignore[misc]
    changed = a._replace(track_name="elsewhere")
    assert changed.track_name == "elsewhere" and a.track_name != "elsewhere"
    assert b.track_name != "elsewhere"


def test_a_slot_json_form_has_the_contract_keys_in_order() -> None:
    start = datetime(2025, 9, 9, 12, tzinfo=UTC)
    slot = Slot(
        season_id=1, series_id=None, race_week_num=0, start_time=start, end_time=start + DAY, super_session=True
    )
    # DESIGN's contract keys first, then the names (the finder page reads these keys), then the race guide's
    contract = ["season_id", "series_id", "race_week_num", "start_time", "end_time", "super_session"]
    names = ["series_name", "track_id", "track_name", "config_name", "season_name", "category", "license"]
    names += ["license_group", "cars"]
    length = ["race_laps", "race_minutes", "rain_chance"]  # (the week's weather: its chance of rain)
    assert list(slot.to_json()) == [*contract, *names, *length, "session_id", "entry_count"]
    assert (
        slot.to_json()["start_time"] == "2025-09-09T12:00:00Z" and slot.to_json()["end_time"] == "2025-09-10T12:00:00Z"
    )


# --- identity packing and priorities ------------------------------------------------------------------


@pytest.mark.parametrize("season_ids", [[5, 3], [2**40, 1], [-7, 0, 12], [0]])
def test_expand_orders_any_season_and_week_ids_like_collate(season_ids: list[int]) -> None:
    # Given weeks with extreme IDs (huge, negative, zero) and week numbers, all racing at the same times
    descriptor = _minutely(2, repeat=720).descriptors[0]
    weeks = [
        WeekPattern(season_id=s, series_id=1, race_week_num=w, descriptors=[descriptor])
        for s in season_ids
        for w in (70_000, 0, 3)
    ]
    # Then the packed-integer ordering equals sorting by (start_time, season_id, race_week_num)
    ours = expand(weeks, *EVER)
    assert [s.key for s in ours] == sorted(s.key for s in ours)
    assert len(ours) == len(weeks) * 4
    assert next_slots(weeks, EVER[0], len(ours)) == ours


def _fixed_slot(start: datetime, *, week: int = 0, minutes: int = 99) -> Slot:
    return Slot(
        season_id=7, series_id=3, race_week_num=week, start_time=start, end_time=start + timedelta(minutes=minutes)
    )


def test_expand_fixed_slots_rank_after_patterns_and_are_windowed() -> None:
    # Given a pattern at 00:00/12:00 and ready fixed slots: one on a pattern start, one apart, one outside
    week = _minutely(1, repeat=720)
    on_pattern, apart, outside = _fixed_slot(_at(DAY0, 12)), _fixed_slot(_at(DAY0, 3)), _fixed_slot(_at(DAY0, 23))
    # When expanded over [00:00, 22:00) together
    slots = expand([week], _at(DAY0), _at(DAY0, 22), fixed=[on_pattern, apart, outside, apart])
    # Then the pattern's slot wins the shared key, the other fixed slot comes through once, the outside one not
    assert [(s.start_time.hour, s.end_time - s.start_time) for s in slots] == [
        (0, timedelta(minutes=15)),
        (3, timedelta(minutes=99)),
        (12, timedelta(minutes=15)),
    ]
    assert slots[1] is apart
    assert collate([*expand([week], _at(DAY0), _at(DAY0, 22)), on_pattern, apart]) == slots


def test_expand_in_any_offset_with_subsecond_edges_is_exact() -> None:
    # Given hourly starts, When the window edges are a microsecond past a start, written in UTC-05:00
    week = _minutely(1, repeat=60)
    minus5 = timezone(timedelta(hours=-5))
    start = (_at(DAY0, 12) + timedelta(microseconds=1)).astimezone(minus5)
    end = (_at(DAY0, 15) + timedelta(microseconds=1)).astimezone(minus5)
    # Then 12:00 is out (before from) and 15:00 is in (before to)
    assert [s.start_time.hour for s in expand([week], start, end)] == [13, 14, 15]


def test_to_seconds_floor_and_ceil() -> None:
    t = datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC)
    assert to_seconds(t) == to_seconds(t, ceil=True) == 10
    assert to_seconds(t + timedelta(microseconds=1)) == 10
    assert to_seconds(t + timedelta(microseconds=1), ceil=True) == 11
    assert to_seconds(datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)) == -1


@pytest.mark.parametrize(
    ("first", "repeat", "last"),
    [
        (time(0, 0), 60, time(23, 0)),
        (time(1, 0), 420, time(22, 0)),
        (time(23, 50), 30, time(23, 50)),
        (time(0, 5), 1440, time(0, 5)),
    ],
)
def test_compile_descriptor_last_start_of_a_day(first: time, repeat: int, last: time) -> None:
    p = compile_descriptor(_minutely(1, repeat=repeat, first=first).descriptors[0])
    assert p.last == last.hour * 3600 + last.minute * 60


# --- every bundled sample against the naive reference ---------------------------------------------------

SAMPLE_BODIES = [
    "series_seasons.json",
    "series_seasons_2023s2_full.json",
    "series_season_schedule.json",
    "extract_series_seasons_2023_chili_bowl_camelcase.json",
    "extract_series_seasons_2023s3_lotus_split_descriptors_camelcase.json",
    "extract_series_seasons_2023s4_dallara_fir_8day_week.json",
    "extract_series_seasons_2024s1_weekly_race_challenge_camelcase.json",
]


@pytest.mark.parametrize("sample", SAMPLE_BODIES)
def test_expand_every_bundled_sample_equals_the_naive_reference(sample: str) -> None:
    # Given every week of a bundled body: one-day weeks, 8-day weeks, split descriptors, super sessions...
    from tests.unit.test_recurrence_properties import naive_keys

    weeks = week_patterns(parse_schedule_body(load_sample(sample)))
    # When all of it is expanded, and a one-week window in the middle of it
    ours = expand(weeks, *EVER)
    assert ours, sample
    middle = ours[len(ours) // 2].start_time
    window = (middle - 3 * DAY, middle + 4 * DAY)
    # Then keys, order, ends and super flags equal the naive reference's, slot for slot
    for lo, hi in (EVER, window):
        got = expand(weeks, lo, hi) if (lo, hi) != EVER else ours
        assert [(s.key, s.end_time, s.super_session) for s in got] == naive_keys(weeks, lo, hi)
