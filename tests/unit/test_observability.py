"""Metrics reach CloudWatch as EMF on stdout in Lambda, and never pile up where they are disabled."""

from __future__ import annotations

import json

import pytest

from iracing_sync.observability import metrics


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


def test_the_api_function_imports_neither_the_xray_sdk_nor_the_openapi_models() -> None:
    """Each is a tenth or more of the API's cold start, and no request but /openapi.json and /docs needs one."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys, app; "
        "print(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk') or m.endswith('openapi.models')))"
    )
    env = {"PYTHONPATH": f"{root / 'functions' / 'slots_api'}:{root / 'layers' / 'common'}", "TABLE_NAME": "t"}
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "[]"
