"""The catalog: series, car classes, cars and tracks, each under one by_parent partition.

- series:    pk SERIES#<id>,   sk META; by_parent SERIES     / <id:08d>
- car class: pk CARCLASS#<id>, sk META; by_parent CARCLASSES / <id:08d>
- car:       pk CAR#<id>,      sk META; by_parent CARS       / <id:08d>
- track:     pk TRACK#<id>,    sk META; by_parent TRACKS     / <id:08d>

Each item holds its record as JSON (``RecordItem``): nothing queries these by attribute. A sync makes a catalog
exactly what iRacing listed (content hashes: unchanged items are not written, vanished
ones are deleted); a list is one Query of its partition, one item one GetItem.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel
from pynamodb.exceptions import PynamoDBException

from iracing_sync.errors import RetryableError
from iracing_sync.models.iracing import Car, CarClass, Series, TrackConfig
from iracing_sync.models.records import CarClassRecord, TrackRecord
from iracing_sync.store import schema
from iracing_sync.store.schema import Item, RecordItem, WriteCounts, content_hash, id_sort_key, read

SERIES, CAR_CLASSES, CARS, TRACKS = "SERIES", "CARCLASSES", "CARS", "TRACKS"


class SeriesItem(RecordItem, discriminator="series"):
    """A series (record: models.iracing.Series)."""


class CarClassItem(RecordItem, discriminator="car_class"):
    """A car class (record: models.records.CarClassRecord)."""


class CarItem(RecordItem, discriminator="car"):
    """A car (record: models.iracing.Car)."""


class TrackItem(RecordItem, discriminator="track"):
    """A track configuration (record: models.records.TrackRecord, with its SVG layer URLs)."""


# --- writes ---------------------------------------------------------------------------------------


def _put_catalog(parent: str, items: list[Item], what: str) -> WriteCounts:
    """Make the catalog under ``parent`` (by_parent) exactly ``items``: write changes, delete what vanished."""
    counts = WriteCounts()
    try:
        existing = {(i.pk, i.sk): i.content_hash for i in Item.by_parent.query(parent)}
        desired = set()
        with Item.batch_write() as batch:
            for item in items:
                item.content_hash = content_hash(item)
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


def _item(kind: type[RecordItem], pk: str, parent: str, ident: int, record: BaseModel) -> Item:
    return kind(pk=pk, sk="META", gsi1pk=parent, gsi1sk=id_sort_key(ident), record=record.model_dump_json())


def put_series(series: Iterable[Series]) -> WriteCounts:
    """Make the stored series exactly these (by content hash)."""
    items = [_item(SeriesItem, schema.series_key(s.series_id), SERIES, s.series_id, s) for s in series]
    return _put_catalog(SERIES, items, "series")


def put_car_classes(classes: Iterable[CarClass]) -> WriteCounts:
    """Make the stored car classes exactly these, each with its car IDs."""
    items = [
        _item(
            CarClassItem,
            f"CARCLASS#{c.car_class_id}",
            CAR_CLASSES,
            c.car_class_id,
            CarClassRecord(**c.model_dump(exclude={"cars_in_class"}), car_ids=c.car_ids),
        )
        for c in classes
    ]
    return _put_catalog(CAR_CLASSES, items, "car classes")


def put_cars(cars: Iterable[Car]) -> WriteCounts:
    """Make the stored cars exactly these."""
    return _put_catalog(CARS, [_item(CarItem, f"CAR#{c.car_id}", CARS, c.car_id, c) for c in cars], "cars")


def put_tracks(tracks: Iterable[TrackConfig]) -> WriteCounts:
    """Make the stored track configurations exactly these, with their SVG map layer URLs."""
    items = [
        _item(
            TrackItem,
            schema.track_key(t.track_id),
            TRACKS,
            t.track_id,
            TrackRecord(**t.model_dump(exclude={"track_map_layers"}), track_map_layers=t.map_layer_urls),
        )
        for t in tracks
    ]
    return _put_catalog(TRACKS, items, "tracks")


# --- reads ----------------------------------------------------------------------------------------


def _listed[M: BaseModel](parent: str, kind: type[RecordItem], record: type[M]) -> list[M]:
    """Every record of one catalog, by ID (one Query of its by_parent partition)."""
    items = read(Item.by_parent.query(parent), parent.lower())
    return [record.model_validate_json(i.record) for i in items if isinstance(i, kind)]


def list_series() -> list[Series]:
    """All series, by ID (one Query on by_parent)."""
    return _listed(SERIES, SeriesItem, Series)


def get_series(series_id: int) -> Series | None:
    """One series by ID (GetItem); None if unknown."""
    try:
        item = Item.get(schema.series_key(series_id), "META")
    except Item.DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of series {series_id} failed: {exc.msg}") from exc
    return Series.model_validate_json(item.record) if isinstance(item, SeriesItem) else None


def list_car_classes() -> list[CarClassRecord]:
    """All car classes with their car IDs, by ID (one Query)."""
    return _listed(CAR_CLASSES, CarClassItem, CarClassRecord)


def list_cars() -> list[Car]:
    """All cars, by ID (one Query)."""
    return _listed(CARS, CarItem, Car)


def list_tracks() -> list[TrackRecord]:
    """All track configurations with their SVG layer URLs, by ID (one Query)."""
    return _listed(TRACKS, TrackItem, TrackRecord)


def car_classes_with_car(car_id: int) -> frozenset[int]:
    """The IDs of the stored car classes that hold ``car_id`` (one Query of the car classes)."""
    return frozenset(c.car_class_id for c in list_car_classes() if car_id in c.car_ids)


_META_KEYS = {"series": schema.series_key, "season": schema.season_key, "track": schema.track_key}


def is_stored(kind: str, ident: int) -> bool:
    """Whether the series, season or track ``ident`` is stored (one GetItem of its META item's keys)."""
    key = _META_KEYS[kind](ident)
    try:
        Item.get(key, "META", attributes_to_get=["pk", "sk", "item_type"])
    except Item.DoesNotExist:
        return False
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of {kind} {ident} failed: {exc.msg}") from exc
    return True
