"""The cost model (``python -m bench.run cost``): what the sync costs in USD per run and per month at AWS list
prices (one table, ``PRICES``), from what the real state machines and handlers use against the local engines.

Measured on the full 2023 S2 quarter (137 seasons, the fake iRacing server's "2023s2" snapshot) and scaled to 180
seasons. The hourly current-seasons run is measured in three situations: every season new (a quarter's first sync,
onto an empty table), nothing changed, and every season's body changed (iRacing's registration count ticked in
each season: every season is a Map item and is processed again, and only its stored body hash changes). Each is
measured for today's design (EXPRESS children, change detection) and for the baseline, the design before issue #15
(STANDARD children, no change detection: the same machine with ``{"force": true}``, which syncs every listed
season), in the same run. The daily reference-data run is measured unchanged (the catalog rarely changes).

What is measured, and how:
- Lambda: every dispatched invocation and its handler's wall time (``stepfunctions.timed_invocations``), billed
  per started millisecond at the function's MemorySize (template.yaml, Globals default). Every run is taken to
  start cold (an hour idle outlives a Lambda container): each container pays its INIT (measured: a fresh
  interpreter importing the function's app.py, precompiled as ``make build`` ships it; Lambda bills INIT since
  2025-08-01) and, in the Map, its first load of the archived listing (measured: the first season task of a run
  against the others, the process's caches cleared before each run). Containers: one per function a run invokes,
  and min(MaxConcurrency, Map items) for the Map's function.
- Step Functions: moto runs the EXPRESS children as STANDARD and keeps a Distributed Map's children out of the
  parent history, so the bench runs a measurement copy of the definition whose Map is INLINE (same item processor,
  same items; MaxConcurrency 1, so handler durations are not inflated by threads sharing one interpreter) and
  counts from its history: state transitions (states entered, plus Task retries) of the parent and of the item
  processor, and each item's duration (MapIterationStarted to its end). Billed: the parent's transitions, one
  transition per child execution started, then per child either its transitions (STANDARD) or a request plus its
  duration in 100 ms steps at the 64 MB minimum (EXPRESS).
- DynamoDB: read and write request units from ConsumedCapacity (the metering proxy in front of DynamoDB Local,
  which recomputes TransactWriteItems, the one operation Local reports wrongly).
- S3: PUTs and bytes from the archive directory (one file per PUT); each archived GB stays RawArchiveRetentionDays
  (template.yaml) before the lifecycle rule expires it. GETs: one per Map container (each reads the listing once).
- CloudWatch Logs: the application's log lines at INFO (prod's level) and its EMF metric lines, formatted and
  counted, plus Lambda's platform lines per invocation; kept LogRetentionDays. Custom metrics: the distinct
  (name, dimensions) pairs the measured runs emit. Alarms, KMS keys and the secret: counted in template.yaml.
- Estimated, not measurable locally (named constants below): Secrets Manager calls (one per container that builds
  an iRacing client: Powertools caches the secret 5 minutes), KMS requests, X-Ray traces, Lambda's platform lines.

Scaling to 180 seasons: figures that grow with the season count are multiplied by 180/137 (Map items, their
invocations and children; and, conservatively, every invocation's duration, DynamoDB unit, archived byte and log
byte, since the listing hashes and the run record totals every season); per-run figures are not (the listing's
and the run record's invocations, the parent's transitions, S3 request counts, containers beyond MaxConcurrency).
Free tiers are left out: the account may spend them elsewhere.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import math
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import Row, cold_start_env
from iracing_sync_local.stepfunctions import TimedInvocation

ROOT = Path(__file__).resolve().parent.parent

# --- Prices: the one table -------------------------------------------------------------------------------------

REGION = "us-east-1"
PRICES_AS_OF = "2025-06"
PRICE_SOURCE = f"AWS pricing pages, {REGION}, list prices as of {PRICES_AS_OF} (no free tier)"


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
    "alarm_metric_month": Price(0.10, "CloudWatch standard-resolution alarm metric-month"),
    "custom_metric_month": Price(0.30, "CloudWatch custom metric-month (first 10,000)"),
    "kms_key_month": Price(1.00, "KMS customer managed key-month"),
    "kms_request": Price(0.03 / 1e4, "KMS request"),
    "logs_ingest_gb": Price(0.50, "CloudWatch Logs ingestion, GB (first 10 TB)"),
    "logs_gb_month": Price(0.03, "CloudWatch Logs storage, GB-month"),
    "sqs_request": Price(0.40 / 1e6, "SQS standard request"),
    "scheduler_invocation": Price(1.00 / 1e6, "EventBridge Scheduler invocation"),
    "xray_trace": Price(5.00 / 1e6, "X-Ray trace recorded"),
}

GB = 1024**3
EXPRESS_MIN_MB = 64  # Express duration is billed in 64 MB steps, at least one
EXPRESS_STEP_SECONDS = 0.1  # ... and in 100 ms steps
HOURLY_RUNS_PER_MONTH = 720
DAILY_RUNS_PER_MONTH = 30
WEEKS_PER_MONTH = 365.25 / 7 / 12
QUARTERS_PER_MONTH = 1 / 3
MEASURED_SNAPSHOT = "2023s2"
SEASONS = 180  # a large quarter (DESIGN.md: 140-180 active seasons)

# Estimates for what the local stack cannot show (stated in the README with the bench's table).
PLATFORM_LOG_BYTES = 700  # Lambda's JSON platform.start + platform.report lines per invocation (with tracing)
KMS_REQUESTS_PER_CONTAINER = 2  # DynamoDB's table-key and CloudWatch Logs' data-key refreshes for one container
KMS_REQUESTS_PER_EXECUTION = 1  # the state machine's log group
# A Distributed Map is billed one transition in its parent per child execution it starts (AWS's Step Functions
# pricing), whichever type the children are; this is what makes one child per season cost a transition per season.
TRANSITIONS_PER_CHILD_STARTED = 1
TRACES_PER_CHILD = 1  # assumed (conservative): each child execution is an X-Ray trace of its own
CLIENT_ACTIONS = frozenset({"list_current", "series", "reference"})  # tasks that build an iRacing client (secret)
MAP_ACTIONS = frozenset({"sync", "record_failure"})  # the item processor's tasks: one run per Map item


# --- Usage and its price ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Usage:
    """What runs use, in billed units; fields are named by their PRICES key (storage: GB written, priced by life)."""

    lambda_request: float = 0.0
    lambda_gb_second: float = 0.0
    sfn_transition: float = 0.0
    sfn_express_request: float = 0.0
    sfn_express_gb_second: float = 0.0
    dynamodb_read_unit: float = 0.0
    dynamodb_write_unit: float = 0.0
    s3_put: float = 0.0
    s3_get: float = 0.0
    s3_archived_gb: float = 0.0  # GB archived; each stays the archive retention, then expires
    logs_ingest_gb: float = 0.0  # GB logged; each is kept the log retention
    secret_api_call: float = 0.0
    kms_request: float = 0.0
    scheduler_invocation: float = 0.0
    xray_trace: float = 0.0

    def __add__(self, other: Usage) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def __mul__(self, factor: float) -> Usage:
        return Usage(**{f.name: getattr(self, f.name) * factor for f in fields(self)})


# Which service each usage field is billed under (the breakdown's columns).
SERVICES: dict[str, str] = {
    "lambda_request": "Lambda",
    "lambda_gb_second": "Lambda",
    "sfn_transition": "Step Functions",
    "sfn_express_request": "Step Functions",
    "sfn_express_gb_second": "Step Functions",
    "dynamodb_read_unit": "DynamoDB",
    "dynamodb_write_unit": "DynamoDB",
    "s3_put": "S3",
    "s3_get": "S3",
    "s3_archived_gb": "S3",
    "logs_ingest_gb": "CloudWatch Logs",
    "secret_api_call": "Secrets Manager",
    "kms_request": "KMS",
    "scheduler_invocation": "EventBridge Scheduler",
    "xray_trace": "X-Ray",
}


@dataclass(frozen=True)
class CostModel:
    """Prices usage: the list prices and how long an archived body and a log line are kept."""

    archive_retention_days: float
    log_retention_days: float
    prices: dict[str, Price] = field(default_factory=lambda: PRICES)

    def unit_price(self, name: str) -> float:
        """USD per unit of one usage field; a stored GB is priced for its whole life (days kept / 30 GB-months)."""
        if name == "s3_archived_gb":
            return self.prices["s3_gb_month"].usd * self.archive_retention_days / 30
        if name == "logs_ingest_gb":
            return self.prices["logs_ingest_gb"].usd + self.prices["logs_gb_month"].usd * self.log_retention_days / 30
        return self.prices[name].usd

    def by_service(self, usage: Usage) -> dict[str, float]:
        """USD per service for this usage."""
        out: dict[str, float] = {}
        for f in fields(usage):
            service = SERVICES[f.name]
            out[service] = out.get(service, 0.0) + getattr(usage, f.name) * self.unit_price(f.name)
        return out

    def usd(self, usage: Usage) -> float:
        """USD for this usage."""
        return sum(self.by_service(usage).values())

    def storage_month(self, table_gb: float) -> float:
        """USD per month for a table of ``table_gb`` (storage and point-in-time recovery)."""
        return table_gb * (self.prices["dynamodb_gb_month"].usd + self.prices["dynamodb_pitr_gb_month"].usd)


@dataclass(frozen=True)
class Inventory:
    """The stack's fixed monthly items: counted in template.yaml (custom metrics: in what the runs emit)."""

    secrets: int
    alarm_metrics: int
    custom_metrics: int
    kms_keys: int

    def monthly(self, prices: dict[str, Price] = PRICES) -> dict[str, float]:
        """USD per month for each fixed item."""
        return {
            "Secrets Manager secret": self.secrets * prices["secret_month"].usd,
            "CloudWatch alarms": self.alarm_metrics * prices["alarm_metric_month"].usd,
            "CloudWatch custom metrics": self.custom_metrics * prices["custom_metric_month"].usd,
            "KMS key": self.kms_keys * prices["kms_key_month"].usd,
        }


