"""The race-guide poll's cost (``python -m bench.run guide``): iRacing requests per day against the rate budget,
DynamoDB writes per poll when entry counts move and when they do not, and USD per month at list prices.

SyncRaceGuide (statemachine/sync_race_guide.asl.json) runs in moto's interpreter with the real handlers, against the
fake iRacing server serving the 2025-09-09 race guide (133 sessions) and DynamoDB Local behind the metering proxy,
after that day's seasons were synced. Four kinds of poll are measured, each its own run:

- first: every session is new to the table (what a poll that rewrites the whole guide writes every time: the
  baseline of the write rows);
- unchanged: the same guide again (entries did not move);
- moved: every session the capture shows registering or under way (an entry count above 0 or a session ID: 20 of
  133, about what the 2026-01-01 capture shows too, 59 of 343) gained an entry, three times (the median poll by
  handler seconds is priced: one poll on a loaded machine can take twice as long);
- partial: a bad poll: the guide lists a session one season never races, so that season drifts, and its re-sync
  fails (iRacing answers 404): the run is PARTIAL and the season still drifting, so it sends its two custom metrics.

A poll's bill: the EXPRESS execution (a request, its duration in 100 ms steps at 64 MB), each Lambda invocation at
the function's MemorySize (template.yaml), DynamoDB request units (ConsumedCapacity), S3 PUTs of the archived guide,
the log and EMF bytes the handlers write at INFO, the schedule's invocation, its X-Ray trace, a read of the
credentials (cached 5 minutes: the next poll comes 5 minutes later) and its decryption, and the custom metrics it
sends, each billed for the hour it is sent in. Containers are taken as warm (a container idle 5 minutes usually
survives; AWS does not promise it): the cold row adds the function's INIT (a fresh interpreter importing its app.py)
to every poll, the worst case. The cost bench (bench/bench_cost.py) adds a month of these polls to the whole bill;
in one process both use one measurement.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import sys
from dataclasses import dataclass
from typing import Any

from bench import Row
from bench.cost.fixed import alarms_reading
from bench.cost.measure import archive_files, cost_model, observing, read_deployment, relayed
from bench.cost.prices import GB, HOURS_PER_MONTH, billed_gb_seconds, express_gb_seconds
from bench.cost.usage import PLATFORM_LOG_BYTES, Deployment, Usage

POLLS_PER_DAY = 24 * 60 // 5  # the RaceGuideSchedule default: every 5 minutes
POLLS_PER_HOUR = POLLS_PER_DAY // 24
DAYS_PER_MONTH = HOURS_PER_MONTH // 24
BAD_DAYS = 1  # the bad month: one day of PARTIAL polls
NOTICES_PER_ALARM = 2  # an alarm that fires sends its ALARM and, once its metric is gone, its OK
# iRacing's documented rate limit for one account: 240 requests in a 60-second window (x-ratelimit-limit).
RATE_LIMIT_PER_MINUTE = 240
HEALTHY = ("first", "unchanged", "moved")
MOVED_REPEATS = 3


@dataclass(frozen=True)
class Poll:
    """One measured poll: what it asked iRacing, what it used, what it reported and sent."""

    data_requests: int
    invocations: tuple[tuple[str, float], ...]  # (function logical ID, handler seconds)
    execution_seconds: float
    read_units: float
    write_units: float
    s3_puts: int
    log_bytes: int
    summary: dict[str, Any]
    archived_bytes: int = 0  # the guide's body, kept RawArchiveRetentionDays
    metrics: frozenset[tuple[str, tuple[str, ...]]] = frozenset()  # custom metrics sent: (name, dimensions)
    events: int = 0  # custom events put (schedule changes its re-syncs announced)

    def usage(self, deployment: Deployment, init_seconds: float = 0.0) -> Usage:
        """What this poll is billed for (``init_seconds``: a cold start of the poll's function added)."""
        memory = deployment.memory_mb
        lambda_seconds = sum(billed_gb_seconds(s, memory[f]) for f, s in self.invocations)
        function = self.invocations[0][0]
        return (
            Usage(
                lambda_request=len(self.invocations),
                lambda_gb_second=lambda_seconds + billed_gb_seconds(init_seconds, memory[function]),
                sfn_express_request=1,
                sfn_express_gb_second=express_gb_seconds(self.execution_seconds),
                dynamodb_read_unit=self.read_units,
                dynamodb_write_unit=self.write_units,
                s3_put=self.s3_puts,
                s3_archived_gb=self.archived_bytes / GB,
                logs_ingest_gb=(self.log_bytes + len(self.invocations) * PLATFORM_LOG_BYTES) / GB,
                scheduler_invocation=1,
                xray_trace=1,
                # Sent by every poll of an hour alike, a metric is billed for that hour once: a twelfth per poll.
                custom_metric_hour=len(self.metrics) / POLLS_PER_HOUR,
                custom_event=self.events,
            )
            + deployment.credential_reads(1)
            + deployment.key_requests(executions=1, containers=0)
        )


@dataclass(frozen=True)
class Measured:
    """The four polls (see the module docstring), the guide's session count, how many sessions moved."""

    polls: dict[str, Poll]
    sessions: int
    moved: int

    def notices(self, template: dict[str, Any]) -> int:
        """What a day of PARTIAL polls sends a person: each alarm reading a metric they send fires, then recovers."""
        return NOTICES_PER_ALARM * len(alarms_reading(template, set(self.polls["partial"].metrics)))

    def month(self, deployment: Deployment, notices: int, bad_days: float = 0, init_seconds: float = 0.0) -> Usage:
        """A month of polls, each the moved one (conservative: entries move between most polls), but ``bad_days`` of
        PARTIAL ones with the ``notices`` their alarms send (an SNS publish and an email each)."""
        healthy = self.polls["moved"].usage(deployment, init_seconds) * (POLLS_PER_DAY * (DAYS_PER_MONTH - bad_days))
        bad = self.polls["partial"].usage(deployment, init_seconds) * (POLLS_PER_DAY * bad_days)
        sent = Usage(sns_publish=notices, sns_email=notices) if bad_days else Usage()
        return healthy + bad + sent


def _moved(guide: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The guide with one more entry on every session registering or under way; how many moved."""
    moved = copy.deepcopy(guide)
    n = 0
    for session in moved["sessions"]:
        if session.get("entry_count", 0) > 0 or "session_id" in session:
            session["entry_count"] = session.get("entry_count", 0) + 1
            n += 1
    return moved, n


# A season of the 2025-09-09 guide, and a start inside the guide's block at which it never races.
DRIFTING_SEASON, NEVER_RACED = 5878, ("2025-09-09T12:05:00Z", "2025-09-09T12:25:00Z")


def _partial(guide: dict[str, Any]) -> dict[str, Any]:
    """The guide with a session DRIFTING_SEASON never races: that season drifts."""
    bad = copy.deepcopy(guide)
    listed = next(s for s in bad["sessions"] if s["season_id"] == DRIFTING_SEASON)
    extra = {k: v for k, v in listed.items() if k != "session_id"}
    extra["start_time"], extra["end_time"] = NEVER_RACED
    bad["sessions"].append(extra)
    return bad


@functools.cache
def measure() -> Measured:
    """Run the four polls (once a process: the cost bench prices them too)."""
    from bench.engines import metered_engines
    from iracing_sync.settings import get_settings
    from iracing_sync_local import SAMPLES_DIR, stepfunctions
    from iracing_sync_local.stepfunctions import local_step_functions

    guide = json.loads((SAMPLES_DIR / "season_race_guide_2025-09-09.json").read_text())
    moved, n_moved = _moved(guide)
    scenarios = [("first", guide), ("unchanged", guide)]
    for _ in range(MOVED_REPEATS):  # the same sessions move again each time
        scenarios.append(("moved", moved))
        moved = _moved(moved)[0]
    scenarios.append(("partial", _partial(guide)))
    os.environ["RACE_GUIDE_MIN_SECONDS"] = "0"  # polls one after the other (in AWS: 5 minutes apart)
    get_settings.cache_clear()
    runs: dict[str, list[Poll]] = {}
    try:
        with metered_engines() as (fake, proxy), local_step_functions(retry_interval_scale=0) as sfn:
            sfn.run("sync_current_seasons", progress=False)
            arn = sfn.arn("sync_race_guide")
            for name, body in scenarios:
                fake.serve("season/race_guide", body)
                if name == "partial":
                    fake.fail_season(DRIFTING_SEASON, 404)
                fake.clear_requests()
                proxy.reset_counts()
                before = archive_files()
                del stepfunctions.timed_invocations[:]
                with observing() as observed, relayed() as relay:
                    summary = sfn.run_arn(arn, {})
                history = sfn.history(sfn.executions(arn)[0])
                written = {k: v for k, v in archive_files().items() if k not in before}
                runs.setdefault(name, []).append(
                    Poll(
                        data_requests=len(fake.requests_to("/data/")),
                        invocations=tuple((i.function, i.seconds) for i in stepfunctions.timed_invocations),
                        execution_seconds=(history[-1]["timestamp"] - history[0]["timestamp"]).total_seconds(),
                        read_units=proxy.read_units,
                        write_units=proxy.write_units,
                        s3_puts=len(written),
                        log_bytes=observed.log_bytes,
                        summary=summary,
                        archived_bytes=sum(written.values()),
                        metrics=frozenset(observed.metrics),
                        events=sum(n for n, _ in relay),
                    )
                )
    finally:
        os.environ.pop("RACE_GUIDE_MIN_SECONDS", None)
        get_settings.cache_clear()
    # Of repeated polls, the median by handler seconds: one poll on a loaded machine can take twice as long.
    polls = {
        name: sorted(p, key=lambda poll: sum(s for _, s in poll.invocations))[len(p) // 2] for name, p in runs.items()
    }
    for name in HEALTHY:  # a poll that drifted or re-synced would price something else
        for poll in runs[name]:
            s = poll.summary
            if s["status"] != "SUCCEEDED" or s["drifting"] or s["resynced"] or poll.metrics:
                raise RuntimeError(f"the {name} poll did not reconcile cleanly: {s}")
    s = polls["partial"].summary
    if s["status"] != "PARTIAL" or s["still_drifting"] != [DRIFTING_SEASON]:
        raise RuntimeError(f"the partial poll was not PARTIAL with season {DRIFTING_SEASON} still drifting: {s}")
    return Measured(polls, len(guide["sessions"]), n_moved)


def run() -> list[Row]:
    """Measure the polls (or take this process's measurement), price them, return the rows."""
    from bench.cost.measure import measure_init_seconds
    from iracing_sync_local.asl import FUNCTIONS, load_definition
    from iracing_sync_local.template import load_template

    measured = measure()
    polls = measured.polls
    print(f"race-guide custom metrics of a PARTIAL poll: {sorted(polls['partial'].metrics)}", file=sys.stderr)
    template = load_template()
    deployment = read_deployment(template, load_definition("sync_current_seasons", retry_interval_scale=0))
    model = cost_model(template)
    notices = measured.notices(template)
    function = polls["unchanged"].invocations[0][0]
    init = measure_init_seconds({function: FUNCTIONS[function]})[function]
    per_month = POLLS_PER_DAY * DAYS_PER_MONTH
    budget_per_day = RATE_LIMIT_PER_MINUTE * 24 * 60

    def month(poll: Poll, cold: bool = False) -> float:
        return model.usd(poll.usage(deployment, init if cold else 0.0) * per_month)

    first, unchanged, moved = polls["first"], polls["unchanged"], polls["moved"]
    rewrite = f"a poll rewriting every session ({measured.sessions}, as the first poll does)"
    requests_per_day = max(polls[name].data_requests for name in HEALTHY) * POLLS_PER_DAY
    moved_label = f"{measured.moved} of {measured.sessions} sessions' entries moved"
    bad = measured.month(deployment, notices, bad_days=BAD_DAYS)
    bad_hours = len(polls["partial"].metrics) * 24 * BAD_DAYS
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
            f"race-guide polls per month ({per_month:,}, no custom metric sent), {moved_label} each time",
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
        Row(
            f"race-guide polls per month, {BAD_DAYS} day of them PARTIAL ({bad_hours} custom metric-hours, "
            f"{notices} notices)",
            model.usd(bad),
            "USD",
            "the same month, every poll healthy",
            month(moved),
            higher_is_better=False,
        ),
    ]
