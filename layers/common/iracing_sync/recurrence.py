"""The slot engine: expand race_time_descriptors into session starts inside [start, end).

Semantics (docs/architecture.md, "Slot semantics"): a repeating descriptor starts sessions on each day
``start_date + o`` for ``o`` in ``day_offset``, at ``first_session_time`` and every ``repeat_minutes``
after it while still on that day; a non-repeating one lists its ``session_times``. A slot is
identified by (season_id, race_week_num, start_time); duplicates collapse to the first descriptor's.

How it stays fast: a descriptor is compiled once per call into integer epoch seconds (sorted session
days, first/last start of a day, step). The days touching the window are found by bisection and the
first start >= ``start`` of a day by arithmetic, so the work is proportional to the slots inside the
window (plus a constant per descriptor), never to the season's length. Each day's starts are a
``range``; a slot's identity is packed into one integer (start, season, week) so deduplication and
sorting run in C, and ``Slot`` tuples are built only for the final, unique slots.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

from iracing_sync.models.iracing import RaceTimeDescriptor
from iracing_sync.models.records import WEEK_SLOT_FACTS, Slot, WeekPattern

DAY = timedelta(days=1)
# A week's repeating sessions lie within this span of its first session day. The time index looks
# back this far so a window finds weeks that began before it; the processor rejects longer weeks.
MAX_WEEK_SPAN = timedelta(days=16)

DAY_SECONDS = 86_400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = _EPOCH.date().toordinal()
_SECOND = timedelta(seconds=1)
# An upper bound for open-ended searches (next race): far beyond any schedule, still a small int.
_NEVER = 1 << 40


def day_start(descriptor: RaceTimeDescriptor, offset: int) -> datetime:
    """Midnight UTC of the day ``descriptor.start_date + offset`` days."""
    assert descriptor.start_date is not None  # guaranteed for repeating descriptors by the model
    d = descriptor.start_date + timedelta(days=offset)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def to_seconds(value: datetime, *, ceil: bool = False) -> int:
    """Whole seconds since the Unix epoch of an aware datetime (rounded down, or up with ``ceil``).

    Starts are whole seconds (iRacing's times are), so ``start <= t < end`` for a datetime window is
    ``to_seconds(start, ceil=True) <= t < to_seconds(end, ceil=True)`` in seconds, exactly.
    """
    whole, rest = divmod(value - _EPOCH, _SECOND)
    return whole + 1 if ceil and rest else whole


# Named tuples, not dataclasses: both load with the API function, where a dataclass costs its cold start ~1 ms.
class CompiledDescriptor(NamedTuple):
    """A descriptor in integer epoch seconds: what the hot loops read."""

    repeating: bool
    days: tuple[int, ...]  # repeating: midnight of each session day, ascending, unique
    first: int  # seconds after midnight of a day's first start
    last: int  # seconds after midnight of a day's last start (first + k * step < one day)
    step: int  # seconds between starts on a day
    times: tuple[int, ...]  # non-repeating: the session starts, ascending, unique
    length: int  # session_minutes in seconds
    super_session: bool


def compile_descriptor(descriptor: RaceTimeDescriptor) -> CompiledDescriptor:
    """Compile one descriptor (cost proportional to its day_offset / session_times, not to its slots)."""
    length = descriptor.session_minutes * 60
    if not descriptor.repeating:
        times = tuple(sorted({to_seconds(t) for t in descriptor.session_times}))
        return CompiledDescriptor(False, (), 0, 0, DAY_SECONDS, times, length, descriptor.super_session)
    start_date, first_time = descriptor.start_date, descriptor.first_session_time
    assert start_date is not None and first_time is not None  # guaranteed by the model
    base = (start_date.toordinal() - _EPOCH_ORDINAL) * DAY_SECONDS
    days = tuple(base + o * DAY_SECONDS for o in sorted(set(descriptor.day_offset)))
    first = first_time.hour * 3600 + first_time.minute * 60 + first_time.second
    # Without repeat_minutes a repeating descriptor runs once a day.
    step = descriptor.repeat_minutes * 60 if descriptor.repeat_minutes else DAY_SECONDS
    last = first + (DAY_SECONDS - 1 - first) // step * step  # the cadence stops at the day's end
    return CompiledDescriptor(True, days, first, last, step, (), length, descriptor.super_session)


def start_runs(p: CompiledDescriptor, lo: int, hi: int) -> Iterator[Sequence[int]]:
    """Ascending runs of the starts of ``p`` inside [lo, hi) (epoch seconds): a ``range`` per day.

    Only days that touch the window are visited (bisection), and each day's first start >= ``lo``
    is computed, not walked to; every run yielded is non-empty.
    """
    if not p.repeating:
        times = p.times
        i, j = bisect_left(times, lo), bisect_left(times, hi)
        if i < j:
            yield times[i:j]
        return
    days, first, last, step = p.days, p.first, p.last, p.step
    # Day d has starts in [d + first, d + last]: it touches [lo, hi) iff d + last >= lo and d + first < hi.
    for index in range(bisect_left(days, lo - last), bisect_left(days, hi - first)):
        day = days[index]
        a = day + first
        if a < lo:
            a += -((a - lo) // step) * step  # the first start >= lo: ceil((lo - a) / step) steps on
        b = day + last + 1
        if b > hi:
            b = hi
        if a < b:
            yield range(a, b, step)


def descriptor_starts(descriptor: RaceTimeDescriptor, start: datetime, end: datetime) -> Iterator[datetime]:
    """Yield the session starts of one descriptor inside [start, end), ascending."""
    p = compile_descriptor(descriptor)
    for run in start_runs(p, to_seconds(start, ceil=True), to_seconds(end, ceil=True)):
        for t in run:
            yield datetime.fromtimestamp(t, UTC)


# --- slots -----------------------------------------------------------------------------------------

# A slot's identity packed into one int, ordered like (start_time, season_id, race_week_num):
# ((start << season_bits) + season - min_season) << week_bits) + race_week_num. Python ints are
# unbounded, so the widths adapt to the input instead of capping IDs.


class _Packing(NamedTuple):
    """How (start, season, week) packs into one sortable int for one call's weeks and slots."""

    week_bits: int
    shift: int  # week_bits + season_bits
    min_season: int

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, int]]) -> _Packing:
        seasons, weeks = {0}, {0}
        for season_id, race_week_num in pairs:
            seasons.add(season_id)
            weeks.add(race_week_num)
        low = min(seasons)
        week_bits = max(weeks).bit_length()
        return cls(week_bits, week_bits + (max(seasons) - low).bit_length(), low)

    def identity(self, season_id: int, race_week_num: int) -> int:
        """The low bits of every key of one (season, week)."""
        return ((season_id - self.min_season) << self.week_bits) + race_week_num

    def key(self, start: int, identity: int) -> int:
        return (start << self.shift) + identity


