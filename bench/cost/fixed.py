"""The fixed bill: what a deployment holds all month whatever runs, read from template.yaml for the prod stage with
the default parameters; and the design before the day-one review (#23), declared once, whose metrics no run emits now.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from typing import Any

from bench.cost.prices import HOURS_PER_MONTH, PRICES, Price
from bench.cost.usage import Deployment

# A key with rotation on costs $1 more for each of its first two rotations (yearly by default), then no more: priced
# at that steady state ($3), what every month from the stack's third year on costs (its first year $1, its second $2).
KMS_ROTATIONS_PRICED = 2
HIGH_RESOLUTION_SECONDS = 60  # an alarm whose period is under a minute is a high-resolution alarm


@dataclass(frozen=True)
class Inventory:
    """The deployment's fixed items, counted (USD by ``monthly``)."""

    alarm_metrics: int  # standard resolution, each metric an alarm reads (a metric-math alarm: each of its metrics)
    high_resolution_alarm_metrics: int
    kms_keys: int  # customer managed
    rotated_kms_keys: int
    secrets: int  # Secrets Manager (made outside the stack too)
    parameters: int  # Parameter Store standard parameters (made outside the stack)
    dashboards: int
    dashboard_metrics: int  # the most metrics one dashboard shows (the free tier's limit is 50)
    service_event_rules: int  # EventBridge rules on AWS service events
    custom_event_rules: int  # EventBridge rules on the stack's own events
    topics: int

    def monthly(self, prices: Mapping[str, Price] = PRICES) -> dict[str, float]:
        """USD per month of each fixed item but the dashboards (see ``dashboards_monthly``)."""
        rotations = self.rotated_kms_keys * KMS_ROTATIONS_PRICED
        return {
            "CloudWatch alarms": self.alarm_metrics * prices["alarm_metric_month"].usd
            + self.high_resolution_alarm_metrics * prices["alarm_metric_month_high_resolution"].usd,
            "KMS customer managed keys": self.kms_keys * prices["kms_key_month"].usd
            + rotations * prices["kms_rotation_month"].usd,
            "Secrets Manager secrets": self.secrets * prices["secret_month"].usd,
            "Parameter Store standard parameters": self.parameters * prices["parameter_month"].usd,
            "EventBridge rules": 0.0,  # a rule costs nothing; the custom events it matches are priced per event
            "SNS topics": 0.0,  # a topic costs nothing; its publishes and deliveries are priced per notice
        }

    def dashboards_monthly(self, prices: Mapping[str, Price] = PRICES) -> float:
        """USD per month of the dashboards at list price (an account's first three, up to 50 metrics each, are free)."""
        return self.dashboards * prices["dashboard_month"].usd


# --- template.yaml, as deployed ---------------------------------------------------------------------------------


