"""DynamoDB persistence (the only module that imports PynamoDB).

One table, natural deterministic keys, so a retried or concurrent sync can never duplicate:

- series:     pk SERIES#<id>,   sk META;                  by_parent SERIES / <id:08d>
- season:     pk SEASON#<id>,   sk META;                  by_parent SERIES#<series_id> / <season_id:08d>
- week:       pk SEASON#<id>,   sk WEEK#<nn:03d>;         by_time T#<yyyy-mm of span start> / <start>#<season>#<week>#W
- fixed slot: pk SEASON#<id>,   sk SLOT#<nn:03d>#<start>; by_time T#<yyyy-mm of start> / <start>#<season>#<week>#S
- sync run:   pk RUN#<run_id>,  sk META;                  by_parent RUNS / <started_at>#<run_id>

Access patterns (none scans):
- GET /series: Query by_parent gsi1pk=SERIES.         - GET /series/{id}: GetItem SERIES#id/META.
- GET /series/{id}/seasons: Query by_parent SERIES#id. - GET /seasons/{id}[/slots]: Query pk=SEASON#id.
- GET /slots?from&to: Query by_time per month bucket of [from - MAX_WEEK_SPAN, to) (1-2 queries for a day).
- Sync of one season: Query pk=SEASON#id (keys + hashes), then write only what changed, delete what vanished.
- Recent sync runs: Query by_parent gsi1pk=RUNS, newest first.
Repeating patterns live once on the week item; only fixed session_times become slot items.
"""

from __future__ import annotations

import functools
import hashlib
import json
import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    DiscriminatorAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
)
from pynamodb.exceptions import PutError, PynamoDBException
from pynamodb.expressions.condition import Condition, size
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from iracing_sync.errors import ConcurrentUpdate, RetryableError
from iracing_sync.models import (
    Car,
    CarClass,
    RaceTimeDescriptor,
    RunSummary,
    SeasonRecord,
    Series,
    Slot,
    TrackConfig,
    WeekPattern,
    WeekRecord,
    iso_z,
)
from iracing_sync.recurrence import MAX_WEEK_SPAN
from iracing_sync.settings import get_settings


class ByParentIndex(GlobalSecondaryIndex["Item"]):
    """Children of a parent: all series, the seasons of a series, recent sync runs."""

    class Meta:
        index_name = "by_parent"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


# What slot expansion needs from a week or slot item; everything else stays on the base table.
TIME_INDEX_ATTRIBUTES = [
    "item_type",
    "season_id",
    "series_id",
    "race_week_num",
    "series_name",
    "track_id",
    "track_name",
    "config_name",
    "category",
    "license_group",
    # What a car_id filter needs (GET /slots?car_id): the week's car classes, or a car-switching week's cars.
    "car_class_ids",
    "race_week_car_ids",
    "descriptors",
    "span_end",
    "start_time",
    "end_time",
    "super_session",
]


class ByTimeIndex(GlobalSecondaryIndex["Item"]):
    """Week patterns and fixed slots by month bucket and start time."""

    class Meta:
        index_name = "by_time"
        projection = IncludeProjection(TIME_INDEX_ATTRIBUTES)

    tpk = UnicodeAttribute(hash_key=True)
    tsk = UnicodeAttribute(range_key=True)


class Item(Model):
    """Base of every item in the table (polymorphic on ``item_type``)."""

    class Meta:
        table_name = get_settings().table_name
        region = get_settings().region
        host = get_settings().dynamodb_endpoint
        billing_mode = "PAY_PER_REQUEST"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
    item_type = DiscriminatorAttribute()
    content_hash = UnicodeAttribute(null=True)
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    tpk = UnicodeAttribute(null=True)
    tsk = UnicodeAttribute(null=True)
    by_parent = ByParentIndex()
    by_time = ByTimeIndex()


class SeriesItem(Item, discriminator="series"):
    series_id = NumberAttribute()
    series_name = UnicodeAttribute()
    series_short_name = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    category_id = NumberAttribute(null=True)
    logo = UnicodeAttribute(null=True)
    large_image = UnicodeAttribute(null=True)
    small_image = UnicodeAttribute(null=True)


class CarClassItem(Item, discriminator="car_class"):
    car_class_id = NumberAttribute()
    name = UnicodeAttribute()
    short_name = UnicodeAttribute(null=True)
    relative_speed = NumberAttribute(null=True)
    car_ids = ListAttribute(of=NumberAttribute, default=list)


class CarItem(Item, discriminator="car"):
    car_id = NumberAttribute()
    car_name = UnicodeAttribute()
    car_name_abbreviated = UnicodeAttribute(null=True)
    car_dirpath = UnicodeAttribute(null=True)
    categories = ListAttribute(of=UnicodeAttribute, default=list)
    hp = NumberAttribute(null=True)
    car_weight = NumberAttribute(null=True)
    retired = BooleanAttribute(null=True)
    logo = UnicodeAttribute(null=True)
    small_image = UnicodeAttribute(null=True)
    large_image = UnicodeAttribute(null=True)
    folder = UnicodeAttribute(null=True)


