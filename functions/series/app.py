"""Series function: sync every series with its assets or the reference data, or list the active seasons (Step
Functions tasks: the catalog's listings, each one or a few large iRacing bodies)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iracing_sync import sync
from iracing_sync.models.tasks import SERIES_TASK, ListCurrentSeasonsEvent, SyncSeriesEvent, parse_event
from iracing_sync.observability import logger, metrics
from iracing_sync.tracing import tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)  # a warm container forgets the last invocation's keys
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Sync series + assets (``series``), car classes, cars and tracks (``reference``), or list the seasons."""
    task = parse_event(SERIES_TASK, event)
    logger.append_keys(execution_id=task.execution_id)
    if isinstance(task, SyncSeriesEvent):
        return sync.sync_series(task)
    if isinstance(task, ListCurrentSeasonsEvent):
        return sync.list_current_seasons(task)
    return sync.sync_reference(task)