def parameters_of(template: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every parameter's default (as text, as CloudFormation compares them), with ``overrides``."""
    values = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
    return {**values, **(overrides or {})}


def evaluate(expression: Any, template: Mapping[str, Any], parameters: Mapping[str, str]) -> Any:
    """The value of a condition or a conditional value (Fn::Equals, Not, And, Or, If, Condition, Ref to a parameter)."""
    if isinstance(expression, dict) and len(expression) == 1:
        (key, value), conditions = next(iter(expression.items())), template.get("Conditions", {})
        if key == "Ref":
            return parameters[value]
        if key == "Condition":
            return evaluate(conditions[value], template, parameters)
        if key == "Fn::Equals":
            left, right = (evaluate(v, template, parameters) for v in value)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not evaluate(value[0], template, parameters)
        if key == "Fn::And":
            return all(evaluate(v, template, parameters) for v in value)
        if key == "Fn::Or":
            return any(evaluate(v, template, parameters) for v in value)
        if key == "Fn::If":
            held = evaluate(conditions[value[0]], template, parameters)
            return evaluate(value[1] if held else value[2], template, parameters)
        raise ValueError(f"cannot evaluate {key} in a condition")
    return expression


def deployed_resources(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The resources a stack with these parameters holds: those whose Condition holds, or that have none."""
    conditions = template.get("Conditions", {})
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if "Condition" not in resource or evaluate(conditions[resource["Condition"]], template, parameters)
    }


def alarm_metrics(properties: Mapping[str, Any]) -> tuple[int, int]:
    """(standard, high-resolution) metrics an alarm is billed for: one for a plain alarm, each metric a metric-math
    alarm reads (an expression is not a metric); high resolution when the period is under a minute."""
    if "Metrics" not in properties:
        return (0, 1) if int(properties["Period"]) < HIGH_RESOLUTION_SECONDS else (1, 0)
    standard = high = 0
    for query in properties["Metrics"]:
        if "ANOMALY_DETECTION_BAND" in str(query.get("Expression", "")):
            raise ValueError("an anomaly detection alarm is billed as three metrics per band: not priced here")
        if "MetricStat" in query:
            if int(query["MetricStat"]["Period"]) < HIGH_RESOLUTION_SECONDS:
                high += 1
            else:
                standard += 1
    return standard, high


_PLACEHOLDER = re.compile(r"\$\{[^}]+\}")


def dashboard_metrics(body: Any) -> int:
    """The metrics a dashboard's metric widgets show (an expression row is not a metric)."""
    text = body.get("Fn::Sub", body) if isinstance(body, dict) else body
    if isinstance(text, list):  # Fn::Sub with a variable map
        text = text[0]
    document = json.loads(_PLACEHOLDER.sub("x", text))
    return sum(
        1
        for widget in document.get("widgets", [])
        if widget.get("type") == "metric"
        for row in widget.get("properties", {}).get("metrics", [])
        if not (len(row) == 1 and isinstance(row[0], dict) and "expression" in row[0])
    )


def read_inventory(template: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> Inventory:
    """The fixed items of a prod stack with the default parameters (and ``overrides``)."""
    parameters = parameters_of(template, {"Stage": "prod", **(overrides or {})})
    resources = deployed_resources(template, parameters)

    def of(kind: str) -> list[dict[str, Any]]:
        return [r.get("Properties", {}) for r in resources.values() if r["Type"] == kind]

    alarms = [alarm_metrics(a) for a in of("AWS::CloudWatch::Alarm")]
    dashboards = [dashboard_metrics(d["DashboardBody"]) for d in of("AWS::CloudWatch::Dashboard")]
    keys = of("AWS::KMS::Key")
    rules = [str(r.get("EventPattern", {}).get("source", "")) for r in of("AWS::Events::Rule")]
    names = template.get("Parameters", {})
    service_rules = sum("aws." in source for source in rules)
    return Inventory(
        alarm_metrics=sum(s for s, _ in alarms),
        high_resolution_alarm_metrics=sum(h for _, h in alarms),
        kms_keys=len(keys),
        rotated_kms_keys=sum(bool(evaluate(k.get("EnableKeyRotation", False), template, parameters)) for k in keys),
        # Made outside the stack and named by a parameter, so the credentials never pass through CloudFormation.
        secrets=len(of("AWS::SecretsManager::Secret")) + sum(n.endswith("SecretName") for n in names),
        parameters=len(of("AWS::SSM::Parameter")) + sum(n.endswith("CredentialsParameter") for n in names),
        dashboards=len(dashboards),
        dashboard_metrics=max(dashboards, default=0),
        service_event_rules=service_rules,
        custom_event_rules=len(rules) - service_rules,
        topics=len(of("AWS::SNS::Topic")),
    )


def alarms_reading(
    template: Mapping[str, Any],
    metrics: Collection[tuple[str, tuple[str, ...]]],
    overrides: Mapping[str, str] | None = None,
) -> list[str]:
    """The prod stack's alarms that read one of these custom metrics ((name, ("dimension=value", ...)))."""
    parameters = parameters_of(template, {"Stage": "prod", **(overrides or {})})
    out = []
    for name, resource in deployed_resources(template, parameters).items():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        p = resource["Properties"]
        dimensions = tuple(sorted(f"{d['Name']}={d['Value']}" for d in p.get("Dimensions", [])))
        if any(p.get("MetricName") == m and dimensions == tuple(sorted(dims)) for m, dims in metrics):
            out.append(name)
    return out


# --- the design before #23 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentMetric:
    """A custom metric a design sent: its name, the run kind in its dimensions, the hours a month it was sent."""

    name: str
    kind: str
    hours: float


# The design as deployed before the day-one review (the template and code of commit 4b7ba55; no run emits its metrics
# now, so they are declared here). Its alarms: a failure alarm per state machine (7), a RunsPartial alarm per scheduled
# kind (3), the race guide's drift, the hourly sync's staleness (metric math over two run counters), the two
# dead-letter queues' and the API's 5xx: 15 alarms reading 16 metrics. One customer managed key (rotated) for the
# alarm topic, the table and the log groups; the credentials in Secrets Manager; no dashboard.
BEFORE_23_INVENTORY = Inventory(
    alarm_metrics=16,
    high_resolution_alarm_metrics=0,
    kms_keys=1,
    rotated_kms_keys=1,
    secrets=1,
    parameters=0,
    dashboards=0,
    dashboard_metrics=0,
    service_event_rules=0,
    custom_event_rules=0,
    topics=1,
)
BEFORE_23_MAP_CONCURRENCY = 10  # the hourly sync's Distributed Map then
HOURLY, DAILY = HOURS_PER_MONTH, 30
# SeasonsSynced and ChangesAnnounced went out only from an hour in which some season's stored schedule changed: taken
# as every other hour (the estimate; the typical month of bench/cost/usage.py changes seasons in about 5 hours,
# which would take $0.30 off this baseline).
SOME_SEASON_CHANGED = HOURS_PER_MONTH / 2
_RUN_COUNTERS = ("SeasonsFailed", "RunsSucceeded", "RunsPartial", "RunsFailed")  # every run, 0 or not
BEFORE_23_METRICS: tuple[SentMetric, ...] = (
    *(SentMetric(name, "current-seasons", HOURLY) for name in _RUN_COUNTERS),
    SentMetric("ActiveSeasonsListed", "", HOURLY),
    SentMetric("SeasonsChanged", "", HOURLY),
    SentMetric("SeasonsSynced", "", SOME_SEASON_CHANGED),
    SentMetric("ChangesAnnounced", "", SOME_SEASON_CHANGED),
    *(SentMetric(name, "reference-data", DAILY) for name in _RUN_COUNTERS),
    SentMetric("SeriesSynced", "", DAILY),
    SentMetric("ReferenceItemsSynced", "", DAILY),
    SentMetric("RunsPartial", "race-guide", HOURLY),  # every poll sent both, 0 or not
    SentMetric("SeasonsStillDrifting", "race-guide", HOURLY),
)


def metric_hours(metrics: tuple[SentMetric, ...]) -> float:
    """Metric-hours a month: each metric billed for the hours it was sent in."""
    return sum(m.hours for m in metrics)


def before_23(deployment: Deployment) -> Deployment:
    """Today's deployment as the design before #23 ran it: a Map of 10, Secrets Manager, the customer managed key."""
    return replace(
        deployment, map_concurrency=BEFORE_23_MAP_CONCURRENCY, credentials="secretsmanager", customer_key=True
    )