class TrackItem(Item, discriminator="track"):
    track_id = NumberAttribute()
    track_name = UnicodeAttribute()
    config_name = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    category_id = NumberAttribute(null=True)
    time_zone = UnicodeAttribute(null=True)
    location = UnicodeAttribute(null=True)
    latitude = NumberAttribute(null=True)
    longitude = NumberAttribute(null=True)
    track_config_length = NumberAttribute(null=True)
    retired = BooleanAttribute(null=True)
    logo = UnicodeAttribute(null=True)
    small_image = UnicodeAttribute(null=True)
    folder = UnicodeAttribute(null=True)
    track_map = UnicodeAttribute(null=True)
    track_map_layers = MapAttribute[str, Any](default=dict)  # layer name -> SVG URL


class SeasonItem(Item, discriminator="season"):
    season_id = NumberAttribute()
    series_id = NumberAttribute(null=True)
    season_name = UnicodeAttribute(null=True)
    season_short_name = UnicodeAttribute(null=True)
    season_year = NumberAttribute(null=True)
    season_quarter = NumberAttribute(null=True)
    license_group = NumberAttribute(null=True)
    car_class_ids = ListAttribute(of=NumberAttribute, default=list)
    active = BooleanAttribute(null=True)
    official = BooleanAttribute(null=True)
    car_switching = BooleanAttribute(null=True)
    start_date = UnicodeAttribute(null=True)
    schedule_description = UnicodeAttribute(null=True)


class SeasonVersionItem(Item, discriminator="season_version"):
    """Bumped by every sync that changes a season partition (optimistic concurrency)."""

    version = NumberAttribute(default=0)


class CarRestrictionMap(MapAttribute[str, Any]):
    car_id = NumberAttribute()
    max_dry_tire_sets = NumberAttribute(null=True)
    max_pct_fuel_fill = NumberAttribute(null=True)
    power_adjust_pct = NumberAttribute(null=True)
    weight_penalty_kg = NumberAttribute(null=True)


class WeekItem(Item, discriminator="week"):
    season_id = NumberAttribute()
    series_id = NumberAttribute(null=True)
    race_week_num = NumberAttribute()
    series_name = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    license_group = NumberAttribute(null=True)
    start_date = UnicodeAttribute(null=True)
    week_end_time = UnicodeAttribute(null=True)
    track_id = NumberAttribute(null=True)
    track_name = UnicodeAttribute(null=True)
    config_name = UnicodeAttribute(null=True)
    car_class_ids = ListAttribute(of=NumberAttribute, default=list)
    car_restrictions = ListAttribute(of=CarRestrictionMap, default=list)
    race_lap_limit = NumberAttribute(null=True)
    race_time_limit = NumberAttribute(null=True)
    weather_summary = MapAttribute[str, Any](null=True)
    race_week_car_ids = ListAttribute(of=NumberAttribute, default=list)
    # The week's repeating race_time_descriptors as JSON: the pattern the slot engine expands.
    descriptors = UnicodeAttribute(default="[]")
    span_end = UnicodeAttribute(null=True)


class SlotItem(Item, discriminator="slot"):
    season_id = NumberAttribute()
    series_id = NumberAttribute(null=True)
    race_week_num = NumberAttribute()
    series_name = UnicodeAttribute(null=True)
    category = UnicodeAttribute(null=True)
    license_group = NumberAttribute(null=True)
    track_id = NumberAttribute(null=True)
    track_name = UnicodeAttribute(null=True)
    config_name = UnicodeAttribute(null=True)
    start_time = UnicodeAttribute()
    end_time = UnicodeAttribute()
    super_session = BooleanAttribute(default=False)
    # The week's facts a /slots filter reads, as on the week item (a fixed slot is found without its week).
    car_class_ids = ListAttribute(of=NumberAttribute, default=list)
    race_week_car_ids = ListAttribute(of=NumberAttribute, default=list)


class SyncRunItem(Item, discriminator="sync_run"):
    run_id = UnicodeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    started_at = UnicodeAttribute()
    finished_at = UnicodeAttribute(null=True)
    api_requests = NumberAttribute(default=0)
    items_written = NumberAttribute(default=0)
    items_unchanged = NumberAttribute(default=0)
    items_deleted = NumberAttribute(default=0)
    seasons_synced = NumberAttribute(default=0)
    failed = UnicodeAttribute(default="[]")  # JSON list of {season_id, error, reason}


# --- keys ----------------------------------------------------------------------------------------


def series_key(series_id: int) -> str:
    return f"SERIES#{series_id}"