def billed_gb_seconds(seconds: float, memory_mb: float) -> float:
    """Lambda's billed GB-seconds for one invocation: per started millisecond, at the configured memory."""
    return math.ceil(round(seconds * 1000, 6)) / 1000 * memory_mb / 1024


def express_gb_seconds(seconds: float, memory_mb: float = EXPRESS_MIN_MB) -> float:
    """An EXPRESS execution's billed GB-seconds: in 100 ms steps, in 64 MB steps (at least one of each)."""
    steps = max(1, math.ceil(round(seconds / EXPRESS_STEP_SECONDS, 6)))
    memory = max(1, math.ceil(memory_mb / EXPRESS_MIN_MB)) * EXPRESS_MIN_MB
    return steps * EXPRESS_STEP_SECONDS * memory / 1024


# --- One measured run ------------------------------------------------------------------------------------------


RETRIED_AFTER = frozenset({"TaskFailed", "TaskTimedOut"})


@dataclass(frozen=True)
class Flow:
    """What an execution's history shows: transitions of the parent and of the children, each child's duration."""

    parent_transitions: int
    child_transitions: int
    child_seconds: tuple[float, ...]


def read_history(events: Sequence[dict[str, Any]], child_states: frozenset[str]) -> Flow:
    """Count transitions (states entered, plus Task retries) and time each Map item, from a history (INLINE Map)."""
    transitions = {"parent": 0, "child": 0}
    scope = "parent"
    started: dict[int, datetime] = {}
    durations: list[float] = []
    kinds = {event.get("id"): event["type"] for event in events}
    for event in events:
        kind = event["type"]
        entered = event.get("stateEnteredEventDetails")
        if entered is not None:
            scope = "child" if entered["name"] in child_states else "parent"
            transitions[scope] += 1
        elif kind == "TaskScheduled" and kinds.get(event.get("previousEventId")) in RETRIED_AFTER:
            transitions[scope] += 1  # scheduled again after a failure: a retry, billed as a transition
        if kind == "MapIterationStarted":
            started[_iteration_index(event)] = event["timestamp"]
        elif kind in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"):
            durations.append((event["timestamp"] - started.pop(_iteration_index(event))).total_seconds())
    return Flow(transitions["parent"], transitions["child"], tuple(durations))


