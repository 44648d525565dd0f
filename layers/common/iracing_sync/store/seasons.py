"""Seasons: one partition per season holding its facts, its weeks (patterns stored once) and its fixed slots.

- season:     pk SEASON#<id>, sk META;                  by_parent SERIES#<series_id> / <season_id:08d>
- version:    pk SEASON#<id>, sk VERSION                (bumped by every sync that changes the partition)
- week:       pk SEASON#<id>, sk WEEK#<nn:03d>;  by_time W#<yyyy-mm of first start> / <first start>#<season>#<week>
                                                 (starting sessions for 7 days or more: W#LONG / <last start>#...)
- fixed slot: pk SEASON#<id>, sk SLOT#<nn:03d>#<start>  (not in by_time: its week's descriptors hold its time)
- guide:      pk SEASON#<id>, sk GUIDE#<start>#<nn:03d>; by_parent GUIDE / <start>#<season:08d>#<nn:03d>
              (a race-guide session: its ID, entries and iRacing's end; written by store.guide, expiring: purge_at)
- grid:       pk GRID#<id>, sk GRID;  by_time S#<year of its end> / <end>#<season:08d> (all its weeks' facts for
              the season grid and the purchase guide: one Query finds every season running; its own partition, so
              a season's reads skip it; written by store.season_writes with the weeks, its hash kept on VERSION)
- forecast:   pk SEASON#<id>, sk FORECAST#<nn:03d> (a week's hourly forecast: store.forecasts; sorts before the
              rest, and the partition's reads skip it)

Race-guide sessions live in their season's partition, so a season's answer reads them with its weeks (no extra
request), and under by_parent GUIDE by start, so a window over all seasons reads them with one Query.

Week and fixed-slot items carry what a slot shows (series and season names, track, category, license, the week's
cars with their names, race length) and what planning reads (the packages of its track and cars, its weather
summary), written at sync time, so a window's answer reads nothing but week items. Those facts ride in ``cars``
(JSON): the time index projects that attribute, and an index's projection cannot change on a deployed table.

A sync reconciles the partition to exactly one season record (``store.season_writes.put_season``, which also
owns the VERSION item); reads return records (``models.records``), never items. The time-window reads for the
slot engine are in ``store.slot_sources``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple

from pynamodb.attributes import BooleanAttribute, ListAttribute, MapAttribute, NumberAttribute, UnicodeAttribute

from iracing_sync.instants import iso_z, parse_iso_z
from iracing_sync.models.iracing import RaceTimeDescriptor, SeasonFacts
from iracing_sync.models.planning import WeekPlan
from iracing_sync.models.records import (
    WEEK_SLOT_FACTS,
    CarRef,
    GuideSession,
    SeasonRecord,
    Slot,
    SlotKey,
    WeekPattern,
    WeekRecord,
)
from iracing_sync.store import schema
from iracing_sync.store.schema import Item, RecordItem, content_hash, get_item, plain, read, season_key


class SeasonItem(RecordItem, discriminator="season"):
    """A season's own facts (record: models.iracing.SeasonFacts); read whole, never filtered by attribute."""


class CarRestrictionMap(MapAttribute[str, Any]):
    car_id = NumberAttribute()
    max_dry_tire_sets = NumberAttribute(null=True)
    max_pct_fuel_fill = NumberAttribute(null=True)
    power_adjust_pct = NumberAttribute(null=True)
    weight_penalty_kg = NumberAttribute(null=True)


