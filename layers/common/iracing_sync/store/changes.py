"""Schedule changes: one item per change a sync made, kept 30 days, read newest last by time.

- change: pk CHANGES, sk <at>#<season_id:08d>#<race_week_num:03d or ---#><kind>#<n> (record: ChangeRecord)

The keys derive from the change itself and the fetch time of the body that brought it, so a retried sync
writes the same items again, never a duplicate. Items are written with the partition they describe
(store.season_writes), and DynamoDB's stream of this partition is what announces them (functions/changes_relay).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from iracing_sync.instants import iso_z
from iracing_sync.models.records import CHANGES_KEPT_FOR, ChangeRecord
from iracing_sync.store.schema import Item, RecordItem, read

CHANGES = "CHANGES"
KEEP = CHANGES_KEPT_FOR


class ChangeItem(RecordItem, discriminator="change"):
    """One schedule change (record: models.records.ChangeRecord)."""


def change_items(changes: Iterable[ChangeRecord]) -> list[Item]:
    """The items that record ``changes`` (deterministic keys; each expires 30 days after its change)."""
    items: list[Item] = []
    for n, change in enumerate(changes):
        week = f"{change.race_week_num:03d}" if change.race_week_num is not None else "---"
        sk = f"{iso_z(change.at)}#{change.season_id:08d}#{week}#{change.kind}#{n:04d}"
        record = change.model_dump_json()
        items.append(ChangeItem(pk=CHANGES, sk=sk, record=record, purge_at=change.at + KEEP))
    return items


def list_changes(since: datetime, series_ids: frozenset[int] | None = None, limit: int = 1000) -> list[ChangeRecord]:
    """The changes at or after ``since``, oldest first (one Query, paginated), of ``series_ids`` if given."""
    query = Item.query(CHANGES, Item.sk >= iso_z(since))
    out: list[ChangeRecord] = []
    for item in read(query, "changes"):
        if isinstance(item, ChangeItem):
            change = ChangeRecord.model_validate_json(item.record)
            if series_ids is None or change.series_id in series_ids:
                out.append(change)
                if len(out) >= limit:
                    break
    return out