def _iteration_index(event: dict[str, Any]) -> int:
    details = next(v for k, v in event.items() if k.endswith("EventDetails") and isinstance(v, dict))
    return int(details["index"])


@dataclass(frozen=True)
class Deployment:
    """What template.yaml and the definition fix: memory per function, retentions, the Map's concurrency."""

    memory_mb: dict[str, int]
    archive_retention_days: int
    log_retention_days: int
    map_concurrency: int
    inventory_base: Inventory  # custom_metrics 0: counted from the runs


@dataclass(frozen=True)
class Measured:
    """One measured execution: the raw figures at the measured season count, ready to be priced at another."""

    invocations: tuple[TimedInvocation, ...]  # function (logical ID), action, handler seconds
    flow: Flow
    children: str  # EXPRESS or STANDARD (how the Map's children would run)
    read_units: float
    write_units: float
    s3_puts: int
    archived_bytes: int
    log_bytes: int
    seasons: int  # measured season count (0: the run does not grow with seasons)

    @property
    def items(self) -> int:
        """Map items run."""
        return len(self.flow.child_seconds)

    def first_load_seconds(self) -> float:
        """What a Map container's first item costs beyond the others (loading the archived listing)."""
        syncs = [i.seconds for i in self.invocations if i.action == "sync"]
        return max(0.0, syncs[0] - statistics.median(syncs[1:])) if len(syncs) > 2 else 0.0


