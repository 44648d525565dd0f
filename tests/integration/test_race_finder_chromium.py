"""The planner page's Races view (GET /, ``#races``) in a real browser: Debian's Chromium driven by chromedriver.

The 2025-09-09 snapshot is synced by the real state machines and the API function is served on 127.0.0.1; the
page's own script asks that server for everything it shows. What it lists is checked against what /slots answers
for the same window, filters and ownership, its local times against Python's zoneinfo for the zone chromedriver's
TZ gives the browser (New York; Santiago, whose clocks go forward inside the window checked), and its subscribe
link against the feed it points at. The other views are tested in test_planner_views_chromium.py, the phone
layout, keyboard use and accessibility in test_planner_access_chromium.py.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
import requests

from tests.conftest import load_sample
from tests.support.planner_page import (
    answer_ids,
    chromium,
    fragment,
    open_page,
    race_rows,
    settled,
    slot_ids,
    slots_answer,
    tick,
)

pytestmark = pytest.mark.integration

FROM = "2025-09-09T11:54:00Z"  # the race guide's block of the snapshot
TO = "2025-09-10T11:54:00Z"  # the page's default window: 24 hours
NEW_YORK = "America/New_York"
WINDOW = [("from", FROM), ("to", TO)]


def races(driver: Any, base: str, query: str, expected: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Races view at ``#races?query``, once it shows the answer to a /slots query holding ``expected``."""
    return open_page(driver, f"{base}/#races?{query}", "races", expected)


# --- the page and its parameters (plain HTTP) ----------------------------------------------------------------


def test_finder_page_is_static_html_cached_like_the_docs(snapshot_api: str) -> None:
    # When the page is asked for, with and without its parameters
    plain = requests.get(f"{snapshot_api}/", timeout=30)
    shared = requests.get(f"{snapshot_api}/", params={"from": FROM, "hours": "48", "series_id": "47"}, timeout=30)
    # Then it is one static HTML page: the same bytes and ETag for any view, cached for an hour, revalidated by ETag
    assert plain.status_code == 200 and plain.headers["Content-Type"].startswith("text/html")
    assert plain.headers["Cache-Control"] == "public, max-age=3600"
    assert shared.content == plain.content and shared.headers["ETag"] == plain.headers["ETag"]
    again = requests.get(f"{snapshot_api}/", headers={"If-None-Match": plain.headers["ETag"]}, timeout=30)
    assert again.status_code == 304
    # And it puts no API string into the page as markup
    page = plain.text
    assert not any(sink in page for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"frm": FROM}, "unknown query parameter 'frm'"),
        ({"from": "yesterday"}, "from: 'yesterday' is not an ISO 8601 date/time"),
        ({"hours": "0"}, "hours: '0' is not a whole number of hours from 1 to 168"),
        ({"hours": "169"}, "hours: '169' is not a whole number"),
        ({"hours": "1.5"}, "hours: '1.5' is not a whole number"),
    ],
)
def test_finder_page_refuses_what_it_does_not_take(snapshot_api: str, query: dict[str, str], message: str) -> None:
    response = requests.get(f"{snapshot_api}/", params=query, timeout=30)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


# --- in the browser -----------------------------------------------------------------------------------------


def test_finder_lists_exactly_what_slots_answers_for_its_window(snapshot_api: str, browser: Any) -> None:
    # When the page opens by its old query parameters at the race guide's block (default window: 24 hours)
    status = open_page(browser, f"{snapshot_api}/?from={FROM}", "races", {"from": FROM, "to": TO})
    # Then it lists the slots /slots answers for that window, in its order, and says how many
    expected = answer_ids(slots_answer(snapshot_api, WINDOW))
    assert len(expected) > 500
    assert slot_ids(race_rows(browser)) == expected
    assert status["count"] == str(len(expected))
    # And the view moved into the URL's fragment, where the server and its cache never see it
    parts = urlsplit(browser.current_url)
    assert parts.query == "" and fragment(browser.current_url) == ("races", [("from", FROM)])


