"""Series function: sync every series with its assets (Step Functions task)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from iracing_sync import sync
from iracing_sync.models import SERIES_TASK, parse_event
from iracing_sync.observability import logger, metrics, tracer


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Sync series and series assets."""
    task = parse_event(SERIES_TASK, event)
    logger.append_keys(execution_id=task.execution_id)
    return sync.sync_series()
