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
(a ratio of at least 0.67x, since the ratio is how many times better than the baseline). Beside it, the
libraries the design requires the function to import (Powertools' resolver with validation, pydantic,
PynamoDB), alone: the floor no code of ours can go under. And the cold start a user meets: import plus the
first 24-hour /slots request, against import boto3 plus one GetItem.
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
    from iracing_sync.recurrence import expand
    from iracing_sync.store.schema import Item
    from iracing_sync.store.seasons import SlotItem, WeekItem, pattern_of, slot_of
    from iracing_sync_local.http_server import http_api_event
    from iracing_sync_local.stepfunctions import LambdaContext, handler_for, local_step_functions

    def scan_window(lo: datetime, hi: datetime) -> list[tuple[Any, ...]]:
        items = list(Item.scan())
        patterns = [pattern_of(i) for i in items if isinstance(i, WeekItem)]
        fixed = [slot_of(i) for i in items if isinstance(i, SlotItem)]
        return [s.key for s in expand(patterns, lo, hi, repeating=True, fixed=fixed)]

    rows: list[Row] = []
    with engines("2023s2"):
        with local_step_functions(retry_interval_scale=0) as sfn:
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
        # Outside moto: it swaps in its own AWS credentials, and DynamoDB Local keeps a namespace per access key.
        day = f"/slots?from={AT:%Y-%m-%dT%H:%M:%SZ}&to={AT + WINDOWS['24 h']:%Y-%m-%dT%H:%M:%SZ}"
        rows.append(_cold_start_row(http_api_event("GET", day, {})))
    return rows


_TIMED_IMPORT = "import time, sys; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"

# A cold start as a user meets it: import, then the first request (models built on first use are paid here).
_COLD_START = """
import json, sys, time
event = json.loads(sys.stdin.read())
class Context:
    function_name, memory_limit_in_mb, invoked_function_arn, aws_request_id = "slots-api", 1024, "", "bench"
    def get_remaining_time_in_millis(self): return 30_000
t = time.perf_counter()
import app
response = app.lambda_handler(event, Context())
elapsed = time.perf_counter() - t
assert response["statusCode"] == 200, response
print(elapsed)
"""
# The least a function reading DynamoDB pays: import boto3, make a client, one GetItem.
_BOTO3_COLD_START = """
import os, time
t = time.perf_counter()
import boto3
client = boto3.client("dynamodb", endpoint_url=os.environ["DYNAMODB_ENDPOINT"])
client.get_item(TableName=os.environ["TABLE_NAME"], Key={"pk": {"S": "series#1"}, "sk": {"S": "series"}})
print(time.perf_counter() - t)
"""
# What the design requires the API function to import, with nothing of ours: the floor under its cold import.
_REQUIRED_STACK = (
    "from aws_lambda_powertools import Logger, Metrics; "
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver; "
    "from aws_lambda_powertools.event_handler.openapi.params import Query; "
    "import pydantic, pynamodb.models; APIGatewayHttpResolver(enable_validation=True)"
)


def _seconds(code: str, env: dict[str, str], stdin: str = "") -> float:
    out = subprocess.run([sys.executable, "-c", code], env=env, input=stdin, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"timed child failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def _function_env(bytecode: bool) -> dict[str, str]:
    """The API function's import path, and a fresh bytecode cache (filled by the first run when wanted).

    Fresh, so neither mode depends on what this checkout or the venv happen to hold (uv installs no .pyc,
    and PYTHONDONTWRITEBYTECODE may be set in the caller's environment).
    """
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / "slots_api"), str(ROOT / "layers" / "common")]),
        "TABLE_NAME": os.environ.get("TABLE_NAME", "iracing-sync-bench"),
        "POWERTOOLS_SERVICE_NAME": "iracing-sync",
        "PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="iracing-sync-pyc-"),
    }
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"  # the cache stays empty: every module compiles from source
    return env


def _child_medians(children: dict[str, tuple[str, str]], bytecode: bool) -> dict[str, float]:
    """Median ms of each child (code, stdin), each run IMPORT_RUNS times in a fresh interpreter, alternately."""
    env = _function_env(bytecode)
    if bytecode:
        for code, stdin in children.values():  # fills the cache: the build ships every module precompiled
            _seconds(code, env, stdin)
    times: dict[str, list[float]] = {name: [] for name in children}
    for _ in range(IMPORT_RUNS):
        for name, (code, stdin) in children.items():
            times[name].append(_seconds(code, env, stdin))
    return {name: statistics.median(values) * 1e3 for name, values in times.items()}


def _timed_import(stmt: str) -> tuple[str, str]:
    return _TIMED_IMPORT.format(stmt=stmt), ""


def _cold_start_row(event: dict[str, Any]) -> Row:
    """Import + first 24 h /slots (precompiled), against import boto3 + one GetItem; needs the synced table."""
    ms = _child_medians({"ours": (_COLD_START, json.dumps(event)), "boto3": (_BOTO3_COLD_START, "")}, bytecode=True)
    return Row(
        "API cold start: import + first 24 h /slots (precompiled)",
        ms["ours"],
        "ms",
        "import boto3 + client + one GetItem (precompiled)",
        ms["boto3"],
        higher_is_better=False,
    )


def _import_rows() -> list[Row]:
    ours, boto3 = _timed_import("import app"), _timed_import("import boto3")
    compiled = _child_medians({"ours": ours, "boto3": boto3, "stack": _timed_import(_REQUIRED_STACK)}, bytecode=True)
    source = _child_medians({"ours": ours, "boto3": boto3}, bytecode=False)
    boto3_compiled, boto3_source = "bare import boto3 (precompiled)", "bare import boto3 (no bytecode)"
    return [
        Row(
            "API function cold import (precompiled)",
            compiled["ours"],
            "ms",
            boto3_compiled,
            compiled["boto3"],
            target=IMPORT_TARGET,
            higher_is_better=False,
        ),
        Row(
            "required libraries alone: Powertools resolver + validation, pydantic, PynamoDB (precompiled)",
            compiled["stack"],
            "ms",
            boto3_compiled,
            compiled["boto3"],
            higher_is_better=False,
        ),
        Row(
            "API function cold import (no bytecode)",
            source["ours"],
            "ms",
            boto3_source,
            source["boto3"],
            higher_is_better=False,
        ),
    ]


def run() -> list[Row]:
    """Latency rows (p50/p95 per window), the cold start, and the cold-import rows."""
    return _latency_rows() + _import_rows()