class _WeekKeyFacts(Item):
    """What a week item and a fixed-slot item both carry: the week's identity and every fact a slot shows or a
    filter reads. (The by_time index projects these from week items, plus the pattern: store.schema.)
    """

    season_id = NumberAttribute()
    series_id = NumberAttribute(null=True)
    race_week_num = NumberAttribute()
    series_name = UnicodeAttribute(null=True)
    season_name = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    license_group = NumberAttribute(null=True)
    track_id = NumberAttribute(null=True)
    track_name = UnicodeAttribute(null=True)
    config_name = UnicodeAttribute(null=True)
    car_class_ids = ListAttribute(of=NumberAttribute, default=list)
    race_week_car_ids = ListAttribute(of=NumberAttribute, default=list)
    # The week's cars and planning facts as JSON: {"cars": [{"car_id", "car_name"}], "plan": {...}} (format 3; a
    # bare list of cars before), and the cars' IDs for a car filter (contains).
    cars = UnicodeAttribute(default="[]")
    car_ids = ListAttribute(of=NumberAttribute, default=list)
    race_lap_limit = NumberAttribute(null=True)
    race_time_limit = NumberAttribute(null=True)


class WeekItem(_WeekKeyFacts, discriminator="week"):
    start_date = UnicodeAttribute(null=True)
    week_end_time = UnicodeAttribute(null=True)
    car_restrictions = ListAttribute(of=CarRestrictionMap, default=list)
    weather_summary = MapAttribute[str, Any](null=True)
    # The week's race_time_descriptors as JSON, repeating and fixed-time alike: the pattern the slot engine expands.
    descriptors = UnicodeAttribute(default="[]")
    first_start = UnicodeAttribute(null=True)
    last_start = UnicodeAttribute(null=True)
    span_end = UnicodeAttribute(null=True)


class SlotItem(_WeekKeyFacts, discriminator="slot"):
    """A fixed session time, with its week's facts (the hook for matching iRacing's race guide)."""

    start_time = UnicodeAttribute()
    end_time = UnicodeAttribute()
    super_session = BooleanAttribute(default=False)


GUIDE = "GUIDE"  # the by_parent partition of every race-guide session
GUIDE_PREFIX = "GUIDE#"
# A week's forecast sorts before every other item of its season (store.forecasts): reads of the partition skip it.
FORECAST_PREFIX = "FORECAST#"
AFTER_FORECASTS = "FORECAST$"
GRID_KEY = "GRID"


class GridItem(Item, discriminator="season_grid"):
    """A season's weeks as the season grid and the purchase guide read them (no descriptors), in the time index by
    the end of its last racing day (its tsk; ``first_start``: its first session start), so one Query per year finds
    every season running at an instant. Its weeks ride in ``cars``, which the time index projects; it has its own
    partition (GRID#<id>), so reading a season's partition never reads it."""

    season_id = NumberAttribute()
    series_id = NumberAttribute(null=True)
    series_name = UnicodeAttribute(null=True)
    season_name = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    license_group = NumberAttribute(null=True)
    first_start = UnicodeAttribute(null=True)
    last_start = UnicodeAttribute(null=True)
    weeks = UnicodeAttribute(attr_name="cars", default="{}")


class GuideSessionItem(Item, discriminator="guide_session"):
    """A race-guide session (models.records.GuideSession) in its season's partition; it expires (purge_at)."""

    season_id = NumberAttribute()
    series_id = NumberAttribute(null=True)
    race_week_num = NumberAttribute()
    start_time = UnicodeAttribute()
    end_time = UnicodeAttribute()
    super_session = BooleanAttribute(default=False)
    session_id = NumberAttribute(null=True)
    entry_count = NumberAttribute(null=True)


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


_IDENTITY = schema.WEEK_IDENTITY  # the week's identity and the facts kept as their own attributes


def _facts_json(cars: Iterable[CarRef], plan: WeekPlan | None) -> str:
    """What ``cars`` holds: the week's cars and its planning facts, as JSON."""
    value: dict[str, Any] = {"cars": [c.model_dump() for c in cars]}
    if plan is not None:
        value["plan"] = plan.model_dump(mode="json", exclude_none=True)
    return json.dumps(value, sort_keys=True)


