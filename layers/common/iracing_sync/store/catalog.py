"""The catalog: series, car classes, cars and tracks, each under one by_parent partition.

- series:    pk SERIES#<id>,   sk META; by_parent SERIES     / <id:08d>
- car class: pk CARCLASS#<id>, sk META; by_parent CARCLASSES / <id:08d>
- car:       pk CAR#<id>,      sk META; by_parent CARS       / <id:08d>
- track:     pk TRACK#<id>,    sk META; by_parent TRACKS     / <id:08d>

Each item holds its record as JSON (``RecordItem``): nothing queries these by attribute. A sync makes a catalog
exactly what iRacing listed (content hashes: unchanged items are not written, vanished
ones are deleted); a list is one Query of its partition, one item one GetItem. A car class keeps its cars' names
(from the cars synced beside it), so it is answered whole by its one item.

The readers take the record type to validate into (``as_``): a record, or an answer shape that extends it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel, TypeAdapter
from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import PynamoDBException

from iracing_sync.errors import RetryableError
from iracing_sync.models.catalog import Car, CarClassRecord, Series, TrackConfig, TrackRecord, catalog_of
from iracing_sync.models.records import CarCatalog
from iracing_sync.store import schema
from iracing_sync.store.schema import Item, RecordItem, WriteCounts, content_hash, get_item, id_sort_key, raw_query

if TYPE_CHECKING:
    from iracing_sync.models.iracing_bodies import CarClass

SERIES, CAR_CLASSES, CARS, TRACKS = "SERIES", "CARCLASSES", "CARS", "TRACKS"


class SeriesItem(RecordItem, discriminator="series"):
    """A series (record: models.catalog.Series)."""


class CarClassItem(RecordItem, discriminator="car_class"):
    """A car class (record: models.catalog.CarClassRecord)."""


class CarItem(RecordItem, discriminator="car"):
    """A car (record: models.catalog.Car)."""


class TrackItem(RecordItem, discriminator="track"):
    """A track configuration (record: models.catalog.TrackRecord, with its SVG layer URLs)."""


class CarCatalogVersionItem(Item, discriminator="car_catalog_version"):
    """The digest of the stored car names, car classes and car and track packages (models.records.CarCatalog.digest),
    rewritten when they change: a warm sync function keeps its catalog while this holds the digest it read (one
    GetItem a season)."""

    digest = UnicodeAttribute()


_VERSION_KEY = ("CATALOG#CARS", "VERSION")


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


def put_car_classes(
    classes: Iterable[CarClass], cars: Iterable[Car] = (), tracks: Iterable[TrackConfig] = ()
) -> WriteCounts:
    """Make the stored car classes exactly these, each with its car IDs and their names (from ``cars``).

    Also records the digest of the catalog they make with ``cars`` and ``tracks`` (their packages too; written only
    when it changed; bookkeeping, so not among the counts).
    """
    classes, cars = list(classes), list(cars)
    names = CarCatalog(car_names={c.car_id: c.car_name for c in cars})
    items = [
        _item(
            CarClassItem,
            car_class_key(c.car_class_id),
            CAR_CLASSES,
            c.car_class_id,
            CarClassRecord(
                **c.model_dump(exclude={"cars_in_class"}), car_ids=c.car_ids, cars=list(names.cars(c.car_ids))
            ),
        )
        for c in classes
    ]
    counts = _put_catalog(CAR_CLASSES, items, "car classes")
    digest = catalog_of(cars, {c.car_class_id: tuple(c.car_ids) for c in classes}, tracks).digest
    if _catalog_digest() != digest:
        try:
            CarCatalogVersionItem(*_VERSION_KEY, digest=digest).save()
        except PynamoDBException as exc:
            raise RetryableError(f"DynamoDB write of the car catalog version failed: {exc.msg}") from exc
    return counts


def put_cars(cars: Iterable[Car]) -> WriteCounts:
    """Make the stored cars exactly these."""
    return _put_catalog(CARS, [_item(CarItem, car_key(c.car_id), CARS, c.car_id, c) for c in cars], "cars")


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


def car_key(car_id: int) -> str:
    return f"CAR#{car_id}"


def car_class_key(car_class_id: int) -> str:
    return f"CARCLASS#{car_class_id}"


def _listed[M: BaseModel](parent: str, kind: str, as_: type[M]) -> list[M]:
    """Every record of one catalog, by ID (one Query of its by_parent partition), validated in one go."""
    request = {
        "IndexName": "by_parent",
        "KeyConditionExpression": "#p = :p",
        "ExpressionAttributeNames": {"#p": "gsi1pk"},
        "ExpressionAttributeValues": {":p": {"S": parent}},
    }
    texts = [i["record"]["S"] for i in raw_query(request, parent.lower()) if i["item_type"]["S"] == kind]
    return TypeAdapter(list[as_]).validate_json("[" + ",".join(texts) + "]")  # type: ignore[valid-type]


def _got[M: BaseModel](key: str, kind: type[RecordItem], as_: type[M], what: str) -> M | None:
    """One catalog record by its key (GetItem); None if unknown."""
    item = get_item(Item, key, "META", what)
    return as_.model_validate_json(item.record) if isinstance(item, kind) else None


def list_series[M: Series = Series](as_: type[M] = Series) -> list[M]:  # type: ignore[assignment]
    """All series, by ID (one Query on by_parent)."""
    return _listed(SERIES, "series", as_)


def get_series[M: Series = Series](series_id: int, as_: type[M] = Series) -> M | None:  # type: ignore[assignment]
    """One series by ID (GetItem); None if unknown."""
    return _got(schema.series_key(series_id), SeriesItem, as_, f"series {series_id}")


def list_car_classes[M: CarClassRecord = CarClassRecord](as_: type[M] = CarClassRecord) -> list[M]:  # type: ignore[assignment]
    """All car classes with their cars, by ID (one Query)."""
    return _listed(CAR_CLASSES, "car_class", as_)


def get_car_class[M: CarClassRecord = CarClassRecord](car_class_id: int, as_: type[M] = CarClassRecord) -> M | None:  # type: ignore[assignment]
    """One car class with its cars (GetItem); None if unknown."""
    return _got(car_class_key(car_class_id), CarClassItem, as_, f"car class {car_class_id}")


def list_cars[M: Car = Car](as_: type[M] = Car) -> list[M]:  # type: ignore[assignment]
    """All cars, by ID (one Query)."""
    return _listed(CARS, "car", as_)


def get_car[M: Car = Car](car_id: int, as_: type[M] = Car) -> M | None:  # type: ignore[assignment]
    """One car (GetItem); None if unknown."""
    return _got(car_key(car_id), CarItem, as_, f"car {car_id}")


def list_tracks[M: TrackRecord = TrackRecord](as_: type[M] = TrackRecord) -> list[M]:  # type: ignore[assignment]
    """All track configurations with their SVG layer URLs, by ID (one Query)."""
    return _listed(TRACKS, "track", as_)


def get_track[M: TrackRecord = TrackRecord](track_id: int, as_: type[M] = TrackRecord) -> M | None:  # type: ignore[assignment]
    """One track configuration with its SVG layer URLs (GetItem); None if unknown."""
    return _got(schema.track_key(track_id), TrackItem, as_, f"track {track_id}")


def car_catalog() -> CarCatalog:
    """The stored car names, each car class's cars and every car's and track's package: what naming a week's cars
    and writing its planning facts take (three Queries)."""
    classes: list[CarClassRecord] = list_car_classes()
    cars: list[Car] = list_cars()
    tracks: list[TrackRecord] = list_tracks()
    return catalog_of(cars, {c.car_class_id: tuple(c.car_ids) for c in classes}, tracks)


_cached: tuple[str, CarCatalog] | None = None


def _catalog_digest() -> str | None:
    """The digest the last reference sync recorded (one GetItem); None if none did."""
    item = get_item(CarCatalogVersionItem, *_VERSION_KEY, "the car catalog version")
    return str(item.digest) if item is not None else None


def cached_car_catalog() -> CarCatalog:
    """``car_catalog()``, kept by a warm function while the stored catalog's digest is the one it read.

    A warm sync function stores many seasons of one run: it reads the catalog once (two Queries), then one GetItem
    per season tells it the catalog is unchanged. Without a recorded digest it always reads the catalog.
    """
    global _cached
    digest = _catalog_digest()
    if digest is None or _cached is None or _cached[0] != digest:
        catalog = car_catalog()
        _cached = (digest, catalog) if digest is not None else None
        return catalog
    return _cached[1]


_META_KEYS = {
    "series": schema.series_key,
    "season": schema.season_key,
    "track": schema.track_key,
    "car": car_key,
    "car_class": car_class_key,
}


def unknown(kind: str, idents: Iterable[int]) -> list[int]:
    """Which of these series, seasons, tracks, cars or car classes are not stored (BatchGetItem of their keys)."""
    wanted = sorted(set(idents))
    keys = {_META_KEYS[kind](ident): ident for ident in wanted}
    try:
        if len(keys) == 1:
            (key,) = keys
            Item.get(key, "META", attributes_to_get=["pk", "sk", "item_type"])
            return []
        found = {i.pk for i in Item.batch_get([(k, "META") for k in keys], attributes_to_get=["pk", "sk", "item_type"])}
    except Item.DoesNotExist:
        return wanted
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of {kind} {', '.join(map(str, wanted))} failed: {exc.msg}") from exc
    return [ident for key, ident in keys.items() if key not in found]