def usage_at(run: Measured, seasons: int, deployment: Deployment, init_seconds: dict[str, float]) -> Usage:
    """What one run uses with ``seasons`` active seasons (``run.seasons`` measured; 0: not scaled)."""
    factor = seasons / run.seasons if run.seasons else 1.0
    per_item = [i for i in run.invocations if i.action in MAP_ACTIONS]
    fixed = Usage(
        lambda_request=len(run.invocations) - len(per_item),
        sfn_transition=run.flow.parent_transitions,
        s3_put=run.s3_puts,
        logs_ingest_gb=(len(run.invocations) - len(per_item)) * PLATFORM_LOG_BYTES / GB,
        scheduler_invocation=1,
        xray_trace=1,
        kms_request=KMS_REQUESTS_PER_EXECUTION,
    )
    growing = Usage(
        lambda_request=len(per_item),
        lambda_gb_second=sum(billed_gb_seconds(i.seconds, deployment.memory_mb[i.function]) for i in run.invocations),
        dynamodb_read_unit=run.read_units,
        dynamodb_write_unit=run.write_units,
        s3_archived_gb=run.archived_bytes / GB,
        logs_ingest_gb=(run.log_bytes + len(per_item) * PLATFORM_LOG_BYTES) / GB,
        xray_trace=TRACES_PER_CHILD * run.items,
    ) + children_usage(run.flow, run.children)
    items = run.items * factor
    return fixed + growing * factor + cold_usage(run, items, deployment, init_seconds)


def children_usage(flow: Flow, children: str) -> Usage:
    """The Map's children: a transition per child started; then STANDARD transitions or an EXPRESS request + time."""
    started = Usage(sfn_transition=TRANSITIONS_PER_CHILD_STARTED * len(flow.child_seconds))
    if children == "STANDARD":
        return started + Usage(sfn_transition=flow.child_transitions)
    return started + Usage(
        sfn_express_request=len(flow.child_seconds),
        sfn_express_gb_second=sum(express_gb_seconds(s) for s in flow.child_seconds),
    )


def containers(run: Measured, items: float, map_concurrency: int) -> tuple[dict[str, int], int]:
    """Cold containers per function in one run, and how many of them run Map items."""
    mapped = min(map_concurrency, math.ceil(items)) if items > 0 else 0
    functions = {i.function for i in run.invocations}
    item_functions = {i.function for i in run.invocations if i.action in MAP_ACTIONS}
    return {f: max(1, mapped) if f in item_functions else 1 for f in functions}, mapped


def cold_usage(run: Measured, items: float, deployment: Deployment, init_seconds: dict[str, float]) -> Usage:
    """What starting cold adds to a run: each container's INIT, each Map container's first listing load and GET,
    a secret read per container that builds an iRacing client, KMS data-key requests."""
    per_function, mapped = containers(run, items, deployment.map_concurrency)
    season_function = next((i.function for i in run.invocations if i.action in MAP_ACTIONS), None)
    init = sum(n * billed_gb_seconds(init_seconds[f], deployment.memory_mb[f]) for f, n in per_function.items())
    # The measured run loaded the listing once (its caches were cleared): the other Map containers load it too.
    loads = (
        max(0, mapped - 1) * billed_gb_seconds(run.first_load_seconds(), deployment.memory_mb[season_function])
        if season_function
        else 0.0
    )
    return Usage(
        lambda_gb_second=init + loads,
        s3_get=mapped,
        secret_api_call=len({i.function for i in run.invocations if i.action in CLIENT_ACTIONS}),
        kms_request=KMS_REQUESTS_PER_CONTAINER * sum(per_function.values()),
    )


# --- Months ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """One design's runs at the scaled season count: hourly (Q new, A nothing changed, B every season changed)."""

    new: Usage
    unchanged: Usage
    changed: Usage
    reference: Usage