def _key_facts(of: WeekPattern | Slot, week: WeekRecord | None) -> dict[str, Any]:
    """The _WeekKeyFacts values of a week or fixed slot: its identity and the facts a slot shows or a filter reads."""
    return {
        **{name: getattr(of, name) for name in _IDENTITY},
        "cars": _facts_json(of.cars, week.pattern.plan if week else None),
        "car_ids": [c.car_id for c in of.cars],
        "race_lap_limit": of.race_laps,
        "race_time_limit": of.race_minutes,
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
        weather_summary=w.weather_summary.model_dump() if w.weather_summary else None,
        descriptors=json.dumps([d.model_dump(mode="json") for d in p.descriptors], sort_keys=True),
        span_end=iso_z(w.span_end) if w.span_end else None,
    )
    if w.first_start is not None and w.last_start is not None:
        # Sparse index: a week without a session has nothing to find by time.
        item.first_start, item.last_start = iso_z(w.first_start), iso_z(w.last_start)
        for k, v in schema.week_time_keys(w.first_start, w.last_start, p.season_id, p.race_week_num).items():
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
    )


def _grid_weeks(weeks: list[WeekRecord]) -> dict[str, Any]:
    """What a grid item holds: its weeks, each naming its packages and cars by reference to the season's lists (a
    package or car races many weeks: an annual season's item stays a few KB). ``grid.grid_weeks`` resolves them."""
    packages: dict[str, int] = {}
    cars: dict[int, str | None] = {}

    def ref(package: Any) -> int:
        text = package.model_dump_json(exclude_none=True)
        return packages.setdefault(text, len(packages))

    out = []
    for w in weeks:
        p = w.pattern
        plan = p.plan or WeekPlan()
        cars.update((c.car_id, c.car_name) for c in p.cars)
        out.append(
            {
                "race_week_num": p.race_week_num,
                "start_date": w.start_date.isoformat() if w.start_date else None,
                "week_end_time": iso_z(w.week_end_time) if w.week_end_time else None,
                "first_start": iso_z(w.first_start) if w.first_start else None,
                "last_start": iso_z(w.last_start) if w.last_start else None,
                "track_id": p.track_id,
                "track_name": p.track_name,
                "config_name": p.config_name,
                "category": p.category,
                "car_ids": [c.car_id for c in p.cars],
                "race_laps": p.race_laps,
                "race_minutes": p.race_minutes,
                "track_package": ref(plan.track_package) if plan.track_package is not None else None,
                "car_packages": [ref(c) for c in plan.car_packages],
                "weather_summary": plan.weather_summary.model_dump(exclude_none=True) if plan.weather_summary else None,
            }
        )
    return {
        "packages": [json.loads(text) for text in packages],
        "cars": {str(car_id): name for car_id, name in cars.items()},
        "weeks": out,
    }


def grid_key(season_id: int) -> str:
    return f"GRID#{season_id}"


def grid_item(season: SeasonRecord) -> GridItem:
    """The season's grid item, its content hash set; in the time index by its end (not for a season without any
    session: nothing is running then)."""
    starts = [w.first_start for w in season.weeks if w.first_start is not None]
    ends = [w.span_end for w in season.weeks if w.span_end is not None]
    lasts = [w.last_start for w in season.weeks if w.last_start is not None]
    item = GridItem(
        pk=grid_key(season.season_id),
        sk=GRID_KEY,
        season_id=season.season_id,
        series_id=season.series_id,
        series_name=season.series_name,
        season_name=season.season_name,
        category=season.category,
        license_group=season.license_group,
        weeks=json.dumps(_grid_weeks(season.weeks), sort_keys=True, separators=(",", ":")),
    )
    if starts and ends and lasts:
        end = max(ends)
        item.tpk, item.tsk = schema.grid_bucket(end), f"{iso_z(end)}#{season.season_id:08d}"
        item.first_start, item.last_start = iso_z(min(starts)), iso_z(max(lasts))
    item.content_hash = content_hash(item)
    return item


