"""Changes relay: the table's stream of new schedule-change items, put on EventBridge (one event each)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from iracing_sync.announce import announce, change_of
from iracing_sync.observability import logger, metrics
from iracing_sync.tracing import tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def _relay(record: DynamoDBRecord) -> None:
    announce(change_of(record))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Announce each change of the batch; failed records are reported, so only they are delivered again."""
    return process_partial_response(event=event, record_handler=_relay, processor=processor, context=context)