# What a key points to while expanding: a ready Slot (fixed slots passed in) or the template of the
# slots of one week's descriptor: (season_id, series_id, race_week_num), length, super_session, and the rest of
# a Slot's fields in Slot's order (the week's facts, then the race guide's session_id and entry_count).
_Template = tuple[tuple[int, int | None, int], int, bool, tuple[Any, ...]]


def _template(week: WeekPattern, p: CompiledDescriptor) -> _Template:
    facts = tuple(getattr(week, name) for name in WEEK_SLOT_FACTS)
    return ((week.season_id, week.series_id, week.race_week_num), p.length, p.super_session, (*facts, None, None))


def _materialize(keys: Iterable[int], payloads: dict[int, Slot | _Template], shift: int) -> list[Slot]:
    """The Slots of packed ``keys`` (in that order); one datetime object per instant."""
    instants: dict[int, datetime] = {}
    from_timestamp = datetime.fromtimestamp
    make = Slot._make  # fields in Slot's order: the tuple is built in C, once per slot of the answer
    out: list[Slot] = []
    append = out.append
    for key in keys:
        payload = payloads[key]
        if payload.__class__ is not tuple:  # a ready Slot passed in (rare; a tuple subclass): cheaper than isinstance
            append(payload)  # type: ignore[arg-type]
            continue
        head, length, super_session, tail = payload  # type: ignore[misc]  # not a Slot: checked just above
        start = key >> shift
        start_time = instants.get(start)
        if start_time is None:
            start_time = instants[start] = from_timestamp(start, UTC)
        end_time = instants.get(start + length)
        if end_time is None:
            end_time = instants[start + length] = from_timestamp(start + length, UTC)
        append(make(head + (start_time, end_time, super_session) + tail))
    return out


