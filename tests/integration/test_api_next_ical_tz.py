"""Next race, iCal feeds and local times over real HTTP, answered from DynamoDB Local after a real sync.

The 2025-09-09 snapshot is synced once by the real state machines (moto's interpreter, real handlers,
the fake iRacing server); the slots API function is served on 127.0.0.1. Expected answers come from
`iracing-sync slots expand` over the same raw body, and local times from hand-written DST rules.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import pytest
import requests
from icalendar import Calendar

from iracing_sync.models.iracing_bodies import Season
from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import SAMPLES

pytestmark = pytest.mark.integration

AT = "2025-09-09T07:31:00Z"
H = timedelta(hours=1)


@cache
def expanded(start: str = "2025-01-01", end: str = "2027-01-01") -> tuple[dict[str, Any], ...]:
    """What `iracing-sync slots expand` prints for the snapshot's raw body over [start, end)."""
    from iracing_sync_local.cli import main

    out = io.StringIO()
    schedule = str(SAMPLES / "series_seasons.json")
    with redirect_stdout(out):
        assert main(["slots", "expand", "--schedule", schedule, "--from", start, "--to", end]) == 0
    return tuple(json.loads(out.getvalue()))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _key(slot: dict[str, Any]) -> tuple[Any, ...]:
    return (slot["season_id"], slot["series_id"], slot["race_week_num"], slot["start_time"], slot["end_time"])


def _uid(slot: dict[str, Any]) -> str:
    return f"{slot['season_id']}-{slot['race_week_num']}-{_instant(slot['start_time']):%Y%m%dT%H%M%SZ}@iracing-sync"


@pytest.fixture(scope="module")
def synced(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> dict[str, Any]:
    """Given the 2025-09-09 snapshot synced once by the real state machines."""
    module_step_functions.run("sync_series", {}, progress=False)
    summary: dict[str, Any] = module_step_functions.run("sync_current_seasons", {}, progress=False)
    assert summary["status"] == "SUCCEEDED" and summary["failed"] == []
    return summary


def get(api: str, path: str, **params: Any) -> requests.Response:
    return requests.get(api + path, params=params, timeout=30)


# --- next race ---------------------------------------------------------------------------------------


def test_series_next_is_the_first_expand_slot_at_or_after_at_for_every_series(synced: Any, api: str) -> None:
    # Given every series of the snapshot and the expansion of its raw body
    everything = expanded()
    answered = 0
    for series_id in sorted({s["series_id"] for s in everything}):
        # When its next race at AT is asked for
        response = get(api, f"/series/{series_id}/next", at=AT)
        assert response.status_code == 200, response.text
        body = response.json()
        # Then it is the series' first slot starting at or after AT (none if the series raced only before)
        upcoming = [s for s in everything if s["series_id"] == series_id and _instant(s["start_time"]) >= _instant(AT)]
        assert (body["series_id"], body["at"], body["count"]) == (series_id, AT, len(upcoming[:1]))
        assert [_key(s) for s in body["slots"]] == [_key(s) for s in upcoming[:1]], series_id
        assert [s["super_session"] for s in body["slots"]] == [s["super_session"] for s in upcoming[:1]]
        answered += bool(upcoming)
    assert answered > 20


def test_series_next_count_and_an_instant_on_a_start_is_included(synced: Any, api: str) -> None:
    series = [s for s in expanded() if s["series_id"] == 47 and _instant(s["start_time"]) >= _instant(AT)]
    # When asked exactly at its second upcoming start for 3 races
    body = get(api, "/series/47/next", at=series[1]["start_time"], count=3).json()
    # Then that slot is the first answer, followed by the next two
    assert [_key(s) for s in body["slots"]] == [_key(s) for s in series[1:4]]


def test_season_next_equals_series_next_for_a_one_season_series(synced: Any, api: str) -> None:
    season = get(api, "/seasons/5376/next", at=AT, count=5).json()
    series = get(api, "/series/47/next", at=AT, count=5).json()
    assert season["season_id"] == 5376 and season["count"] == 5
    assert season["slots"] == series["slots"]


def test_next_after_the_last_race_is_empty(synced: Any, api: str) -> None:
    for path in ("/series/47/next", "/seasons/5376/next"):
        body = get(api, path, at="2030-01-01T00:00:00Z", count=3).json()
        assert (body["count"], body["slots"]) == (0, []), path


def _synthetic_season(season_id: int, series_id: int, start: date, weeks: int) -> Season:
    """A season racing every 6 hours from 00:30 UTC, 7 days a week, for ``weeks`` weeks from ``start``."""
    return Season.model_validate(
        {
            "season_id": season_id,
            "series_id": series_id,
            "start_date": start.isoformat(),
            "schedules": [
                {
                    "season_id": season_id,
                    "series_id": series_id,
                    "race_week_num": n,
                    "start_date": (start + timedelta(days=7 * n)).isoformat(),
                    "race_time_descriptors": [
                        {
                            "repeating": True,
                            "session_minutes": 40,
                            "start_date": (start + timedelta(days=7 * n)).isoformat(),
                            "day_offset": list(range(7)),
                            "first_session_time": "00:30:00",
                            "repeat_minutes": 360,
                        }
                    ],
                }
                for n in range(weeks)
            ],
        }
    )


@pytest.mark.parametrize(
    ("at", "count"),
    [("2020-01-01T00:00:00Z", 3), ("2025-06-01T00:00:00Z", 2), ("2025-06-01T00:00:00Z", 50), ("2026-02-01", 5)],
    ids=["before-all", "between-seasons", "spills-into-a-third-season", "inside-the-last"],
)
def test_series_next_reads_later_seasons_until_the_answer_is_complete(
    synced: Any, api: str, at: str, count: int
) -> None:
    # Given a series with an ended season, a one-week season later on and another after it
    from iracing_sync.recurrence import expand as expand_weeks
    from iracing_sync.schedule import ScheduleProcessor, week_patterns
    from iracing_sync.store import season_writes

    series_id = 990_001
    seasons = [
        _synthetic_season(990_011, series_id, date(2025, 1, 7), 4),
        _synthetic_season(990_012, series_id, date(2025, 12, 2), 1),
        _synthetic_season(990_013, series_id, date(2026, 1, 13), 3),
    ]
    for season in seasons:
        season_writes.put_season(ScheduleProcessor().process(season))
    # When the next races are asked for
    body = get(api, f"/series/{series_id}/next", at=at, count=count).json()
    # Then they are the first `count` slots of all its seasons from `at`
    instant = datetime.fromisoformat(at.replace("Z", "+00:00")).replace(tzinfo=UTC)
    expected = expand_weeks(week_patterns(seasons), instant, datetime(2030, 1, 1, tzinfo=UTC))[:count]
    assert len(expected) == count
    assert [_key(s) for s in body["slots"]] == [_key(s.to_json()) for s in expected]


def test_next_without_at_looks_from_now(synced: Any, api: str) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    body = get(api, "/series/47/next").json()
    after = datetime.now(UTC)
    assert before <= _instant(body["at"]) <= after
    assert all(_instant(s["start_time"]) >= before for s in body["slots"])


def test_next_bad_input_is_a_clear_4xx(synced: Any, api: str) -> None:
    cases = {
        "/series/999999/next": 404,
        "/seasons/999999/next": 404,
        "/series/47/next?count=0": 400,
        "/series/47/next?count=51": 400,
        "/series/47/next?at=soon": 400,
        "/series/abc/next": 400,
    }
    for path, status in cases.items():
        response = requests.get(api + path, timeout=10)
        assert response.status_code == status, (path, response.text)
        assert set(response.json()["error"]) == {"code", "message"}, path


# --- iCal feeds --------------------------------------------------------------------------------------


def _events(response: requests.Response) -> list[Any]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/calendar")
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["VERSION"]) == "2.0"
    return list(calendar.walk("VEVENT"))


