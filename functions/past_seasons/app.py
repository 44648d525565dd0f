"""Past seasons function: the past season IDs of one series, or every series ID (Step Functions tasks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iracing_sync import sync
from iracing_sync.models.tasks import PAST_SEASONS_TASK, ListPastSeasonsEvent, parse_event
from iracing_sync.observability import logger, metrics
from iracing_sync.tracing import tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)  # a warm container forgets the last invocation's keys
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """List past season IDs of a series (``action: list_past``) or all series IDs (``action: list_series``)."""
    task = parse_event(PAST_SEASONS_TASK, event)
    logger.append_keys(execution_id=task.execution_id)
    if isinstance(task, ListPastSeasonsEvent):
        return sync.list_past_seasons(task)
    return sync.list_series_ids(task)
