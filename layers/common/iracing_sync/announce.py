"""What iracing-sync announces on EventBridge (source ``iracing-sync``): schedule changes and partial runs.

``Schedule Changed``: a sync records each change as an item of the CHANGES partition in the same write as the
schedule itself (store.season_writes); the table's stream delivers each new change item to the relay function
(functions/changes_relay), which puts it on the event bus. So a change is announced at least once, and only
once its schedule is stored; a racer or a Discord channel subscribes with an EventBridge rule.

``Sync Run Partial``: a run some of whose seasons or tasks failed while others were stored (its execution
succeeds); the stack's SyncRunPartialRule sends it to the alarm topic.
"""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from botocore.exceptions import BotoCoreError, ClientError

from iracing_sync.errors import MalformedPayload, RetryableError
from iracing_sync.models.records import ChangeRecord
from iracing_sync.observability import logger
from iracing_sync.settings import get_settings

if TYPE_CHECKING:
    from iracing_sync.models.tasks import RunSummary

SOURCE = "iracing-sync"
DETAIL_TYPE = "Schedule Changed"
PARTIAL_RUN = "Sync Run Partial"
# A partial run's event lists this many of its failures (the run record has them all).
FAILURES_ANNOUNCED = 10


@cache
def _events(region: str) -> Any:
    import boto3  # here, not at import: the season function loads this module and needs boto3 only for a notice

    return boto3.client("events", region_name=region)


def _put(detail_type: str, detail: str, what: str) -> None:
    """Put one event on the bus; RetryableError if EventBridge refuses it (the caller's retry puts it again)."""
    settings = get_settings()
    entry = {
        "Source": SOURCE,
        "DetailType": detail_type,
        "Detail": detail,
        "EventBusName": settings.event_bus_name,
        "Resources": [],
    }
    try:
        answer = _events(settings.region).put_events(Entries=[entry])
    except (BotoCoreError, ClientError) as exc:
        raise RetryableError(f"EventBridge put of {what} failed: {exc}") from exc
    if answer.get("FailedEntryCount"):
        raise RetryableError(f"EventBridge refused {what}: {answer['Entries'][0].get('ErrorCode')}")


def change_of(record: DynamoDBRecord) -> ChangeRecord:
    """The change a stream record carries (its new image's ``record``); MalformedPayload if it carries none."""
    image = record.dynamodb.new_image if record.dynamodb is not None else None
    text = image.get("record") if isinstance(image, dict) else None
    if not isinstance(text, str):
        raise MalformedPayload("stream record without a change record")
    return ChangeRecord.model_validate_json(text)


def announce(change: ChangeRecord) -> None:
    """Put one change on the event bus (RetryableError if EventBridge refuses it: the stream delivers it again)."""
    _put(DETAIL_TYPE, change.model_dump_json(), f"a {change.kind} change")
    logger.info("change announced", extra={"kind": change.kind, "season_id": change.season_id})


def announce_partial_run(summary: RunSummary) -> None:
    """Put a PARTIAL run on the event bus: its kind, ID, failure count and first failures (RetryableError if
    EventBridge refuses it: the run's record task is retried, and rewrites the same record)."""
    failed = summary.failed[:FAILURES_ANNOUNCED]
    first = failed[0] if failed else {}
    subject = next((f"{k} {first[k]}" for k in ("season_id", "series_id", "scope") if k in first), "a task")
    detail = {
        "run_id": summary.run_id,
        "kind": summary.kind,
        "status": summary.status,
        "failed_count": summary.failed_count,
        "first_failure": f"{subject}: {first.get('error', 'Unknown')}",
        "failed": failed,
    }
    _put(PARTIAL_RUN, json.dumps(detail), f"a partial {summary.kind} run")
    logger.info("partial run announced", extra={"run_id": summary.run_id, "kind": summary.kind})