@pytest.mark.parametrize(
    ("path", "field", "ident"),
    [("/series/134/calendar.ics", "series_id", 134), ("/seasons/5376/calendar.ics", "season_id", 5376)],
)
def test_calendar_has_one_vevent_per_slot_with_stable_uids_and_utc_times(
    synced: Any, api: str, path: str, field: str, ident: int
) -> None:
    # Given the week of 2025-09-09 expanded from the raw body
    start, end = "2025-09-09T00:00:00Z", "2025-09-16T00:00:00Z"
    expected = [s for s in expanded(start, end) if s[field] == ident]
    assert expected
    # When the feed is fetched for that window
    events = _events(get(api, path, **{"from": start, "to": end}))
    # Then it parses back with one event per slot: the documented UID, UTC start/end, and a summary
    assert [str(e["UID"]) for e in events] == [_uid(s) for s in expected]
    for event, slot in zip(events, expected, strict=True):
        assert event.decoded("DTSTART") == _instant(slot["start_time"])
        assert event.decoded("DTEND") == _instant(slot["end_time"])
        assert event.decoded("DTSTART").utcoffset() == timedelta(0)
        assert f"(week {slot['race_week_num'] + 1})" in str(event["SUMMARY"])
        assert str(event["SUMMARY"]).startswith(slot["series_name"])


def test_calendar_uids_stable_across_a_resync_and_overlapping_windows(
    synced: Any, api: str, module_step_functions: Any
) -> None:
    # Given the feed of a series over two overlapping windows
    first = _events(get(api, "/series/47/calendar.ics", **{"from": "2025-09-09", "to": "2025-09-20"}))
    shifted = _events(get(api, "/series/47/calendar.ics", **{"from": "2025-09-15", "to": "2025-09-25"}))
    # When the same snapshot is synced again and the feed fetched again
    again = module_step_functions.run("sync_current_seasons", {}, progress=False)
    assert again["status"] == "SUCCEEDED"
    refetched = _events(get(api, "/series/47/calendar.ics", **{"from": "2025-09-09", "to": "2025-09-20"}))
    # Then the same slots have the same UIDs every time (calendar clients update, never duplicate)
    uids = [str(e["UID"]) for e in first]
    assert [str(e["UID"]) for e in refetched] == uids
    common = {str(e["UID"]) for e in shifted} & set(uids)
    overlap = [s for s in expanded("2025-09-15", "2025-09-20") if s["series_id"] == 47]
    assert common == {_uid(s) for s in overlap} != set()