@pytest.mark.parametrize(("key", "value"), [("series_id", "47"), ("category", "oval"), ("license", "C")])
def test_finder_filter_narrows_the_list_to_what_slots_answers(
    snapshot_api: str, browser: Any, key: str, value: str
) -> None:
    # Given the page at the snapshot's block
    races(browser, snapshot_api, f"from={FROM}", {"from": FROM})
    everything = len(race_rows(browser))
    # When a filter's checkbox is ticked (no Ctrl-click: a tap)
    tick(browser, f"#f-{key} input[value='{value}']")
    settled(browser, "races", {key: value})
    # Then the list is exactly what /slots answers with that filter: fewer races, but some
    expected = answer_ids(slots_answer(snapshot_api, [*WINDOW, (key, value)]))
    assert 0 < len(expected) < everything
    assert slot_ids(race_rows(browser)) == expected
    # And the view is a shareable URL: opened afresh, it shows the same
    url = browser.current_url
    assert (key, value) in fragment(url)[1]
    open_page(browser, url, "races", {key: value})
    assert slot_ids(race_rows(browser)) == expected


def test_finder_several_values_of_a_filter_mean_any_of_them(snapshot_api: str, browser: Any) -> None:
    both = [*WINDOW, ("series_id", "47"), ("series_id", "62")]
    # Given the page at the snapshot's block, when two series are ticked
    races(browser, snapshot_api, f"from={FROM}", {"from": FROM})
    tick(browser, "#f-series_id input[value='47']")
    settled(browser, "races", {"series_id": "47"})
    tick(browser, "#f-series_id input[value='62']")
    # Then it asks /slots with the key repeated, and the view's URL holds both
    status = settled(browser, "races", {"series_id": "62"})
    assert ("series_id", "47") in parse_qsl(status["query"])
    assert sorted(parse_qsl(status["query"])) == sorted(both)
    chosen = next(v for k, v in fragment(browser.current_url)[1] if k == "series_id")
    assert sorted(chosen.split(",")) == ["47", "62"]
    # And it shows what /slots answers for both keys: the races of either series
    expected = answer_ids(slots_answer(snapshot_api, both))
    assert len(expected) > len(slots_answer(snapshot_api, both[:3])) > 0
    assert slot_ids(race_rows(browser)) == expected


def test_finder_shows_local_times_of_the_browsers_zone(snapshot_api: str, browser: Any) -> None:
    # When the page opens in a browser whose zone is New York
    races(browser, snapshot_api, f"from={FROM}", {"from": FROM})
    rows = race_rows(browser)
    # Then every race's local time is its UTC start in New York (EDT in September), and the first one says so
    zone = ZoneInfo(NEW_YORK)
    assert [r["local"] for r in rows] == [local_iso(r["start"], zone) for r in rows]
    first = datetime.fromisoformat(rows[0]["start"]).astimezone(zone)
    assert rows[0]["text"] == first.strftime("%H:%M EDT")
    assert browser.find_element("id", "zone").text == NEW_YORK


def test_finder_local_times_follow_a_dst_change_inside_the_window(snapshot_api: str) -> None:
    # Given a browser in Santiago, whose clocks went forward at 2025-09-07T04:00Z (-04:00 -> -03:00)
    santiago = ZoneInfo("America/Santiago")
    with chromium("America/Santiago") as driver:
        # When the page shows the 24 hours around that change
        races(driver, snapshot_api, "from=2025-09-06T16:00:00Z", {"from": "2025-09-06T16:00:00Z"})
        rows = race_rows(driver)
        days = driver.execute_script("return [...document.querySelectorAll('#races th.day')].map(h => h.textContent)")
    # Then each race's local time carries the offset of its own date, both sides of the change
    assert [r["local"] for r in rows] == [local_iso(r["start"], santiago) for r in rows]
    assert {r["local"][-6:] for r in rows} == {"-04:00", "-03:00"}
    # And races are grouped under the local days they start on
    local_days = sorted({datetime.fromisoformat(r["start"]).astimezone(santiago).date() for r in rows})
    assert days == [f"{d:%A}, {d:%B} {d.day}, {d:%Y}" for d in local_days]


