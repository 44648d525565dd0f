"""The slot engine: expand race_time_descriptors into session starts inside [start, end).

Semantics (DESIGN.md): a repeating descriptor starts sessions on each day ``start_date + o`` for
``o`` in ``day_offset``, at ``first_session_time`` and every ``repeat_minutes`` after it while still
on that day; a non-repeating one lists its ``session_times``. Cost is proportional to the slots in
the window: the first start >= ``start`` of each day is found arithmetically, not by walking.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta

from iracing_sync.models import RaceTimeDescriptor, Slot, WeekPattern

DAY = timedelta(days=1)
# A week's repeating sessions lie within this span of its first session day. The time index looks
# back this far so a window finds weeks that began before it; the processor rejects longer weeks.
MAX_WEEK_SPAN = timedelta(days=16)


def day_start(descriptor: RaceTimeDescriptor, offset: int) -> datetime:
    """Midnight UTC of the day ``descriptor.start_date + offset`` days."""
    assert descriptor.start_date is not None  # guaranteed for repeating descriptors by the model
    d = descriptor.start_date + timedelta(days=offset)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def descriptor_starts(descriptor: RaceTimeDescriptor, start: datetime, end: datetime) -> Iterator[datetime]:
    """Yield the session starts of one descriptor inside [start, end), in ascending order per day."""
    if not descriptor.repeating:
        for t in descriptor.session_times:
            if start <= t < end:
                yield t
        return
    first = descriptor.first_session_time
    assert first is not None
    first_delta = timedelta(hours=first.hour, minutes=first.minute, seconds=first.second)
    # Without repeat_minutes a repeating descriptor runs once a day.
    step = timedelta(minutes=descriptor.repeat_minutes) if descriptor.repeat_minutes else DAY
    for offset in sorted(set(descriptor.day_offset)):
        day = day_start(descriptor, offset)
        day_end = day + DAY
        if day_end <= start or day >= end:
            continue
        t = day + first_delta
        if t < start:
            # Jump to the first start >= `start` instead of walking from the day's first session.
            t += step * -((t - start) // step)
        stop = min(end, day_end)
        while t < stop:
            yield t
            t += step


def expand_week(week: WeekPattern, start: datetime, end: datetime, *, repeating: bool | None = None) -> Iterator[Slot]:
    """Yield the slots of one week inside [start, end) (unsorted, possibly duplicated).

    ``repeating`` limits the expansion to repeating (True) or fixed-time (False) descriptors.
    """
    for descriptor in week.descriptors:
        if repeating is not None and descriptor.repeating != repeating:
            continue
        length = timedelta(minutes=descriptor.session_minutes)
        for t in descriptor_starts(descriptor, start, end):
            yield Slot(
                season_id=week.season_id,
                series_id=week.series_id,
                race_week_num=week.race_week_num,
                start_time=t,
                end_time=t + length,
                super_session=descriptor.super_session,
                series_name=week.series_name,
                track_id=week.track_id,
                track_name=week.track_name,
                config_name=week.config_name,
            )


def collate(slots: Iterable[Slot]) -> list[Slot]:
    """Collapse duplicates by (season_id, race_week_num, start_time) and sort by start, season, week."""
    unique: dict[tuple[datetime, int, int], Slot] = {}
    for slot in slots:
        unique.setdefault(slot.key, slot)
    return [unique[k] for k in sorted(unique)]


def expand(weeks: Iterable[WeekPattern], start: datetime, end: datetime) -> list[Slot]:
    """All slots of ``weeks`` inside [start, end), deduplicated and sorted."""
    return collate(slot for week in weeks for slot in expand_week(week, start, end))
