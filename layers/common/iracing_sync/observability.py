"""Logger, Tracer and Metrics, created once for the whole service (configured by POWERTOOLS_* env)."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger(service="iracing-sync")
tracer = Tracer(service="iracing-sync")
metrics = Metrics(namespace="IracingSync", service="iracing-sync")
