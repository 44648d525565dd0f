"""Alarms on the run metrics record_run publishes, on every scheduled run kind and on every dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from tests.support.template import (
    REPO_ROOT,
    is_lambda_task,
    load_asl,
    props,
    ref_target,
    resources,
    state_machines,
    template,
    walk_states,
)


def _alarm_metrics(alarm: Mapping[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads, plain or in metric math."""
    p = alarm["Properties"]
    stats = [p] if "MetricName" in p else [m["MetricStat"]["Metric"] for m in p["Metrics"] if "MetricStat" in m]
    return [(s["Namespace"], s["MetricName"], {d["Name"]: d["Value"] for d in s.get("Dimensions", [])}) for s in stats]


def _record_run_emf(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str) -> dict[str, Any]:
    """The EMF document record_run prints for a PARTIAL run of ``kind``, metrics on as in Lambda (no table)."""
    from iracing_sync import outcomes
    from iracing_sync.models.tasks import RecordRunEvent, RunOutcome
    from iracing_sync.observability import metrics
    from tests.conftest import load_event

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    recorded = [
        RunOutcome(scope="SEASON#5376", season_id=5376, items_written=39),
        RunOutcome(scope="SEASON#5377", season_id=5377, ok=False, error="MalformedPayload", reason="no schedules"),
    ]
    monkeypatch.setattr(outcomes.runs, "list_outcomes", lambda run_id: recorded)
    monkeypatch.setattr(outcomes.runs, "put_sync_run", lambda *args, **kwargs: None)
    metrics.clear_metrics()
    event = RecordRunEvent.model_validate({**load_event("season_record_run.json"), "kind": kind})
    assert outcomes.record_run(event)["status"] == "PARTIAL"
    metrics.flush_metrics()
    (line,) = capsys.readouterr().out.splitlines()
    return json.loads(line)  # type: ignore[no-any-return]


def _run_metric_alarms() -> dict[str, list[tuple[str, str, dict[str, str]]]]:
    return {
        name: metrics
        for name, alarm in resources("AWS::CloudWatch::Alarm").items()
        if (metrics := _alarm_metrics(alarm)) and all(m[0] == "IracingSync" for m in metrics)
    }


def test_run_metric_alarms_read_the_metrics_and_dimensions_record_run_emits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    alarms = _run_metric_alarms()
    assert alarms
    for name, watched in alarms.items():
        for namespace, metric, dimensions in watched:
            # Given the EMF record_run prints for a run of the kind the alarm watches
            emf = _record_run_emf(monkeypatch, capsys, dimensions.get("kind", "?"))
            (directive,) = emf["_aws"]["CloudWatchMetrics"]
            # Then the alarm reads a metric in it, under exactly its one dimension set and values
            assert namespace == directive["Namespace"], name
            assert metric in {m["Name"] for m in directive["Metrics"]}, name
            (dimension_set,) = directive["Dimensions"]
            assert dimensions == {d: emf[d] for d in dimension_set}, name
    # And the service dimension is the one the functions are configured with
    assert emf["service"] == template()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]


def test_run_metrics_count_each_run_once_by_its_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    emf = _record_run_emf(monkeypatch, capsys, "current")

    assert (emf["RunsSucceeded"], emf["RunsPartial"], emf["RunsFailed"], emf["SeasonsFailed"]) == ([0], [1], [0], [1])


def test_race_guide_runs_publish_exactly_the_metrics_its_alarms_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # (a run every 5 minutes; each custom metric costs a metric-month whether an alarm reads it or not)
    emf = _record_run_emf(monkeypatch, capsys, "race-guide")
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    published = {m["Name"] for m in directive["Metrics"]}
    read = {
        metric
        for watched in _run_metric_alarms().values()
        for _, metric, dimensions in watched
        if dimensions.get("kind") == "race-guide"
    }
    assert published == read == {"RunsPartial", "SeasonsStillDrifting"}
    assert emf["RunsPartial"] == [1]


def _scheduled_run_kinds() -> set[str]:
    """The run kind each scheduled machine records (its record_run task's ``kind``)."""
    kinds = set()
    for machine in state_machines().values():
        if any(e["Type"] == "ScheduleV2" for e in machine["Properties"].get("Events", {}).values()):
            definition = load_asl(REPO_ROOT / machine["Properties"]["DefinitionUri"])
            payloads = [s["Parameters"]["Payload"] for _, s in walk_states(definition) if is_lambda_task(s)]
            kinds |= {p["kind"] for p in payloads if p.get("action") == "record_run"}
    return kinds


def test_every_scheduled_run_kind_alarms_on_its_first_partial_run() -> None:
    kinds = _scheduled_run_kinds()
    assert kinds == {"current", "reference", "race-guide"}
    for kind in kinds:
        alarms = [
            template()["Resources"][name]["Properties"]
            for name, watched in _run_metric_alarms().items()
            if watched == [("IracingSync", "RunsPartial", {"service": "iracing-sync", "kind": kind})]
        ]
        assert len(alarms) == 1, kind
        p = alarms[0]
        assert (p["Statistic"], p["Threshold"], p["ComparisonOperator"]) == ("Sum", 1, "GreaterThanOrEqualToThreshold")
        assert p["EvaluationPeriods"] == 1 and p["TreatMissingData"] == "notBreaching"


def test_stale_current_seasons_alarm_breaches_after_two_hours_without_a_run_that_stored_data_in_prod_only() -> None:
    (name,) = [
        n for n, metrics in _run_metric_alarms().items() if {m[1] for m in metrics} == {"RunsSucceeded", "RunsPartial"}
    ]
    alarm = template()["Resources"][name]
    p = alarm["Properties"]

    # The hourly schedule runs only in prod: elsewhere the alarm would breach for good.
    assert alarm["Condition"] == "IsProd"
    assert {m["MetricStat"]["Period"] for m in p["Metrics"] if "MetricStat" in m} == {3600}
    assert {m["MetricStat"]["Stat"] for m in p["Metrics"] if "MetricStat" in m} == {"Sum"}
    (expression,) = [m for m in p["Metrics"] if m.get("ReturnData", True)]
    assert expression["Expression"].replace(" ", "") in ("SUM([succeeded,partial])", "succeeded+partial")
    assert (p["EvaluationPeriods"], p["DatapointsToAlarm"], p["Threshold"]) == (2, 2, 1)
    assert p["ComparisonOperator"] == "LessThanThreshold" and p["TreatMissingData"] == "breaching"


def test_every_schedule_dead_letters_to_an_encrypted_queue_that_alarms() -> None:
    schedules = [
        (name, event["Properties"])
        for name, machine in state_machines().items()
        for event in machine["Properties"].get("Events", {}).values()
        if event["Type"] == "ScheduleV2"
    ]
    assert schedules
    alarms = resources("AWS::CloudWatch::Alarm").values()
    for name, schedule in schedules:
        # Given the schedule names its dead-letter queue by ARN (SAM then grants its role sqs:SendMessage on it)
        queue = ref_target(schedule["DeadLetterConfig"]["Arn"])
        assert queue is not None and template()["Resources"][queue]["Type"] == "AWS::SQS::Queue", name
        # Then the queue is encrypted, and a message in it alarms to the topic
        assert props(queue).get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props(queue), queue
        watching = [
            a["Properties"]
            for a in alarms
            if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and [ref_target(d["Value"]) for d in a["Properties"]["Dimensions"]] == [queue]
        ]
        assert len(watching) == 1, queue
        assert (watching[0]["Threshold"], watching[0]["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert [ref_target(a) for a in watching[0]["AlarmActions"]] == ["AlarmTopic"]
