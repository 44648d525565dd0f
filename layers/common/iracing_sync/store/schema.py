"""The table: its keys, its two indexes, the item base class, and what every room of the store shares.

One table, natural deterministic keys (see ``store/__init__``), so a retried or concurrent sync can never
duplicate. Every item class derives from ``Item`` and is told apart by ``item_type`` (PynamoDB's
discriminator); the rooms (seasons, catalog, runs, iracing_state) each declare their own item classes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.attributes import DiscriminatorAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from iracing_sync.errors import RetryableError
from iracing_sync.instants import iso_z
from iracing_sync.settings import get_settings


class ByParentIndex(GlobalSecondaryIndex["Item"]):
    """Children of a parent: all series, the seasons of a series, the car classes, cars, tracks, recent runs."""

    class Meta:
        index_name = "by_parent"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


# What slot expansion needs from a week item: its identity, every fact a slot shows or a filter reads, its
# descriptors and its first and last start; everything else stays on the base table (fixed-slot items are not in
# this index: their week's descriptors hold their times).
WEEK_IDENTITY = (
    "season_id",
    "series_id",
    "race_week_num",
    "series_name",
    "season_name",
    "track_id",
    "track_name",
    "config_name",
    "category",
    "license_group",
)
TIME_INDEX_ATTRIBUTES = [
    "item_type",
    *WEEK_IDENTITY,
    "cars",
    # What a car_id filter reads (GET /slots?car_id): the IDs of the week's cars.
    "car_ids",
    "race_lap_limit",
    "race_time_limit",
    "descriptors",
    "first_start",
    "last_start",
]


class ByTimeIndex(GlobalSecondaryIndex["Item"]):
    """Week items by when they race: a short week by its first start in its month's partition, a long one by its
    last start in one partition (see ``week_time_keys``)."""

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
    # DynamoDB deletes an item some time after this instant (the table's TTL attribute): run records and
    # outcomes, so nothing accumulates. Items without it stay. (Not "expires_at": the token item has one.)
    purge_at = TTLAttribute(null=True)
    by_parent = ByParentIndex()
    by_time = ByTimeIndex()


class RecordItem(Item):
    """An item that keeps its record whole, as JSON: for items read only whole, never filtered by attribute."""

    record = UnicodeAttribute()


# --- keys ----------------------------------------------------------------------------------------


def series_key(series_id: int) -> str:
    return f"SERIES#{series_id}"


def season_key(season_id: int) -> str:
    return f"SEASON#{season_id}"


def track_key(track_id: int) -> str:
    return f"TRACK#{track_id}"


def id_sort_key(ident: int) -> str:
    """The by_parent sort key of a child by ID: zero-padded, so IDs sort as numbers."""
    return f"{ident:08d}"


# A short week starts all its sessions within this span of its first start (every weekly week of the bundled data:
# 1 to 7 days). The time index finds a short week by its first start, at most this long before a window; a
# longer week by its last start, at or after the window's start. So a window reads the weeks whose sessions
# span it, and (nearly) no week that ended before it: the lookback equals the longest short week.
SHORT_WEEK = timedelta(days=7)
LONG_WEEKS = "W#LONG"


def time_bucket(when: datetime) -> str:
    """The by_time partition of a short week first starting at ``when``: its month."""
    return f"W#{when:%Y-%m}"


def grid_bucket(end: datetime) -> str:
    """The by_time partition of a season's grid item: the year its last racing day ends."""
    return f"S#{end.year}"


def month_buckets(start: datetime, end: datetime) -> list[str]:
    """Month buckets touched by [start, end)."""
    buckets, cursor = [], datetime(start.year, start.month, 1, tzinfo=UTC)
    while cursor < end:
        buckets.append(time_bucket(cursor))
        cursor = datetime(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1, tzinfo=UTC)
    return buckets


def week_time_keys(first_start: datetime, last_start: datetime, season_id: int, race_week_num: int) -> dict[str, str]:
    """The by_time keys of a week: short, in its first start's month by its first start; long, by its last start."""
    identity = f"{season_id:08d}#{race_week_num:03d}"
    if last_start - first_start < SHORT_WEEK:
        return {"tpk": time_bucket(first_start), "tsk": f"{iso_z(first_start)}#{identity}"}
    return {"tpk": LONG_WEEKS, "tsk": f"{iso_z(last_start)}#{identity}"}