def month_unchanged(d: Design) -> Usage:
    """A month in which iRacing changed nothing: 720 hourly runs (A) and 30 daily reference runs."""
    return d.unchanged * HOURLY_RUNS_PER_MONTH + d.reference * DAILY_RUNS_PER_MONTH


def month_changed(d: Design) -> Usage:
    """A month in which every season's body changed before every hourly run."""
    return d.changed * HOURLY_RUNS_PER_MONTH + d.reference * DAILY_RUNS_PER_MONTH


def month_typical(d: Design) -> Usage:
    """A typical month: every season's body changes once a week (race_week advances in iRacing's listing), a new
    quarter starts every third month (every season new), and the other hourly runs find nothing changed."""
    changed, new = WEEKS_PER_MONTH, QUARTERS_PER_MONTH
    hourly = d.unchanged * (HOURLY_RUNS_PER_MONTH - changed - new) + d.changed * changed + d.new * new
    return hourly + d.reference * DAILY_RUNS_PER_MONTH


# --- template.yaml ---------------------------------------------------------------------------------------------


def function_memory(template: dict[str, Any]) -> dict[str, int]:
    """MemorySize per function (logical ID), the Globals default where a function sets none."""
    default_memory = int(template["Globals"]["Function"]["MemorySize"])
    return {
        name: int(r.get("Properties", {}).get("MemorySize", default_memory))
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }


def cost_model(template: dict[str, Any]) -> CostModel:
    """List prices with the template's default archive and log retentions."""
    parameters = template["Parameters"]
    return CostModel(
        int(parameters["RawArchiveRetentionDays"]["Default"]), int(parameters["LogRetentionDays"]["Default"])
    )


def read_deployment(template: dict[str, Any], definition: dict[str, Any]) -> Deployment:
    """Memory per function (Globals default), retentions and fixed items of a prod deployment, Map concurrency."""
    resources = template["Resources"]
    memory = function_memory(template)
    alarms = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::CloudWatch::Alarm"]  # prod: all
    # A metric-math alarm is billed per metric it reads.
    alarm_metrics = sum(sum("MetricStat" in m for m in a["Metrics"]) if "Metrics" in a else 1 for a in alarms)
    parameters = template["Parameters"]
    inventory = Inventory(
        secrets=sum(1 for name in parameters if name.endswith("SecretName")),  # created outside the stack
        alarm_metrics=alarm_metrics,
        custom_metrics=0,
        kms_keys=sum(1 for r in resources.values() if r["Type"] == "AWS::KMS::Key"),
    )
    return Deployment(
        memory_mb=memory,
        archive_retention_days=int(parameters["RawArchiveRetentionDays"]["Default"]),
        log_retention_days=int(parameters["LogRetentionDays"]["Default"]),
        map_concurrency=int(_distributed_map(definition)["MaxConcurrency"]),
        inventory_base=inventory,
    )


def _distributed_map(definition: dict[str, Any]) -> dict[str, Any]:
    return next(
        s
        for s in definition["States"].values()
        if s["Type"] == "Map" and s.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
    )


