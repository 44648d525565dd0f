"""Each function runs from its native build alone, as Lambda runs it: a fresh interpreter that sees only the
function's build folder and the layer's python/ folder (no venv, no repo, no PYTHONPATH), fed every sample event
of that function (events/*.json, the files `sam local invoke` uses) against DynamoDB Local and the fake iRacing
server. A dependency missing from the layer, a module left out of a function folder or a wheel for the wrong
machine fails here and not only in AWS."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from iracing_sync_local.asl import FUNCTIONS
from iracing_sync_local.dynamodb_local import DynamoDBLocal
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LambdaContext, handler_for
from tests.build.conftest import build_dir
from tests.conftest import EVENTS, load_event

pytestmark = pytest.mark.build

# The interpreter Lambda's python3.13 runtime is: the base one, not the venv's (whose site-packages -S leaves out
# anyway). -I: no PYTHON* variables, no script or user site folder on sys.path; -S: no site-packages; -B: Lambda's
# code folders are read-only.
PYTHON = str(Path(sys.base_prefix) / "bin" / f"python{sys.version_info.major}.{sys.version_info.minor}")

# Run in the child: only the function folder and the layer's python/ on sys.path (what Lambda's runtime puts
# there for our code, as /var/task and /opt/python), then one invocation per stdin line, one result per
# "RESULT " line (other stdout lines are EMF metrics, as in Lambda); last, every module file that is not stdlib.
BOOTSTRAP = r"""
import json, sys, sysconfig
function_dir, layer_dir, name = sys.argv[1:4]
sys.path[0:0] = [function_dir, layer_dir]
import app

class Context:
    function_name = name
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + name
    aws_request_id = "build-tier"
    log_group_name = "/aws/lambda/" + name
    log_stream_name = "build-tier"

    def get_remaining_time_in_millis(self):
        return 60000

for line in sys.stdin:
    print("RESULT " + json.dumps(app.lambda_handler(json.loads(line), Context())), flush=True)
