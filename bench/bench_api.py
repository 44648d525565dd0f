"""The slots API against its floor: handler latency and DynamoDB items read, and the function's cold import.

Latency: the full 2023 S2 quarter (137 seasons, 151,444 slots) with its series and reference data is synced by the
real state machines into DynamoDB Local; the real handler (functions/slots_api/app.py) answers API Gateway v2
events for a 3-hour, a 24-hour and a 7-day /slots window over all seasons (every page: the 7 days are two), /cars,
a plan feed of five series over 28 days, the season grid (/seasons?at) and a five-series purchase guide with a real
member's ownership (member/info: 239 track IDs). Each is timed against its floor, measured in the same run,
alternately: the same DynamoDB requests issued with plain boto3, the slot engine's expansion of what they return
(into the same pages; for the grid and the guide: the same computation, iracing_sync.planner, on the grid items as
plain code decodes them), and one json.dumps of the answer (for the feed: of its events' fields). The floor is what no
handler can go under; the target is every handler within 1.3x of it (a ratio of at least 1/1.3).

Items read: for the /slots windows, DynamoDB's ScannedCount over the answer's requests against their Count (the
items the requests return: the weeks racing in each page's window). Target: at most 1.5x.

Cold import: a fresh interpreter imports the libraries the design requires the function to use (Powertools'
resolver with validation, pydantic, PynamoDB), timed, then the handler module, timed: what our modules add to the
floor no code of ours can go under, both parts measured in the same process (paired), so the noise of a shared
machine falls on both alike. Importing the libraries first changes nothing but the order: it runs the very same
work as importing the handler alone (callgrind counts the same instructions for both). Target: our modules add at
most 10%. Beside it, the handler import alone against a bare ``import boto3`` (once precompiled, what
``make build`` ships, and once without bytecode), and the cold start a user meets: import plus the first 24-hour
/slots request, against import boto3 plus one GetItem.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import Row, cold_start_env, paired_times
from bench.engines import engines

ROOT = Path(__file__).resolve().parents[1]
AT = datetime(2023, 5, 9, 18, 0, tzinfo=UTC)  # a Tuesday inside 2023 S2
WINDOWS = {"3 h": timedelta(hours=3), "24 h": timedelta(days=1), "7 d": timedelta(days=7)}
# A planner's five series of 2023 S2: Global Mazda MX-5, Formula Vee, Ferrari GT3, NASCAR Class B, GT Sprint.
PLAN_SERIES = (139, 455, 353, 62, 228)
PLAN_DAYS = 28
CALLS = 21
IMPORT_RUNS = 11
PAIRED_RUNS = 41  # a 10% difference needs settled medians: 41 paired runs repeat to ±0.002x here, 11 to ±0.01x
FLOOR_TARGET = 0.77  # ratio = floor / ours: at most 1.3x the floor (1/1.3, rounded up)
ITEMS_TARGET = 0.67  # ratio = items returned / items read: at most 1.5x (1/1.5, rounded up)
IMPORT_TARGET = 0.91  # ratio = required libraries / ours: our modules add at most 10% (1/1.1, rounded up)


def _percentiles(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _z(instant: datetime) -> str:
    return f"{instant:%Y-%m-%dT%H:%M:%SZ}"


@dataclass
class _Api:
    """The real handler, called with API Gateway v2 events; every page of an answer, as a client reads it."""

    handler: Callable[[dict[str, Any], Any], dict[str, Any]]

    def get(self, path: str) -> dict[str, Any]:
        from iracing_sync_local.http_server import http_api_event
        from iracing_sync_local.stepfunctions import LambdaContext

        response = self.handler(http_api_event("GET", path, {}), LambdaContext("slots-api"))
        assert response["statusCode"] == 200, response
        return response

    def pages(self, path: str) -> list[dict[str, Any]]:
        pages: list[dict[str, Any]] = []
        cursor = None
        while True:
            body = json.loads(self.get(path if cursor is None else f"{path}&cursor={cursor}")["body"])
            pages.append(body)
            if (cursor := body["next_cursor"]) is None:
                return pages


class _Floor:
    """The least a handler can do for the same answer: the same requests (plain boto3), the engine, one dumps."""

    def __init__(self) -> None:
        import boto3

        from iracing_sync.settings import get_settings
        from iracing_sync.store.schema import Item

        settings = get_settings()
        self.table = settings.table_name
        # The credentials the store's client signs with: DynamoDB Local keeps one namespace per access key.
        credentials = Item._get_connection().connection.client._request_signer._credentials
        self.client = boto3.client(
            "dynamodb",
            endpoint_url=settings.dynamodb_endpoint,
            region_name=settings.region,
            aws_access_key_id=credentials.access_key,
            aws_secret_access_key=credentials.secret_key,
            aws_session_token=credentials.token,
        )

    def query(self, request: dict[str, Any]) -> tuple[list[dict[str, Any]], int, int]:
        """Every item of one Query (all pages), with its ScannedCount and Count."""
        items: list[dict[str, Any]] = []
        scanned = count = 0
        kwargs = {"TableName": self.table, **request}
        while True:
            data = self.client.query(**kwargs)
            items += data["Items"]
            scanned, count = scanned + data["ScannedCount"], count + data["Count"]
            if "LastEvaluatedKey" not in data:
                return items, scanned, count
            kwargs["ExclusiveStartKey"] = data["LastEvaluatedKey"]

    def patterns(self, start: datetime, end: datetime, where: Any) -> tuple[list[Any], int, int]:
        """The week patterns of a window as plain code builds them from the raw items (validated, no cache)."""
        from iracing_sync.models.records import WeekPattern
        from iracing_sync.store.slot_sources import window_queries

        patterns, scanned, count = [], 0, 0
        for request in window_queries(start, end, where):
            items, s, c = self.query(request)
            scanned, count = scanned + s, count + c
            for item in items:
                number = {k: int(v["N"]) for k, v in item.items() if "N" in v}
                text = {k: v["S"] for k, v in item.items() if "S" in v}
                facts = json.loads(text.get("cars", "[]"))  # (the cars and, since format 3, the planning facts)
                cars, plan = (facts, None) if isinstance(facts, list) else (facts["cars"], facts.get("plan"))
                patterns.append(
                    WeekPattern.model_validate(
                        {
                            **number,
                            **{k: text.get(k) for k in ("series_name", "season_name", "track_name", "config_name")},
                            "category": text.get("category"),
                            "cars": cars,
                            "plan": plan,
                            "race_laps": number.get("race_lap_limit"),
                            "race_minutes": number.get("race_time_limit"),
                            "descriptors": json.loads(text.get("descriptors", "[]")),
                        }
                    )
                )
        return patterns, scanned, count

    def slots_pages(self, lo: datetime, hi: datetime, pages: list[tuple[Any, int]]) -> list[str]:
        """Each page of the answer from where the handler's page began (``After`` or None) and its length."""
        from iracing_sync.recurrence import expand
        from iracing_sync.store.slot_sources import ANY

        bodies = []
        for after, count in pages:
            start = after.start if after is not None else lo
            slots = expand(self.patterns(start, hi, ANY)[0], start, hi)
            if after is not None:
                slots = slots[bisect_right(slots, after.key, key=lambda s: s.key) :]
            head = {"from": _z(lo), "to": _z(hi), "count": count, "limit": 10_000, "next_cursor": None}
            bodies.append(json.dumps({**head, "slots": [s.to_json() for s in slots[:count]]}))
        return bodies

    def cars(self) -> str:
        request = {
            "IndexName": "by_parent",
            "KeyConditionExpression": "gsi1pk = :p",
            "ExpressionAttributeValues": {":p": {"S": "CARS"}},
        }
        cars = [json.loads(i["record"]["S"]) for i in self.query(request)[0]]
        base = "https://images-static.iracing.com"
        for car in cars:
            folder = car.get("folder")
            car["images"] = {
                "logo": base + car["logo"] if car.get("logo") else None,
                "small_image": f"{base}{folder}/{car['small_image']}" if car.get("small_image") else None,
                "large_image": f"{base}{folder}/{car['large_image']}" if car.get("large_image") else None,
            }
        return json.dumps({"cars": cars})

    def grid_seasons(self, at: datetime, where: Any) -> list[Any]:
        """The seasons running at ``at`` as plain code decodes their grid items (the same two Queries)."""
        from iracing_sync.store.grid import GridSeason, grid_queries, grid_weeks

        seasons = []
        for request in grid_queries(at, where):
            for item in self.query(request)[0]:
                value = {k: int(v["N"]) if "N" in v else v.get("S") for k, v in item.items()}
                weeks = grid_weeks(json.loads(value["cars"]))
                fields = {name: value.get(name) for name in GridSeason._fields if name not in ("end", "weeks")}
                seasons.append(GridSeason(**fields, end=value["tsk"].split("#")[0], weeks=weeks))
        return seasons

    def grid(self, at: datetime) -> str:
        from iracing_sync.planner import season_grid
        from iracing_sync.store.slot_sources import ANY

        return json.dumps(season_grid(at, self.grid_seasons(at, ANY), None), separators=(",", ":"))

    def guide(self, at: datetime, series: tuple[int, ...], owned: Any) -> str:
        from iracing_sync.api.params import slot_filter
        from iracing_sync.planner import purchase_guide

        seasons = self.grid_seasons(at, slot_filter(list(series)))
        return json.dumps(purchase_guide(at, series, seasons, owned), separators=(",", ":"))

    def feed(self, lo: datetime, hi: datetime, where: Any) -> str:
        from iracing_sync.ical import slot_description, slot_summary, slot_uid
        from iracing_sync.recurrence import expand

        events = [
            {
                "uid": slot_uid(s),
                "start": _z(s.start_time),
                "end": _z(s.end_time),
                "summary": slot_summary(s),
                "description": slot_description(s),
                "location": s.track_name,
            }
            for s in expand(self.patterns(lo, hi, where)[0], lo, hi)
        ]
        return json.dumps(events)


