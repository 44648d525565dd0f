"""Fuzz the running API from its own OpenAPI document (schemathesis): every check, no server error, every answer as
documented, valid data accepted and invalid data refused.

The 2025-09-09 snapshot is synced by the real state machines; the API function is served on 127.0.0.1.
schemathesis sends each operation of the document the examples and coverage phases' cases and a bounded number of
generated requests (valid and invalid), with a fixed seed so a run is repeatable, and runs every check it has (the
Python API's ``--checks all``: ``call_and_validate`` without a list runs each one the configuration enables, all
by default). A failing case does not stop its operation (``continue-on-failure``): every failure is reported.

Valid data must be accepted: a request the document calls valid is never a 400. It may be a 404 (an ID nothing is
stored under) or a 422, which the API answers only where JSON Schema cannot speak: a window whose from is not
before its to or that is longer than allowed, a cursor of the documented form that this API did not issue for the
query, a feed too large to serve. The check ``unservable_only_when_it_is`` holds every 422 (and every 200) to those
rules, computed here from the request, so allowing 422 hides nothing.

Random IDs and independent from/to rarely reach the deep paths (a known season, a window a few days long), so two
hooks mix stored IDs of the snapshot and short windows into the generated requests; they only ever turn a valid
value into another valid one, so a request meant to be invalid stays invalid.

The document is built in-process when this module is collected (schemathesis' fixture-loaded schemas do not
work with pytest 9), and the fixture checks the running server serves exactly that document.
"""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.config import SchemathesisConfig

from iracing_sync.api.params import ISO_INSTANT
from iracing_sync.api.routes.docs import openapi_json
from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.integration.conftest import sync_snapshot

pytestmark = [pytest.mark.integration, pytest.mark.serial]

MAX_EXAMPLES = 25  # generated requests per operation, on top of its examples and coverage cases
SEED = 20250909
MAX_WINDOW = timedelta(days=31)  # settings.max_window_days (its default: the fuzzed server runs with it)


@pytest.fixture(scope="module", autouse=True)
def in_one_process() -> None:
    """Refuse to run under pytest-xdist: it drops subtest reports, so a failing operation would pass silently.

    schemathesis reports each operation as a subtest of one item; `make test` runs the `serial` marker alone.
    """
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pytest.fail("the API fuzz test must not run under pytest-xdist (run it with -m serial, no -n)")


