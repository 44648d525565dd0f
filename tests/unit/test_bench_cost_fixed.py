"""The cost bench's fixed bill (bench/cost/fixed.py): read from a template as a prod stack of its defaults holds it,
each alarm billed per metric it reads, keys with their rotations; and the design before #23, declared."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from bench.cost.fixed import (
    BEFORE_23_INVENTORY,
    BEFORE_23_METRICS,
    alarm_metrics,
    alarms_reading,
    before_23,
    dashboard_metrics,
    metric_hours,
    read_inventory,
)
from bench.cost.measure import read_deployment
from bench.cost.prices import PRICES
from iracing_sync_local.asl import load_definition
from iracing_sync_local.template import CloudFormationLoader, load_template

FIXTURE = """
Parameters:
  Stage: {Type: String, Default: dev}
  Rotate: {Type: String, Default: "yes"}
  AppCredentialsParameter: {Type: String, Default: /app/credentials}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
  RotateKeys: !Equals [!Ref Rotate, "yes"]
Resources:
  Plain:
    Type: AWS::CloudWatch::Alarm
    Properties: {Namespace: AWS/SQS, MetricName: Depth, Period: 300, Statistic: Maximum}
  Math:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Metrics:
        - {Id: sum, Expression: "SUM([a, b, c])", ReturnData: true}
        - {Id: a, MetricStat: {Metric: {Namespace: N, MetricName: A}, Period: 300, Stat: Sum}, ReturnData: false}
        - {Id: b, MetricStat: {Metric: {Namespace: N, MetricName: B}, Period: 300, Stat: Sum}, ReturnData: false}
        - {Id: c, MetricStat: {Metric: {Namespace: N, MetricName: C}, Period: 300, Stat: Sum}, ReturnData: false}
  Fast:
    Type: AWS::CloudWatch::Alarm
    Properties: {Namespace: N, MetricName: D, Period: 10, Statistic: Sum}
  ProdOnly:
    Type: AWS::CloudWatch::Alarm
    Condition: IsProd
    Properties:
      Namespace: App
      MetricName: RunsPartial
      Dimensions: [{Name: service, Value: app}, {Name: kind, Value: guide}]
      Period: 300
      Statistic: Sum
  DevOnly:
    Type: AWS::CloudWatch::Alarm
    Condition: IsDev
    Properties: {Namespace: N, MetricName: E, Period: 300, Statistic: Sum}
  Key:
    Type: AWS::KMS::Key
    Properties: {EnableKeyRotation: !If [RotateKeys, true, false]}
  Secret:
    Type: AWS::SecretsManager::Secret
  Board:
    Type: AWS::CloudWatch::Dashboard
    Properties:
      DashboardBody: !Sub |
        {"widgets": [
          {"type": "metric", "properties": {"metrics": [
            ["AWS/States", "ExecutionsFailed", "StateMachineArn", "${Machine}"],
            [".", "ExecutionsTimedOut", ".", "."],
            [{"expression": "m1 + m2", "label": "ended"}]
          ]}},
          {"type": "log", "properties": {"query": "SOURCE '/aws/lambda/${AWS::StackName}' | stats count(*)"}},
          {"type": "text", "properties": {"markdown": "costs $0.005 per GB scanned"}}
        ]}
  Failed:
    Type: AWS::Events::Rule
    Properties: {EventPattern: {source: [aws.states]}}
  Partial:
    Type: AWS::Events::Rule
    Properties: {EventPattern: {source: [app]}}
  Topic:
    Type: AWS::SNS::Topic
