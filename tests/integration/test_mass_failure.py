"""Mass failure is survivable: the full 2024 S1 quarter (125 seasons) with most seasons malformed, synced by the
real SyncCurrentSeasons machine (replayed from an archive, so no iRacing is needed) under the local runner that
enforces AWS's quotas and gives Lambda errors AWS's whole-stack-trace Cause. Every failure is recorded (season,
error type, one line), the rest is stored, and the run record is written with real start time and a TTL."""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iracing_sync_local.asl import load_definition
from iracing_sync_local.stepfunctions import ExecutionFailed, LocalStepFunctions
from tests.conftest import load_sample

pytestmark = pytest.mark.integration

QUARTER = "extract_series_seasons_2024s1_full_camelcase.json"
MALFORMED = 100


def malformed_quarter(copies: int = 1, malformed: int = MALFORMED) -> tuple[list[dict[str, Any]], set[int]]:
    """The 2024 S1 quarter (``copies`` times, the copies under new season IDs) with the first ``malformed``
    seasons (by ID) missing a week's raceWeekNum."""
    quarter = load_sample(QUARTER)
    body = []
    for copy_number in range(copies):
        for season in copy.deepcopy(quarter):
            season["seasonId"] += 100_000 * copy_number
            body.append(season)
    broken = set(sorted(s["seasonId"] for s in body)[:malformed])
    for season in body:
        if season["seasonId"] in broken:
            season["schedules"][0].pop("raceWeekNum")
    return body, broken


