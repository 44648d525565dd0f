"""The slots API: handler latency against DynamoDB Local, and the API function's cold import time.

Latency: the full 2023 S2 quarter (137 seasons, 151,444 slots) is synced by the real state machine into
DynamoDB Local; the real handler (functions/slots_api/app.py) answers API Gateway v2 events for a 3-hour,
a 24-hour and a 7-day /slots window over all seasons (every page: 7 days of a full quarter are two). The
baseline answers the same window the way a design without the time index would: Scan the table, expand
every week in Python. Both are checked to return the same slots before timing; p50/p95 over alternating
calls.

Cold import: a fresh interpreter imports the handler module (what a cold start pays before the first
request) against a fresh interpreter running a bare ``import boto3``, alternately, medians. Once with
bytecode precompiled (what ``make build`` ships) and once without any (each import compiles from source:
an empty PYTHONPYCACHEPREFIX), the baseline measured the same way each time. Target: at most 1.5x boto3
(a ratio of at least 0.67x, since the ratio is how many times better than the baseline).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import Row, paired_times
from bench.engines import engines

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2023, 5, 9, 18, 0, tzinfo=UTC)  # a Tuesday inside 2023 S2
WINDOWS = {"3 h": timedelta(hours=3), "24 h": timedelta(days=1), "7 d": timedelta(days=7)}
CALLS = 21
IMPORT_RUNS = 7
IMPORT_TARGET = 1 / 1.5  # ratio = boto3 / ours: at most 1.5x the bare boto3 import


def _percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _latency_rows() -> list[Row]:
    from iracing_sync import store
    from iracing_sync.recurrence import expand
    from iracing_sync_local.http_server import http_api_event
    from iracing_sync_local.stepfunctions import LambdaContext, handler_for, local_step_functions

    def scan_window(lo: datetime, hi: datetime) -> list[tuple[Any, ...]]:
        items = list(store.Item.scan())
        patterns = [store._pattern(i) for i in items if isinstance(i, store.WeekItem)]
        fixed = [store._slot(i) for i in items if isinstance(i, store.SlotItem)]
        return [s.key for s in expand(patterns, lo, hi, repeating=True, fixed=fixed)]

    rows: list[Row] = []
    with engines("2023s2"), local_step_functions(retry_interval_scale=0) as sfn:
        sfn.run("sync_current_seasons", progress=False)
        handler = handler_for("SlotsApiFunction")
        for label, span in WINDOWS.items():
            lo, hi = AT, AT + span
            path = f"/slots?from={lo:%Y-%m-%dT%H:%M:%SZ}&to={hi:%Y-%m-%dT%H:%M:%SZ}"

            def api(path: str = path) -> list[dict[str, Any]]:
                """Every page of the window, as a client reads it (a 7-day window is two pages)."""
                slots: list[dict[str, Any]] = []
                cursor = None
                while True:
                    query = path if cursor is None else f"{path}&cursor={cursor}"
                    response = handler(http_api_event("GET", query, {}), LambdaContext("slots-api"))
                    assert response["statusCode"] == 200, response
                    body = json.loads(response["body"])
                    slots.extend(body["slots"])
                    if (cursor := body["next_cursor"]) is None:
                        return slots

            served = [(s["start_time"], s["season_id"], s["race_week_num"]) for s in api()]
            scanned = [(f"{k[0]:%Y-%m-%dT%H:%M:%SZ}", k[1], k[2]) for k in scan_window(lo, hi)]
            assert served == scanned, f"{label}: API and Scan baseline disagree"
            ours, theirs = paired_times(api, lambda lo=lo, hi=hi: scan_window(lo, hi), CALLS)
            (p50, p95), (b50, b95) = _percentiles(ours), _percentiles(theirs)
            what = f"GET /slots {label}, 2023 S2 ({len(served):,} slots)"
            rows.append(Row(f"{what} p50", p50 * 1e3, "ms", "Scan + expand p50", b50 * 1e3, higher_is_better=False))
            rows.append(Row(f"{what} p95", p95 * 1e3, "ms", "Scan + expand p95", b95 * 1e3, higher_is_better=False))
    return rows


_TIMED_IMPORT = "import time, sys; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"


def _import_seconds(stmt: str, env: dict[str, str]) -> float:
    code = _TIMED_IMPORT.format(stmt=stmt)
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def _import_rows() -> list[Row]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / "slots_api"), str(ROOT / "layers" / "common")]),
        "TABLE_NAME": "iracing-sync-bench",
        "POWERTOOLS_SERVICE_NAME": "iracing-sync",
    }
    ours_stmt, boto3_stmt = "import app", "import boto3"
    rows = []
    for label, no_bytecode in (("precompiled", False), ("no bytecode", True)):
        run_env = dict(env)
        if no_bytecode:
            # An empty, unwritable-by-choice cache: every module, dependencies included, is compiled from source.
            run_env["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="iracing-sync-nopyc-")
            run_env["PYTHONDONTWRITEBYTECODE"] = "1"
        else:
            _import_seconds(ours_stmt, run_env)  # writes any missing .pyc (the build ships them precompiled)
        ours, theirs = [], []
        for _ in range(IMPORT_RUNS):
            ours.append(_import_seconds(ours_stmt, run_env))
            theirs.append(_import_seconds(boto3_stmt, run_env))
        rows.append(
            Row(
                f"API function cold import ({label})",
                statistics.median(ours) * 1e3,
                "ms",
                f"bare import boto3 ({label})",
                statistics.median(theirs) * 1e3,
                target=IMPORT_TARGET if not no_bytecode else None,
                higher_is_better=False,
            )
        )
    return rows


def run() -> list[Row]:
    """Latency rows (p50/p95 per window) and cold-import rows."""
    return _latency_rows() + _import_rows()
