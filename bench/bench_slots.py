"""Slot engine (iracing_sync.recurrence) against dateutil.rrule on the bundled real snapshots.

Workloads, each on the 2025-09-09 snapshot (series_seasons.json, 35 seasons) and the full 2023 S2
quarter (series_seasons_2023s2_full.json, 137 seasons, 151,444 slots):
- a one-week window over every season (what GET /slots serves);
- whole seasons (every slot of every week);
- next race of every series at a few instants (GET /series/{id}/next), 2023 S2 only.

The baseline is the same expansion written with dateutil.rrule, the usual library for recurrences:
one MINUTELY rule per session day (the cadence restarts each day, which no single rule expresses),
days outside the window skipped before any rule is built, fixed session_times as rdates, slots keyed
by tuples, deduplicated and sorted, each a ``Slot`` (the public result type, a named tuple) built as any
caller builds it. Before timing, every baseline's output is checked equal to the engine's.

One row without a target keeps the record of where the engine came from: the previous engine (datetime
arithmetic, a validated Slot per slot). Ours and the baseline are timed alternately; figures are medians.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from dateutil.rrule import MINUTELY, rrule, rruleset
from pydantic import TypeAdapter

from bench import Row, paired_medians
from iracing_sync.models.iracing import RaceTimeDescriptor
from iracing_sync.models.records import WEEK_SLOT_FACTS, Slot, WeekPattern
from iracing_sync.recurrence import expand, next_slots
from iracing_sync.schedule import parse_schedule_body, week_patterns

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "iracing-samples"
DAY = timedelta(days=1)
EVER = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
TARGET = 3.0
RRULE = "dateutil.rrule"

# name, file, first day of the one-week window (a week inside the season, all series racing)
SNAPSHOTS = (
    ("2025-09-09", "series_seasons.json", date(2025, 9, 9)),
    ("2023 S2 full", "series_seasons_2023s2_full.json", date(2023, 4, 25)),
)


def load_weeks(file: str) -> list[WeekPattern]:
    """Every week pattern of a bundled series/seasons body."""
    return week_patterns(parse_schedule_body(json.loads((SAMPLES / file).read_text(encoding="utf-8"))))


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


# --- the dateutil.rrule baseline -------------------------------------------------------------------


def rrule_set(d: RaceTimeDescriptor, start: datetime, end: datetime) -> rruleset:
    """The starts of one descriptor as an rruleset, with the days outside [start, end) left out."""
    rules = rruleset()
    if not d.repeating:
        for t in d.session_times:
            rules.rdate(t)
        return rules
    assert d.start_date is not None and d.first_session_time is not None
    first = timedelta(hours=d.first_session_time.hour, minutes=d.first_session_time.minute)
    for offset in sorted(set(d.day_offset)):
        day = _midnight(d.start_date + timedelta(days=offset))
        if day + DAY <= start or day >= end:
            continue
        interval = d.repeat_minutes or 24 * 60
        rules.rrule(rrule(MINUTELY, interval=interval, dtstart=day + first, until=day + DAY - timedelta(seconds=1)))
    return rules


def _fields(week: WeekPattern, d: RaceTimeDescriptor, t: datetime) -> dict[str, Any]:
    return {
        "season_id": week.season_id,
        "series_id": week.series_id,
        "race_week_num": week.race_week_num,
        "start_time": t,
        "end_time": t + timedelta(minutes=d.session_minutes),
        "super_session": d.super_session,
        **{name: getattr(week, name) for name in WEEK_SLOT_FACTS},  # the week's facts every slot carries
    }


def _slot(week: WeekPattern, d: RaceTimeDescriptor, t: datetime) -> Slot:
    return Slot(**_fields(week, d, t))


def rrule_expand(
    weeks: Iterable[WeekPattern],
    start: datetime,
    end: datetime,
) -> list[Slot]:
    """The slots in [start, end) via dateutil.rrule: deduplicated (first descriptor wins) and sorted."""
    found: dict[tuple[datetime, int, int], tuple[WeekPattern, RaceTimeDescriptor]] = {}
    for week in weeks:
        for d in week.descriptors:
            for t in rrule_set(d, start, end).between(start, end, inc=True):
                if t < end:
                    found.setdefault((t, week.season_id, week.race_week_num), (week, d))
    return [_slot(*found[key], key[0]) for key in sorted(found)]


def rrule_next(weeks: Iterable[WeekPattern], at: datetime) -> list[Slot]:
    """The first slot starting at or after ``at`` via rruleset.after (a one-element list, or empty)."""
    best: tuple[tuple[datetime, int, int], WeekPattern, RaceTimeDescriptor] | None = None
    for week in weeks:
        for d in week.descriptors:
            t = rrule_set(d, at, EVER[1]).after(at, inc=True)
            if t is not None:
                key = (t, week.season_id, week.race_week_num)
                if best is None or key < best[0]:
                    best = (key, week, d)
    return [] if best is None else [_slot(best[1], best[2], best[0][0])]


# --- the previous engine (datetime arithmetic, a validated Slot per slot) ---------------------------


def _v0_starts(d: RaceTimeDescriptor, start: datetime, end: datetime) -> Iterator[datetime]:
    if not d.repeating:
        yield from (t for t in d.session_times if start <= t < end)
        return
    assert d.start_date is not None and d.first_session_time is not None
    first = timedelta(hours=d.first_session_time.hour, minutes=d.first_session_time.minute)
    step = timedelta(minutes=d.repeat_minutes) if d.repeat_minutes else DAY
    for offset in sorted(set(d.day_offset)):
        day = _midnight(d.start_date + timedelta(days=offset))
        if day + DAY <= start or day >= end:
            continue
        t = day + first
        if t < start:
            t += step * -((t - start) // step)
        while t < min(end, day + DAY):
            yield t
            t += step


_VALIDATED_SLOT = TypeAdapter(Slot)


def v0_expand(weeks: Iterable[WeekPattern], start: datetime, end: datetime) -> list[Slot]:
    """The engine as it was before this benchmark existed (each Slot validated), for the record of what changed."""
    unique: dict[tuple[datetime, int, int], Slot] = {}
    for w in weeks:
        for d in w.descriptors:
            for t in _v0_starts(d, start, end):
                slot = _VALIDATED_SLOT.validate_python(_fields(w, d, t))
                unique.setdefault(slot.key, slot)
    return [unique[k] for k in sorted(unique)]


# --- measurements ----------------------------------------------------------------------------------


def _check(name: str, ours: list[Slot], theirs: list[Slot]) -> None:
    if ours != theirs:
        raise AssertionError(f"{name}: the baseline disagrees with the engine ({len(theirs)} vs {len(ours)} slots)")


def rate_row(
    name: str,
    unit: str,
    items: int,
    ours: Callable[[], object],
    baseline: str,
    theirs: Callable[[], object],
    repeats: int,
) -> Row:
    """A rate row: ``items`` per second of ``ours`` vs ``theirs``, medians of ``repeats`` alternate runs each."""
    ours_s, theirs_s = paired_medians(ours, theirs, repeats)
    return Row(name, items / ours_s, unit, baseline, items / theirs_s, target=TARGET if baseline == RRULE else None)


def _next_lookups(weeks: list[WeekPattern], first_day: date) -> list[tuple[list[WeekPattern], datetime]]:
    """(weeks of one series, instant) for every series at 4 instants spread over one week."""
    by_series: dict[int | None, list[WeekPattern]] = defaultdict(list)
    for w in weeks:
        by_series[w.series_id].append(w)
    instants = [_midnight(first_day) + timedelta(hours=h) for h in (7.5, 50.25, 101, 160.75)]
    return [(series_weeks, at) for series_weeks in by_series.values() for at in instants]


def _expand_all(weeks: list[WeekPattern]) -> list[Slot]:
    return expand(weeks, *EVER)


def _next_all(lookups: list[tuple[list[WeekPattern], datetime]]) -> list[list[Slot]]:
    return [next_slots(weeks, at) for weeks, at in lookups]


def _rrule_next_all(lookups: list[tuple[list[WeekPattern], datetime]]) -> list[list[Slot]]:
    return [rrule_next(weeks, at) for weeks, at in lookups]


def run() -> list[Row]:
    """The slot engine's rows of the benchmark table."""
    rows: list[Row] = []
    for name, file, first_day in SNAPSHOTS:
        weeks = load_weeks(file)
        big = len(weeks) > 1000  # fewer repeats where one baseline run takes seconds
        week_window = (_midnight(first_day), _midnight(first_day) + 7 * DAY)
        for label, (lo, hi), repeats in (("one-week window", week_window, 9), ("whole seasons", EVER, 3 if big else 5)):
            ours = expand(weeks, lo, hi)
            _check(f"{name} {label}", ours, rrule_expand(weeks, lo, hi))
            rows.append(
                rate_row(
                    f"slots: {label}, {name} ({len(ours):,} slots)",
                    "slots/s",
                    len(ours),
                    partial(expand, weeks, lo, hi),
                    RRULE,
                    partial(rrule_expand, weeks, lo, hi),
                    repeats,
                )
            )
        count = len(_expand_all(weeks))
        if not big:
            # The previous engine, for the record (too slow to repeat on the full quarter).
            _check(f"{name} v0", _expand_all(weeks), v0_expand(weeks, *EVER))
            rows.append(
                rate_row(
                    f"slots: whole seasons, {name}",
                    "slots/s",
                    count,
                    partial(_expand_all, weeks),
                    "engine v0 (datetime walk, validated Slot)",
                    partial(v0_expand, weeks, *EVER),
                    5,
                )
            )
            continue
        lookups = _next_lookups(weeks, first_day)
        _check(
            f"{name} next race",
            [s for x in _next_all(lookups) for s in x],
            [s for x in _rrule_next_all(lookups) for s in x],
        )
        rows.append(
            rate_row(
                f"next race of a series, {name} ({len(lookups)} lookups)",
                "lookups/s",
                len(lookups),
                partial(_next_all, lookups),
                RRULE,
                partial(_rrule_next_all, lookups),
                5,
            )
        )
    return rows