def _paired_rows(what: str, ours: Callable[[], object], floor: Callable[[], object], baseline: str) -> list[Row]:
    mine, theirs = paired_times(ours, floor, CALLS)
    (p50, p95), (b50, b95) = _percentiles(mine), _percentiles(theirs)
    return [
        Row(f"{what} p50", p50 * 1e3, "ms", f"{baseline} p50", b50 * 1e3, FLOOR_TARGET, higher_is_better=False),
        Row(f"{what} p95", p95 * 1e3, "ms", f"{baseline} p95", b95 * 1e3, higher_is_better=False),
    ]


FLOOR = "floor: same requests (boto3) + engine + one json.dumps"


def _slots_rows(api: _Api, floor: _Floor) -> list[Row]:
    from iracing_sync.api.paging import decode_cursor, fingerprint
    from iracing_sync.store.slot_sources import ANY

    rows: list[Row] = []
    for label, span in WINDOWS.items():
        lo, hi = AT, AT + span
        path = f"/slots?from={_z(lo)}&to={_z(hi)}"
        pages = api.pages(path)
        served = [s for p in pages for s in p["slots"]]
        # Where each page began: after the previous page's last slot (its cursor, bound to this query's window).
        bound = fingerprint("slots", _z(lo), _z(hi), ANY.canonical())
        starts: list[Any] = [None, *(decode_cursor(p["next_cursor"], bound, lo, hi) for p in pages[:-1])]
        plan = list(zip(starts, [p["count"] for p in pages], strict=True))
        floor_pages = [json.loads(b)["slots"] for b in floor.slots_pages(lo, hi, plan)]
        assert [s for p in floor_pages for s in p] == served, f"{label}: the floor answers other slots"
        what = f"GET /slots {label}, 2023 S2 ({len(served):,} slots, {len(pages)} page(s))"
        ours, theirs = (
            (lambda path=path: api.pages(path)),
            (lambda lo=lo, hi=hi, plan=plan: floor.slots_pages(lo, hi, plan)),
        )
        rows += _paired_rows(what, ours, theirs, FLOOR)
        scanned = returned = 0
        for after, _ in plan:
            _, s, c = floor.patterns(after.start if after is not None else lo, hi, ANY)
            scanned, returned = scanned + s, returned + c
        rows.append(
            Row(
                f"GET /slots {label}: DynamoDB items read",
                scanned,
                "items",
                "items returned (the weeks racing in each page's window)",
                returned,
                ITEMS_TARGET,
                higher_is_better=False,
            )
        )
    return rows