def measurement_copy(definition: dict[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """The definition with its Distributed Map INLINE (its children's states then show in the parent's history),
    one item at a time; and the item processor's state names."""
    measured = copy.deepcopy(definition)
    state = _distributed_map(measured)
    state["ItemProcessor"]["ProcessorConfig"] = {"Mode": "INLINE"}
    state.pop("ToleratedFailurePercentage", None)  # INLINE has none: the item processor catches every failure
    state["MaxConcurrency"] = 1
    return measured, frozenset(state["ItemProcessor"]["States"])


def children_type(asl_file: Path) -> str:
    """How the Distributed Map's children run in AWS (the ASL as written: the local runner makes them STANDARD)."""
    config = _distributed_map(json.loads(asl_file.read_text()))["ItemProcessor"]["ProcessorConfig"]
    return str(config.get("ExecutionType", "STANDARD"))


# --- Measuring ---------------------------------------------------------------------------------------------------


class _LogMeter(logging.Handler):
    """Counts the bytes of every log line as the function's handler would write it (its own formatter)."""

    def __init__(self, formatter: logging.Formatter | None) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(formatter)
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.bytes += len(self.format(record).encode()) + 1


@dataclass
class _Observed:
    log_bytes: int = 0
    metrics: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)


@contextlib.contextmanager
def _observed() -> Iterator[_Observed]:
    """Logs at INFO (prod's level) and EMF metrics switched on, both counted instead of printed."""
    from iracing_sync.observability import logger

    observed = _Observed()
    meter = _LogMeter(logger.registered_handler.formatter)
    console, level = logger.registered_handler, logger.log_level
    console_level, metrics_disabled = console.level, os.environ.get("POWERTOOLS_METRICS_DISABLED")
    captured = io.StringIO()
    logger.addHandler(meter)
    logger.setLevel("INFO")
    console.setLevel(logging.ERROR)  # the bench's stderr stays as quiet as before
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
    try:
        with contextlib.redirect_stdout(captured):  # Powertools prints EMF lines on stdout
            yield observed
    finally:
        logger._logger.removeHandler(meter)
        logger.setLevel(level)
        console.setLevel(console_level)
        if metrics_disabled is None:
            os.environ.pop("POWERTOOLS_METRICS_DISABLED", None)
        else:
            os.environ["POWERTOOLS_METRICS_DISABLED"] = metrics_disabled
        observed.log_bytes = meter.bytes
        for line in captured.getvalue().splitlines():
            observed.log_bytes += len(line.encode()) + 1
            observed.metrics |= _emf_metrics(json.loads(line))


def _emf_metrics(document: dict[str, Any]) -> set[tuple[str, tuple[str, ...]]]:
    """The (metric name, dimension values) pairs one EMF document publishes: each is one custom metric."""
    out = set()
    for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
        for dimensions in directive.get("Dimensions", [[]]):
            values = tuple(f"{d}={document.get(d)}" for d in dimensions)
            out |= {(m["Name"], values) for m in directive.get("Metrics", [])}
    return out


def _archive_files() -> dict[str, int]:
    folder = Path(os.environ["ARCHIVE_DIR"])
    return {str(p): p.stat().st_size for p in folder.rglob("*.json.gz")}


@dataclass
class _Bench:
    """The engines and the state machines the measured runs share."""

    sfn: Any
    proxy: Any
    child_states: frozenset[str]
    metrics: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)

    def measure(self, arn: str, execution_input: dict[str, Any], *, children: str, seasons: int) -> Measured:
        """Run one execution from cold caches and collect what it used."""
        from iracing_sync import sync
        from iracing_sync_local import stepfunctions

        sync._archived.cache_clear()  # a cold container has not loaded the archived listing yet
        before = _archive_files()
        self.proxy.reset_counts()
        del stepfunctions.timed_invocations[:]
        with _observed() as observed:
            self.sfn.run_arn(arn, execution_input)
        self.metrics |= observed.metrics
        written = {k: v for k, v in _archive_files().items() if k not in before}
        history = self.sfn.history(self.sfn.executions(arn)[0])
        return Measured(
            invocations=tuple(stepfunctions.timed_invocations),
            flow=read_history(history, self.child_states),
            children=children,
            read_units=self.proxy.read_units,
            write_units=self.proxy.write_units,
            s3_puts=len(written),
            archived_bytes=sum(written.values()),
            log_bytes=observed.log_bytes,
            seasons=seasons,
        )


def _ticked(body: list[dict[str, Any]], tick: int) -> list[dict[str, Any]]:
    """Every season changed in one stored fact (its schedule description): each season's task runs and rewrites
    one item. (A field nothing stored depends on, like reg_user_count, changes nothing: change detection compares
    what a body yields.)"""
    return [
        {**season, "schedule_description": f"{season.get('schedule_description') or ''} ({tick})"} for season in body
    ]


@dataclass(frozen=True)
class Measurements:
    """Every measured run of both designs, the table's size after a quarter's sync, the metrics emitted."""

    ours: dict[str, Measured]
    baseline: dict[str, Measured]
    reference: Measured
    table_bytes: int
    custom_metrics: int


