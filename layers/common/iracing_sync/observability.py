"""Logger and Metrics, created once for the whole service (configured by POWERTOOLS_* env); the Tracer is in
``tracing``."""

from __future__ import annotations

import sys
import warnings

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider


class _EMFProvider(AmazonCloudWatchEMFProvider):
    def add_metric(self, *args: object, **kwargs: object) -> None:
        # With POWERTOOLS_METRICS_DISABLED, Powertools skips the flush but keeps every value, so a long-lived
        # local process (tests, CLI, benchmarks) would pile them up and print a batch on stdout every 100.
        if not is_metrics_disabled():
            super().add_metric(*args, **kwargs)  # type: ignore[arg-type]


# stderr: Lambda ships both streams to CloudWatch, and locally stdout stays free for command output.
logger = Logger(service="iracing-sync", stream=sys.stderr)
metrics = Metrics(
    namespace="IracingSync",
    service="iracing-sync",
    provider=_EMFProvider(namespace="IracingSync", service="iracing-sync"),
)


# An invocation that records no metric is normal (most API requests, the tasks that only record a run), and
# Powertools would print a UserWarning into the function's log for each one.
warnings.filterwarnings("ignore", message="No application metrics to publish", category=UserWarning)
