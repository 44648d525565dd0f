"""The race-guide poll's cost (``python -m bench.run guide``): iRacing requests per day against the rate budget,
DynamoDB writes per poll when entry counts move and when they do not, and USD per month at list prices.

SyncRaceGuide (statemachine/sync_race_guide.asl.json) runs in moto's interpreter with the real handlers, against the
fake iRacing server serving the 2025-09-09 race guide (133 sessions) and DynamoDB Local behind the metering proxy,
after that day's seasons were synced. Three polls are measured, each its own run:

- first: every session is new to the table (what a poll that rewrites the whole guide writes every time: the
  baseline of the write rows);
- unchanged: the same guide again (entries did not move);
- moved: every session the capture shows registering or under way (an entry count above 0 or a session ID: 20 of
  133, about what the 2026-01-01 capture shows too, 59 of 343) gained an entry.

A poll's bill: the EXPRESS execution (a request, its duration in 100 ms steps at 64 MB), each Lambda invocation at
the function's MemorySize (template.yaml), DynamoDB request units (ConsumedCapacity), S3 PUTs of the archived guide,
the log and EMF bytes the handlers write at INFO, the schedule's invocation, and the custom metrics the guide's runs
publish (a metric-month each, like the fixed items of the cost bench). Containers are taken as warm (a
container idle 5 minutes usually survives; AWS does not promise it): the cold row adds the function's INIT (a fresh
interpreter importing its app.py) to every poll, the worst case.
"""

from __future__ import annotations

import copy
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from bench import Row
from bench.cost.measure import archive_files, cost_model, function_memory, measure_init_seconds, observing
from bench.cost.prices import GB, PRICES, billed_gb_seconds, express_gb_seconds
from bench.cost.usage import PLATFORM_LOG_BYTES, Usage

POLLS_PER_DAY = 24 * 60 // 5  # the RaceGuideSchedule default: every 5 minutes
DAYS_PER_MONTH = 30
# iRacing's documented rate limit for one account: 240 requests in a 60-second window (x-ratelimit-limit).
RATE_LIMIT_PER_MINUTE = 240


@dataclass(frozen=True)
class Poll:
    """One measured poll: what it asked iRacing, what it used, what it reported."""

    data_requests: int
    invocations: tuple[tuple[str, float], ...]  # (function logical ID, handler seconds)
    execution_seconds: float
    read_units: float
    write_units: float
    s3_puts: int
    log_bytes: int
    summary: dict[str, Any]

    def usage(self, memory_mb: dict[str, int], init_seconds: float = 0.0) -> Usage:
        """What this poll is billed for (``init_seconds``: a cold start of the poll's function added)."""
        lambda_seconds = sum(billed_gb_seconds(s, memory_mb[f]) for f, s in self.invocations)
        function = self.invocations[0][0]
        return Usage(
            lambda_request=len(self.invocations),
            lambda_gb_second=lambda_seconds + billed_gb_seconds(init_seconds, memory_mb[function]),
            sfn_express_request=1,
            sfn_express_gb_second=express_gb_seconds(self.execution_seconds),
            dynamodb_read_unit=self.read_units,
            dynamodb_write_unit=self.write_units,
            s3_put=self.s3_puts,
            logs_ingest_gb=(self.log_bytes + len(self.invocations) * PLATFORM_LOG_BYTES) / GB,
            scheduler_invocation=1,
        )


