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
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import cold_start_env
from bench.cost.usage import CostModel, Deployment, Flow, Inventory, Measured

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
        before = archive_files()
        self.proxy.reset_counts()
        del stepfunctions.timed_invocations[:]
        with observing() as observed:
            self.sfn.run_arn(arn, execution_input)
        self.metrics |= observed.metrics
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
