"""The last current-seasons listing, so the next one can tell what changed before it fans out.

- listing: pk LISTING#current, sk STATE (record: models.records.ListingState)

Together with each season's VERSION.body_hash (store.season_writes) it lets an hourly sync of unchanged
schedules write nothing, archive nothing and start no season task.
"""

from __future__ import annotations

from pynamodb.exceptions import PynamoDBException

from iracing_sync.errors import RetryableError
from iracing_sync.models.records import ListingState
from iracing_sync.store.schema import Item, RecordItem, get_item

_KEY = ("LISTING#current", "STATE")


class ListingItem(RecordItem, discriminator="listing"):
    """The last current-seasons listing (record: models.records.ListingState)."""


def get_listing() -> ListingState | None:
    """What the last current-seasons listing saw (one GetItem), or None before the first."""
    item = get_item(Item, *_KEY, "the last listing")
    return ListingState.model_validate_json(item.record) if isinstance(item, ListingItem) else None


def put_listing(state: ListingState) -> None:
    """Remember this listing for the next one."""
    try:
        ListingItem(*_KEY, record=state.model_dump_json()).save()
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of the listing failed: {exc.msg}") from exc
