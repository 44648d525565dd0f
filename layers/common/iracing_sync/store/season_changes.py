"""What a season write changes, in a racer's terms: the change records of one reconcile.

A new season is one ``season_added`` (never a record per week). Otherwise each week that appeared or vanished
is ``week_added``/``week_removed``; a week that changed its track, its repeating pattern or its cars is
``track_changed``/``times_changed``/``cars_changed`` (with before and after); a fixed session that appeared or
vanished is ``slot_added``/``slot_removed``. Other facts (weather, BOP, names) change silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from iracing_sync.models.records import ChangeKind, ChangeRecord
from iracing_sync.store.schema import Item, int_or_none
from iracing_sync.store.seasons import SeasonItem, SlotItem, WeekItem


def _track(week: WeekItem) -> dict[str, Any]:
    return {"track_id": int_or_none(week.track_id), "track_name": week.track_name, "config_name": week.config_name}


def _times(week: WeekItem) -> dict[str, Any]:
    # The repeating pattern only: a fixed session time is a slot of its own (slot_added/slot_removed).
    return {"descriptors": [d for d in json.loads(week.descriptors or "[]") if d.get("repeating")]}


def _ids(values: Any) -> list[int]:
    return [int(v) for v in values or []]


def _cars(week: WeekItem) -> dict[str, Any]:
    return {"car_class_ids": _ids(week.car_class_ids), "race_week_car_ids": _ids(week.race_week_car_ids)}


def _week(week: WeekItem) -> dict[str, Any]:
    return {**_track(week), "start_date": week.start_date, **_times(week)}


def _slot(slot: SlotItem) -> dict[str, Any]:
    return {"start_time": slot.start_time, "end_time": slot.end_time}


def season_changes(
    season_id: int, series_id: int | None, at: datetime, old: Iterable[Item], new: Iterable[Item], existed: bool
) -> list[ChangeRecord]:
    """The changes from the ``old`` items (those replaced or deleted) to the ``new`` ones (those written).

    ``existed``: whether the season was stored before; if not, the whole season is one ``season_added``.
    """
    new_items = {i.sk: i for i in new}
    if not existed:
        meta = next((i for i in new_items.values() if isinstance(i, SeasonItem)), None)
        facts = json.loads(meta.record) if meta is not None else {}
        weeks = sum(isinstance(i, WeekItem) for i in new_items.values())
        added = {"season_name": facts.get("season_name"), "weeks": weeks, "start_date": facts.get("start_date")}
        return [ChangeRecord(at=at, kind="season_added", season_id=season_id, series_id=series_id, after=added)]
    old_items = {i.sk: i for i in old}
    changes: list[ChangeRecord] = []

    def add(kind: ChangeKind, week: int | None, before: Any = None, after: Any = None) -> None:
        record = ChangeRecord(
            at=at, kind=kind, season_id=season_id, series_id=series_id, race_week_num=week, before=before, after=after
        )
        changes.append(record)

    for sk in sorted(old_items.keys() | new_items.keys()):
        before, after = old_items.get(sk), new_items.get(sk)
        if isinstance(after, WeekItem) or isinstance(before, WeekItem):
            week = int((after or before).race_week_num)  # type: ignore[union-attr]
            if not isinstance(before, WeekItem):
                add("week_added", week, after=_week(after))  # type: ignore[arg-type]
            elif not isinstance(after, WeekItem):
                add("week_removed", week, before=_week(before))
            else:
                for kind, part in (("track_changed", _track), ("times_changed", _times), ("cars_changed", _cars)):
                    if part(before) != part(after):
                        add(kind, week, before=part(before), after=part(after))  # type: ignore[arg-type]
        elif isinstance(after, SlotItem) and not isinstance(before, SlotItem):
            add("slot_added", int(after.race_week_num), after=_slot(after))
        elif isinstance(before, SlotItem) and not isinstance(after, SlotItem):
            add("slot_removed", int(before.race_week_num), before=_slot(before))
    return changes