def _cars_rows(api: _Api, floor: _Floor) -> list[Row]:
    served = json.loads(api.get("/cars")["body"])["cars"]
    assert {c["car_id"] for c in served} == {c["car_id"] for c in json.loads(floor.cars())["cars"]}
    return _paired_rows(f"GET /cars ({len(served)} cars)", lambda: api.get("/cars"), floor.cars, FLOOR)


def _feed_rows(api: _Api, floor: _Floor) -> list[Row]:
    from iracing_sync.api.params import slot_filter

    lo, hi = AT.replace(hour=0), AT.replace(hour=0) + timedelta(days=PLAN_DAYS)
    series = "&".join(f"series_id={i}" for i in PLAN_SERIES)
    path = f"/calendar.ics?{series}&from={_z(lo)}&to={_z(hi)}"
    where = slot_filter(list(PLAN_SERIES))
    events = api.get(path)["body"].count("BEGIN:VEVENT")
    assert events == len(json.loads(floor.feed(lo, hi, where))) > 0
    what = f"GET /calendar.ics, {len(PLAN_SERIES)} series over {PLAN_DAYS} days ({events:,} events)"
    floor_name = "floor: same requests (boto3) + engine + one json.dumps of the events"
    return _paired_rows(what, lambda: api.get(path), lambda: floor.feed(lo, hi, where), floor_name)


