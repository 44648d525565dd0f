"""The usage model: what one measured run uses in billed units at another season count, what a month of runs uses,
and its price."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field, fields

from bench.cost.prices import GB, PRICES, Price, billed_gb_seconds, express_gb_seconds
from iracing_sync_local.stepfunctions import TimedInvocation

HOURLY_RUNS_PER_MONTH = 720
DAILY_RUNS_PER_MONTH = 30
WEEKS_PER_MONTH = 365.25 / 7 / 12
QUARTERS_PER_MONTH = 1 / 3
SEASONS = 180  # a large quarter (docs/architecture.md: 140-180 active seasons)

# Estimates for what the local stack cannot show (stated in docs/cost.md with the bench's table).
PLATFORM_LOG_BYTES = 700  # Lambda's JSON platform.start + platform.report lines per invocation (with tracing)
# With a customer managed key on the table and the log groups (the design before #23); AWS-owned keys bill none.
KMS_REQUESTS_PER_CONTAINER = 2  # DynamoDB's table-key and CloudWatch Logs' data-key refreshes for one container
KMS_REQUESTS_PER_EXECUTION = 1  # the state machine's log group
# Reading the credentials decrypts them under an AWS managed key (aws/ssm, aws/secretsmanager): a KMS request each.
KMS_REQUESTS_PER_CREDENTIAL_READ = 1
# A Distributed Map is billed one transition in its parent per child execution it starts (AWS's Step Functions
# pricing), whichever type the children are; this is what makes one child per season cost a transition per season.
TRANSITIONS_PER_CHILD_STARTED = 1
TRACES_PER_CHILD = 1  # assumed (conservative): each child execution is an X-Ray trace of its own
CLIENT_ACTIONS = frozenset({"list_current", "series", "reference"})  # tasks that build an iRacing client (credentials)
MAP_ACTIONS = frozenset({"sync", "record_failure"})  # the item processor's tasks: one run per Map item
RELAY = "ChangesRelayFunction"  # puts each schedule change the table's stream brings on EventBridge


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
    parameter_api_call: float = 0.0
    kms_request: float = 0.0
    scheduler_invocation: float = 0.0
    xray_trace: float = 0.0
    custom_metric_hour: float = 0.0  # each custom metric, for each hour it is sent in
    custom_event: float = 0.0
    sns_publish: float = 0.0
    sns_email: float = 0.0

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
    "parameter_api_call": "Parameter Store",
    "kms_request": "KMS",
    "scheduler_invocation": "EventBridge Scheduler",
    "xray_trace": "X-Ray",
    "custom_metric_hour": "CloudWatch custom metrics",
    "custom_event": "EventBridge",
    "sns_publish": "SNS",
    "sns_email": "SNS",
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
class Flow:
    """What an execution's history shows: transitions of the parent and of the children, each child's duration."""

    parent_transitions: int
    child_transitions: int
    child_seconds: tuple[float, ...]


@dataclass(frozen=True)
class Deployment:
    """What template.yaml and the definition fix: memory per function, retentions, the Map's concurrency, where the
    credentials are kept (``ssm`` or ``secretsmanager``) and whether a customer managed key encrypts the data."""

    memory_mb: dict[str, int]
    archive_retention_days: int
    log_retention_days: int
    map_concurrency: int
    credentials: str
    customer_key: bool

    def credential_reads(self, reads: float) -> Usage:
        """``reads`` reads of the iRacing credentials: the store's API call, and the decryption's KMS request."""
        call = Usage(secret_api_call=reads) if self.credentials == "secretsmanager" else Usage(parameter_api_call=reads)
        return call + Usage(kms_request=reads * KMS_REQUESTS_PER_CREDENTIAL_READ)

    def key_requests(self, executions: float, containers: float) -> Usage:
        """The customer managed key's requests for executions and cold containers (none with AWS-owned keys)."""
        if not self.customer_key:
            return Usage()
        return Usage(kms_request=executions * KMS_REQUESTS_PER_EXECUTION + containers * KMS_REQUESTS_PER_CONTAINER)


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
    metrics: frozenset[tuple[str, tuple[str, ...]]] = frozenset()  # custom metrics sent: (name, dimensions)
    events: int = 0  # custom events put on EventBridge (schedule changes announced, partial runs)
    relay_seconds: tuple[float, ...] = ()  # each invocation of the changes relay the run's writes caused

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
    relayed = len(run.relay_seconds)
    fixed = Usage(
        lambda_request=len(run.invocations) - len(per_item),
        sfn_transition=run.flow.parent_transitions,
        s3_put=run.s3_puts,
        logs_ingest_gb=(len(run.invocations) - len(per_item)) * PLATFORM_LOG_BYTES / GB,
        scheduler_invocation=1,
        xray_trace=1,
        custom_metric_hour=len(run.metrics),  # a run an hour (or a day): each metric it sends, for that hour
    ) + deployment.key_requests(executions=1, containers=0)
    growing = Usage(
        lambda_request=len(per_item) + relayed,
        lambda_gb_second=sum(billed_gb_seconds(i.seconds, deployment.memory_mb[i.function]) for i in run.invocations)
        + sum(billed_gb_seconds(s, deployment.memory_mb[RELAY]) for s in run.relay_seconds),
        dynamodb_read_unit=run.read_units,
        dynamodb_write_unit=run.write_units,
        s3_archived_gb=run.archived_bytes / GB,
        logs_ingest_gb=(run.log_bytes + (len(per_item) + relayed) * PLATFORM_LOG_BYTES) / GB,
        xray_trace=TRACES_PER_CHILD * run.items,
        custom_event=run.events,
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
    """Cold containers per function in one run, and how many of them run Map items (min(MaxConcurrency, items))."""
    mapped = min(map_concurrency, math.ceil(items)) if items > 0 else 0
    functions = {i.function for i in run.invocations} | ({RELAY} if run.relay_seconds else set())
    item_functions = {i.function for i in run.invocations if i.action in MAP_ACTIONS}
    return {f: max(1, mapped) if f in item_functions else 1 for f in functions}, mapped


def cold_usage(run: Measured, items: float, deployment: Deployment, init_seconds: dict[str, float]) -> Usage:
    """What starting cold adds to a run: each container's INIT, each Map container's first listing load and GET,
    a credentials read per container that builds an iRacing client, the customer managed key's requests."""
    per_function, mapped = containers(run, items, deployment.map_concurrency)
    season_function = next((i.function for i in run.invocations if i.action in MAP_ACTIONS), None)
    init = sum(n * billed_gb_seconds(init_seconds[f], deployment.memory_mb[f]) for f, n in per_function.items())
    # The measured run loaded the listing once (its caches were cleared): the other Map containers load it too.
    loads = (
        max(0, mapped - 1) * billed_gb_seconds(run.first_load_seconds(), deployment.memory_mb[season_function])
        if season_function
        else 0.0
    )
    readers = len({i.function for i in run.invocations if i.action in CLIENT_ACTIONS})
    return (
        Usage(lambda_gb_second=init + loads, s3_get=mapped)
        + deployment.credential_reads(readers)
        + deployment.key_requests(executions=0, containers=sum(per_function.values()))
    )


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
