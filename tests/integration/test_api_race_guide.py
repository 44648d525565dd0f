"""The race guide on the API's slots: inside its horizon a slot carries the session_id, entry_count and end iRacing
published (null where it has not), on every route that shows slots (/slots, a season's slots, /next, the feeds).

The 2025-09-09 snapshot and that day's race guide are synced by the real state machines; the API function is
served on 127.0.0.1. Over the guide's block, /slots is the guide itself: the same sessions, ends, IDs and entries.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.integration.conftest import sync_snapshot

pytestmark = pytest.mark.integration

GUIDE = load_sample("season_race_guide_2025-09-09.json")
BLOCK = f"from={GUIDE['block_begin_time']}&to={GUIDE['block_end_time']}"
BY_KEY = {(s["season_id"], s["race_week_num"], s["start_time"]): s for s in GUIDE["sessions"]}


@pytest.fixture(scope="module")
def guided(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> str:
    """Given the snapshot synced and its race guide reconciled."""
    sync_snapshot(module_step_functions, module_fake_iracing)
    summary = module_step_functions.run("sync_race_guide", progress=False)
    assert summary["matched"] == 133, summary
    return api


def get(url: str) -> Any:
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, response.text
    return response.json() if "json" in response.headers["Content-Type"] else response.text


def key(slot: dict[str, Any]) -> tuple[int, int, str]:
    return (slot["season_id"], slot["race_week_num"], slot["start_time"])


def published(slot: dict[str, Any]) -> tuple[Any, Any, str]:
    return (slot["session_id"], slot["entry_count"], slot["end_time"])


def guide_says(slot: dict[str, Any]) -> tuple[Any, Any, str]:
    """What the race guide published of the session a slot is: its ID (absent until created), entries and end."""
    session = BY_KEY[key(slot)]
    return (session.get("session_id"), session["entry_count"], session["end_time"])


def test_slots_over_the_guides_block_are_the_guide_with_its_ids_entries_and_ends(guided: str) -> None:
    # When the slots of the guide's block are asked for
    slots = get(f"{guided}/slots?{BLOCK}")["slots"]
    # Then they are exactly its sessions, each with what iRacing published (a started race's end is iRacing's)
    assert {key(s) for s in slots} == set(BY_KEY)
    for slot in slots:
        assert published(slot) == guide_says(slot), key(slot)
    assert sum(s["session_id"] is not None for s in slots) == 20


def test_slots_outside_the_guides_horizon_carry_null(guided: str) -> None:
    slots = get(f"{guided}/slots?from=2025-09-10T00:00:00Z&to=2025-09-11T00:00:00Z")["slots"]
    assert slots and all(s["session_id"] is None and s["entry_count"] is None for s in slots)


@pytest.mark.parametrize(
    "path",
    [
        f"/slots?{BLOCK}&series_id=135",  # a filter the guide's state passes whatever it holds
        f"/slots?{BLOCK}&category=road&license=R",
        f"/slots?{BLOCK}&season_id=5862",  # one season: its partition holds its guide sessions
        f"/seasons/5862/slots?{BLOCK}",
        "/seasons/5862/next?at=2025-09-09T12:00:00Z&count=3",
        "/series/135/next?at=2025-09-09T12:00:00Z&count=3",
    ],
)
def test_every_route_showing_slots_carries_the_guide_inside_its_horizon(guided: str, path: str) -> None:
    slots = get(guided + path)["slots"]
    assert slots
    for slot in slots:
        assert published(slot) == guide_says(slot), key(slot)


@pytest.mark.parametrize(
    "path",
    [
        "/seasons/5862/calendar.ics?from=2025-09-09&to=2025-09-10",
        "/series/135/calendar.ics?from=2025-09-09&to=2025-09-10",
        "/calendar.ics?series_id=135&from=2025-09-09&to=2025-09-10",
    ],
)
def test_feeds_name_the_entries_and_session_of_a_race_the_guide_lists(guided: str, path: str) -> None:
    session = next(s for s in GUIDE["sessions"] if s["season_id"] == 5862)
    # (folded lines unfolded, as a calendar client reads them)
    text = get(guided + path).replace("\r\n ", "")
    assert f"Race guide: {session['entry_count']} entries\\, session_id {session['session_id']}" in text
    assert "Race guide: 0 entries" in text  # a session not started yet: no ID, none registered
