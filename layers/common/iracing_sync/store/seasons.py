"""Seasons: one partition per season holding its facts, its weeks (patterns stored once) and its fixed slots.

- season:     pk SEASON#<id>, sk META;                  by_parent SERIES#<series_id> / <season_id:08d>
- version:    pk SEASON#<id>, sk VERSION                (bumped by every sync that changes the partition)
- week:       pk SEASON#<id>, sk WEEK#<nn:03d>;         by_time T#<yyyy-mm of span start> / <start>#<season>#<week>#W
- fixed slot: pk SEASON#<id>, sk SLOT#<nn:03d>#<start>; by_time T#<yyyy-mm of start> / <start>#<season>#<week>#S

A sync reconciles the partition to exactly one season record (``store.season_writes.put_season``, which also
owns the VERSION item); reads return records (``models.records``), never items. The time-window reads for the
slot engine are in ``store.slot_sources``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException

from iracing_sync.errors import RetryableError
from iracing_sync.instants import iso_z, parse_iso_z
from iracing_sync.models.iracing import RaceTimeDescriptor, SeasonFacts
from iracing_sync.models.records import SeasonRecord, Slot, WeekPattern, WeekRecord
from iracing_sync.store import schema
from iracing_sync.store.schema import Item, RecordItem, content_hash, read, season_key


class SeasonItem(RecordItem, discriminator="season"):
    """A season's own facts (record: models.iracing.SeasonFacts); read whole, never filtered by attribute."""


class CarRestrictionMap(MapAttribute[str, Any]):
    car_id = NumberAttribute()
    max_dry_tire_sets = NumberAttribute(null=True)
    max_pct_fuel_fill = NumberAttribute(null=True)
    power_adjust_pct = NumberAttribute(null=True)
    weight_penalty_kg = NumberAttribute(null=True)


class _WeekKeyFacts(Item):
    """What a week item and a fixed-slot item both carry: the week's identity and every fact a filter reads.

    (The by_time index projects exactly these, plus the pattern or the slot's times: store.schema.)
    """

    season_id = NumberAttribute()
    series_id = NumberAttribute(null=True)
    race_week_num = NumberAttribute()
    series_name = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    license_group = NumberAttribute(null=True)
    track_id = NumberAttribute(null=True)
    track_name = UnicodeAttribute(null=True)
    config_name = UnicodeAttribute(null=True)
    car_class_ids = ListAttribute(of=NumberAttribute, default=list)
    race_week_car_ids = ListAttribute(of=NumberAttribute, default=list)


class WeekItem(_WeekKeyFacts, discriminator="week"):
    start_date = UnicodeAttribute(null=True)
    week_end_time = UnicodeAttribute(null=True)
    car_restrictions = ListAttribute(of=CarRestrictionMap, default=list)
    race_lap_limit = NumberAttribute(null=True)
    race_time_limit = NumberAttribute(null=True)
    weather_summary = MapAttribute[str, Any](null=True)
    # The week's repeating race_time_descriptors as JSON: the pattern the slot engine expands.
    descriptors = UnicodeAttribute(default="[]")
    span_end = UnicodeAttribute(null=True)


class SlotItem(_WeekKeyFacts, discriminator="slot"):
    """A fixed session time, with its week's facts (a fixed slot is found by time without its week)."""

    start_time = UnicodeAttribute()
    end_time = UnicodeAttribute()
    super_session = BooleanAttribute(default=False)


# --- records to items -----------------------------------------------------------------------------


def desired_items(season: SeasonRecord) -> list[Item]:
    """Every item the season's partition should hold (but its VERSION item), content hashes set."""
    weeks = {w.pattern.race_week_num: w for w in season.weeks}
    items: list[Item] = [
        _season_item(season),
        *map(_week_item, season.weeks),
        *(_slot_item(s, weeks.get(s.race_week_num)) for s in season.fixed_slots),
    ]
    for item in items:
        item.content_hash = content_hash(item)
    return items


def _season_item(s: SeasonFacts) -> SeasonItem:
    return SeasonItem(
        pk=season_key(s.season_id),
        sk="META",
        gsi1pk=schema.series_key(s.series_id) if s.series_id is not None else None,
        gsi1sk=schema.id_sort_key(s.season_id) if s.series_id is not None else None,
        record=s.model_dump_json(include=set(SeasonFacts.model_fields)),
    )


def meta_item(facts: SeasonFacts) -> SeasonItem:
    """The META item holding a season's facts, its content hash set."""
    item = _season_item(facts)
    item.content_hash = content_hash(item)
    return item


def time_keys(start: datetime, season_id: int, race_week_num: int, suffix: str) -> dict[str, Any]:
    """The by_time keys of a week (suffix W, at its first session day) or a fixed slot (S, at its start)."""
    return {"tpk": schema.time_bucket(start), "tsk": f"{iso_z(start)}#{season_id:08d}#{race_week_num:03d}#{suffix}"}


_IDENTITY = ("season_id", "series_id", "race_week_num", "series_name", "track_id", "track_name", "config_name")


def _key_facts(of: WeekPattern | Slot, week: WeekRecord | None) -> dict[str, Any]:
    """The _WeekKeyFacts values of a week or fixed slot: its identity and its week's filterable facts."""
    return {
        **{name: getattr(of, name) for name in _IDENTITY},
        "category": week.category if week else None,
        "license_group": week.license_group if week else None,
        "car_class_ids": list(week.car_class_ids) if week else [],
        "race_week_car_ids": list(week.race_week_car_ids) if week else [],
    }