@pytest.fixture
def replayed(
    settings_env: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[tuple[list[dict[str, Any]], set[int]]]:
    """iRacing answered from an archive holding the malformed quarter (``request.param``: its size)."""
    from iracing_sync.archive import Archive
    from iracing_sync.settings import get_settings

    body, broken = malformed_quarter(*getattr(request, "param", ()))
    with tempfile.TemporaryDirectory() as folder:
        Archive(get_settings(), location=folder).put("series/seasons", {}, body)
        settings_env.setenv("IRACING_REPLAY", folder)
        get_settings.cache_clear()
        yield body, broken


def test_a_run_with_100_of_125_seasons_malformed_records_every_failure_and_stores_the_rest(
    step_functions: LocalStepFunctions, replayed: tuple[list[dict[str, Any]], set[int]]
) -> None:
    from iracing_sync.models.tasks import MAX_FAILURES_LISTED
    from iracing_sync.store import runs, seasons

    body, broken = replayed
    # When the current-seasons machine runs over it
    summary = step_functions.run("sync_current_seasons", progress=False)
    # Then the run ends PARTIAL: 25 seasons stored, 100 failures counted, the first ones listed in one line each
    assert summary["status"] == "PARTIAL", json.dumps(summary)
    assert summary["seasons_synced"] == len(body) - MALFORMED and summary["failed_count"] == MALFORMED
    assert len(summary["failed"]) == min(MALFORMED, MAX_FAILURES_LISTED)
    stored = {s["seasonId"] for s in body} - broken
    assert all(seasons.get_season(season_id) is not None for season_id in stored)
    assert all(seasons.get_season(season_id) is None for season_id in broken)
    # And every failure is recorded under the run: season, error type, one line, never a stack trace
    outcomes = runs.list_outcomes(summary["run_id"])
    failures = {o.season_id: o for o in outcomes if not o.ok}
    assert set(failures) == broken
    for outcome in failures.values():
        assert outcome.error == "MalformedPayload" and outcome.reason
        assert "raceWeekNum" in outcome.reason or "race_week_num" in outcome.reason
        assert "\n" not in outcome.reason and "Traceback" not in outcome.reason and 'File "' not in outcome.reason
        assert len(outcome.reason) <= 300
    assert all(entry["error"] == "MalformedPayload" and "season_id" in entry for entry in summary["failed"])


def test_the_run_record_has_the_execution_start_and_a_ttl(
    step_functions: LocalStepFunctions, replayed: tuple[list[dict[str, Any]], set[int]]
) -> None:
    from iracing_sync.store.runs import OutcomeItem, SyncRunItem
    from iracing_sync.store.schema import Item

    before = datetime.now(UTC).replace(microsecond=0)
    summary = step_functions.run("sync_current_seasons", progress=False)
    items = list(Item.query(f"RUN#{summary['run_id']}"))
    (run,) = (i for i in items if isinstance(i, SyncRunItem))
    # Then started_at is when the execution started (before its first task), finished_at after it
    started = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
    finished = datetime.fromisoformat(str(run.finished_at).replace("Z", "+00:00"))
    assert before <= started < finished
    # And the run and every outcome expire (DynamoDB TTL) after the retention days
    retention = timedelta(days=90)
    assert all(i.purge_at is not None for i in items)
    assert abs(run.purge_at - (datetime.now(UTC) + retention)) < timedelta(minutes=5)
    assert sum(isinstance(i, OutcomeItem) for i in items) == 1 + len(replayed[0])  # the listing + every season


# Twice the quarter (250 seasons, as many as a busy quarter may list), 200 malformed: with every outcome gathered
# into the state, 200 whole-stack-trace Causes of ~1.5 KB pass the 256 KiB a state may hold.
@pytest.mark.parametrize("replayed", [(2, 200)], indirect=True)
def test_the_same_mass_failure_with_results_gathered_in_the_state_dies_on_the_state_quota(
    step_functions: LocalStepFunctions, replayed: tuple[list[dict[str, Any]], set[int]]
) -> None:
    # Given the previous design: the Map gathers every outcome, a failure's Catch result (with AWS's whole
    # stack trace in its Cause) kept as the season's outcome
    definition = load_definition("sync_current_seasons", retry_interval_scale=0)
    seasons = definition["States"]["SyncSeasons"]
    seasons["ResultPath"] = "$.outcomes"
    seasons["ItemProcessor"]["States"]["SeasonFailed"] = {
        "Type": "Pass",
        "Parameters": {"season_id.$": "$.season_id", "ok": False, "error.$": "$.error"},
        "End": True,
    }
    arn = step_functions.create("previous-design", definition)
    # When it runs over 250 seasons, 200 of them malformed
    with pytest.raises(ExecutionFailed) as failed:
        step_functions.run_arn(arn, {})
    # Then the execution dies before recording the run, as it would in AWS
    assert failed.value.error == "States.DataLimitExceeded"
    # And the design of this project survives the same run: every failure recorded, the rest held (the seasons
    # the failed run stored are unchanged since, so only the 200 broken ones are tried again)
    summary = step_functions.run("sync_current_seasons", progress=False)
    assert summary["status"] == "PARTIAL" and summary["failed_count"] == 200
    assert summary["seasons_synced"] == 0 and summary["seasons_unchanged"] == len(replayed[0]) - 200


def test_the_runner_fails_an_execution_whose_history_passes_25000_events(
    step_functions: LocalStepFunctions,
) -> None:
    # Given a loop of Pass and Choice states, four history events a turn, 6,300 turns
    definition = {
        "StartAt": "Count",
        "States": {
            "Count": {
                "Type": "Pass",
                "Parameters": {"n.$": "States.MathAdd($.n, 1)"},
                "Next": "More",
            },
            "More": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericLessThan": 6300, "Next": "Count"}],
                "Default": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    }
    arn = step_functions.create("long-history", definition)
    # When it runs, Then it fails as AWS fails it, not as a success moto would report
    with pytest.raises(ExecutionFailed) as failed:
        step_functions.run_arn(arn, {"n": 0})
    assert failed.value.error == "States.Runtime" and "25000" in str(failed.value.cause)


def test_a_lambda_error_carries_the_whole_stack_trace_as_lambda_sends_it(table: None) -> None:
    from iracing_sync_local import stepfunctions

    # When a handler raises (a season missing from the archive it names)
    event = {"action": "sync", "season_id": 1, "archive_key": "raw/series/seasons/_/20250909T120000000000Z.json.gz"}
    payload, error = stepfunctions.invoke("SeasonFunction", event)
    # Then the error document is the Python runtime's: message, type, request ID and every frame
    assert error == "Unhandled" and isinstance(payload, dict)
    assert set(payload) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert payload["errorType"] == "PermanentError" and len(payload["stackTrace"]) > 3
    assert len(json.dumps(payload)) > 1000  # a Catch's Cause as large as in AWS


def test_a_lambda_response_over_6_mb_is_lambdas_own_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from iracing_sync_local import stepfunctions

    # Given a handler answering 7 MB
    monkeypatch.setattr(stepfunctions, "handler_for", lambda logical_id: lambda event, context: ["x" * 1024] * 7000)
    # When it is invoked as Lambda invokes it, Then the invocation fails with Lambda's error, not the payload
    payload, error = stepfunctions.invoke("SeasonFunction", {})
    assert error == "Unhandled" and isinstance(payload, dict)
    assert payload["errorType"] == "Function.ResponseSizeTooLarge"
