"""The table: its keys, its two indexes, the item base class, and what every room of the store shares.

One table, natural deterministic keys (see ``store/__init__``), so a retried or concurrent sync can never
duplicate. Every item class derives from ``Item`` and is told apart by ``item_type`` (PynamoDB's
discriminator); the rooms (seasons, catalog, runs, iracing_state) each declare their own item classes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from pynamodb.attributes import DiscriminatorAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from iracing_sync.errors import RetryableError
from iracing_sync.settings import get_settings


class ByParentIndex(GlobalSecondaryIndex["Item"]):
    """Children of a parent: all series, the seasons of a series, the car classes, cars, tracks, recent runs."""

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


def time_bucket(when: datetime) -> str:
    """The by_time partition of an instant: its month."""
    return f"T#{when:%Y-%m}"


def month_buckets(start: datetime, end: datetime) -> list[str]:
    """Month buckets touched by [start, end)."""
    buckets, cursor = [], datetime(start.year, start.month, 1, tzinfo=UTC)
    while cursor < end:
        buckets.append(time_bucket(cursor))
        cursor = datetime(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1, tzinfo=UTC)
    return buckets


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


def error_code(exc: PynamoDBException) -> str | None:
    """DynamoDB's error code behind a PynamoDB error, or None (e.g. a dropped connection has no answer)."""
    # Not exc.cause_response_code: it raises AttributeError when the cause carries no response.
    response = getattr(exc.cause, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


def lost_race(exc: PynamoDBException) -> bool:
    """Whether a conditional write failed on its condition (another writer got there first)."""
    return error_code(exc) == "ConditionalCheckFailedException"


@dataclass
class WriteCounts:
    """How a reconcile went: items written, left unchanged and deleted (``stale``: skipped, a newer body won)."""

    written: int = 0
    unchanged: int = 0
    deleted: int = 0
    stale: bool = False
    changes: int = 0  # schedule changes recorded (store.changes)

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
