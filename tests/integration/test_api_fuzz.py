"""Fuzz the running API from its own OpenAPI document (schemathesis): no server error, every answer as documented.

The 2025-09-09 snapshot is synced by the real state machines; the API function is served on 127.0.0.1.
schemathesis sends each operation of the document the coverage phase's boundary cases and a bounded number of
generated requests (valid and invalid), with a fixed seed so a run is repeatable. Each answer must be no 5xx,
have a documented status, content type and headers, match the documented schema, and reject what the document
says is invalid.

Random IDs and independent from/to rarely reach the deep paths (a known season, a window a few days long), so
two hooks mix stored IDs of the snapshot and short windows into the generated requests; they only ever turn a
valid value into another valid one, so a request meant to be invalid stays invalid.

The document is built in-process when this module is collected (schemathesis' fixture-loaded schemas do not
work with pytest 9), and the fixture checks the running server serves exactly that document.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from iracing_sync.api.params import ISO_INSTANT
from iracing_sync.api.routes.docs import openapi_json
from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.integration.conftest import sync_snapshot

pytestmark = [pytest.mark.integration, pytest.mark.serial]

MAX_EXAMPLES = 25  # generated requests per operation, on top of its examples and coverage cases
SEED = 20250909
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


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
        "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
        "request-timeout": 60,
    }
)
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)

# Stored IDs of the snapshot, and the ID filters they fit
SEASONS = load_sample("series_seasons.json")
KNOWN = {
    "series_id": sorted({s["series_id"] for s in SEASONS}),
    "season_id": sorted({s["season_id"] for s in SEASONS}),
    "track_id": sorted({w["track"]["track_id"] for s in SEASONS for w in s["schedules"]}),
    "car_id": sorted({c["car_id"] for c in load_sample("carclass_get.json")[0]["cars_in_class"]} | {139, 140}),
}


def _stored(name: str, value: Any) -> st.SearchStrategy[Any]:
    """The generated value, or (if it is a valid ID) one of the snapshot's stored IDs."""
    if name in KNOWN and isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return st.one_of(st.just(value), st.sampled_from(KNOWN[name]))
    return st.just(value)


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not re.match(ISO_INSTANT, value):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.combine(date.fromisoformat(value), datetime.min.time())
        except ValueError:
            return None
    return parsed.replace(tzinfo=None)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({k: _stored(k, v) for k, v in (path_parameters or {}).items()})


@schema.hook
def flatmap_query(context: Any, query: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    query = dict(query or {})
    ids = st.fixed_dictionaries({k: _stored(k, v) for k, v in query.items()})
    start, end = _instant(query.get("from")), _instant(query.get("to"))
    if start is None or end is None or start.year > 9000:
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


SNAPSHOT = datetime(2025, 8, 20)  # the two months around the capture day, where the snapshot's seasons race


def _z(instant: datetime) -> str:
    return instant.isoformat(timespec="seconds") + "Z"  # (strftime would write year 1 as "1")


@schema.parametrize()
@settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_api_answers_every_generated_request_as_documented(case: Any, synced_api: str) -> None:
    # When schemathesis sends a generated request to the running API
    # Then the answer is no server error and matches the OpenAPI document
    case.call_and_validate(base_url=synced_api, checks=CHECKS)
