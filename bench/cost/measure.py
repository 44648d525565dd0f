"""Measuring the cost bench's runs: the real state machines and handlers on the local engines, their histories,
log bytes and metrics, archive writes, and each function's INIT; what template.yaml fixes of a deployment."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import cold_start_env
from bench.cost.fixed import read_inventory
from bench.cost.usage import RELAY, CostModel, Deployment, Flow, Measured

ROOT = Path(__file__).resolve().parents[2]
MEASURED_SNAPSHOT = "2023s2"

RETRIED_AFTER = frozenset({"TaskFailed", "TaskTimedOut"})


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


def credentials_store(template: dict[str, Any]) -> str:
    """Where the functions read the iRacing credentials from: ``ssm`` (Parameter Store) or ``secretsmanager``."""
    names = {
        name
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
        for name in r.get("Properties", {}).get("Environment", {}).get("Variables", {})
    }
    if "IRACING_PARAMETER_NAME" in names:
        return "ssm"
    if "IRACING_SECRET_NAME" in names:
        return "secretsmanager"
    raise ValueError("no function reads the iRacing credentials")


def read_deployment(template: dict[str, Any], definition: dict[str, Any]) -> Deployment:
    """Memory per function (Globals default), retentions, the Map's concurrency, the credentials' store and whether
    a customer managed key encrypts the data, for a prod stack of the template's defaults."""
    parameters = template["Parameters"]
    return Deployment(
        memory_mb=function_memory(template),
        archive_retention_days=int(parameters["RawArchiveRetentionDays"]["Default"]),
        log_retention_days=int(parameters["LogRetentionDays"]["Default"]),
        map_concurrency=int(_distributed_map(definition)["MaxConcurrency"]),
        credentials=credentials_store(template),
        customer_key=read_inventory(template).kms_keys > 0,
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
class Observed:
    log_bytes: int = 0
    metrics: set[tuple[str, tuple[str, ...]]] = field(default_factory=set)


@contextlib.contextmanager
def observing() -> Iterator[Observed]:
    """Logs at INFO (prod's level) and EMF metrics switched on, both counted instead of printed."""
    from iracing_sync.observability import logger

    observed = Observed()
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


def archive_files() -> dict[str, int]:
    folder = Path(os.environ["ARCHIVE_DIR"])
    return {str(p): p.stat().st_size for p in folder.rglob("*.json.gz")}


@contextlib.contextmanager
def relayed() -> Iterator[list[tuple[int, float]]]:
    """Each invocation of the changes relay made inside: (changes handed to it, handler seconds). The local runner
    hands a run's new change items to the relay after the run, as the table's stream would (one event put each)."""
    from iracing_sync_local import stepfunctions

    invoke = stepfunctions.invoke
    calls: list[tuple[int, float]] = []

    def timed(logical_id: str, event: dict[str, Any]) -> tuple[dict[str, Any] | list[Any] | None, str | None]:
        started = time.perf_counter()
        try:
            return invoke(logical_id, event)
        finally:
            if logical_id == RELAY:
                calls.append((len(event.get("Records", [])), time.perf_counter() - started))

    stepfunctions.invoke = timed
    try:
        yield calls
    finally:
        stepfunctions.invoke = invoke


def announced(summary: Any) -> int:
    """Events a run's record task put: a PARTIAL run of a kind but the race guide's is announced (one event)."""
    from iracing_sync.outcomes import GUIDE_KIND

    partial = isinstance(summary, dict) and summary.get("status") == "PARTIAL"
    return int(partial and summary.get("kind") != GUIDE_KIND)


@dataclass
class _Bench:
    """The engines and the state machines the measured runs share."""

    sfn: Any
    proxy: Any
    child_states: frozenset[str]

    def measure(self, arn: str, execution_input: dict[str, Any], *, children: str, seasons: int) -> Measured:
        """Run one execution from cold caches and collect what it used."""
        from iracing_sync import sources
        from iracing_sync_local import stepfunctions

        sources.archived.cache_clear()  # a cold container has not loaded the archived listing yet
        before = archive_files()
        self.proxy.reset_counts()
        del stepfunctions.timed_invocations[:]
        with observing() as observed, relayed() as relay:
            summary = self.sfn.run_arn(arn, execution_input)
        written = {k: v for k, v in archive_files().items() if k not in before}
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
            metrics=frozenset(observed.metrics),
            events=sum(n for n, _ in relay) + announced(summary),
            relay_seconds=tuple(seconds for _, seconds in relay),
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
    """Every measured run of both designs and the table's size after a quarter's sync."""

    ours: dict[str, Measured]
    baseline: dict[str, Measured]
    reference: Measured
    table_bytes: int


def measure_all() -> tuple[Measurements, Deployment]:
    """Run both designs' scenarios on the 2023 S2 quarter (see docs/cost.md#the-cost-bench)."""
    from bench.engines import metered_engines
    from iracing_sync_local import SAMPLES_DIR
    from iracing_sync_local.asl import STATEMACHINE_DIR, load_definition
    from iracing_sync_local.fake_iracing import SNAPSHOTS
    from iracing_sync_local.stepfunctions import local_step_functions
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
        # A forced sync onto an empty table syncs every listed season, as the first sync does: the same run, priced
        # with the baseline's STANDARD children (one run less to measure).
        baseline["new"] = replace(ours["new"], children="STANDARD")
        from iracing_sync.store.schema import Item

        table_bytes = int(Item.describe_table().get("TableSizeBytes", 0))
        ours["unchanged"] = bench.measure(arn, {}, children=children, seasons=seasons)
        fake.replace_seasons(_ticked(body, 1))
        ours["changed"] = bench.measure(arn, {}, children=children, seasons=seasons)
        baseline["unchanged"] = bench.measure(arn, force, children="STANDARD", seasons=seasons)
        fake.replace_seasons(_ticked(body, 2))
        baseline["changed"] = bench.measure(arn, force, children="STANDARD", seasons=seasons)
        reference_arn = sfn.arn("sync_reference_data")
        bench.measure(reference_arn, {}, children="STANDARD", seasons=0)  # the catalog stored once
        reference = bench.measure(reference_arn, {}, children="STANDARD", seasons=0)
    return Measurements(ours, baseline, reference, table_bytes), deployment


# INIT: a fresh interpreter imports the function's app.py, bytecode precompiled (what make build ships).
_TIMED_IMPORT = "import time; t = time.perf_counter(); import app; print(time.perf_counter() - t)"
INIT_RUNS = 5


_init_measured: dict[str, float] = {}  # one measurement per function for the benches of one process


def measure_init_seconds(folders: dict[str, str]) -> dict[str, float]:
    """Median seconds a cold container of each function spends importing its handler (logical ID -> seconds)."""
    for logical_id, folder in folders.items():
        if logical_id not in _init_measured:
            env = cold_start_env(folder)
            times = [_child_seconds(env) for _ in range(INIT_RUNS + 1)][1:]  # the first run fills the bytecode cache
            _init_measured[logical_id] = statistics.median(times)
    return {logical_id: _init_measured[logical_id] for logical_id in folders}


def _child_seconds(env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-c", _TIMED_IMPORT], env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"timed import failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return float(done.stdout.strip().splitlines()[-1])