def season_key(season_id: int) -> str:
    return f"SEASON#{season_id}"


def _bucket(when: datetime) -> str:
    return f"T#{when:%Y-%m}"


def _month_buckets(start: datetime, end: datetime) -> list[str]:
    """Month buckets touched by [start, end)."""
    buckets, cursor = [], datetime(start.year, start.month, 1, tzinfo=UTC)
    while cursor < end:
        buckets.append(_bucket(cursor))
        cursor = datetime(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1, tzinfo=UTC)
    return buckets


# --- table lifecycle ------------------------------------------------------------------------------


def ensure_table() -> bool:
    """Create the table if it does not exist (local stack and tests); True if it was created."""
    try:
        if Item.exists():
            return False
        Item.create_table(wait=True)
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB table {Item.Meta.table_name}: {exc.msg}") from exc
    return True


# --- writes ---------------------------------------------------------------------------------------


@dataclass
class WriteCounts:
    """How a reconcile went: items written, left unchanged and deleted."""

    written: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __iadd__(self, other: WriteCounts) -> WriteCounts:
        self.written += other.written
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        return self


def _content_hash(item: Item) -> str:
    data = item.serialize()
    data.pop("content_hash", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:32]


def _existing_hashes(pk: str) -> dict[str, str | None]:
    return {i.sk: i.content_hash for i in Item.query(pk, attributes_to_get=["pk", "sk", "item_type", "content_hash"])}


def put_season(season: SeasonRecord) -> WriteCounts:
    """Make the season's partition exactly this record: write what changed, delete what vanished.

    Concurrent syncs of one season are serialized optimistically: the partition's VERSION item is
    bumped with a condition on the version read first. The loser raises ConcurrentUpdate (retryable),
    and its retry reconciles against the winner's items, so the partition always ends as exactly the
    items of one sync, never a mix.
    """
    pk = season_key(season.season_id)
    items = _read(Item.query(pk, attributes_to_get=["pk", "sk", "item_type", "content_hash", "version"]), pk)
    version_item = next((i for i in items if isinstance(i, SeasonVersionItem)), None)
    read_version = int(version_item.version) if version_item is not None else 0
    existing = {i.sk: i.content_hash for i in items if not isinstance(i, SeasonVersionItem)}
    weeks = {w.pattern.race_week_num: w for w in season.weeks}
    desired: list[Item] = [
        _season_item(season),
        *map(_week_item, season.weeks),
        *(_slot_item(s, weeks.get(s.race_week_num)) for s in season.fixed_slots),
    ]
    counts = WriteCounts()
    seen: set[str] = set()
    try:
        with Item.batch_write() as batch:
            for item in desired:
                item.content_hash = _content_hash(item)
                seen.add(item.sk)
                if existing.get(item.sk) == item.content_hash:
                    counts.unchanged += 1
                    continue
                batch.save(item)
                counts.written += 1
            for sk in existing.keys() - seen:
                batch.delete(Item(pk=pk, sk=sk))
                counts.deleted += 1
        if counts.written or counts.deleted:
            condition = (
                SeasonVersionItem.version == read_version
                if version_item is not None
                else SeasonVersionItem.pk.does_not_exist()
            )
            SeasonVersionItem(pk=pk, sk="VERSION", version=read_version + 1).save(condition=condition)
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise ConcurrentUpdate(f"season {season.season_id} was synced concurrently; retry") from exc
        raise RetryableError(f"DynamoDB write of season {season.season_id} failed: {exc.msg}") from exc
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of season {season.season_id} failed: {exc.msg}") from exc
    return counts


def _put_catalog(parent: str, items: list[Item], what: str) -> WriteCounts:
    """Make the catalog under ``parent`` (by_parent) exactly ``items``: write changes, delete what vanished."""
    counts = WriteCounts()
    try:
        existing = {(i.pk, i.sk): i.content_hash for i in Item.by_parent.query(parent)}
        desired = set()
        with Item.batch_write() as batch:
            for item in items:
                item.content_hash = _content_hash(item)
                desired.add((item.pk, item.sk))
                if existing.get((item.pk, item.sk)) == item.content_hash:
                    counts.unchanged += 1
                    continue
                batch.save(item)
                counts.written += 1
            for pk, sk in existing.keys() - desired:
                batch.delete(Item(pk=pk, sk=sk))
                counts.deleted += 1
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of {what} failed: {exc.msg}") from exc
    return counts


def put_series(series: Iterable[Series]) -> WriteCounts:
    """Make the stored series exactly these (by content hash)."""
    return _put_catalog("SERIES", [_series_item(s) for s in series], "series")