def _moved(guide: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The guide with one more entry on every session registering or under way; how many moved."""
    moved = copy.deepcopy(guide)
    n = 0
    for session in moved["sessions"]:
        if session.get("entry_count", 0) > 0 or "session_id" in session:
            session["entry_count"] = session.get("entry_count", 0) + 1
            n += 1
    return moved, n


def measure() -> tuple[dict[str, Poll], int, int, set[tuple[str, tuple[str, ...]]]]:
    """The three polls (see the module docstring), the guide's session count, how many sessions moved, and the
    custom metrics (name, dimensions) the polls published."""
    from bench.engines import metered_engines
    from iracing_sync.settings import get_settings
    from iracing_sync_local import SAMPLES_DIR, stepfunctions
    from iracing_sync_local.stepfunctions import local_step_functions

    guide = json.loads((SAMPLES_DIR / "season_race_guide_2025-09-09.json").read_text())
    moved, n_moved = _moved(guide)
    os.environ["RACE_GUIDE_MIN_SECONDS"] = "0"  # polls one after the other (in AWS: 5 minutes apart)
    get_settings.cache_clear()
    polls: dict[str, Poll] = {}
    metrics: set[tuple[str, tuple[str, ...]]] = set()
    try:
        with metered_engines() as (fake, proxy), local_step_functions(retry_interval_scale=0) as sfn:
            sfn.run("sync_current_seasons", progress=False)
            arn = sfn.arn("sync_race_guide")
            for name, body in (("first", guide), ("unchanged", guide), ("moved", moved)):
                fake.serve("season/race_guide", body)
                fake.clear_requests()
                proxy.reset_counts()
                before = archive_files()
                del stepfunctions.timed_invocations[:]
                with observing() as observed:
                    summary = sfn.run_arn(arn, {})
                metrics |= observed.metrics
                history = sfn.history(sfn.executions(arn)[0])
                polls[name] = Poll(
                    data_requests=len(fake.requests_to("/data/")),
                    invocations=tuple((i.function, i.seconds) for i in stepfunctions.timed_invocations),
                    execution_seconds=(history[-1]["timestamp"] - history[0]["timestamp"]).total_seconds(),
                    read_units=proxy.read_units,
                    write_units=proxy.write_units,
                    s3_puts=len(set(archive_files()) - set(before)),
                    log_bytes=observed.log_bytes,
                    summary=summary,
                )
    finally:
        os.environ.pop("RACE_GUIDE_MIN_SECONDS", None)
        get_settings.cache_clear()
    for name, poll in polls.items():  # a poll that drifted or re-synced would price something else
        s = poll.summary
        if s["status"] != "SUCCEEDED" or s["drifting"] or s["resynced"]:
            raise RuntimeError(f"the {name} poll did not reconcile cleanly: {s}")
    return polls, len(guide["sessions"]), n_moved, metrics


def run() -> list[Row]:
    """Measure the polls, price them, return the rows."""
    from iracing_sync_local.stepfunctions import FUNCTIONS

    polls, sessions, n_moved, metrics = measure()
    print(f"race-guide custom metrics: {sorted(metrics)}", file=sys.stderr)
    from iracing_sync_local.template import load_template

    template = load_template()
    memory, model = function_memory(template), cost_model(template)
    # The guide's runs publish metrics of their own kind (kind=race-guide): each a custom metric-month.
    metrics_month = len(metrics) * PRICES["custom_metric_month"].usd
    function = polls["unchanged"].invocations[0][0]
    init = measure_init_seconds({function: FUNCTIONS[function]})[function]
    per_month = POLLS_PER_DAY * DAYS_PER_MONTH
    budget_per_day = RATE_LIMIT_PER_MINUTE * 24 * 60

    def month(poll: Poll, cold: bool = False) -> float:
        return model.usd(poll.usage(memory, init if cold else 0.0) * per_month) + metrics_month

    first, unchanged, moved = polls["first"], polls["unchanged"], polls["moved"]
    rewrite = f"a poll rewriting every session ({sessions}, as the first poll does)"
    requests_per_day = max(p.data_requests for p in polls.values()) * POLLS_PER_DAY
    moved_label = f"{n_moved} of {sessions} sessions' entries moved"
    return [
        Row(
            "race-guide poll every 5 min, iRacing requests per day",
            requests_per_day,
            "requests",
            f"iRacing's rate budget per day ({RATE_LIMIT_PER_MINUTE}/min)",
            budget_per_day,
            target=100,  # under 1% of the budget, so the hourly syncs keep the rest
            higher_is_better=False,
        ),
        Row(
            "race-guide poll, DynamoDB writes, no entry count moved",
            unchanged.write_units,
            "WRU",
            rewrite,
            first.write_units,
            target=5,
            higher_is_better=False,
        ),
        Row(
            f"race-guide poll, DynamoDB writes, {moved_label}",
            moved.write_units,
            "WRU",
            rewrite,
            first.write_units,
            target=2,
            higher_is_better=False,
        ),
        Row(
            f"race-guide polls per month ({per_month:,}, {len(metrics)} custom metrics), {moved_label} each time",
            month(moved),
            "USD",
            rewrite,
            month(first),
            higher_is_better=False,
        ),
        Row(
            f"race-guide polls per month, {moved_label}, every poll cold (INIT {init * 1000:.0f} ms)",
            month(moved, cold=True),
            "USD",
            "the same polls, containers warm",
            month(moved),
            higher_is_better=False,
        ),
    ]
