"""Every failure mode reaches the alarm topic, and only what an alarm or a rule reads is sent.

The template's rules and alarms are checked against what the code sends: record_run's metrics (EMF, read by the
race guide's alarms) and its "Sync Run Partial" event, which moto's EventBridge (in-process) routes through the
template's own rule pattern, as it routes a Step Functions status change shaped as AWS documents it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws

from iracing_sync import announce, outcomes
from iracing_sync.models.tasks import GuideReport, RecordRunEvent, RunOutcome
from iracing_sync.observability import metrics
from iracing_sync_local.template import load_template
from tests.conftest import load_event

ACCOUNT, REGION = "123456789012", "us-east-1"
FAILURE_STATUSES = ["FAILED", "TIMED_OUT", "ABORTED"]


@cache
def template() -> dict[str, Any]:
    return load_template()


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in template()["Resources"].items() if r["Type"] == kind}


def ref(value: Any) -> str | None:
    return str(value["Ref"]) if isinstance(value, dict) and "Ref" in value else None


def machines(kind: str) -> set[str]:
    return {
        n
        for n, r in resources("AWS::Serverless::StateMachine").items()
        if r["Properties"].get("Type", "STANDARD") == kind
    }


def alarm_metrics(alarm: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(namespace, metric, dimensions) of every metric an alarm reads, plain or in metric math: each is billed."""
    p = alarm["Properties"]
    stats = [p] if "MetricName" in p else [m["MetricStat"]["Metric"] for m in p["Metrics"] if "MetricStat" in m]
    return [(s["Namespace"], s["MetricName"], {d["Name"]: d["Value"] for d in s.get("Dimensions", [])}) for s in stats]


def concrete(value: Any) -> Any:
    """A template value with every state machine !Ref as its ARN (the rules' patterns hold them)."""
    if isinstance(value, dict):
        if (target := ref(value)) is not None:
            return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{target}"
        return {k: concrete(v) for k, v in value.items()}
    if isinstance(value, list):
        return [concrete(v) for v in value]
    return value


# --- the template: every failure mode has its route to the topic ------------------------------------------------


def test_every_standard_machines_failed_timed_out_or_aborted_run_is_a_notice() -> None:
    rule = template()["Resources"]["StandardRunFailedRule"]["Properties"]
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert pattern["detail"]["status"] == FAILURE_STATUSES
    assert {ref(a) for a in pattern["detail"]["stateMachineArn"]} == machines("STANDARD")
    assert [ref(t["Arn"]) for t in rule["Targets"]] == ["AlarmTopic"]


def test_the_express_machine_alarms_on_a_failed_or_timed_out_execution() -> None:
    # (an EXPRESS execution sends no status-change event, and StopExecution refuses express machines: no abort)
    (express,) = machines("EXPRESS")
    read = {
        (namespace, metric)
        for alarm in resources("AWS::CloudWatch::Alarm").values()
        for namespace, metric, dimensions in alarm_metrics(alarm)
        if ref(dimensions.get("StateMachineArn")) == express
    }
    assert read == {("AWS/States", "ExecutionsFailed"), ("AWS/States", "ExecutionsTimedOut")}


def test_the_heartbeat_reads_aws_own_succeeded_executions_of_the_hourly_sync_in_prod() -> None:
    alarm = template()["Resources"]["SyncCurrentSeasonsStaleAlarm"]
    (metric,) = alarm_metrics(alarm)
    p = alarm["Properties"]
    assert alarm["Condition"] == "IsProd"
    assert metric[:2] == ("AWS/States", "ExecutionsSucceeded")
    assert ref(metric[2]["StateMachineArn"]) == "SyncCurrentSeasonsStateMachine"
    assert (p["Period"], p["EvaluationPeriods"], p["DatapointsToAlarm"], p["Threshold"]) == (3600, 2, 2, 1)
    assert p["ComparisonOperator"] == "LessThanThreshold" and p["TreatMissingData"] == "breaching"


def test_every_alarm_and_rule_notifies_the_topic_and_every_alarm_its_recovery() -> None:
    for name, alarm in resources("AWS::CloudWatch::Alarm").items():
        p = alarm["Properties"]
        assert [ref(a) for a in p["AlarmActions"]] == [ref(a) for a in p["OKActions"]] == ["AlarmTopic"], name
    for name, rule in resources("AWS::Events::Rule").items():
        assert [ref(t["Arn"]) for t in rule["Properties"]["Targets"]] == ["AlarmTopic"], name