def guide_item(session: GuideSession, purge_at: datetime) -> GuideSessionItem:
    """The item of one race-guide session (in its season's partition and under by_parent GUIDE by start)."""
    return GuideSessionItem(
        pk=season_key(session.season_id),
        sk=guide_item_key(session),
        gsi1pk=GUIDE,
        gsi1sk=guide_sort_key(session.start_time, session.season_id, session.race_week_num),
        season_id=session.season_id,
        series_id=session.series_id,
        race_week_num=session.race_week_num,
        start_time=iso_z(session.start_time),
        end_time=iso_z(session.end_time),
        super_session=session.super_session,
        session_id=session.session_id,
        entry_count=session.entry_count,
        purge_at=purge_at,
    )


def guide_item_key(session: GuideSession) -> str:
    """A race-guide session's sort key in its season's partition."""
    return f"{GUIDE_PREFIX}{iso_z(session.start_time)}#{session.race_week_num:03d}"


def guide_sort_key(start: datetime, season_id: int, race_week_num: int) -> str:
    """A race-guide session's by_parent sort key: by start, then season and week."""
    return f"{iso_z(start)}#{season_id:08d}#{race_week_num:03d}"


def guide_session_of_raw(item: dict[str, Any]) -> GuideSession:
    """The race-guide session of a guide item in DynamoDB's attribute-value form (``schema.raw_query``'s)."""
    value = {name: plain(item[name]) for name in GuideSession._fields if name in item}
    value["start_time"], value["end_time"] = parse_iso_z(value["start_time"]), parse_iso_z(value["end_time"])
    value["super_session"] = bool(value.get("super_session"))
    return GuideSession(**value)


def live(items: Iterable[dict[str, Any]], now: float | None = None) -> dict[SlotKey, GuideSession]:
    """The race-guide sessions of these guide items (attribute-value form) not yet expired, by slot key: DynamoDB
    deletes an expired item only some time after its purge_at, and until then it is not shown."""
    at = time.time() if now is None else now
    sessions = (guide_session_of_raw(i) for i in items if "purge_at" not in i or plain(i["purge_at"]) > at)
    return {s.key: s for s in sessions}


# --- items to records -----------------------------------------------------------------------------

# What a week or fixed-slot item holds of its week's pattern (what the by_time index projects, less keys and bounds).
_FACT_ATTRIBUTES = (*_IDENTITY, "cars", "race_lap_limit", "race_time_limit")


@lru_cache(maxsize=4096)
def _cars(text: str) -> tuple[tuple[CarRef, ...], WeekPlan | None]:
    """The cars and the planning facts a week item stores (JSON); cached, as many weeks race the same cars.

    A bare list (an item written before format 3) holds the cars only: its week has no planning facts until its
    season is synced again (every season is, once, when the format changes).
    """
    value = json.loads(text)
    if isinstance(value, list):
        return tuple(CarRef(**c) for c in value), None
    plan = value.get("plan")
    return tuple(CarRef(**c) for c in value.get("cars", ())), (WeekPlan.model_validate(plan) if plan else None)


@lru_cache(maxsize=8192)
def _descriptors(text: str) -> tuple[RaceTimeDescriptor, ...]:
    """The descriptors a week item stores (JSON); cached, so a warm function parses a week once, not per answer."""
    return tuple(RaceTimeDescriptor.model_validate(d) for d in json.loads(text))


def _pattern(values: Mapping[str, Any], descriptors: str) -> WeekPattern:
    """A week's pattern from its item's attribute values (numbers as ints, cars and descriptors as JSON text)."""
    fields: dict[str, Any] = {name: values.get(name) for name in _IDENTITY}
    cars, plan = _cars(values.get("cars") or "[]")
    return WeekPattern.model_construct(
        **fields,
        cars=cars,
        plan=plan,
        race_laps=values.get("race_lap_limit"),
        race_minutes=values.get("race_time_limit"),
        descriptors=list(_descriptors(descriptors or "[]")),
    )


def _values(item: _WeekKeyFacts) -> dict[str, Any]:
    """A PynamoDB week or slot item's pattern facts (its numbers as ints)."""
    values = {name: getattr(item, name) for name in _FACT_ATTRIBUTES}
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in values.items()}