def local_iso(start: str, zone: ZoneInfo) -> str:
    """``start`` in ``zone`` as the page writes it: YYYY-MM-DDTHH:MM±HH:MM."""
    local = datetime.fromisoformat(start).astimezone(zone)
    offset = local.utcoffset() or timedelta(0)
    sign, minutes = ("-" if offset < timedelta(0) else "+"), abs(int(offset.total_seconds())) // 60
    return f"{local:%Y-%m-%dT%H:%M}{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def test_finder_subscribe_link_is_a_webcal_feed_of_the_chosen_series(snapshot_api: str, browser: Any) -> None:
    # When a series is chosen on a page started at the snapshot's block
    races(browser, snapshot_api, f"from={FROM}&series_id=47", {"series_id": "47"})
    link = browser.find_element("id", "subscribe").get_attribute("href")
    # Then the subscribe link is the plan feed of that series from that start, as webcal:// on this host
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("webcal", urlsplit(snapshot_api).netloc, "/calendar.ics")
    assert parse_qsl(parts.query) == [("from", FROM), ("series_id", "47")]
    feed_url = "http:" + link.removeprefix("webcal:")
    assert browser.find_element("id", "feed").get_attribute("href") == feed_url
    # And over http it serves a calendar that parses, holding that series' races of the feed's 28 days
    assert feed_starts(feed_url) == sorted(start for _, _, start in feed_slots(snapshot_api, [("series_id", "47")]))


