"""Property tests: the slot engine equals a deliberately naive reference on random patterns and windows.

The reference walks every session of a day from its first_session_time in repeat_minutes steps (no
arithmetic jump to the window) and filters by the window afterwards, which is the contract read
literally. The engine jumps to the window's first start, so disagreements show up at window edges,
non-divisor cadences and day ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iracing_sync.models.iracing import RaceTimeDescriptor
from iracing_sync.models.records import WeekPattern
from iracing_sync.recurrence import descriptor_starts, expand

DAY = timedelta(days=1)
PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

Key = tuple[datetime, int, int]


# --- the naive reference -------------------------------------------------------------------------


def naive_starts(d: RaceTimeDescriptor, start: datetime, end: datetime) -> list[datetime]:
    """Every start of every listed day, walked one repeat step at a time, then filtered to [start, end)."""
    if not d.repeating:
        return sorted({t for t in d.session_times if start <= t < end})
    assert d.start_date is not None and d.first_session_time is not None
    step = timedelta(minutes=d.repeat_minutes or 24 * 60)
    found: set[datetime] = set()
    for offset in d.day_offset:
        day = d.start_date + timedelta(days=offset)
        t = datetime.combine(day, d.first_session_time, tzinfo=UTC)
        while t.date() == day:
            if start <= t < end:
                found.add(t)
            t += step
    return sorted(found)


def naive_keys(weeks: Iterable[WeekPattern], start: datetime, end: datetime) -> list[tuple[Key, datetime, bool]]:
    """(key, end_time, super_session) of every slot per the reference; first descriptor wins a duplicate."""
    slots: dict[Key, tuple[datetime, bool]] = {}
    for w in weeks:
        for d in w.descriptors:
            for t in naive_starts(d, start, end):
                length = timedelta(minutes=d.session_minutes)
                slots.setdefault((t, w.season_id, w.race_week_num), (t + length, d.super_session))
    return [(k, *slots[k]) for k in sorted(slots)]


# --- strategies ----------------------------------------------------------------------------------

start_dates = st.dates(min_value=date(2019, 12, 25), max_value=date(2030, 1, 5))  # any weekday, leap days
day_offsets = st.lists(st.integers(min_value=0, max_value=13), max_size=9)  # subsets, unsorted, duplicates
first_times = st.builds(time, st.integers(0, 23), st.integers(0, 59))
# Uniform 1..1440 plus cadences that do not divide a day and the extremes.
repeat_minutes = st.one_of(st.integers(1, 1440), st.sampled_from([7, 45, 50, 90, 100, 420, 1000, 1439, 1440]))


@st.composite
def repeating_descriptors(draw: st.DrawFn, start_date: date | None = None) -> RaceTimeDescriptor:
    return RaceTimeDescriptor(
        repeating=True,
        super_session=draw(st.booleans()),
        session_minutes=draw(st.integers(0, 240)),
        start_date=start_date or draw(start_dates),
        day_offset=draw(day_offsets),
        first_session_time=draw(first_times),
        # Sometimes absent: then the pattern runs once a day.
        repeat_minutes=None if draw(st.integers(0, 9)) == 0 else draw(repeat_minutes),
    )


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _all_starts(d: RaceTimeDescriptor) -> list[datetime]:
    assert d.start_date is not None
    return naive_starts(d, _midnight(d.start_date) - DAY, _midnight(d.start_date) + 20 * DAY)


@st.composite
def windows_around(draw: st.DrawFn, anchor: date, candidates: list[datetime]) -> tuple[datetime, datetime]:
    """A window near `anchor`; its edges are often exactly on candidate starts, sometimes anywhere."""
    lo, hi = _midnight(anchor) - 2 * DAY, _midnight(anchor) + 24 * DAY

    def edge() -> datetime:
        if len(candidates) > 0 and draw(st.booleans()):
            return draw(st.sampled_from(candidates))
        return lo + timedelta(minutes=draw(st.integers(0, int((hi - lo) / timedelta(minutes=1)))))

    a, b = edge(), edge()
    if a == b:
        b = a + timedelta(minutes=1)
    return (a, b) if a < b else (b, a)


# --- properties ----------------------------------------------------------------------------------


@PROPERTY
@given(data=st.data(), descriptor=repeating_descriptors())
def test_descriptor_starts_random_repeating_pattern_equals_naive_walk(
    data: st.DataObject, descriptor: RaceTimeDescriptor
) -> None:
    # Given a random repeating descriptor and a window whose edges often sit exactly on session starts
    assert descriptor.start_date is not None
    everything = _all_starts(descriptor)
    start, end = data.draw(windows_around(descriptor.start_date, everything))
    # When the engine expands it
    ours = list(descriptor_starts(descriptor, start, end))
    # Then it yields exactly the naive walk's starts, in ascending order, without duplicates
    assert ours == naive_starts(descriptor, start, end)


@PROPERTY
@given(data=st.data(), descriptor=repeating_descriptors())
def test_descriptor_starts_split_window_equals_whole_window(
    data: st.DataObject, descriptor: RaceTimeDescriptor
) -> None:
    # Given a window [a, c) split at b (often a session start)
    assert descriptor.start_date is not None
    everything = _all_starts(descriptor)
    a, c = data.draw(windows_around(descriptor.start_date, everything))
    inside = [t for t in everything if a < t < c]
    b = data.draw(st.sampled_from(inside)) if len(inside) > 0 and data.draw(st.booleans()) else a + (c - a) / 2
    # Then [a, b) + [b, c) == [a, c): nothing is lost or doubled at the seam
    assert list(descriptor_starts(descriptor, a, b)) + list(descriptor_starts(descriptor, b, c)) == list(
        descriptor_starts(descriptor, a, c)
    )


@st.composite
def seasons_of_weeks(draw: st.DrawFn) -> list[WeekPattern]:
    """1-2 seasons of consecutive weeks (7- or 8-day), each week with 0-3 descriptors incl. fixed times."""
    weeks: list[WeekPattern] = []
    for season_id in draw(st.lists(st.integers(1, 9999), min_size=1, max_size=2, unique=True)):
        week_start = draw(start_dates)
        for n in range(draw(st.integers(1, 3))):
            descriptors: list[RaceTimeDescriptor] = []
            for _ in range(draw(st.integers(0, 3))):
                if draw(st.integers(0, 3)) == 0:
                    day0 = _midnight(week_start)
                    times = draw(st.lists(st.integers(0, 8 * 24 * 60 - 1), max_size=5))
                    descriptors.append(
                        RaceTimeDescriptor(
                            repeating=False,
                            super_session=draw(st.booleans()),
                            session_minutes=draw(st.integers(0, 240)),
                            session_times=[day0 + timedelta(minutes=m) for m in times],
                        )
                    )
                else:
                    descriptors.append(draw(repeating_descriptors(start_date=week_start)))
            weeks.append(WeekPattern(season_id=season_id, series_id=1, race_week_num=n, descriptors=descriptors))
            week_start += timedelta(days=draw(st.sampled_from([7, 7, 8])))
    return weeks


@PROPERTY
@given(data=st.data(), weeks=seasons_of_weeks())
def test_expand_windows_crossing_week_boundaries_equal_naive_reference(
    data: st.DataObject, weeks: list[WeekPattern]
) -> None:
    # Given consecutive weeks of one or two seasons and a window that may span several of them
    anchors = [d.start_date for w in weeks for d in w.descriptors if d.start_date is not None]
    anchor = min(anchors) if anchors else date(2024, 1, 2)
    lo, hi = _midnight(anchor) - 2 * DAY, _midnight(anchor) + 40 * DAY
    candidates = [k[0] for k, _, _ in naive_keys(weeks, lo, hi)]
    start, end = data.draw(windows_around(anchor, candidates))
    # When expanded
    slots = expand(weeks, start, end)
    # Then keys, order, ends and super flags equal the reference, duplicates collapsed
    assert [(s.key, s.end_time, s.super_session) for s in slots] == naive_keys(weeks, start, end)


@PROPERTY
@given(data=st.data(), weeks=seasons_of_weeks(), offset_minutes=st.integers(-14 * 60, 14 * 60))
def test_expand_same_window_in_another_utc_offset_gives_same_slots(
    data: st.DataObject, weeks: list[WeekPattern], offset_minutes: int
) -> None:
    # Given a UTC window and the same instants expressed with another UTC offset
    anchors = [d.start_date for w in weeks for d in w.descriptors if d.start_date is not None]
    start, end = data.draw(windows_around(min(anchors) if anchors else date(2024, 1, 2), []))
    zone = timezone(timedelta(minutes=offset_minutes))
    # Then the slots are the same (days are UTC days, whatever zone the window is written in)
    assert expand(weeks, start.astimezone(zone), end.astimezone(zone)) == expand(weeks, start, end)
