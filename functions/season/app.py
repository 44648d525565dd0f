"""Season function: sync one season, reconcile the race guide, record a task's failure or the run (Step Functions
tasks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from iracing_sync import outcomes, sync
from iracing_sync.models.tasks import SEASON_TASK, ReconcileGuideEvent, RecordFailureEvent, SyncSeasonEvent, parse_event
from iracing_sync.observability import logger, metrics
from iracing_sync.tracing import tracer

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(clear_state=True)  # a warm container forgets the last invocation's keys
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run the season task named by ``event["action"]``."""
    task = parse_event(SEASON_TASK, event)
    logger.append_keys(execution_id=task.execution_id)
    if isinstance(task, SyncSeasonEvent):
        return sync.sync_season(task)
    if isinstance(task, ReconcileGuideEvent):
        return sync.reconcile_guide(task)
    if isinstance(task, RecordFailureEvent):
        return outcomes.record_failure(task)
    return sync.record_run(task)
