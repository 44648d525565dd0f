"""What the slot engine reads: week patterns and fixed slots for a time window or a season, filtered.

A window is answered from the by_time index (one Query per month bucket of [from - MAX_WEEK_SPAN, to)),
a season from its partition; filters (series, season, category, license, track, car) run inside DynamoDB
as filter expressions, so items that fail them never leave it. Never a Scan.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from datetime import datetime

from pynamodb.expressions.condition import Condition, size

from iracing_sync.instants import iso_z, parse_iso_z
from iracing_sync.models.records import Slot, SlotSources, WeekPattern
from iracing_sync.recurrence import MAX_WEEK_SPAN
from iracing_sync.store.schema import Item, month_buckets, read
from iracing_sync.store.seasons import SlotItem, WeekItem, pattern_of, season_partition, slot_of


@dataclass(frozen=True)
class SlotFilter:
    """Which weeks' slots a query wants; None is "any". Matched on the week's facts (week and fixed-slot items).

    ``car_class_ids`` are the classes holding ``car_id`` (see ``catalog.car_classes_with_car``): a week races the
    car if it is one of a car-switching week's cars or, for any other week, one of its classes holds it.
    """

    series_id: int | None = None
    season_id: int | None = None
    categories: frozenset[str] | None = None
    license_group: int | None = None
    track_id: int | None = None
    car_id: int | None = None
    car_class_ids: frozenset[int] = frozenset()

    def accepts(self, week: WeekItem | SlotItem) -> bool:
        """The same test as ``condition``, in Python (for a season read whole by its partition)."""
        if self.series_id is not None and week.series_id != self.series_id:
            return False
        if self.season_id is not None and week.season_id != self.season_id:
            return False
        if self.categories is not None and week.category not in self.categories:
            return False
        if self.license_group is not None and week.license_group != self.license_group:
            return False
        if self.track_id is not None and week.track_id != self.track_id:
            return False
        if self.car_id is not None:
            cars = week.race_week_car_ids or []
            return self.car_id in cars if cars else not self.car_class_ids.isdisjoint(week.car_class_ids or [])
        return True

    def condition(self) -> Condition | None:
        """A DynamoDB filter expression: items that fail it never leave DynamoDB (smaller, faster pages)."""
        parts: list[Condition] = []
        for value, attribute in (
            (self.series_id, WeekItem.series_id),
            (self.season_id, WeekItem.season_id),
            (self.license_group, WeekItem.license_group),
            (self.track_id, WeekItem.track_id),
        ):
            if value is not None:
                parts.append(attribute == value)
        if self.categories is not None:
            parts.append(WeekItem.category.is_in(*sorted(self.categories)))
        if self.car_id is not None:
            car: Condition = WeekItem.race_week_car_ids.contains(self.car_id)
            if self.car_class_ids:
                no_week_cars = WeekItem.race_week_car_ids.does_not_exist() | (size(WeekItem.race_week_car_ids) == 0)
                classes = [WeekItem.car_class_ids.contains(c) for c in sorted(self.car_class_ids)]
                car = car | (no_week_cars & functools.reduce(operator.or_, classes))
            parts.append(car)
        return functools.reduce(operator.and_, parts) if parts else None


ANY = SlotFilter()


def slot_sources_between(start: datetime, end: datetime, where: SlotFilter = ANY) -> SlotSources:
    """Week patterns that may have slots in [start, end) and fixed slots starting in it (Query only).

    One Query per month bucket of [start - MAX_WEEK_SPAN, end) (two for any window up to two weeks), each
    filtered in DynamoDB to weeks still running at ``start``, fixed slots from ``start`` on, and ``where``.
    """
    lo = iso_z(start - MAX_WEEK_SPAN)
    hi = iso_z(end)  # "<end>#..." sorts after "<end>", so BETWEEN lo AND hi excludes starts at `end`
    current = (WeekItem.span_end > iso_z(start)) | (SlotItem.start_time >= iso_z(start))
    wanted = where.condition()
    condition = current if wanted is None else current & wanted
    patterns: list[WeekPattern] = []
    fixed: list[Slot] = []
    for bucket in month_buckets(start - MAX_WEEK_SPAN, end):
        query = Item.by_time.query(bucket, Item.tsk.between(lo, hi), filter_condition=condition)
        for item in read(query, f"slots {bucket}"):
            if isinstance(item, WeekItem):
                if item.span_end and parse_iso_z(item.span_end) > start:
                    patterns.append(pattern_of(item))
            elif isinstance(item, SlotItem):
                fixed.append(slot_of(item))
    return SlotSources(patterns, fixed)


def season_slot_sources(season_id: int, where: SlotFilter = ANY) -> SlotSources | None:
    """The patterns and fixed slots of one season's weeks that ``where`` accepts (one Query); None if unknown.

    A fixed slot is judged by its week's item, so slots stored before they carried the week's facts filter right.
    """
    partition = season_partition(season_id)
    if partition is None:
        return None
    _, weeks, slots = partition
    wanted = [w for w in weeks if where.accepts(w)]
    numbers = {int(w.race_week_num) for w in wanted}
    return SlotSources([pattern_of(w) for w in wanted], [slot_of(i) for i in slots if int(i.race_week_num) in numbers])
