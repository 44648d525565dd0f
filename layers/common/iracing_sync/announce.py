"""Schedule changes announced on EventBridge: source ``iracing-sync``, detail-type ``Schedule Changed``.

A sync records each change as an item of the CHANGES partition in the same write as the schedule itself
(store.season_writes); the table's stream delivers each new change item to the relay function
(functions/changes_relay), which puts it on the event bus. So a change is announced at least once, and only
once its schedule is stored; a racer or a Discord channel subscribes with an EventBridge rule.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from botocore.exceptions import BotoCoreError, ClientError

from iracing_sync.errors import MalformedPayload, RetryableError
from iracing_sync.models.records import ChangeRecord
from iracing_sync.observability import logger, metrics
from iracing_sync.settings import get_settings

SOURCE = "iracing-sync"
DETAIL_TYPE = "Schedule Changed"


@cache
def _events(region: str) -> Any:
    return boto3.client("events", region_name=region)


def change_of(record: DynamoDBRecord) -> ChangeRecord:
    """The change a stream record carries (its new image's ``record``); MalformedPayload if it carries none."""
    image = record.dynamodb.new_image if record.dynamodb is not None else None
    text = image.get("record") if isinstance(image, dict) else None
    if not isinstance(text, str):
        raise MalformedPayload("stream record without a change record")
    return ChangeRecord.model_validate_json(text)


def announce(change: ChangeRecord) -> None:
    """Put one change on the event bus (RetryableError if EventBridge refuses it: the stream delivers it again)."""
    settings = get_settings()
    entry = {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPE,
        "Detail": change.model_dump_json(),
        "EventBusName": settings.event_bus_name,
        "Resources": [],
    }
    try:
        answer = _events(settings.region).put_events(Entries=[entry])
    except (BotoCoreError, ClientError) as exc:
        raise RetryableError(f"EventBridge put of a {change.kind} change failed: {exc}") from exc
    if answer.get("FailedEntryCount"):
        raise RetryableError(f"EventBridge refused a {change.kind} change: {answer['Entries'][0].get('ErrorCode')}")
    logger.info("change announced", extra={"kind": change.kind, "season_id": change.season_id})
    metrics.add_metric(name="ChangesAnnounced", unit="Count", value=1)