def measure_all() -> tuple[Measurements, Deployment]:
    """Run both designs' scenarios on the 2023 S2 quarter (see the module docstring)."""
    from bench.engines import empty_table, metered_engines
    from iracing_sync_local import SAMPLES_DIR
    from iracing_sync_local.fake_iracing import SNAPSHOTS
    from iracing_sync_local.stepfunctions import STATEMACHINE_DIR, load_definition, local_step_functions
    from iracing_sync_local.template import load_template

    definition = load_definition("sync_current_seasons", retry_interval_scale=0)
    deployment = read_deployment(load_template(ROOT / "template.yaml"), definition)
    copy_, child_states = measurement_copy(definition)
    children = children_type(STATEMACHINE_DIR / "sync_current_seasons.asl.json")
    body = json.loads((SAMPLES_DIR / SNAPSHOTS[MEASURED_SNAPSHOT].seasons_file).read_text())
    seasons = len(body)
    with metered_engines(MEASURED_SNAPSHOT) as (fake, proxy), local_step_functions(retry_interval_scale=0) as sfn:
        arn = sfn.create("CostSyncCurrentSeasons", copy_)
        bench = _Bench(sfn, proxy, child_states)
        ours: dict[str, Measured] = {}
        baseline: dict[str, Measured] = {}
        force = {"force": True}
        ours["new"] = bench.measure(arn, {}, children=children, seasons=seasons)
        from iracing_sync.store.schema import Item

        table_bytes = int(Item.describe_table().get("TableSizeBytes", 0))
        ours["unchanged"] = bench.measure(arn, {}, children=children, seasons=seasons)
        fake.replace_seasons(_ticked(body, 1))
        ours["changed"] = bench.measure(arn, {}, children=children, seasons=seasons)
        baseline["unchanged"] = bench.measure(arn, force, children="STANDARD", seasons=seasons)
        fake.replace_seasons(_ticked(body, 2))
        baseline["changed"] = bench.measure(arn, force, children="STANDARD", seasons=seasons)
        empty_table()
        fake.replace_seasons(body)
        baseline["new"] = bench.measure(arn, force, children="STANDARD", seasons=seasons)
        reference_arn = sfn.arn("sync_reference_data")
        bench.measure(reference_arn, {}, children="STANDARD", seasons=0)  # the catalog stored once
        reference = bench.measure(reference_arn, {}, children="STANDARD", seasons=0)
        metrics = len(bench.metrics)
    return Measurements(ours, baseline, reference, table_bytes, metrics), replace(
        deployment, inventory_base=replace(deployment.inventory_base, custom_metrics=metrics)
    )


# INIT: a fresh interpreter imports the function's app.py, bytecode precompiled (what make build ships).
_TIMED_IMPORT = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
INIT_RUNS = 5


def measure_init_seconds(folders: dict[str, str]) -> dict[str, float]:
    """Median seconds a cold container of each function spends importing its handler (logical ID -> seconds)."""
    out = {}
    for logical_id, folder in folders.items():
        env = cold_start_env(folder)
        times = [_child_seconds(env) for _ in range(INIT_RUNS + 1)][1:]  # the first run fills the bytecode cache
        out[logical_id] = statistics.median(times)
    return out


def _child_seconds(env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-c", _TIMED_IMPORT], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"timed import failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])


# --- Rows --------------------------------------------------------------------------------------------------------

BASELINE = 'design before #15: STANDARD children, every season synced ({"force": true})'
BUDGET_USD = 1.0


@dataclass(frozen=True)
class Bill:
    """A design's bill at the scaled season count: per run, per month (variable), and the fixed monthly items."""

    design: Design
    table_gb: float
    model: CostModel
    inventory: Inventory

    def variable_month(self, month: Usage) -> float:
        """USD per month of a month's runs plus the table's storage."""
        return self.model.usd(month) + self.model.storage_month(self.table_gb)

    def fixed_month(self) -> float:
        """USD per month of the fixed items."""
        return sum(self.inventory.monthly(self.model.prices).values())


def bills(m: Measurements, deployment: Deployment, init_seconds: dict[str, float]) -> tuple[Bill, Bill]:
    """Our bill and the baseline's, at SEASONS seasons."""
    model = CostModel(deployment.archive_retention_days, deployment.log_retention_days)
    table_gb = m.table_bytes / GB * SEASONS / m.ours["new"].seasons
    reference = usage_at(m.reference, SEASONS, deployment, init_seconds)

    def design(runs: dict[str, Measured]) -> Design:
        at = {k: usage_at(r, SEASONS, deployment, init_seconds) for k, r in runs.items()}
        return Design(new=at["new"], unchanged=at["unchanged"], changed=at["changed"], reference=reference)

    inventory = deployment.inventory_base
    return Bill(design(m.ours), table_gb, model, inventory), Bill(design(m.baseline), table_gb, model, inventory)


