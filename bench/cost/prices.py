"""The list prices (one table, ``PRICES``) and the billing units they apply to (sources: docs/cost.md#prices)."""

from __future__ import annotations

import math
from dataclasses import dataclass

REGION = "us-east-1"
PRICES_AS_OF = "2025-06"
PRICE_SOURCE = f"AWS pricing pages, {REGION}, list prices as of {PRICES_AS_OF} (no free tier)"
# A month as CloudWatch prorates a metric-month and the usage model counts hourly runs: 30 days.
HOURS_PER_MONTH = 720


@dataclass(frozen=True)
class Price:
    """One list price: ``usd`` for one ``unit``."""

    usd: float
    unit: str


PRICES: dict[str, Price] = {
    "lambda_request": Price(0.20 / 1e6, "Lambda request"),
    "lambda_gb_second": Price(0.0000133334, "Lambda GB-second, arm64"),
    "sfn_transition": Price(0.025 / 1e3, "Step Functions Standard state transition"),
    "sfn_express_request": Price(1.00 / 1e6, "Step Functions Express request"),
    "sfn_express_gb_second": Price(0.00001667, "Step Functions Express GB-second (first 1,000 GB-hours)"),
    "dynamodb_read_unit": Price(0.125 / 1e6, "DynamoDB on-demand read request unit"),
    "dynamodb_write_unit": Price(0.625 / 1e6, "DynamoDB on-demand write request unit"),
    "dynamodb_gb_month": Price(0.25, "DynamoDB Standard table storage, GB-month"),
    "dynamodb_pitr_gb_month": Price(0.20, "DynamoDB point-in-time recovery, GB-month"),
    "s3_put": Price(0.005 / 1e3, "S3 Standard PUT"),
    "s3_get": Price(0.0004 / 1e3, "S3 Standard GET"),
    "s3_gb_month": Price(0.023, "S3 Standard storage, GB-month (first 50 TB)"),
    "secret_month": Price(0.40, "Secrets Manager secret-month"),
    "secret_api_call": Price(0.05 / 1e4, "Secrets Manager API call"),
    "parameter_month": Price(0.0, "Parameter Store standard parameter-month (no charge)"),
    "parameter_api_call": Price(0.0, "Parameter Store API call, standard throughput (no charge)"),
    "alarm_metric_month": Price(0.10, "CloudWatch standard-resolution alarm metric-month"),
    "alarm_metric_month_high_resolution": Price(0.30, "CloudWatch high-resolution alarm metric-month"),
    # "All custom metrics charges are prorated by the hour and metered only when you send metrics to CloudWatch."
    "custom_metric_hour": Price(0.30 / HOURS_PER_MONTH, "CloudWatch custom metric, per hour sent in ($0.30 a month)"),
    "dashboard_month": Price(3.00, "CloudWatch dashboard-month"),
    "kms_key_month": Price(1.00, "KMS customer managed key-month"),
    "kms_rotation_month": Price(1.00, "KMS key-month, each of a key's first two rotations"),
    "kms_request": Price(0.03 / 1e4, "KMS request (customer or AWS managed key)"),
    "logs_ingest_gb": Price(0.50, "CloudWatch Logs ingestion, GB (first 10 TB)"),
    "logs_gb_month": Price(0.03, "CloudWatch Logs storage, GB-month"),
    "sqs_request": Price(0.40 / 1e6, "SQS standard request"),
    "scheduler_invocation": Price(1.00 / 1e6, "EventBridge Scheduler invocation"),
    "custom_event": Price(1.00 / 1e6, "EventBridge custom event put (64 KB each); AWS service events: no charge"),
    "sns_publish": Price(0.50 / 1e6, "SNS standard topic publish"),
    "sns_email": Price(2.00 / 1e5, "SNS email notification"),
    "xray_trace": Price(5.00 / 1e6, "X-Ray trace recorded"),
}

GB = 1024**3
EXPRESS_MIN_MB = 64  # Express duration is billed in 64 MB steps, at least one
EXPRESS_STEP_SECONDS = 0.1  # ... and in 100 ms steps


def billed_gb_seconds(seconds: float, memory_mb: float) -> float:
    """Lambda's billed GB-seconds for one invocation: per started millisecond, at the configured memory."""
    return math.ceil(round(seconds * 1000, 6)) / 1000 * memory_mb / 1024


def express_gb_seconds(seconds: float, memory_mb: float = EXPRESS_MIN_MB) -> float:
    """An EXPRESS execution's billed GB-seconds: in 100 ms steps, in 64 MB steps (at least one of each)."""
    steps = max(1, math.ceil(round(seconds / EXPRESS_STEP_SECONDS, 6)))
    memory = max(1, math.ceil(memory_mb / EXPRESS_MIN_MB)) * EXPRESS_MIN_MB
    return steps * EXPRESS_STEP_SECONDS * memory / 1024