def expand(
    weeks: Iterable[WeekPattern],
    start: datetime,
    end: datetime,
    *,
    repeating: bool | None = None,
    fixed: Iterable[Slot] = (),
) -> list[Slot]:
    """All slots of ``weeks`` (and of the ready ``fixed`` slots) inside [start, end), deduplicated and sorted.

    Sorted by (start_time, season_id, race_week_num). A duplicate key keeps the first week's first
    descriptor's slot; ``fixed`` slots rank after every week. ``repeating`` limits the expansion to
    repeating (True) or fixed-time (False) descriptors.
    """
    lo, hi = to_seconds(start, ceil=True), to_seconds(end, ceil=True)
    week_list = list(weeks)
    fixed_list = [s for s in fixed if start <= s.start_time < end]
    packing = _Packing.of(
        [(w.season_id, w.race_week_num) for w in week_list] + [(s.season_id, s.race_week_num) for s in fixed_list]
    )
    shift = packing.shift
    found: dict[int, Slot | _Template] = {}
    # Later writes win: fill from the lowest priority (last fixed slot) to the highest (first week's
    # first descriptor), so "first wins" holds without a membership test per slot.
    for slot in reversed(fixed_list):
        found[packing.key(to_seconds(slot.start_time), packing.identity(slot.season_id, slot.race_week_num))] = slot
    for week in reversed(week_list):
        identity = packing.identity(week.season_id, week.race_week_num)
        for descriptor in reversed(week.descriptors):
            if repeating is not None and descriptor.repeating != repeating:
                continue
            p = compile_descriptor(descriptor)
            template = _template(week, p)
            for run in start_runs(p, lo, hi):
                if isinstance(run, range):
                    # The keys of an arithmetic run of starts are an arithmetic run too: insert it in C.
                    keys = range((run.start << shift) + identity, (run.stop << shift) + identity, run.step << shift)
                    found.update(zip(keys, repeat(template)))
                else:
                    found.update((packing.key(t, identity), template) for t in run)
    return _materialize(sorted(found), found, shift)


def expand_week(week: WeekPattern, start: datetime, end: datetime, *, repeating: bool | None = None) -> Iterator[Slot]:
    """Yield the slots of one week inside [start, end), sorted and without duplicates.

    ``repeating`` limits the expansion to repeating (True) or fixed-time (False) descriptors.
    """
    return iter(expand([week], start, end, repeating=repeating))


def collate(slots: Iterable[Slot]) -> list[Slot]:
    """Collapse duplicates by (season_id, race_week_num, start_time) and sort by start, season, week."""
    unique: dict[tuple[datetime, int, int], Slot] = {}
    for slot in slots:
        unique.setdefault(slot.key, slot)
    return [unique[k] for k in sorted(unique)]


def next_slots(
    weeks: Iterable[WeekPattern],
    at: datetime,
    count: int = 1,
    *,
    repeating: bool | None = None,
    fixed: Iterable[Slot] = (),
) -> list[Slot]:
    """The first ``count`` slots starting at or after ``at`` (fewer if the schedule ends first).

    Same order, deduplication and priorities as :func:`expand`. Each descriptor is read lazily from
    its first start >= ``at`` and the descriptors are merged, so the cost is about ``count`` times the
    number of descriptors, whatever the schedules' length.
    """
    if count < 1:
        return []
    lo = to_seconds(at, ceil=True)
    week_list = list(weeks)
    fixed_list = sorted((s for s in fixed if s.start_time >= at), key=lambda s: s.key)
    packing = _Packing.of(
        [(w.season_id, w.race_week_num) for w in week_list] + [(s.season_id, s.race_week_num) for s in fixed_list]
    )
    streams: list[Iterator[tuple[int, Slot | _Template]]] = []
    for week in week_list:
        identity = packing.identity(week.season_id, week.race_week_num)
        for descriptor in week.descriptors:
            if repeating is None or descriptor.repeating == repeating:
                p = compile_descriptor(descriptor)
                streams.append(_keyed(p, lo, identity, packing.shift, _template(week, p)))
    streams.append(
        iter(
            [
                (packing.key(to_seconds(s.start_time), packing.identity(s.season_id, s.race_week_num)), s)
                for s in fixed_list
            ]
        )
    )
    chosen: dict[int, Slot | _Template] = {}
    # heapq.merge is stable: among equal keys the earlier stream (higher priority) comes first.
    for key, payload in heapq.merge(*streams, key=itemgetter(0)):
        if key not in chosen:
            chosen[key] = payload
            if len(chosen) == count:
                break
    return _materialize(chosen, chosen, packing.shift)


def _keyed(
    p: CompiledDescriptor, lo: int, identity: int, shift: int, template: _Template
) -> Iterator[tuple[int, Slot | _Template]]:
    for run in start_runs(p, lo, _NEVER):
        for t in run:
            yield (t << shift) + identity, template