def _week_item(w: WeekRecord) -> WeekItem:
    p = w.pattern
    item = WeekItem(
        pk=season_key(p.season_id),
        sk=f"WEEK#{p.race_week_num:03d}",
        **_key_facts(p, w),
        start_date=w.start_date.isoformat() if w.start_date else None,
        week_end_time=iso_z(w.week_end_time) if w.week_end_time else None,
        car_restrictions=[CarRestrictionMap(**r.model_dump()) for r in w.car_restrictions],
        race_lap_limit=w.race_lap_limit,
        race_time_limit=w.race_time_limit,
        weather_summary=w.weather_summary,
        descriptors=json.dumps([d.model_dump(mode="json") for d in p.descriptors], sort_keys=True),
    )
    if w.span_start is not None and w.span_end is not None:
        # Sparse index: a week without a repeating pattern has nothing to find by time.
        item.span_end = iso_z(w.span_end)
        for k, v in time_keys(w.span_start, p.season_id, p.race_week_num, "W").items():
            setattr(item, k, v)
    return item


def _slot_item(s: Slot, week: WeekRecord | None = None) -> SlotItem:
    start = iso_z(s.start_time)
    return SlotItem(
        pk=season_key(s.season_id),
        sk=f"SLOT#{s.race_week_num:03d}#{start}",
        **_key_facts(s, week),
        start_time=start,
        end_time=iso_z(s.end_time),
        super_session=s.super_session,
        **time_keys(s.start_time, s.season_id, s.race_week_num, "S"),
    )


# --- items to records -----------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    return int(value) if value is not None else None


def _identity_of(item: WeekItem | SlotItem) -> dict[str, Any]:
    """The identity fields of the week a week or slot item belongs to (numbers as ints)."""
    return {
        "season_id": int(item.season_id),
        "series_id": _int(item.series_id),
        "race_week_num": int(item.race_week_num),
        "series_name": item.series_name,
        "track_id": _int(item.track_id),
        "track_name": item.track_name,
        "config_name": item.config_name,
    }


def pattern_of(item: WeekItem) -> WeekPattern:
    """The pattern a week item stores (what the slot engine expands)."""
    descriptors = [RaceTimeDescriptor.model_validate(d) for d in json.loads(item.descriptors or "[]")]
    return WeekPattern(**_identity_of(item), descriptors=descriptors)


def slot_of(item: SlotItem) -> Slot:
    """The fixed slot a slot item stores."""
    return Slot(
        **_identity_of(item),
        start_time=parse_iso_z(item.start_time),
        end_time=parse_iso_z(item.end_time),
        super_session=bool(item.super_session),
    )


def _week_of(item: WeekItem) -> WeekRecord:
    weather = item.weather_summary
    return WeekRecord(
        pattern=pattern_of(item),
        start_date=item.start_date,
        week_end_time=item.week_end_time,
        category=item.category,
        license_group=item.license_group,
        car_class_ids=item.car_class_ids or [],
        car_restrictions=[r.as_dict() for r in item.car_restrictions or []],
        race_lap_limit=item.race_lap_limit,
        race_time_limit=item.race_time_limit,
        weather_summary=weather.as_dict() if isinstance(weather, MapAttribute) else weather,
        race_week_car_ids=item.race_week_car_ids or [],
        span_end=item.span_end,
    )


def _facts_of(item: SeasonItem) -> SeasonFacts:
    return SeasonFacts.model_validate_json(item.record)


# --- reads ----------------------------------------------------------------------------------------


def season_partition(season_id: int) -> tuple[SeasonItem, list[WeekItem], list[SlotItem]] | None:
    """The whole season partition in one Query (weeks in race-week order); None if the season is unknown."""
    items = read(Item.query(season_key(season_id)), f"season {season_id}")
    season = next((i for i in items if isinstance(i, SeasonItem)), None)
    if season is None:
        return None
    weeks = sorted((i for i in items if isinstance(i, WeekItem)), key=lambda w: int(w.race_week_num))
    return season, weeks, [i for i in items if isinstance(i, SlotItem)]


def get_season(season_id: int) -> SeasonRecord | None:
    """A season with its weeks and fixed slots (one Query); None if the season is unknown."""
    partition = season_partition(season_id)
    if partition is None:
        return None
    season, weeks, slots = partition
    facts = dict(_facts_of(season))
    return SeasonRecord(**facts, weeks=[_week_of(w) for w in weeks], fixed_slots=[slot_of(i) for i in slots])


def get_season_facts(season_id: int) -> SeasonFacts | None:
    """A season's own facts (one GetItem), or None if it is not stored."""
    try:
        item = Item.get(season_key(season_id), "META")
    except Item.DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of season {season_id} failed: {exc.msg}") from exc
    return _facts_of(item) if isinstance(item, SeasonItem) else None


def list_seasons_of_series(series_id: int) -> list[SeasonFacts]:
    """The seasons of one series, by season ID (one Query on by_parent)."""
    query = Item.by_parent.query(schema.series_key(series_id))
    items = read(query, f"seasons of series {series_id}")
    return [_facts_of(i) for i in items if isinstance(i, SeasonItem)]