def feed_starts(url: str) -> list[str]:
    """The start of every event of the calendar feed at ``url`` (UTC, sorted)."""
    response = requests.get(url, timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    return sorted(e.decoded("DTSTART").strftime("%Y-%m-%dT%H:%M:%SZ") for e in events)


def feed_slots(base: str, params: list[tuple[str, str]]) -> list[tuple[int, int, str]]:
    """The slots /slots answers for ``params`` over a feed's default 28 days from FROM, and at least one."""
    feed_end = (datetime.fromisoformat(FROM) + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")
    found = answer_ids(slots_answer(base, [("from", FROM), ("to", feed_end), *params]))
    assert found
    return found


def test_finder_shows_api_strings_as_text_never_as_markup(snapshot_api: str, browser: Any) -> None:
    from iracing_sync.store import catalog

    # Given a stored series whose name is markup (as if iRacing sent it)
    original = catalog.list_series()
    hostile = '<img src=x id="injected" onerror="document.title=\'pwned\'">NASCAR'
    catalog.put_series([s.model_copy(update={"series_name": hostile}) if s.series_id == 47 else s for s in original])
    try:
        # When the page lists its series to choose from
        races(browser, snapshot_api, f"from={FROM}", {"from": FROM})
        labels = browser.execute_script(
            "return [...document.querySelectorAll('#f-series_id label')].map(l => l.textContent)"
        )
        # Then the name is shown as the text it is, and no element or script came of it
        assert hostile in labels
        assert browser.find_elements("id", "injected") == []
        assert "pwned" not in browser.title
    finally:
        assert catalog.put_series(original).written == 1  # the series are as snapshot_api again


def test_finder_marks_super_sessions(snapshot_api: str, browser: Any) -> None:
    from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body
    from iracing_sync.store import catalog, schema, season_writes

    # Given a week whose races are super sessions (the snapshot has none: one season's raw body is made so, and
    # stored the way the sync stores it)
    raw = next(s for s in load_sample("series_seasons.json") if s["season_id"] == 5377)
    hot = copy.deepcopy(raw)
    for week in hot["schedules"]:
        for descriptor in week["race_time_descriptors"] if week["race_week_num"] == 30 else []:
            descriptor["super_session"] = True

    def put(body: dict[str, Any]) -> schema.WriteCounts:
        return season_writes.put_season(
            ScheduleProcessor(catalog.cached_car_catalog()).process(parse_schedule_body(body)[0])
        )

    assert put(hot).written == 1
    try:
        # When the page lists that season's races
        races(browser, snapshot_api, f"from={FROM}&series_id=62", {"series_id": "62"})
        rows = race_rows(browser)
        # Then exactly the races /slots calls super sessions are marked, in words
        answer = slots_answer(snapshot_api, [*WINDOW, ("series_id", "62")])
        supers = set(answer_ids([s for s in answer if s["super_session"]]))
        assert supers
        marked = {row for row, r in zip(slot_ids(rows), rows, strict=True) if r["super"] == "super"}
        assert marked == supers
        assert all("Super session" in r["series"] for r in rows if r["super"] == "super")
    finally:
        assert put(raw).written == 1  # the season is as snapshot_api again


def test_finder_shows_the_race_guides_session_ids_and_entries(
    snapshot_api: str, browser: Any, module_step_functions: Any
) -> None:
    # Given that day's race guide reconciled (its sessions stored with their IDs and entry counts)
    assert module_step_functions.run("sync_race_guide", progress=False)["matched"] == 133
    guide = {
        (s["season_id"], s["race_week_num"], s["start_time"]): s
        for s in load_sample("season_race_guide_2025-09-09.json")["sessions"]
    }
    # When the page lists the guide's block
    races(browser, snapshot_api, f"from={FROM}&hours=3")
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#races tbody tr[data-start-time]')].map(r => ({"
        "season: r.dataset.seasonId, week: r.dataset.raceWeekNum, start: r.dataset.startTime,"
        "session: r.querySelector('.col-session').textContent}))"
    )
    # Then every race of the guide shows what iRacing published for it, in words
    assert {(int(r["season"]), int(r["week"]), r["start"]) for r in rows} == set(guide)
    for row in rows:
        session = guide[(int(row["season"]), int(row["week"]), row["start"])]
        count = session["entry_count"]
        words = [f"Session {session['session_id']}"] if "session_id" in session else []
        words.append(f"{count} {'entry' if count == 1 else 'entries'}")
        assert row["session"] == " · ".join(words), row


# --- planning: what I can enter, my series, rain -------------------------------------------------------------

# A plan in the page's link: two series, and content as ID ranges (the Mazda MX-5 Cup 67; Laguna Seca's configs).
MY_SERIES = ("47", "62")


def plan_query(cars: str, tracks: str) -> str:
    return f"my={','.join(MY_SERIES)}&cars={cars}&tracks={tracks}"


def test_finder_only_races_i_can_enter_is_what_slots_answers_for_my_content(snapshot_api: str, browser: Any) -> None:
    # Given a plan owning a few cars and tracks (as ID ranges in the link)
    cars, tracks = "67,114-116", "365,191-193"
    owned = [("owned_car_id", "67,114,115,116"), ("owned_track_id", "191,192,193,365")]
    # When the page shows only the races that content can enter
    status = races(
        browser, snapshot_api, f"from={FROM}&enter=1&{plan_query(cars, tracks)}", {"owned_car_id": owned[0][1]}
    )
    # Then it is what /slots answers with those ownership parameters: some races, fewer than all
    expected = answer_ids(slots_answer(snapshot_api, [*WINDOW, *owned]))
    assert 0 < len(expected) < len(slots_answer(snapshot_api, WINDOW))
    assert slot_ids(race_rows(browser)) == expected
    assert dict(parse_qsl(status["query"]))["owned_track_id"] == owned[1][1]
    # And with nothing owned it asks for the races free content alone can enter
    races(browser, snapshot_api, f"from={FROM}&enter=1&my=47", {"content": "free"})
    assert slot_ids(race_rows(browser)) == answer_ids(slots_answer(snapshot_api, [*WINDOW, ("content", "free")]))


def test_finder_puts_my_series_first_or_alone(snapshot_api: str, browser: Any) -> None:
    mine = {int(s) for s in MY_SERIES}
    everything = slots_answer(snapshot_api, WINDOW)
    # When my series come first
    races(browser, snapshot_api, f"from={FROM}&mine=first&my=47,62", {"from": FROM})
    groups = browser.execute_script("return [...document.querySelectorAll('#races th.group')].map(h => h.textContent)")
    # Then the window's races of my series come first and then the others, each in the API's order
    ours = [s for s in everything if s["series_id"] in mine]
    assert ours and slot_ids(race_rows(browser)) == answer_ids(ours) + answer_ids(
        [s for s in everything if s["series_id"] not in mine]
    )
    assert [g.split(" (")[0] for g in groups] == ["My series", "Other series"]
    # And alone, the page asks /slots for my series only
    status = races(browser, snapshot_api, f"from={FROM}&mine=only&my=47,62", {"series_id": "62"})
    assert sorted(v for k, v in parse_qsl(status["query"]) if k == "series_id") == ["47", "62"]
    assert slot_ids(race_rows(browser)) == answer_ids(slots_answer(snapshot_api, [*WINDOW, ("series_id", "47,62")]))


def test_finder_shows_each_races_chance_of_rain(snapshot_api: str, browser: Any) -> None:
    # When the page lists a day of races
    races(browser, snapshot_api, f"from={FROM}", {"from": FROM})
    # Then each shows its chance of rain as /slots gives it (a percentage, or a dash where unknown)
    answer = slots_answer(snapshot_api, WINDOW)
    shown = [r["rain"] for r in race_rows(browser)]
    assert shown == [f"{s['rain_chance']}%" if s["rain_chance"] is not None else "—" for s in answer]
