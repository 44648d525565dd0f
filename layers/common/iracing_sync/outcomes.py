"""What a sync run did: every task records its outcome under the run, a failure as its error type and one line,
and the last task totals them into the run's record and summary.

So a run's state never grows with its seasons (Step Functions' 256 KiB state quota), a failure never carries a
stack trace, and a season whose failure could not even be recorded still shows: the listing that fanned out to
it expected it (``RunOutcome.expects``), so the run reports it as MissingOutcome.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.metrics.functions import is_metrics_disabled

from iracing_sync.announce import announce_partial_run
from iracing_sync.models.tasks import (
    GuideReport,
    RecordFailureEvent,
    RecordRunEvent,
    RunOutcome,
    RunSummary,
    Tally,
    run_id_of,
)
from iracing_sync.observability import logger, metrics
from iracing_sync.store import runs

MAX_REASON = 300
# The run kind of a race-guide reconciliation (statemachine/sync_race_guide.asl.json's record_run).
GUIDE_KIND = "race-guide"


def record(execution_id: str | None, outcome: RunOutcome) -> dict[str, Any]:
    """Record ``outcome`` under the execution's run (outside a run, e.g. a manual invoke, nothing); return it."""
    run_id = run_id_of(execution_id)
    if run_id is not None:
        runs.put_outcome(run_id, outcome)
    return outcome.model_dump(exclude={"expects"})


def failure_of(caught: dict[str, Any]) -> tuple[str, str | None]:
    """The error type and a one-line reason of a Step Functions Catch result ({"Error", "Cause"}).

    A Lambda error's Cause is JSON holding errorMessage and the whole stack trace: only the message is kept.
    Other causes (a timeout, a runtime error of the state machine) are text: their first line is kept.
    """
    error = str(caught.get("Error") or "Unknown")
    cause = caught.get("Cause")
    try:
        parsed = json.loads(cause) if isinstance(cause, str) else cause
    except json.JSONDecodeError:
        parsed = cause
    text = parsed.get("errorMessage") if isinstance(parsed, dict) else parsed
    if isinstance(text, str) and text.startswith("{"):  # RateLimited's message: JSON holding retry_at and reason
        with contextlib.suppress(json.JSONDecodeError, AttributeError):  # not that JSON: keep the text as it is
            text = json.loads(text).get("reason", text)
    line = " ".join(str(text or "").split())
    return error, (line[: MAX_REASON - 1] + "…" if len(line) > MAX_REASON else line) or None


def record_failure(event: RecordFailureEvent) -> dict[str, Any]:
    """Record a task's failure (after its retries) under the run: its error type and one line, no trace."""
    if event.scope:
        scope = event.scope
    elif event.season_id is not None:
        scope = f"SEASON#{event.season_id}"
    else:
        scope = f"SERIES#{event.series_id}" if event.series_id is not None else "LISTING"
    _record_failed(event.execution_id, scope, event.error, event.season_id, event.series_id)
    return {"ok": False}


def _record_failed(
    execution_id: str | None, scope: str, caught: dict[str, Any], season_id: int | None, series_id: int | None
) -> None:
    error, reason = failure_of(caught)
    logger.append_keys(season_id=season_id, series_id=series_id)
    logger.warning("task failed", extra={"scope": scope, "error": error, "reason": reason})
    outcome = RunOutcome(scope=scope, season_id=season_id, series_id=series_id, ok=False, error=error, reason=reason)
    record(execution_id, outcome)


def record_run(event: RecordRunEvent) -> dict[str, Any]:
    """Total the outcomes recorded under the run, record the run, return its summary."""
    run_id = run_id_of(event.execution_id) or uuid.uuid4().hex
    for task in event.caught:
        if task.error is not None:
            scope = task.scope or f"SEASON#{task.season_id}"
            _record_failed(event.execution_id, scope, task.error, task.season_id, None)
    outcomes = runs.list_outcomes(run_id)
    tally = Tally()
    for outcome in outcomes:
        tally.add(outcome)
    expected = {f"SEASON#{s}" for s in event.season_ids} | {f"SERIES#{s}" for s in event.series_ids}
    expected.update(scope for outcome in outcomes for scope in outcome.expects)
    for scope in sorted(expected - {o.scope for o in outcomes}):
        kind, _, ident = scope.partition("#")
        ids = {"season_id": int(ident)} if kind == "SEASON" else {"series_id": int(ident)} if kind == "SERIES" else {}
        tally.fail(scope, "MissingOutcome", "the task recorded no outcome (nor could its failure be recorded)", **ids)
    # Something held: a season stored, or found unchanged (its stored schedule is iRacing's), or a catalog stored.
    succeeded = tally.seasons_synced + tally.seasons_unchanged > 0 or tally.items_written + tally.items_unchanged > 0
    status = "SUCCEEDED" if not tally.failed_count else "PARTIAL" if succeeded else "FAILED"
    summary = RunSummary(run_id=run_id, kind=event.kind, status=status, **tally.model_dump())
    started = event.started_at or datetime.now(UTC)
    runs.put_sync_run(summary, started_at=started, finished_at=datetime.now(UTC))
    _notify(summary)
    # The line the stack's dashboard reads (Logs Insights): what each run synced, failed, drifted and asked of iRacing.
    guide = tally.guide or GuideReport()
    logger.info(
        "run recorded",
        extra={
            "run_id": run_id,
            "kind": event.kind,
            "status": status,
            "failed": tally.failed_count,
            "seasons_synced": tally.seasons_synced,
            "seasons_unchanged": tally.seasons_unchanged,
            "api_requests": tally.api_requests,
            "drifting": len(guide.drifting),
            "still_drifting": len(guide.still_drifting),
        },
    )
    return summary.model_dump()


def _notify(summary: RunSummary) -> None:
    """What reaches a person about this run: only what an alarm or a rule reads, and only when it is not 0.

    A race-guide run (every 5 minutes) sends RunsPartial for a PARTIAL run and SeasonsStillDrifting when a re-sync
    left seasons drifting, read by alarms (one notice while it lasts); each custom metric is billed per hour it is
    sent in, and an hour without one is an alarm's missing data, read as OK. A PARTIAL run of any other kind is one
    EventBridge event, which a rule sends to the alarm topic. A FAILED run fails its execution: AWS reports that.
    """
    if summary.kind == GUIDE_KIND:
        still = (summary.guide or GuideReport()).still_drifting
        values = {"RunsPartial": int(summary.status == "PARTIAL"), "SeasonsStillDrifting": len(still)}
        sent = {name: value for name, value in values.items() if value}
        if sent and not is_metrics_disabled():
            # (Disabled, Powertools never clears dimensions, so a later run's kind would warn.)
            metrics.add_dimension(name="kind", value=summary.kind)
        for name, value in sent.items():
            metrics.add_metric(name=name, unit="Count", value=value)
    elif summary.status == "PARTIAL":
        announce_partial_run(summary)