def put_car_classes(classes: Iterable[CarClass]) -> WriteCounts:
    """Make the stored car classes exactly these, each with its car IDs."""
    items: list[Item] = [
        CarClassItem(
            pk=f"CARCLASS#{c.car_class_id}",
            sk="META",
            gsi1pk="CARCLASSES",
            gsi1sk=f"{c.car_class_id:08d}",
            car_class_id=c.car_class_id,
            name=c.name,
            short_name=c.short_name,
            relative_speed=c.relative_speed,
            car_ids=c.car_ids,
        )
        for c in classes
    ]
    return _put_catalog("CARCLASSES", items, "car classes")


def put_cars(cars: Iterable[Car]) -> WriteCounts:
    """Make the stored cars exactly these."""
    items: list[Item] = [
        CarItem(pk=f"CAR#{c.car_id}", sk="META", gsi1pk="CARS", gsi1sk=f"{c.car_id:08d}", **c.model_dump())
        for c in cars
    ]
    return _put_catalog("CARS", items, "cars")


def put_tracks(tracks: Iterable[TrackConfig]) -> WriteCounts:
    """Make the stored track configurations exactly these, with their SVG map layer URLs."""
    items: list[Item] = []
    for t in tracks:
        data = t.model_dump(exclude={"track_map_layers"})
        items.append(
            TrackItem(
                pk=f"TRACK#{t.track_id}",
                sk="META",
                gsi1pk="TRACKS",
                gsi1sk=f"{t.track_id:08d}",
                track_map_layers=t.map_layer_urls,
                **data,
            )
        )
    return _put_catalog("TRACKS", items, "tracks")


def list_catalog(parent: str) -> list[Item]:
    """Every item of a catalog (SERIES, CARCLASSES, CARS, TRACKS) in ID order (one Query)."""
    return _read(Item.by_parent.query(parent), parent.lower())


def _series_item(s: Series) -> SeriesItem:
    return SeriesItem(
        pk=series_key(s.series_id),
        sk="META",
        gsi1pk="SERIES",
        gsi1sk=f"{s.series_id:08d}",
        series_id=s.series_id,
        series_name=s.series_name,
        series_short_name=s.series_short_name,
        category=s.category,
        category_id=s.category_id,
        logo=s.logo,
        large_image=s.large_image,
        small_image=s.small_image,
    )


def _season_item(s: SeasonRecord) -> SeasonItem:
    return SeasonItem(
        pk=season_key(s.season_id),
        sk="META",
        gsi1pk=series_key(s.series_id) if s.series_id is not None else None,
        gsi1sk=f"{s.season_id:08d}" if s.series_id is not None else None,
        season_id=s.season_id,
        series_id=s.series_id,
        season_name=s.season_name,
        season_short_name=s.season_short_name,
        season_year=s.season_year,
        season_quarter=s.season_quarter,
        license_group=s.license_group,
        car_class_ids=list(s.car_class_ids),
        active=s.active,
        official=s.official,
        car_switching=s.car_switching,
        start_date=s.start_date.isoformat() if s.start_date else None,
        schedule_description=s.schedule_description,
    )


def _time_keys(start: datetime, season_id: int, race_week_num: int, suffix: str) -> dict[str, str]:
    return {"tpk": _bucket(start), "tsk": f"{iso_z(start)}#{season_id:08d}#{race_week_num:03d}#{suffix}"}


def _week_item(w: WeekRecord) -> WeekItem:
    p = w.pattern
    item = WeekItem(
        pk=season_key(p.season_id),
        sk=f"WEEK#{p.race_week_num:03d}",
        season_id=p.season_id,
        series_id=p.series_id,
        race_week_num=p.race_week_num,
        series_name=p.series_name,
        category=w.category,
        license_group=w.license_group,
        start_date=w.start_date.isoformat() if w.start_date else None,
        week_end_time=iso_z(w.week_end_time) if w.week_end_time else None,
        track_id=p.track_id,
        track_name=p.track_name,
        config_name=p.config_name,
        car_class_ids=list(w.car_class_ids),
        car_restrictions=[CarRestrictionMap(**r.model_dump()) for r in w.car_restrictions],
        race_lap_limit=w.race_lap_limit,
        race_time_limit=w.race_time_limit,
        weather_summary=w.weather_summary,
        race_week_car_ids=list(w.race_week_car_ids),
        descriptors=json.dumps([d.model_dump(mode="json") for d in p.descriptors], sort_keys=True),
    )
    if w.span_start is not None and w.span_end is not None:
        # Sparse index: a week without a repeating pattern has nothing to find by time.
        item.span_end = iso_z(w.span_end)
        for k, v in _time_keys(w.span_start, p.season_id, p.race_week_num, "W").items():
            setattr(item, k, v)
    return item