@pytest.fixture(scope="module")
def synced_api(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> str:
    """Given the snapshot synced (series, reference data, seasons) and served with the document fuzzed here."""
    sync_snapshot(module_step_functions, module_fake_iracing)
    assert requests.get(f"{api}/openapi.json", timeout=30).json() == DOCUMENT
    return api


DOCUMENT = json.loads(openapi_json())
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": SEED,
        "continue-on-failure": True,
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        # Valid data's statuses (schemathesis' default list) plus 422: the semantic refusals described above,
        # each held to its rule by unservable_only_when_it_is. Never 400.
        "checks": {
            "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]},
            # An undeclared method never reaches the function: API Gateway (and the local adapter, as strict) answers
            # it 404 {"message": "Not Found"}, where this check expects a 405 no HTTP API can be made to send.
            "unsupported_method": {"enabled": False},
        },
        "request-timeout": 60,
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

# Stored IDs of the snapshot, for the parameters named so (path and query alike)
SEASONS = load_sample("series_seasons.json")
KNOWN = {
    "series_id": sorted({s["series_id"] for s in SEASONS} | {s["series_id"] for s in load_sample("series_get.json")}),
    "season_id": sorted({s["season_id"] for s in SEASONS}),
    "track_id": sorted({t["track_id"] for t in load_sample("track_get.json")}),
    "car_id": sorted({c["car_id"] for c in load_sample("car_get.json")}),
    "car_class_id": sorted({c["car_class_id"] for c in load_sample("carclass_get.json")}),
    "owned_car_id": sorted({c["car_id"] for c in load_sample("car_get.json")}),
    "owned_track_id": sorted({t["track_id"] for t in load_sample("track_get.json")}),
    "race_week_num": list(range(13)),
}


def _id(name: str, value: Any) -> st.SearchStrategy[Any]:
    """The generated value, or (if it is a valid ID) one of the snapshot's stored IDs."""
    if name in KNOWN and isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return st.one_of(st.just(value), st.sampled_from(KNOWN[name]))
    return st.just(value)


def _stored(name: str, value: Any) -> st.SearchStrategy[Any]:
    """``_id`` for a value or for each value of a list ("any of" filters)."""
    if isinstance(value, list):
        return st.tuples(*(_id(name, v) for v in value)).map(list)
    return _id(name, value)


def _instant(value: Any) -> datetime | None:
    """A valid instant parameter as an aware UTC datetime (naive means UTC, a date its midnight); else None."""
    if not isinstance(value, str) or not re.match(ISO_INSTANT, value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({k: _stored(k, v) for k, v in (path_parameters or {}).items()})


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    query = dict(query or {})
    ids = st.fixed_dictionaries({k: _stored(k, v) for k, v in query.items()})
    start, end = _instant(query.get("from")), _instant(query.get("to"))
    if start is None or end is None or start.year > 2150:
        return ids
    # Both are valid dates: sometimes make the window a realistic one (minutes to weeks), or one in the snapshot
    minutes = st.integers(min_value=1, max_value=40 * 24 * 60)
    shorter = st.tuples(ids, minutes).map(lambda p: {**p[0], "to": _z(start + timedelta(minutes=p[1]))})
    racing = st.tuples(ids, st.integers(0, 60 * 24 * 60), minutes).map(
        lambda p: {
            **p[0],
            "from": _z(SNAPSHOT + timedelta(minutes=p[1])),
            "to": _z(SNAPSHOT + timedelta(minutes=p[1] + p[2])),
        }
    )
    return st.one_of(ids, shorter, racing)


SNAPSHOT = datetime(2025, 8, 20, tzinfo=UTC)  # the two months around the capture day, where its seasons race


def _z(instant: datetime) -> str:
    return f"{instant:%Y-%m-%dT%H:%M:%SZ}"


# --- the rules a 422 answers for ---------------------------------------------------------------------------------


def window_is_unservable(path: str, query: dict[str, Any]) -> bool | None:
    """Whether the request's [from, to) is one the API may not serve (None: the route takes no window).

    The API's rules, restated here from the README: /slots needs from before to and at most 31 days between; a
    season's slots default to all of it and take any length; a feed defaults from to the start of today (UTC) and
    to to from + 28 days, at most 31 days.
    """
    start, end = _instant(query.get("from")), _instant(query.get("to"))
    if path == "/slots":
        lo, hi, bounded = start, end, True
    elif path.startswith("/seasons/") and path.endswith("/slots"):
        lo = start or datetime(1970, 1, 1, tzinfo=UTC)
        hi, bounded = end or datetime(2200, 1, 1, tzinfo=UTC), False
    elif path.endswith(".ics"):
        lo = start or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        hi, bounded = end or lo + timedelta(days=28), True
    else:
        return None
    if lo is None or hi is None:  # (a malformed or missing instant is a 400, not a window)
        return None
    return lo >= hi or (bounded and hi - lo > MAX_WINDOW)


@schemathesis.check
def unservable_only_when_it_is(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 422 only for a window, cursor or feed the rules above refuse; a 200 never for a window they refuse."""
    query = dict(case.query or {})
    unservable = window_is_unservable(case.formatted_path, query)
    if response.status_code == 200 and unservable:
        raise AssertionError(f"served an unservable window {query.get('from')!r}..{query.get('to')!r}")
    if response.status_code != 422:
        return None
    error = response.json()["error"]
    if unservable:
        return None
    if "cursor" in query and error["code"] == "invalid_cursor":
        return None
    if case.formatted_path.endswith(".ics") and error["message"].startswith("the feed would hold"):
        return None
    if query.get("content") == "free" and ("owned_car_id" in query or "owned_track_id" in query):
        return None  # content=free means owning nothing: owned IDs with it contradict it
    raise AssertionError(f"422 without a reason the rules give: {error}")


@schema.parametrize()
@settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_as_documented(case: Any, synced_api: str) -> None:
    # When schemathesis sends a generated request to the running API
    # Then every check holds: no server error, the answer as documented, valid data accepted, invalid refused
    case.call_and_validate(base_url=synced_api)