def pattern_of(item: WeekItem) -> WeekPattern:
    """The pattern a week item stores (what the slot engine expands)."""
    return _pattern(_values(item), item.descriptors)


def pattern_of_raw(item: dict[str, Any]) -> WeekPattern:
    """The pattern of a week item as ``schema.raw_query`` returns it (DynamoDB's attribute-value JSON)."""
    values = {name: plain(item[name]) for name in _FACT_ATTRIBUTES if name in item}
    return _pattern(values, plain(item["descriptors"]) if "descriptors" in item else "[]")


def slot_of(item: SlotItem) -> Slot:
    """The fixed slot a slot item stores."""
    facts = _pattern(_values(item), "[]")
    return Slot(
        season_id=facts.season_id,
        series_id=facts.series_id,
        race_week_num=facts.race_week_num,
        start_time=parse_iso_z(item.start_time),
        end_time=parse_iso_z(item.end_time),
        super_session=bool(item.super_session),
        **{name: getattr(facts, name) for name in WEEK_SLOT_FACTS},
    )


def _week_of(item: WeekItem) -> WeekRecord:
    weather = item.weather_summary
    return WeekRecord(
        pattern=pattern_of(item),
        start_date=item.start_date,
        week_end_time=item.week_end_time,
        car_class_ids=item.car_class_ids or [],
        car_restrictions=[r.as_dict() for r in item.car_restrictions or []],
        race_lap_limit=item.race_lap_limit,
        race_time_limit=item.race_time_limit,
        weather_summary=weather.as_dict() if isinstance(weather, MapAttribute) else weather,
        race_week_car_ids=item.race_week_car_ids or [],
        first_start=item.first_start,
        last_start=item.last_start,
        span_end=item.span_end,
    )


def facts_of(item: SeasonItem) -> SeasonFacts:
    """The facts a season's META item stores."""
    return SeasonFacts.model_validate_json(item.record)


# --- reads ----------------------------------------------------------------------------------------


class Partition(NamedTuple):
    """A season's partition as read: its facts, weeks (in race-week order), fixed slots and race-guide sessions."""

    season: SeasonItem
    weeks: list[WeekItem]
    slots: list[SlotItem]
    sessions: dict[SlotKey, GuideSession]


def season_partition(season_id: int) -> Partition | None:
    """The whole season partition in one Query (but its forecasts); None if the season is unknown."""
    items = read(Item.query(season_key(season_id), Item.sk > AFTER_FORECASTS), f"season {season_id}")
    season = next((i for i in items if isinstance(i, SeasonItem)), None)
    if season is None:
        return None
    weeks = sorted((i for i in items if isinstance(i, WeekItem)), key=lambda w: int(w.race_week_num))
    slots = [i for i in items if isinstance(i, SlotItem)]
    return Partition(season, weeks, slots, live(i.serialize() for i in items if isinstance(i, GuideSessionItem)))


def get_season(season_id: int) -> SeasonRecord | None:
    """A season with its weeks and fixed slots (one Query); None if the season is unknown."""
    partition = season_partition(season_id)
    if partition is None:
        return None
    season, weeks, slots, _ = partition
    facts = dict(facts_of(season))
    return SeasonRecord(**facts, weeks=[_week_of(w) for w in weeks], fixed_slots=[slot_of(i) for i in slots])


def get_season_facts(season_id: int) -> SeasonFacts | None:
    """A season's own facts (one GetItem), or None if it is not stored."""
    item = get_item(Item, season_key(season_id), "META", f"season {season_id}")
    return facts_of(item) if isinstance(item, SeasonItem) else None


def list_seasons_of_series(series_id: int) -> list[SeasonFacts]:
    """The seasons of one series, by season ID (one Query on by_parent)."""
    query = Item.by_parent.query(schema.series_key(series_id))
    items = read(query, f"seasons of series {series_id}")
    return [facts_of(i) for i in items if isinstance(i, SeasonItem)]