stdlib = (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])
files = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
print("MODULES " + json.dumps(sorted(f for f in files if f and not f.startswith(stdlib))))
"""


def function_of(path: Path) -> str:
    """The function an event file belongs to: events are named <function folder>_<action>.json."""
    (function,) = [f for f, folder in FUNCTIONS.items() if path.stem.startswith(folder + "_")]
    return function


def run_built(function: str, events: list[dict[str, Any]], fake: FakeIracing) -> list[Any]:
    """Invoke a function's native build with ``events`` in one fresh process (one warm container)."""
    root = build_dir("native")
    function_dir, layer_dir = root / function, root / "CommonLayer" / "python"
    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_LAMBDA_FUNCTION_NAME": function,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        # What the template's Globals set; no X-Ray daemon here, so no traces.
        "POWERTOOLS_SERVICE_NAME": "iracing-sync",
        "POWERTOOLS_METRICS_NAMESPACE": "IracingSync",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "TABLE_NAME": os.environ["TABLE_NAME"],
        "DYNAMODB_ENDPOINT": os.environ["DYNAMODB_ENDPOINT"],
        "ARCHIVE_DIR": os.environ["ARCHIVE_DIR"],
        **fake.settings_env,
        # EventBridge: the tests' local sink (the changes relay puts its events there).
        "AWS_ENDPOINT_URL_EVENTBRIDGE": os.environ["AWS_ENDPOINT_URL_EVENTBRIDGE"],
    }
    done = subprocess.run(
        [PYTHON, "-I", "-S", "-B", "-c", BOOTSTRAP, str(function_dir), str(layer_dir), function],
        input="".join(json.dumps(e) + "\n" for e in events),
        env=env,
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{function} failed in its build:\n{done.stderr[-3000:]}"
    lines = done.stdout.splitlines()
    (modules,) = [json.loads(x.removeprefix("MODULES ")) for x in lines if x.startswith("MODULES ")]
    outside = [m for m in modules if not m.startswith((str(function_dir), str(layer_dir)))]
    assert outside == [], f"{function} loaded code from outside its build: {outside}"
    return [json.loads(x.removeprefix("RESULT ")) for x in lines if x.startswith("RESULT ")]


@pytest.fixture(scope="module")
def runs(dynamodb: DynamoDBLocal, fake_iracing: FakeIracing) -> list[tuple[str, str, dict[str, Any], Any]]:
    """Every sample event run through its function's build, prerequisites first: (event, function, event, result).

    Given the order a fresh stack needs: the series and reference data, then the active seasons listed (which
    archives series/seasons) and the API's season synced from that archive as the state machine's Map would,
    then the other season tasks, the past-season listings, and last the API events, which read what is stored.
    """
    by_function: dict[str, list[str]] = {f: [] for f in FUNCTIONS}
    for path in sorted(EVENTS.glob("*.json")):
        by_function[function_of(path)].append(path.name)
    out: list[tuple[str, str, dict[str, Any], Any]] = []

    def run(function: str, named: list[tuple[str, dict[str, Any]]]) -> list[Any]:
        results = run_built(function, [event for _, event in named], fake_iracing)
        assert len(results) == len(named), function
        out.extend((name, function, event, result) for (name, event), result in zip(named, results, strict=True))
        return results

    def files(function: str, *exclude: str) -> list[tuple[str, dict[str, Any]]]:
        return [(n, load_event(n)) for n in by_function[function] if n not in exclude]

    run("SeriesFunction", files("SeriesFunction", "series_list_current.json"))
    (listing,) = run("SeriesFunction", [("series_list_current.json", load_event("series_list_current.json"))])
    api_season = int(load_event("slots_api_season.json")["pathParameters"]["id"])
    assert api_season in listing["season_ids"], "the API event's season is not an active season of the snapshot"
    from_archive = {"action": "sync", "season_id": api_season, "archive_key": listing["archive_key"]}
    run(
        "SeasonFunction",
        [("(the Map's sync from the archive)", from_archive), *files("SeasonFunction")],
    )
    run("PastSeasonsFunction", files("PastSeasonsFunction"))
    run("ChangesRelayFunction", files("ChangesRelayFunction"))
    run("SlotsApiFunction", files("SlotsApiFunction"))
    assert {name for name, *_ in out if name.endswith(".json")} == {p.name for p in EVENTS.glob("*.json")}
    return out


def decoded_body(result: dict[str, Any]) -> bytes | str:
    """An HTTP answer's body as sent before API Gateway's base64 (and gzip, when the client accepted it)."""
    body: bytes | str = result["body"]
    if result.get("isBase64Encoded"):
        raw = base64.b64decode(body)
        body = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    return body


def shape(result: Any) -> Any:
    """What a caller relies on: a task result's keys; an HTTP answer's status, content type and body keys."""
    if isinstance(result, dict) and "statusCode" in result:
        parsed = json.loads(decoded_body(result))
        headers = {k.lower(): v for k, v in result.get("headers", {}).items()}
        return result["statusCode"], headers.get("content-type"), sorted(parsed) if isinstance(parsed, dict) else []
    return sorted(result) if isinstance(result, dict) else type(result).__name__


def test_every_sample_event_runs_in_its_native_build_as_in_process(
    runs: list[tuple[str, str, dict[str, Any], Any]],
) -> None:
    for name, function, event, result in runs:
        # Then it answered, and in the shape the same handler gives in-process (source tree, same engines)
        assert not (isinstance(result, dict) and "errorType" in result), (name, result)
        in_process = handler_for(function)(event, LambdaContext(function_name=function))
        assert shape(result) == shape(in_process), name


def test_slots_api_events_answer_200_from_the_native_build(runs: list[tuple[str, str, dict[str, Any], Any]]) -> None:
    answers = {name: result for name, function, _, result in runs if function == "SlotsApiFunction"}

    assert answers and {n: r["statusCode"] for n, r in answers.items()} == dict.fromkeys(answers, 200)
    season = json.loads(decoded_body(answers["slots_api_season.json"]))
    assert season["season_id"] == int(load_event("slots_api_season.json")["pathParameters"]["id"])
    assert season["weeks"], "the season's weeks were not stored by the built season function"