def _slot_item(s: Slot, week: WeekRecord | None = None) -> SlotItem:
    start = iso_z(s.start_time)
    keys = _time_keys(s.start_time, s.season_id, s.race_week_num, "S")
    return SlotItem(
        category=week.category if week else None,
        license_group=week.license_group if week else None,
        car_class_ids=list(week.car_class_ids) if week else [],
        race_week_car_ids=list(week.race_week_car_ids) if week else [],
        pk=season_key(s.season_id),
        sk=f"SLOT#{s.race_week_num:03d}#{start}",
        season_id=s.season_id,
        series_id=s.series_id,
        race_week_num=s.race_week_num,
        series_name=s.series_name,
        track_id=s.track_id,
        track_name=s.track_name,
        config_name=s.config_name,
        start_time=start,
        end_time=iso_z(s.end_time),
        super_session=s.super_session,
        tpk=keys["tpk"],
        tsk=keys["tsk"],
    )


# --- reads ----------------------------------------------------------------------------------------


def _parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _pattern(item: WeekItem) -> WeekPattern:
    return WeekPattern(
        season_id=int(item.season_id),
        series_id=int(item.series_id) if item.series_id is not None else None,
        race_week_num=int(item.race_week_num),
        series_name=item.series_name,
        track_id=int(item.track_id) if item.track_id is not None else None,
        track_name=item.track_name,
        config_name=item.config_name,
        descriptors=[RaceTimeDescriptor.model_validate(d) for d in json.loads(item.descriptors or "[]")],
    )


def _slot(item: SlotItem) -> Slot:
    return Slot(
        season_id=int(item.season_id),
        series_id=int(item.series_id) if item.series_id is not None else None,
        race_week_num=int(item.race_week_num),
        start_time=_parse_time(item.start_time),
        end_time=_parse_time(item.end_time),
        super_session=bool(item.super_session),
        series_name=item.series_name,
        track_id=int(item.track_id) if item.track_id is not None else None,
        track_name=item.track_name,
        config_name=item.config_name,
    )


@dataclass
class SlotSources:
    """What the slot engine needs for a window: repeating week patterns plus fixed slots."""

    patterns: list[WeekPattern]
    fixed_slots: list[Slot]


def _read(query: Iterator[Item], what: str) -> list[Item]:
    try:
        return list(query)
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of {what} failed: {exc.msg}") from exc