def test_the_topic_admits_cloudwatch_and_eventbridge_and_the_email_parameter_subscribes() -> None:
    (policy,) = resources("AWS::SNS::TopicPolicy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert [ref(t) for t in policy["Properties"]["Topics"]] == ["AlarmTopic"]
    assert set(statement["Principal"]["Service"]) == {"cloudwatch.amazonaws.com", "events.amazonaws.com"}
    assert statement["Action"] == "sns:Publish" and ref(statement["Resource"]) == "AlarmTopic"
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    # An AWS-managed SNS key's policy admits neither service: the topic must not be under one
    assert "KmsMasterKeyId" not in template()["Resources"]["AlarmTopic"]["Properties"]
    (subscription,) = resources("AWS::SNS::Subscription").values()
    assert subscription["Condition"] == "HasAlarmEmail" and subscription["Properties"]["Protocol"] == "email"
    assert ref(subscription["Properties"]["Endpoint"]) == "AlarmEmail"
    assert template()["Parameters"]["AlarmEmail"]["Default"] == ""


def test_alarms_read_only_free_metrics_and_the_two_the_race_guide_sends_when_not_zero() -> None:
    read = [m for alarm in resources("AWS::CloudWatch::Alarm").values() for m in alarm_metrics(alarm)]
    custom = {(metric, dimensions.get("kind")) for namespace, metric, dimensions in read if namespace == "IracingSync"}
    assert custom == {("RunsPartial", "race-guide"), ("SeasonsStillDrifting", "race-guide")}
    assert {namespace for namespace, _, _ in read} == {"AWS/States", "AWS/SQS", "AWS/ApiGateway", "IracingSync"}
    # Billed per metric an alarm reads: race guide failed + timed out, partial, drift, heartbeat, dead letters, 5xx
    assert len(read) == 7


# --- the code: what record_run sends, and that the template's routes take it ---------------------------------------


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's EventBridge, SQS and CloudWatch in-process; the service's EventBridge client made inside it."""
    # (an integration module run earlier in this process may have pointed EventBridge at its local sink)
    for name in [n for n in os.environ if n.startswith("AWS_ENDPOINT_URL")]:
        monkeypatch.delenv(name)
    with mock_aws():
        announce._events.cache_clear()
        yield boto3.session.Session(region_name=REGION)
    announce._events.cache_clear()


def _recorded_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str, recorded: list[RunOutcome]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Record a run of ``kind`` over these outcomes (no table), metrics on as in Lambda: (summary, EMF documents)."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    monkeypatch.setattr(outcomes.runs, "list_outcomes", lambda run_id: recorded)
    monkeypatch.setattr(outcomes.runs, "put_sync_run", lambda *args, **kwargs: None)
    metrics.clear_metrics()
    summary = outcomes.record_run(RecordRunEvent.model_validate({**load_event("season_record_run.json"), "kind": kind}))
    metrics.flush_metrics()
    out = capsys.readouterr().out.splitlines()
    return summary, [json.loads(line) for line in out if line.startswith("{")]


def _emitted(emf: list[dict[str, Any]]) -> set[tuple[str, tuple[tuple[str, Any], ...]]]:
    """(metric, dimensions and their values) of every custom metric the EMF documents publish."""
    out = set()
    for document in emf:
        for directive in document["_aws"]["CloudWatchMetrics"]:
            for dimension_set in directive["Dimensions"]:
                dimensions = tuple((d, document[d]) for d in dimension_set)
                out |= {(m["Name"], dimensions) for m in directive["Metrics"]}
    return out


SYNCED = RunOutcome(scope="SEASON#5376", season_id=5376, items_written=39)
FAILED = RunOutcome(scope="SEASON#5377", season_id=5377, ok=False, error="MalformedPayload", reason="no schedules")


def _guide(still_drifting: list[int]) -> RunOutcome:
    return RunOutcome(scope="GUIDE", guide=GuideReport(sessions=3, matched=3, drifting=still_drifting))


def test_race_guide_metrics_are_what_its_alarms_read_and_only_when_not_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], aws: Any
) -> None:
    alarms = {
        metric: dict(dimensions)
        for alarm in resources("AWS::CloudWatch::Alarm").values()
        for namespace, metric, dimensions in alarm_metrics(alarm)
        if namespace == "IracingSync"
    }
    service = template()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
    received = _routed_to_a_queue(aws, "SyncRunPartialRule")
    # Given a healthy race-guide run, then one PARTIAL and still drifting
    healthy, quiet = _recorded_run(monkeypatch, capsys, "race-guide", [SYNCED, _guide([])])
    partial, loud = _recorded_run(monkeypatch, capsys, "race-guide", [SYNCED, FAILED, _guide([5378])])
    # Then the healthy run sends nothing (an hour without a metric is billed nothing, and reads as OK)
    assert healthy["status"] == "SUCCEEDED" and quiet == []
    # And the troubled one sends exactly the two metrics the alarms read, under their dimensions
    assert partial["status"] == "PARTIAL" and partial["still_drifting"] == [5378]
    assert _emitted(loud) == {(m, tuple(sorted(d.items()))) for m, d in alarms.items()}
    assert all(d == {"service": service, "kind": "race-guide"} for d in alarms.values())
    # And no event: the alarm is the race guide's notice (one while it lasts, not one every 5 minutes)
    assert received() == []


def _routed_to_a_queue(aws: Any, rule: str) -> Any:
    """The template's rule, created in moto's EventBridge with a queue standing in for the topic: its messages."""
    pattern = concrete(template()["Resources"][rule]["Properties"]["EventPattern"])
    sqs = aws.client("sqs")
    queue = sqs.create_queue(QueueName=rule)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = aws.client("events")
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": arn}])

    def received() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return received


def _transformer_paths(rule: str) -> dict[str, str]:
    (target,) = template()["Resources"][rule]["Properties"]["Targets"]
    return dict(target["InputTransformer"]["InputPathsMap"])


def _at(event: dict[str, Any], path: str) -> Any:
    value: Any = event
    for part in path.removeprefix("$.").split("."):
        value = value[part]
    return value


def test_a_partial_run_of_another_kind_is_one_event_the_partial_rule_takes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], aws: Any
) -> None:
    received = _routed_to_a_queue(aws, "SyncRunPartialRule")
    # Given a current-seasons run with one season stored and one failed, and a run with none failed
    summary, emf = _recorded_run(monkeypatch, capsys, "current", [SYNCED, FAILED])
    _, healthy_emf = _recorded_run(monkeypatch, capsys, "current", [SYNCED])
    # Then the partial run sent one event, which the rule routes (the healthy run sent none), and no metric at all
    assert summary["status"] == "PARTIAL" and emf == healthy_emf == []
    (event,) = received()
    assert event["source"] == "iracing-sync" and event["detail-type"] == "Sync Run Partial"
    assert event["detail"]["kind"] == "current" and event["detail"]["run_id"] == summary["run_id"]
    # And every field the notice's text reads is in it
    values = {name: _at(event, path) for name, path in _transformer_paths("SyncRunPartialRule").items()}
    assert values == {
        "kind": "current",
        "run": summary["run_id"],
        "failed": 1,
        "first": "season_id 5377: MalformedPayload",
    }


def test_a_failed_standard_execution_is_an_event_the_standard_rule_takes(aws: Any) -> None:
    received = _routed_to_a_queue(aws, "StandardRunFailedRule")
    machine = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:SyncCurrentSeasonsStateMachine"
    events = aws.client("events")
    for status in ["SUCCEEDED", "RUNNING", *FAILURE_STATUSES]:
        # A status change as Step Functions sends it (the detail's fields as AWS documents them)
        detail = {
            "executionArn": f"{machine.replace(':stateMachine:', ':execution:')}:run-{status}",
            "stateMachineArn": machine,
            "name": f"run-{status}",
            "status": status,
            "startDate": 1757419200000,
            "stopDate": None if status == "RUNNING" else 1757419260000,
        }
        events.put_events(
            Entries=[
                {
                    "Source": "aws.states",
                    "DetailType": "Step Functions Execution Status Change",
                    "Detail": json.dumps(detail),
                }
            ]
        )
    got = received()
    assert sorted(e["detail"]["status"] for e in got) == sorted(FAILURE_STATUSES)
    for event in got:
        assert all(_at(event, path) is not None for path in _transformer_paths("StandardRunFailedRule").values())
