"""Logger, Tracer and Metrics, created once for the whole service (configured by POWERTOOLS_* env)."""

import sys

from aws_lambda_powertools import Logger, Metrics, Tracer

# stderr: Lambda ships both streams to CloudWatch, and locally stdout stays free for command output.
logger = Logger(service="iracing-sync", stream=sys.stderr)
tracer = Tracer(service="iracing-sync")
metrics = Metrics(namespace="IracingSync", service="iracing-sync")