def _planner_rows(api: _Api, floor: _Floor) -> list[Row]:
    from iracing_sync.models.planning import Ownership
    from iracing_sync_local import SAMPLES_DIR

    grid_path = f"/seasons?at={_z(AT)}"
    grid = json.loads(api.get(grid_path)["body"])
    assert grid == json.loads(floor.grid(AT)) and grid["count"] > 100, "the floor answers another grid"
    weeks = sum(len(s["weeks"]) for s in grid["seasons"])
    rows = _paired_rows(
        f"GET /seasons?at, 2023 S2 ({grid['count']} seasons, {weeks:,} weeks)",
        lambda: api.get(grid_path),
        lambda: floor.grid(AT),
        FLOOR,
    )
    member = json.loads((SAMPLES_DIR / "member_info_ownership_redacted.json").read_text())
    cars = sorted({i for p in member["car_packages"] for i in p["content_ids"]})
    tracks = sorted({i for p in member["track_packages"] for i in p["content_ids"]})
    owned = Ownership(frozenset(cars), frozenset(tracks))
    series = ",".join(map(str, PLAN_SERIES))
    guide_path = (
        f"/purchase-guide?series_id={series}&at={_z(AT)}"
        f"&owned_car_id={','.join(map(str, cars))}&owned_track_id={','.join(map(str, tracks))}"
    )
    guide = json.loads(api.get(guide_path)["body"])
    assert guide == json.loads(floor.guide(AT, PLAN_SERIES, owned)) and len(guide["series"]) == len(PLAN_SERIES)
    what = f"GET /purchase-guide, {len(PLAN_SERIES)} series, a member's {len(tracks)} track IDs"
    return rows + _paired_rows(what, lambda: api.get(guide_path), lambda: floor.guide(AT, PLAN_SERIES, owned), FLOOR)