# --- what every room shares ----------------------------------------------------------------------


def ensure_table() -> bool:
    """Create the table if it does not exist (local stack and tests); True if it was created."""
    try:
        if Item.exists():
            return False
        Item.create_table(wait=True)
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB table {Item.Meta.table_name}: {exc.msg}") from exc
    return True


def read(query: Iterator[Item], what: str) -> list[Item]:
    """Every item of a query or scan; a DynamoDB failure is a RetryableError naming ``what``."""
    try:
        return list(query)
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of {what} failed: {exc.msg}") from exc


def int_or_none(value: Any) -> int | None:
    """A stored number as an int, or None if the attribute is absent."""
    return int(value) if value is not None else None


def get_item[T: Item](model: type[T], pk: str, sk: str, what: str, *, consistent_read: bool = False) -> T | None:
    """One item by its key (GetItem), None if there is none; a DynamoDB failure is a RetryableError naming ``what``."""
    try:
        return model.get(pk, sk, consistent_read=consistent_read)
    except model.DoesNotExist:
        return None
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of {what} failed: {exc.msg}") from exc


def error_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code behind a PynamoDB error, or None (e.g. a dropped connection has no answer)."""
    # Not exc.cause_response_code: it raises AttributeError when the cause carries no response.
    response = getattr(exc.cause, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def raw_query(request: dict[str, Any], what: str) -> list[dict[str, Any]]:
    """Every item of one Query (all its pages) as DynamoDB sent it (attribute-value JSON), not as model objects.

    For the hot reads (a window's weeks, a catalog list): ``request`` is the low-level Query's parameters without
    TableName. Turning thousands of items into PynamoDB models costs more than the request; the readers decode the
    few attributes they need themselves. A DynamoDB failure is a RetryableError naming ``what``.
    """
    connection = Item._get_connection().connection
    request = {"TableName": Item.Meta.table_name, **request}
    items: list[dict[str, Any]] = []
    try:
        while True:
            data = connection.dispatch("Query", request)
            items.extend(data.get("Items", ()))
            if "LastEvaluatedKey" not in data:
                return items
            request = {**request, "ExclusiveStartKey": data["LastEvaluatedKey"]}
    except (BotoCoreError, ClientError) as exc:
        raise RetryableError(f"DynamoDB read of {what} failed: {exc}") from exc


def plain(value: dict[str, Any]) -> Any:
    """A Python value of one DynamoDB attribute value as ``raw_query`` returns it (numbers: int if whole)."""
    (kind, data), *_ = value.items()
    if kind == "S" or kind == "BOOL":
        return data
    if kind == "N":
        return int(data) if data.lstrip("-").isdigit() else float(data)
    if kind == "L":
        return [plain(v) for v in data]
    if kind == "M":
        return {k: plain(v) for k, v in data.items()}
    if kind == "NULL":
        return None
    raise ValueError(f"DynamoDB attribute type {kind} is not read here")


def lost_race(exc: PynamoDBException) -> bool:
    """Whether a conditional write failed on its condition (another writer got there first)."""
    return error_code(exc) == "ConditionalCheckFailedException"


class WriteCounts:
    """How a reconcile went: items written, left unchanged and deleted (``stale``: skipped, a newer body won)."""

    # A plain class, not a dataclass: the API function imports this module, and a dataclass costs its cold start.
    __slots__ = ("written", "unchanged", "deleted", "stale", "changes")

    def __init__(self, written: int = 0, unchanged: int = 0, deleted: int = 0, stale: bool = False, changes: int = 0):
        self.written, self.unchanged, self.deleted, self.stale = written, unchanged, deleted, stale
        self.changes = changes  # schedule changes recorded (store.changes)

    def __repr__(self) -> str:
        return f"WriteCounts({', '.join(f'{name}={getattr(self, name)!r}' for name in self.__slots__)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WriteCounts):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it was

    def __iadd__(self, other: WriteCounts) -> WriteCounts:
        self.written += other.written
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        self.changes += other.changes
        return self


def content_hash(item: Item) -> str:
    """A digest of everything an item stores but its hash: equal hashes mean writing it would change nothing."""
    data = item.serialize()
    data.pop("content_hash", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:32]
