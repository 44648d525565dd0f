"""Sync runs: each task's outcome recorded under its run, and one record per finished run, listed newest first.

- outcome:  pk RUN#<run_id>, sk OUTCOME#<scope>  (record: models.tasks.RunOutcome)
- sync run: pk RUN#<run_id>, sk META; by_parent RUNS / <started_at>#<run_id>

Tasks write their own outcome, so a run's state never carries its seasons' results (a Map over 180 seasons
with 100 failures would pass Step Functions' 256 KiB state quota); the last task reads them back with one
paginated Query. Both expire (``purge_at``, the table's TTL) after ``run_retention_days``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException

from iracing_sync.errors import RetryableError
from iracing_sync.instants import iso_z
from iracing_sync.models.tasks import GuideReport, RunOutcome, RunSummary, SyncRun
from iracing_sync.settings import get_settings
from iracing_sync.store.schema import Item, RecordItem, read

RUNS = "RUNS"
OUTCOME = "OUTCOME#"


def _run_key(run_id: str) -> str:
    return f"RUN#{run_id}"


def _purge_at() -> datetime:
    return datetime.now(UTC) + timedelta(days=get_settings().run_retention_days)


class OutcomeItem(RecordItem, discriminator="run_outcome"):
    """One task's outcome in a run (record: models.tasks.RunOutcome)."""


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
    seasons_unchanged = NumberAttribute(default=0)
    seasons_stale = NumberAttribute(default=0)
    failed_count = NumberAttribute(default=0)
    failed = UnicodeAttribute(default="[]")  # JSON list of {season_id, error, reason}, the first ones
    guide = UnicodeAttribute(null=True)  # a race-guide run's findings (models.tasks.GuideReport, JSON)


def put_outcome(run_id: str, outcome: RunOutcome) -> None:
    """Record one task's outcome under its run (a retried task overwrites its own)."""
    item = OutcomeItem(
        pk=_run_key(run_id), sk=OUTCOME + outcome.scope, record=outcome.model_dump_json(), purge_at=_purge_at()
    )
    try:
        item.save()
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of run {run_id} outcome {outcome.scope} failed: {exc.msg}") from exc


def list_outcomes(run_id: str) -> list[RunOutcome]:
    """Every outcome recorded under a run (one paginated Query)."""
    query = Item.query(_run_key(run_id), Item.sk.startswith(OUTCOME))
    return [
        RunOutcome.model_validate_json(i.record) for i in read(query, f"run {run_id}") if isinstance(i, OutcomeItem)
    ]


def put_sync_run(summary: RunSummary, started_at: datetime, finished_at: datetime) -> None:
    """Record one finished sync run (overwrites a retried record of the same run)."""
    item = SyncRunItem(
        pk=_run_key(summary.run_id),
        sk="META",
        gsi1pk=RUNS,
        gsi1sk=f"{iso_z(started_at)}#{summary.run_id}",
        started_at=iso_z(started_at),
        finished_at=iso_z(finished_at),
        purge_at=_purge_at(),
        **summary.model_dump(exclude={"failed", "guide"}),
        failed=json.dumps(summary.failed),
        guide=summary.guide.model_dump_json() if summary.guide is not None else None,
    )
    try:
        item.save()
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of sync run {summary.run_id} failed: {exc.msg}") from exc


def list_sync_runs(limit: int = 20) -> list[SyncRun]:
    """The most recent sync runs, newest first (one Query on by_parent)."""
    query = Item.by_parent.query(RUNS, scan_index_forward=False, limit=limit)
    runs = [run for run in read(query, "sync runs") if isinstance(run, SyncRunItem)]
    numbers = (
        *("api_requests", "items_written", "items_unchanged", "items_deleted"),
        *("seasons_synced", "seasons_unchanged", "seasons_stale", "failed_count"),
    )
    return [
        SyncRun(
            run_id=run.run_id,
            kind=run.kind,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            **{name: int(getattr(run, name) or 0) for name in numbers},
            failed=json.loads(run.failed or "[]"),
            guide=GuideReport.model_validate_json(run.guide) if run.guide else None,
        )
        for run in runs
    ]
