"""Slots API function: API Gateway HTTP API events, routed by the service's resolver."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths

from iracing_sync.api import app
from iracing_sync.observability import logger, metrics

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext


# No Tracer (iracing_sync.tracing): an HTTP API has no trace context to join, and Lambda's active tracing still
# records each invocation.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@metrics.log_metrics  # no cold-start metric: no alarm reads it, and it would be billed per hour it is sent in
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answer one HTTP API request."""
    return app.resolve(event, context)
