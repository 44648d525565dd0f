"""Sync runs: one item per finished run, listed newest first.

- sync run: pk RUN#<run_id>, sk META; by_parent RUNS / <started_at>#<run_id>
"""

from __future__ import annotations

import json
from datetime import datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException

from iracing_sync.errors import RetryableError
from iracing_sync.instants import iso_z
from iracing_sync.models.tasks import RunSummary, SyncRun
from iracing_sync.store.schema import Item, read

RUNS = "RUNS"


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


def put_sync_run(summary: RunSummary, started_at: datetime, finished_at: datetime) -> None:
    """Record one finished sync run (overwrites a retried record of the same run)."""
    item = SyncRunItem(
        pk=f"RUN#{summary.run_id}",
        sk="META",
        gsi1pk=RUNS,
        gsi1sk=f"{iso_z(started_at)}#{summary.run_id}",
        started_at=iso_z(started_at),
        finished_at=iso_z(finished_at),
        **summary.model_dump(exclude={"failed"}),
        failed=json.dumps(summary.failed),
    )
    try:
        item.save()
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of sync run {summary.run_id} failed: {exc.msg}") from exc


def list_sync_runs(limit: int = 20) -> list[SyncRun]:
    """The most recent sync runs, newest first (one Query on by_parent)."""
    query = Item.by_parent.query(RUNS, scan_index_forward=False, limit=limit)
    return [
        SyncRun(
            run_id=run.run_id,
            kind=run.kind,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            api_requests=int(run.api_requests),
            items_written=int(run.items_written),
            items_unchanged=int(run.items_unchanged),
            items_deleted=int(run.items_deleted),
            seasons_synced=int(run.seasons_synced),
            failed=json.loads(run.failed or "[]"),
        )
        for run in read(query, "sync runs")
        if isinstance(run, SyncRunItem)
    ]