def test_calendar_default_window_is_today_plus_28_days(synced: Any, api: str) -> None:
    # Given the clock's day (read on both sides of the request, in case it runs across midnight)
    days = {datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)}
    response = get(api, "/seasons/5376/calendar.ics")
    days.add(datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0))
    events = _events(response)
    calendar = Calendar.from_ical(response.content)
    description = str(calendar["X-WR-CALDESC"])
    lo = datetime.strptime(description.split(" from ")[1].split(" to ")[0], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    hi = datetime.strptime(description.split(" to ")[1].removesuffix(" UTC"), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    # Then the window starts at the start of today (UTC) and spans 28 days
    assert lo in days
    assert hi - lo == timedelta(days=28)
    assert all(lo <= e.decoded("DTSTART") < hi + timedelta(minutes=1) for e in events)


def test_calendar_bad_input_is_a_clear_4xx(synced: Any, api: str) -> None:
    cases = {
        "/series/999999/calendar.ics": 404,
        "/seasons/999999/calendar.ics": 404,
        "/series/47/calendar.ics?from=2025-09-10&to=2025-09-09": 422,
        "/series/47/calendar.ics?from=2025-09-01&to=2025-12-01": 422,
        "/seasons/5376/calendar.ics?from=tomorrow": 400,
    }
    for path, status in cases.items():
        response = requests.get(api + path, timeout=10)
        assert response.status_code == status, (path, response.text)
        assert set(response.json()["error"]) == {"code", "message"}, path


# --- local times -------------------------------------------------------------------------------------


def test_slots_tz_adds_local_times_with_the_offset_of_each_instant_london(synced: Any, api: str) -> None:
    # Given the slots around the end of BST (2025-10-26 01:00 UTC), with and without tz
    window = {"from": "2025-10-26T00:00:00Z", "to": "2025-10-26T02:00:00Z"}
    plain = get(api, "/slots", **window).json()
    local = get(api, "/slots", **window, tz="Europe/London").json()
    # Then the slots are the same, each with start/end in London time at the offset in force then
    assert local["tz"] == "Europe/London"
    assert (
        [_key(s) for s in local["slots"]]
        == [_key(s) for s in plain["slots"]]
        == [_key(s) for s in expanded(window["from"], window["to"])]
    )
    offsets = set()
    for slot in local["slots"]:
        start = _instant(slot["start_time"])
        offset = H if start < datetime(2025, 10, 26, 1, tzinfo=UTC) else timedelta(0)
        offsets.add(offset)
        assert slot["start_local"] == f"{(start + offset).replace(tzinfo=None).isoformat()}+0{offset // H}:00"
        assert datetime.fromisoformat(slot["end_local"]) == _instant(slot["end_time"])
    assert offsets == {H, timedelta(0)}


def test_season_slots_tz_new_york_session_across_the_change_has_two_offsets(synced: Any, api: str) -> None:
    # Given season 5376's slots on 2025-11-02 (EDT ends at 06:00 UTC), in New York time
    body = get(
        api,
        "/seasons/5376/slots",
        **{"from": "2025-11-02T00:00:00Z", "to": "2025-11-02T12:00:00Z"},
        tz="America/New_York",
    ).json()
    by_start = {s["start_time"]: s for s in body["slots"]}
    # Then the 04:45 UTC session starts at 00:45 EDT and ends (06:03 UTC) at 01:03 EST
    straddling = by_start["2025-11-02T04:45:00Z"]
    assert (straddling["start_local"], straddling["end_local"]) == (
        "2025-11-02T00:45:00-04:00",
        "2025-11-02T01:03:00-05:00",
    )
    assert by_start["2025-11-02T06:45:00Z"]["start_local"] == "2025-11-02T01:45:00-05:00"
    assert {s["tz"] for s in body["slots"]} == {"America/New_York"}


def test_next_with_tz_adds_local_times(synced: Any, api: str) -> None:
    body = get(api, "/series/47/next", at="2025-11-02T04:00:00Z", tz="America/New_York").json()
    assert body["tz"] == "America/New_York"
    assert body["slots"][0]["start_local"] == "2025-11-02T00:45:00-04:00"


@pytest.mark.parametrize(
    "path", ["/slots?from=2025-10-26&to=2025-10-27", "/seasons/5376/slots", "/series/47/next", "/seasons/5376/next"]
)
@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "Europe", "../../etc/passwd", ""])
def test_unknown_tz_is_a_400_with_the_error_shape(synced: Any, api: str, path: str, tz: str) -> None:
    response = requests.get(api + path, params={"tz": tz}, timeout=10)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "unknown_time_zone"
    assert "IANA" in response.json()["error"]["message"]