@dataclass(frozen=True)
class SlotFilter:
    """Which weeks' slots a query wants; None is "any". Matched on the week's facts (week and fixed-slot items).

    ``car_class_ids`` are the classes holding ``car_id`` (see ``car_classes_with_car``): a week races the
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
    for bucket in _month_buckets(start - MAX_WEEK_SPAN, end):
        query = Item.by_time.query(bucket, Item.tsk.between(lo, hi), filter_condition=condition)
        for item in _read(query, f"slots {bucket}"):
            if isinstance(item, WeekItem):
                if item.span_end and _parse_time(item.span_end) > start:
                    patterns.append(_pattern(item))
            elif isinstance(item, SlotItem):
                fixed.append(_slot(item))
    return SlotSources(patterns, fixed)


@dataclass
class StoredSeason:
    """A season as stored: its meta item, week items and fixed slots."""

    season: SeasonItem
    weeks: list[WeekItem]
    sources: SlotSources


def _season_partition(season_id: int) -> tuple[SeasonItem, list[WeekItem], list[SlotItem]] | None:
    """The whole season partition in one Query (weeks in race-week order); None if the season is unknown."""
    items = _read(Item.query(season_key(season_id)), f"season {season_id}")
    season = next((i for i in items if isinstance(i, SeasonItem)), None)
    if season is None:
        return None
    weeks = sorted((i for i in items if isinstance(i, WeekItem)), key=lambda w: int(w.race_week_num))
    return season, weeks, [i for i in items if isinstance(i, SlotItem)]


def get_season(season_id: int) -> StoredSeason | None:
    """The whole season partition in one Query; None if the season is unknown."""
    partition = _season_partition(season_id)
    if partition is None:
        return None
    season, weeks, slots = partition
    return StoredSeason(season, weeks, SlotSources([_pattern(w) for w in weeks], [_slot(i) for i in slots]))


def season_slot_sources(season_id: int, where: SlotFilter = ANY) -> SlotSources | None:
    """The patterns and fixed slots of one season's weeks that ``where`` accepts (one Query); None if unknown.

    A fixed slot is judged by its week's item, so slots stored before they carried the week's facts filter right.
    """
    partition = _season_partition(season_id)
    if partition is None:
        return None
    _, weeks, slots = partition
    wanted = [w for w in weeks if where.accepts(w)]
    numbers = {int(w.race_week_num) for w in wanted}
    return SlotSources([_pattern(w) for w in wanted], [_slot(i) for i in slots if int(i.race_week_num) in numbers])


def car_classes_with_car(car_id: int) -> frozenset[int]:
    """The IDs of the stored car classes that hold ``car_id`` (one Query of the CARCLASSES catalog)."""
    query = Item.by_parent.query("CARCLASSES", attributes_to_get=["pk", "sk", "item_type", "car_class_id", "car_ids"])
    return frozenset(
        int(i.car_class_id)
        for i in _read(query, "car classes")
        if isinstance(i, CarClassItem) and car_id in (i.car_ids or [])
    )


_CATALOG_KEYS = {"series": series_key, "season": season_key, "track": lambda track_id: f"TRACK#{track_id}"}


def is_stored(kind: str, ident: int) -> bool:
    """Whether the series, season or track ``ident`` is stored (one GetItem of its META item's keys)."""
    key = _CATALOG_KEYS[kind](ident)
    try:
        Item.get(key, "META", attributes_to_get=["pk", "sk", "item_type"])
    except Item.DoesNotExist:
        return False
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of {kind} {ident} failed: {exc.msg}") from exc
    return True


SEASON_FACTS = (
    "series_id",
    "season_name",
    "season_short_name",
    "season_year",
    "season_quarter",
    "license_group",
    "car_class_ids",
    "active",
    "official",
    "car_switching",
    "start_date",
    "schedule_description",
)


def season_facts(season_id: int) -> dict[str, Any]:
    """The stored facts of a season (iRacing field names), or {} if it is not stored (one GetItem)."""
    try:
        item = Item.get(season_key(season_id), "META")
    except Item.DoesNotExist:
        return {}
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of season {season_id} failed: {exc.msg}") from exc
    values = item.attribute_values
    return {k: values[k] for k in SEASON_FACTS if values.get(k) is not None}


def get_series(series_id: int) -> SeriesItem | None:
    """One series by ID (GetItem); None if unknown."""
    try:
        item = Item.get(series_key(series_id), "META")
    except Item.DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of series {series_id} failed: {exc.msg}") from exc
    return item if isinstance(item, SeriesItem) else None


def list_series() -> list[SeriesItem]:
    """All series, by ID (one Query on by_parent)."""
    return [i for i in _read(Item.by_parent.query("SERIES"), "series") if isinstance(i, SeriesItem)]


def list_seasons_of_series(series_id: int) -> list[SeasonItem]:
    """The seasons of one series, by season ID (one Query on by_parent)."""
    query = Item.by_parent.query(series_key(series_id))
    return [i for i in _read(query, f"seasons of series {series_id}") if isinstance(i, SeasonItem)]


def item_to_dict(item: Item) -> dict[str, Any]:
    """A stored item as plain JSON-able data, without keys and bookkeeping attributes."""
    hidden = {"pk", "sk", "gsi1pk", "gsi1sk", "tpk", "tsk", "content_hash", "item_type"}
    data = {k: v for k, v in item.attribute_values.items() if k not in hidden}
    for k, v in data.items():
        if isinstance(v, list):
            data[k] = [x.as_dict() if isinstance(x, MapAttribute) else x for x in v]
        elif isinstance(v, MapAttribute):
            data[k] = v.as_dict()
    if isinstance(item, WeekItem):
        data["descriptors"] = json.loads(item.descriptors or "[]")
    return data


# --- sync runs ------------------------------------------------------------------------------------


def put_sync_run(summary: RunSummary, started_at: datetime, finished_at: datetime) -> None:
    """Record one finished sync run (overwrites a retried record of the same run)."""
    item = SyncRunItem(
        pk=f"RUN#{summary.run_id}",
        sk="META",
        gsi1pk="RUNS",
        gsi1sk=f"{iso_z(started_at)}#{summary.run_id}",
        run_id=summary.run_id,
        kind=summary.kind,
        status=summary.status,
        started_at=iso_z(started_at),
        finished_at=iso_z(finished_at),
        api_requests=summary.api_requests,
        items_written=summary.items_written,
        items_unchanged=summary.items_unchanged,
        items_deleted=summary.items_deleted,
        seasons_synced=summary.seasons_synced,
        failed=json.dumps(summary.failed),
    )
    try:
        item.save()
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of sync run {summary.run_id} failed: {exc.msg}") from exc


def list_sync_runs(limit: int = 20) -> list[dict[str, Any]]:
    """The most recent sync runs, newest first (one Query on by_parent)."""
    query = Item.by_parent.query("RUNS", scan_index_forward=False, limit=limit)
    runs = [i for i in _read(query, "sync runs") if isinstance(i, SyncRunItem)]
    out = []
    for run in runs:
        data = item_to_dict(run)
        data["failed"] = json.loads(run.failed or "[]")
        out.append(data)
    return out


# --- iRacing token state and rate budget (shared by every concurrent invocation) -------------------
#
# One account's OAuth tokens and request budget live on two items of the account's own partition,
#   token:       pk IRACING#<sha256(username)[:16]>, sk TOKEN
#   rate budget: pk IRACING#<sha256(username)[:16]>, sk RATE
# so every Lambda shares one login and one budget. Both change only by conditional writes, never by
# waiting: a write that loses a race reports it and the client decides (use the winner's token, or raise
# a retryable error for Step Functions to back off). No by_parent/by_time keys: no index, no API route
# ever sees these items.


def iracing_account_key(username: str) -> str:
    """The partition of one iRacing account (a hash, so the username is no key in the table)."""
    return "IRACING#" + hashlib.sha256(username.strip().lower().encode()).hexdigest()[:16]


class TokenStateItem(Item, discriminator="token"):
    """The account's OAuth tokens; ``lock_owner``/``locked_until`` mark a refresh in progress."""

    access_token = UnicodeAttribute(null=True)
    expires_at = NumberAttribute(null=True)
    refresh_token = UnicodeAttribute(null=True)
    refresh_expires_at = NumberAttribute(null=True)
    version = NumberAttribute(default=0)
    lock_owner = UnicodeAttribute(null=True)
    locked_until = NumberAttribute(null=True)


class RateBudgetItem(Item, discriminator="rate_budget"):
    """Requests left in the account's current rate window: iRacing's headers less our reservations."""

    reset_at = NumberAttribute()
    remaining = NumberAttribute()
    limit = NumberAttribute(null=True)
    # True until a response's x-ratelimit-* headers told us the server's own window.
    provisional = BooleanAttribute(default=False)


@dataclass(frozen=True)
class TokenState:
    """The shared token state as read (token values never appear in a repr)."""

    access_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: float | None = None
    version: int = 0
    locked_until: float | None = None

    def access_valid(self, now: float, margin: float) -> bool:
        """An access token that stays valid for at least ``margin`` seconds."""
        return bool(self.access_token) and (self.expires_at or 0) > now + margin

    def refresh_valid(self, now: float, margin: float) -> bool:
        """A refresh token not known to expire within ``margin`` seconds."""
        return bool(self.refresh_token) and (self.refresh_expires_at is None or self.refresh_expires_at > now + margin)

    def locked(self, now: float) -> bool:
        """Another invocation holds a live refresh lock."""
        return self.locked_until is not None and self.locked_until > now


def _lost_race(exc: PynamoDBException) -> bool:
    return getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException"


def _float_or_none(value: Any) -> float | None:
    return float(value) if value is not None else None


def load_token(account: str) -> TokenState | None:
    """The account's token state (consistent read), or None if no token was ever stored."""
    try:
        item = TokenStateItem.get(account, "TOKEN", consistent_read=True)
    except TokenStateItem.DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of the iRacing token state failed: {exc.msg}") from exc
    return TokenState(
        access_token=item.access_token,
        expires_at=_float_or_none(item.expires_at),
        refresh_token=item.refresh_token,
        refresh_expires_at=_float_or_none(item.refresh_expires_at),
        version=int(item.version or 0),
        locked_until=_float_or_none(item.locked_until),
    )


def lock_token(account: str, owner: str, version: int, now: float, until: float) -> bool:
    """Take the refresh lock if the state is still at ``version`` and no live lock is held.

    False means another invocation holds the lock, or has replaced the token since it was read.
    """
    unchanged = TokenStateItem.pk.does_not_exist() | (TokenStateItem.version == version)
    unlocked = TokenStateItem.locked_until.does_not_exist() | (TokenStateItem.locked_until <= now)
    try:
        TokenStateItem(account, "TOKEN").update(
            actions=[
                TokenStateItem.item_type.set(TokenStateItem),
                TokenStateItem.version.set(version),
                TokenStateItem.lock_owner.set(owner),
                TokenStateItem.locked_until.set(until),
            ],
            condition=unchanged & unlocked,
        )
    except PynamoDBException as exc:
        if _lost_race(exc):
            return False
        raise RetryableError(f"DynamoDB lock of the iRacing token state failed: {exc.msg}") from exc
    return True


def save_token(
    account: str,
    owner: str,
    *,
    access_token: str,
    expires_at: float,
    refresh_token: str | None,
    refresh_expires_at: float | None,
) -> bool:
    """Store a new token pair and release the lock, if ``owner`` still holds it (False if it lost it)."""
    actions: list[Any] = [
        TokenStateItem.access_token.set(access_token),
        TokenStateItem.expires_at.set(expires_at),
        TokenStateItem.version.add(1),
        TokenStateItem.lock_owner.remove(),
        TokenStateItem.locked_until.remove(),
    ]
    if refresh_token:
        actions += [TokenStateItem.refresh_token.set(refresh_token)]
        actions += [
            TokenStateItem.refresh_expires_at.set(refresh_expires_at)
            if refresh_expires_at is not None
            else TokenStateItem.refresh_expires_at.remove()
        ]
    else:
        # The old refresh token was spent (or never existed): keeping it would only cause an invalid_grant.
        actions += [TokenStateItem.refresh_token.remove(), TokenStateItem.refresh_expires_at.remove()]
    try:
        TokenStateItem(account, "TOKEN").update(actions=actions, condition=TokenStateItem.lock_owner == owner)
    except PynamoDBException as exc:
        if _lost_race(exc):
            return False
        raise RetryableError(f"DynamoDB write of the iRacing token state failed: {exc.msg}") from exc
    return True


def unlock_token(account: str, owner: str) -> None:
    """Release the refresh lock after a failed refresh, so the next invocation need not wait for it to expire."""
    try:
        TokenStateItem(account, "TOKEN").update(
            actions=[TokenStateItem.lock_owner.remove(), TokenStateItem.locked_until.remove()],
            condition=TokenStateItem.lock_owner == owner,
        )
    except PynamoDBException as exc:
        if not _lost_race(exc):
            raise RetryableError(f"DynamoDB unlock of the iRacing token state failed: {exc.msg}") from exc


@dataclass(frozen=True)
class Reservation:
    """The answer to "may I send one more request?": granted or not, and the window it belongs to."""

    granted: bool
    reset_at: float
    remaining: int  # left in the window after this reservation (or, when refused, before it)
    provisional: bool = False  # the window is our guess until iRacing's headers are seen


def _budget_key(account: str) -> RateBudgetItem:
    return RateBudgetItem(account, "RATE")


def reserve_request(account: str, *, now: float, reserve: int, default_limit: int, window: float) -> Reservation:
    """Count one request against the shared budget before it is sent (atomic; never waits).

    Granted while the current window has more than ``reserve`` requests left; the reserve absorbs the
    requests other invocations have in flight when a window changes. When no window is known or the known
    one is over, a provisional window of ``window`` seconds opens with the last seen limit; the first
    response's headers replace it with iRacing's own (see ``observe_rate``).
    """
    for _ in range(3):  # bounded: each pass either decides or loses a race to a writer that just decided
        item = _budget_key(account)
        try:
            item.update(
                actions=[RateBudgetItem.remaining.add(-1)],
                condition=(RateBudgetItem.reset_at > now) & (RateBudgetItem.remaining > reserve),
            )
            return Reservation(True, float(item.reset_at), int(item.remaining), bool(item.provisional))
        except PynamoDBException as exc:
            if not _lost_race(exc):
                raise RetryableError(f"DynamoDB update of the iRacing rate budget failed: {exc.msg}") from exc
        try:
            current = RateBudgetItem.get(account, "RATE", consistent_read=True)
        except RateBudgetItem.DoesNotExist:
            current = None
        except PynamoDBException as exc:
            raise RetryableError(f"DynamoDB read of the iRacing rate budget failed: {exc.msg}") from exc
        if current is not None and float(current.reset_at) > now:
            if int(current.remaining) <= reserve:
                return Reservation(False, float(current.reset_at), int(current.remaining))
            continue  # budget was replenished by a newer window meanwhile: try again
        limit = int(current.limit) if current is not None and current.limit else default_limit
        fresh = RateBudgetItem(
            account, "RATE", reset_at=now + window, remaining=limit - 1, limit=limit, provisional=True
        )
        try:
            fresh.save(condition=RateBudgetItem.pk.does_not_exist() | (RateBudgetItem.reset_at <= now))
            return Reservation(True, now + window, limit - 1, provisional=True)
        except PynamoDBException as exc:
            if not _lost_race(exc):
                raise RetryableError(f"DynamoDB write of the iRacing rate budget failed: {exc.msg}") from exc
    raise RetryableError("the iRacing rate budget is contended; retry")


def observe_rate(account: str, *, reset_at: float, remaining: int, limit: int | None, now: float) -> None:
    """Fold one response's x-ratelimit-* headers into the shared budget.

    A header of a window already over changes nothing. Otherwise the header wins over a provisional or
    older window, and within the same window the budget only ever goes down (the lower of ours and iRacing's).
    """
    if reset_at <= now:
        return
    condition = (
        RateBudgetItem.pk.does_not_exist()
        | (RateBudgetItem.provisional == True)  # noqa: E712 - a DynamoDB condition, not a Python comparison
        | (RateBudgetItem.reset_at < reset_at)
        | ((RateBudgetItem.reset_at == reset_at) & (RateBudgetItem.remaining > remaining))
    )
    actions: list[Any] = [
        RateBudgetItem.item_type.set(RateBudgetItem),
        RateBudgetItem.reset_at.set(reset_at),
        RateBudgetItem.remaining.set(remaining),
        RateBudgetItem.provisional.set(False),
    ]
    if limit is not None:
        actions.append(RateBudgetItem.limit.set(limit))
    try:
        _budget_key(account).update(actions=actions, condition=condition)
    except PynamoDBException as exc:
        if not _lost_race(exc):
            raise RetryableError(f"DynamoDB update of the iRacing rate budget failed: {exc.msg}") from exc
