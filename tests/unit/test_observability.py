"""Metrics reach CloudWatch as EMF on stdout in Lambda, and never pile up where they are disabled."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iracing_sync.observability import metrics
from tests.conftest import load_event

ROOT = Path(__file__).resolve().parents[2]


def test_metrics_enabled_flush_prints_one_emf_document(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.add_metric(name="SeasonsSynced", unit="Count", value=2)
    metrics.flush_metrics()
    (line,) = capsys.readouterr().out.splitlines()
    emf = json.loads(line)
    assert emf["SeasonsSynced"] == [2.0] and emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "IracingSync"


def test_metrics_disabled_keep_nothing_and_print_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    for _ in range(250):  # Powertools would print a batch at 100 values
        metrics.add_metric(name="SeasonsSynced", unit="Count", value=1)
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    metrics.add_metric(name="SeasonsSynced", unit="Count", value=1)
    metrics.flush_metrics()
    assert json.loads(capsys.readouterr().out)["SeasonsSynced"] == [1.0]


def _api_function_process(code: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that imports the API function as Lambda does (its folder, the layer)."""
    path = [ROOT / "functions" / "slots_api", ROOT / "layers" / "common", ROOT / "local"]
    environment = {"PYTHONPATH": ":".join(map(str, path)), "TABLE_NAME": "t", **env}
    return subprocess.run(
        [sys.executable, "-c", code], input=stdin, env=environment, check=True, capture_output=True, text=True
    )


def test_the_api_function_publishes_no_metric_and_logs_no_warning_for_a_request() -> None:
    """Given two requests in one fresh process (the Lambda runtime's), with metrics on as in AWS."""
    event = load_event("slots_api_slots.json")
    event.update(rawPath="/openapi.json", routeKey="GET /openapi.json", rawQueryString="", queryStringParameters=None)
    event["requestContext"]["http"]["path"] = "/openapi.json"
    code = (
        "import json, sys, app; from iracing_sync_local.stepfunctions import LambdaContext; "
        "event = json.load(sys.stdin); "
        "[print(app.lambda_handler(event, LambdaContext('SlotsApiFunction'))['statusCode']) for _ in range(2)]"
    )
    # When each is answered
    out = _api_function_process(
        code, json.dumps(event), AWS_DEFAULT_REGION="us-east-1", POWERTOOLS_METRICS_DISABLED="false"
    )
    # Then both are 200, neither publishes a metric (no alarm reads one: each custom metric is billed per hour it is
    # sent in, a cold start's too), and nothing warns on stderr
    lines = out.stdout.splitlines()
    assert lines == ["200", "200"], lines
    assert "Warning" not in out.stderr, out.stderr