def rows_for(ours: Bill, base: Bill) -> list[Row]:
    """The table: per run, per month (variable), the budget, fixed and typical totals."""
    n = f"{SEASONS} seasons"

    def versus(label: str, of: Callable[[Bill], float], target: float | None = None) -> Row:
        return Row(label, of(ours), "USD", BASELINE, of(base), target=target, higher_is_better=False)

    def typical(bill: Bill) -> float:
        return bill.variable_month(month_typical(bill.design))

    inv = ours.inventory
    fixed = (
        f"fixed bill per month: secret, {inv.alarm_metrics} alarm metrics, {inv.custom_metrics} custom metrics, KMS key"
    )
    return [
        versus(f"hourly run, nothing changed, {n}", lambda b: b.model.usd(b.design.unchanged), target=20),
        versus(f"hourly run, every season changed, {n}", lambda b: b.model.usd(b.design.changed)),
        versus(f"hourly run, every season new (quarter start), {n}", lambda b: b.model.usd(b.design.new)),
        versus(
            f"variable bill per month, nothing changed (720 hourly + 30 daily runs), {n}",
            lambda b: b.variable_month(month_unchanged(b.design)),
        ),
        versus(
            f"variable bill per month, every season changed every hour, {n}",
            lambda b: b.variable_month(month_changed(b.design)),
        ),
        Row(
            f"variable bill per month, typical (each season changes weekly, new quarter every 3rd month), {n}",
            typical(ours),
            "USD",
            "budget",
            BUDGET_USD,
            target=1.0,
            higher_is_better=False,
        ),
        versus(f"variable bill per month, typical, {n}", typical),
        Row(fixed, ours.fixed_month(), "USD", "same resources before #15", base.fixed_month(), higher_is_better=False),
        versus(f"typical bill per month, fixed + variable, {n}", lambda b: b.fixed_month() + typical(b)),
    ]


def breakdown(ours: Bill, base: Bill, m: Measurements, init_seconds: dict[str, float]) -> str:
    """A Markdown breakdown by service (USD), and the measured raw figures, for the README."""
    columns = [
        ("run: nothing changed", ours.model.by_service(ours.design.unchanged)),
        ("run: every season changed", ours.model.by_service(ours.design.changed)),
        ("baseline run: nothing changed", base.model.by_service(base.design.unchanged)),
        ("daily reference run", ours.model.by_service(ours.design.reference)),
        ("month: typical", ours.model.by_service(month_typical(ours.design))),
        ("baseline month: typical", base.model.by_service(month_typical(base.design))),
    ]
    services = list(dict.fromkeys(SERVICES.values()))
    lines = [f"Prices: {PRICE_SOURCE}. USD at {SEASONS} seasons.", ""]
    lines.append("| service | " + " | ".join(c for c, _ in columns) + " |")
    lines.append("|---|" + "---:|" * len(columns))
    for service in services:
        lines.append(f"| {service} | " + " | ".join(f"{c[service]:.6f}" for _, c in columns) + " |")
    storage = ours.model.storage_month(ours.table_gb)
    lines.append("| DynamoDB storage + PITR | - | - | - | - | " + f"{storage:.6f} | {storage:.6f} |")
    lines += ["", "Fixed per month: " + ", ".join(f"{k} {v:.2f}" for k, v in ours.inventory.monthly().items()), ""]
    lines.append(f"Measured at {m.ours['new'].seasons} seasons (INIT seconds: {init_seconds}):")
    lines.append("")
    lines.append(
        "| run | invocations | Lambda s | parent transitions | child transitions | items | child s | RRU | WRU "
        "| PUTs | archived KB | log KB |"
    )
    lines.append("|---|" + "---:|" * 11)
    runs = [(f"ours {k}", r) for k, r in m.ours.items()] + [(f"baseline {k}", r) for k, r in m.baseline.items()]
    for name, r in [*runs, ("reference", m.reference)]:
        lines.append(
            f"| {name} | {len(r.invocations)} | {sum(i.seconds for i in r.invocations):.2f} | "
            f"{r.flow.parent_transitions} | {r.flow.child_transitions} | {r.items} | {sum(r.flow.child_seconds):.2f} | "
            f"{r.read_units:.1f} | {r.write_units:.1f} | {r.s3_puts} | {r.archived_bytes / 1024:.0f} | "
            f"{r.log_bytes / 1024:.0f} |"
        )
    return "\n".join(lines) + "\n"


def run() -> list[Row]:
    """Measure both designs, price them, print the breakdown on stderr, return the rows."""
    from iracing_sync_local.stepfunctions import FUNCTIONS

    measurements, deployment = measure_all()
    init_seconds = measure_init_seconds({f: FUNCTIONS[f] for f in ("SeasonFunction", "SeriesFunction")})
    ours, base = bills(measurements, deployment, init_seconds)
    print(breakdown(ours, base, measurements, init_seconds), file=sys.stderr)
    return rows_for(ours, base)
