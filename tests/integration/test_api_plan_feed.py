"""The plan feed (GET /calendar.ics) over real HTTP after a real sync, read by an independent iCalendar parser.

vobject (not the icalendar library, nor our writer) parses each feed; its events must be the slots /slots serves
for the same window and filters: the same UIDs, starts and ends, each described by track, cars and race length.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests
import vobject

from iracing_sync.models.iracing_bodies import Season
from iracing_sync_local.fake_iracing import FakeIracing
from tests.integration.conftest import sync_snapshot

pytestmark = pytest.mark.integration

WINDOW = {"from": "2025-09-09", "to": "2025-10-07"}


@pytest.fixture(scope="module")
def synced(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> None:
    """Given the 2025-09-09 snapshot synced by the real state machines: series, reference data, seasons."""
    sync_snapshot(module_step_functions, module_fake_iracing)


def feed(api: str, **params: Any) -> Any:
    response = requests.get(f"{api}/calendar.ics", params=params, timeout=60)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/calendar")
    return vobject.readOne(response.text)


def events(calendar: Any) -> list[Any]:
    return list(calendar.contents.get("vevent", []))


def all_slots(api: str, **params: Any) -> list[dict[str, Any]]:
    """Every slot of /slots for these parameters, all pages."""
    found, cursor = [], None
    while True:
        extra: dict[str, str] = {"cursor": cursor} if cursor else {}
        body = requests.get(f"{api}/slots", params={**params, **extra}, timeout=60).json()
        found += body["slots"]
        if (cursor := body["next_cursor"]) is None:
            return found


def _uid(slot: dict[str, Any]) -> str:
    start = datetime.fromisoformat(slot["start_time"].replace("Z", "+00:00"))
    return f"{slot['season_id']}-{slot['race_week_num']}-{start:%Y%m%dT%H%M%SZ}@iracing-sync"


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


FILTERS: dict[str, dict[str, Any]] = {
    "three series, the key repeated": {"series_id": [47, 62, 229]},
    "three series, comma-joined": {"series_id": "47,62,229"},
    "series and a car": {"series_id": [47, 229], "car_id": 155},
    "series and a track": {"series_id": [47, 62, 229], "track_id": [191, 365]},
    "series, category and license": {"series_id": [47, 62, 229, 207], "category": "oval", "license": ["C", "B"]},
}


@pytest.mark.parametrize("name", FILTERS)
def test_plan_feed_events_are_the_slots_of_the_same_window_and_filters(synced: None, api: str, name: str) -> None:
    # Given a plan's series and filters, and what /slots serves for them over the window
    params = {**FILTERS[name], **WINDOW}
    slots = all_slots(api, **params)
    assert slots, "the filters should pick some races"
    # When the plan feed is read by an independent parser
    found = events(feed(api, **params))
    # Then it holds one event per slot, in order: the slot's UID, start and end (UTC)
    assert [e.uid.value for e in found] == [_uid(s) for s in slots]
    assert [(e.dtstart.value, e.dtend.value) for e in found] == [
        (_instant(s["start_time"]), _instant(s["end_time"])) for s in slots
    ]
    assert all(e.dtstart.value.utcoffset() == timedelta(0) for e in found)


def test_plan_feed_events_name_track_cars_and_race_length(synced: None, api: str) -> None:
    params = {"series_id": [47, 62], **WINDOW}
    slots = {_uid(s): s for s in all_slots(api, **params)}
    calendar = feed(api, **params)
    names = "NASCAR iRacing Class C Series, NASCAR iRacing Class B Series"  # by series ID: 47, 62
    assert calendar.contents["x-wr-calname"][0].value == f"iRacing plan — {names}"
    for event in events(calendar):
        slot = slots[event.uid.value]
        lines = event.description.value.split("\n")
        track = f"{slot['track_name']} ({slot['config_name']})" if slot["config_name"] else slot["track_name"]
        assert lines[0] == f"Track: {track}" and event.location.value == track
        assert lines[1] == "Cars: " + ", ".join(c["car_name"] for c in slot["cars"])
        assert lines[2].startswith("Race length: ") and (
            f"{slot['race_laps']} laps" in lines[2] or f"{slot['race_minutes']} min" in lines[2]
        )
        assert event.summary.value.startswith(slot["series_name"])


def test_plan_feed_alarm_reminds_before_every_race(synced: None, api: str) -> None:
    found = events(feed(api, series_id=47, alarm=30, **WINDOW))
    assert found and all(e.valarm.action.value == "DISPLAY" for e in found)
    assert {e.valarm.trigger.value for e in found} == {-timedelta(minutes=30)}
    assert all("valarm" not in e.contents for e in events(feed(api, series_id=47, **WINDOW)))


def test_plan_feed_uids_are_the_series_feeds(synced: None, api: str) -> None:
    # The same race is the same event in every feed it is in (a subscriber keeps it when switching feeds)
    plan = [e.uid.value for e in events(feed(api, series_id=[47, 62], **WINDOW))]
    response = requests.get(f"{api}/series/47/calendar.ics", params=WINDOW, timeout=60)
    series = [e.uid.value for e in events(vobject.readOne(response.text))]
    assert series and set(series) <= set(plan)


def test_plan_feed_default_window_is_today_plus_28_days(synced: None, api: str) -> None:
    days = {datetime.now(UTC).date()}
    calendar = feed(api, series_id=47)
    days.add(datetime.now(UTC).date())
    description = calendar.contents["x-wr-caldesc"][0].value
    lo = datetime.strptime(description.split(" from ")[1].split(" to ")[0], "%Y-%m-%d %H:%M")
    hi = datetime.strptime(description.split(" to ")[1].removesuffix(" UTC"), "%Y-%m-%d %H:%M")
    assert lo.date() in days and lo.time() == datetime.min.time() and hi - lo == timedelta(days=28)
    response = requests.get(f"{api}/calendar.ics", params={"series_id": 47}, timeout=60)
    assert response.headers["Cache-Control"] == "public, max-age=900"


def test_plan_feed_follows_a_series_into_its_next_season(synced: None, api: str) -> None:
    # Given a season of series 47 starting after its current one (stored, as the next quarter's sync would)
    from iracing_sync.schedule import ScheduleProcessor
    from iracing_sync.store import catalog, schema, season_writes

    start = date(2031, 1, 7)
    week = {
        "season_id": 990_101,
        "series_id": 47,
        "race_week_num": 0,
        "start_date": start.isoformat(),
        "track": {"track_id": 191, "track_name": "Daytona International Speedway"},
        "race_time_descriptors": [
            {
                "repeating": True,
                "session_minutes": 40,
                "start_date": start.isoformat(),
                "day_offset": [0, 1],
                "first_session_time": "18:00:00",
                "repeat_minutes": 240,
            }
        ],
    }
    season = Season.model_validate({"season_id": 990_101, "series_id": 47, "schedules": [week]})
    season_writes.put_season(ScheduleProcessor(catalog.car_catalog()).process(season))
    try:
        # When the series' plan feed covers that time
        found = events(feed(api, series_id=[47, 62], **{"from": "2031-01-01", "to": "2031-01-20"}))
        # Then it holds the next season's races (without being asked for that season)
        assert [e.uid.value for e in found] == [
            f"990101-0-{d}T{h}0000Z@iracing-sync" for d in ("20310107", "20310108") for h in ("18", "22")
        ]
    finally:
        from iracing_sync.store.schema import Item

        for item in Item.query(schema.season_key(990_101)):
            item.delete()


def test_an_empty_plan_feed_still_holds_a_component(synced: None, api: str) -> None:
    # Given a stored series with no race in the window
    response = requests.get(f"{api}/calendar.ics", params={"series_id": "47", "from": "2031-06-01"}, timeout=60)
    assert response.status_code == 200, response.text
    calendar = vobject.readOne(response.text)
    # Then the feed holds no event but its UTC time zone (RFC 5545: a calendar holds at least one component)
    assert events(calendar) == []
    assert [z.tzid.value for z in calendar.contents["vtimezone"]] == ["UTC"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),  # series_id is what a plan is of
        ({"series_id": "abc"}, 400),
        ({"series_id": 47, "alarm": 1441}, 400),
        ({"series_id": 47, "alarm": -1}, 400),
        ({"series_id": 47, "category": "karting"}, 400),
        ({"series_id": 47, "from": "2025-13-01"}, 400),
        ({"series_id": 47, "limit": 5}, 400),
        ({"series_id": [47, 999999]}, 404),
        ({"series_id": 47, "car_id": 999999}, 404),
        ({"series_id": 47, "from": "2025-09-10", "to": "2025-09-09"}, 422),
        ({"series_id": 47, "from": "2025-09-01", "to": "2025-12-01"}, 422),
    ],
)
def test_plan_feed_bad_input_is_a_clear_4xx(synced: None, api: str, params: dict[str, Any], status: int) -> None:
    response = requests.get(f"{api}/calendar.ics", params=params, timeout=60)
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) == {"code", "message"}