"""


def _template() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(FIXTURE, Loader=CloudFormationLoader)
    return loaded


def test_fixed_bill_of_a_prod_stack_counts_each_alarm_metric_the_conditioned_resources_and_the_rotated_key() -> None:
    # Given the fixture read as a prod stack of its defaults
    inventory = read_inventory(_template())
    # Then the alarms read 1 + 3 (metric math: each metric, not the expression) + 1 (prod only) standard metrics and
    # one high-resolution metric; the dev-only alarm is not there
    assert (inventory.alarm_metrics, inventory.high_resolution_alarm_metrics) == (5, 1)
    assert (inventory.kms_keys, inventory.rotated_kms_keys, inventory.secrets, inventory.parameters) == (1, 1, 1, 1)
    assert (inventory.service_event_rules, inventory.custom_event_rules, inventory.topics) == (1, 1, 1)
    assert (inventory.dashboards, inventory.dashboard_metrics) == (1, 2)
    # And it costs: alarms 5 x 0.10 + 0.30, the key $1 and $1 for each of its first two rotations, the secret $0.40;
    # the parameter, the rules and the topic nothing; the dashboard $3 at list price, apart
    monthly = inventory.monthly()
    assert monthly["CloudWatch alarms"] == pytest.approx(0.80)
    assert monthly["KMS customer managed keys"] == pytest.approx(3.00)
    assert monthly["Secrets Manager secrets"] == pytest.approx(0.40)
    assert sum(monthly.values()) == pytest.approx(4.20)
    assert inventory.dashboards_monthly() == pytest.approx(3.00)


def test_a_dev_stack_or_a_key_without_rotation_is_billed_for_what_it_holds() -> None:
    dev = read_inventory(_template(), {"Stage": "dev"})
    assert dev.alarm_metrics == 5  # DevOnly instead of ProdOnly
    unrotated = read_inventory(_template(), {"Rotate": "no"})
    assert unrotated.rotated_kms_keys == 0 and unrotated.monthly()["KMS customer managed keys"] == pytest.approx(1.00)


def test_an_alarm_the_model_cannot_price_is_refused_not_guessed() -> None:
    band = {"Metrics": [{"Id": "band", "Expression": "ANOMALY_DETECTION_BAND(m1, 2)"}]}
    with pytest.raises(ValueError, match="anomaly detection"):
        alarm_metrics(band)


def test_dashboard_metrics_are_its_metric_rows_without_expressions() -> None:
    body = '{"widgets": [{"type": "metric", "properties": {"metrics": [["N", "A"], [{"expression": "m1"}]]}}]}'
    assert dashboard_metrics(body) == 1
    assert dashboard_metrics({"Fn::Sub": body.replace('"A"', '"${Name}"')}) == 1


def test_the_alarms_reading_a_metric_are_matched_by_name_and_every_dimension() -> None:
    partial = ("RunsPartial", ("service=app", "kind=guide"))
    assert alarms_reading(_template(), {partial}) == ["ProdOnly"]
    assert alarms_reading(_template(), {("RunsPartial", ("service=app", "kind=other"))}) == []
    assert alarms_reading(_template(), {partial}, {"Stage": "dev"}) == []


def test_the_templates_fixed_bill_keeps_an_alarm_on_the_race_guide_metrics_and_no_key_or_secret() -> None:
    template = load_template()
    inventory = read_inventory(template)
    assert inventory.kms_keys == inventory.secrets == 0 and inventory.parameters == 1
    assert inventory.dashboards == 1 and inventory.dashboard_metrics <= 50  # within the free tier's limit
    guide = {(name, ("service=iracing-sync", "kind=race-guide")) for name in ("RunsPartial", "SeasonsStillDrifting")}
    assert len(alarms_reading(template, guide)) == 2


def test_the_design_before_23_is_priced_with_the_same_prices_and_rules() -> None:
    # Given its declared items: 16 alarm metrics, a rotated key, a secret; and its 16 metrics' hours sent
    monthly = BEFORE_23_INVENTORY.monthly()
    assert sum(monthly.values()) == pytest.approx(1.60 + 3.00 + 0.40)
    assert len(BEFORE_23_METRICS) == 16
    assert metric_hours(BEFORE_23_METRICS) == pytest.approx(6660)
    assert metric_hours(BEFORE_23_METRICS) * PRICES["custom_metric_hour"].usd == pytest.approx(2.775)
    # And its runs used today's deployment but for its Map, its credentials and its key
    deployment = read_deployment(load_template(), load_definition("sync_current_seasons", retry_interval_scale=0))
    earlier = before_23(deployment)
    assert (earlier.map_concurrency, earlier.credentials, earlier.customer_key) == (10, "secretsmanager", True)
    assert earlier.memory_mb == deployment.memory_mb