def _latency_rows() -> list[Row]:
    from iracing_sync_local.stepfunctions import handler_for, local_step_functions

    rows: list[Row] = []
    with engines("2023s2"):
        with local_step_functions(retry_interval_scale=0) as sfn:
            for machine in ("sync_series", "sync_reference_data", "sync_current_seasons"):
                sfn.run(machine, progress=False)
            api, floor = _Api(handler_for("SlotsApiFunction")), _Floor()
            rows += _slots_rows(api, floor) + _cars_rows(api, floor) + _feed_rows(api, floor)
            rows += _planner_rows(api, floor)
        # Outside moto: it swaps in its own AWS credentials, and DynamoDB Local keeps a namespace per access key.
        from iracing_sync_local.http_server import http_api_event

        day = f"/slots?from={_z(AT)}&to={_z(AT + WINDOWS['24 h'])}"
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
# The floor, then the handler, in one fresh interpreter: prints the floor's seconds and the whole import's.
_PAIRED_IMPORT = f"""
import time
t = time.perf_counter()
{_REQUIRED_STACK}
floor = time.perf_counter() - t
import app
print(floor, time.perf_counter() - t)
"""


def _seconds(code: str, env: dict[str, str], stdin: str = "") -> list[float]:
    """What a timed child prints on its last line: one or more durations in seconds."""
    out = subprocess.run([sys.executable, "-c", code], env=env, input=stdin, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"timed child failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    return [float(value) for value in out.stdout.strip().splitlines()[-1].split()]


def _function_env(bytecode: bool) -> dict[str, str]:
    """The API function's cold-start environment (``bench.cold_start_env``), with a table name to configure."""
    return {
        **cold_start_env("slots_api", bytecode=bytecode),
        "TABLE_NAME": os.environ.get("TABLE_NAME", "iracing-sync-bench"),
    }


def _child_medians(children: dict[str, tuple[str, str]], bytecode: bool, runs: int = IMPORT_RUNS) -> dict[str, float]:
    """Median ms of each child (code, stdin), each run ``runs`` times in a fresh interpreter, alternately.

    A child printing several durations gives one median per duration: ``name``, then ``name.1``, ``name.2``...
    """
    env = _function_env(bytecode)
    if bytecode:
        for code, stdin in children.values():  # fills the cache: the build ships every module precompiled
            _seconds(code, env, stdin)
    times: dict[str, list[float]] = {}
    for _ in range(runs):
        for name, (code, stdin) in children.items():
            for index, value in enumerate(_seconds(code, env, stdin)):
                times.setdefault(f"{name}.{index}" if index else name, []).append(value)
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
    paired = _child_medians({"paired": (_PAIRED_IMPORT, "")}, bytecode=True, runs=PAIRED_RUNS)
    compiled = _child_medians({"ours": ours, "boto3": boto3}, bytecode=True)
    source = _child_medians({"ours": ours, "boto3": boto3}, bytecode=False)
    boto3_compiled, boto3_source = "bare import boto3 (precompiled)", "bare import boto3 (no bytecode)"
    return [
        Row(
            "API function cold import vs required libraries alone",
            paired["paired.1"],
            "ms",
            "Powertools resolver + validation, pydantic, PynamoDB alone (precompiled, same process)",
            paired["paired"],
            target=IMPORT_TARGET,
            higher_is_better=False,
        ),
        Row(
            "API function cold import (precompiled)",
            compiled["ours"],
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
    """Latency rows against the floor (p50/p95), items read, the cold start, and the cold-import rows."""
    return _latency_rows() + _import_rows()
