"""The race finder page (GET /) in a real browser: Debian's Chromium driven by chromedriver (Selenium).

The 2025-09-09 snapshot is synced by the real state machines and the API function is served on 127.0.0.1; the
page's own script asks that server for everything it shows. What it lists is checked against what /slots answers
for the same window and filters, its local times against Python's zoneinfo for the zone chromedriver's TZ gives
the browser (New York; Santiago, whose clocks go forward inside the window checked), and its subscribe link
against the feed it points at. Skipped, with the reason, where Chromium or chromedriver is not installed, which
fails a CI run (CI installs Debian's chromium and chromium-driver).

RACE_FINDER_SCREENSHOT=docs/race-finder.png also writes the screenshot docs/api.md shows of the page over the demo data.
"""

from __future__ import annotations

import copy
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
import requests

from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.integration.conftest import sync_snapshot
from tests.support.chromium import CHROMEDRIVER, CHROMIUM, QUIET_FLAGS

pytestmark = pytest.mark.integration

FROM = "2025-09-09T11:54:00Z"  # the race guide's block of the snapshot
TO = "2025-09-10T11:54:00Z"  # the page's default window: 24 hours
NEW_YORK = "America/New_York"
WAIT_SECONDS = 60
SCREENSHOT_SIZE = (1280, 900)

Row = tuple[int, int, str]  # season_id, race_week_num, start_time: a slot's identity


@pytest.fixture(scope="module")
def synced(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> str:
    """Given the 2025-09-09 snapshot synced by the real state machines, served by the API function."""
    sync_snapshot(module_step_functions, module_fake_iracing)
    return api


@contextmanager
def chromium(tz: str) -> Iterator[Any]:
    """Headless Chromium with a fresh profile, its clock in zone ``tz`` (the TZ of chromedriver, which it inherits)."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip("Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="race-finder-profile-") as profile:
        for argument in (
            "--headless=new",
            *QUIET_FLAGS,
            "--lang=en-US",
            f"--window-size={SCREENSHOT_SIZE[0]},{SCREENSHOT_SIZE[1]}",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(argument)
        service = Service(CHROMEDRIVER, env={**os.environ, "TZ": tz})
        driver = webdriver.Chrome(service=service, options=options)
        try:
            yield driver
        finally:
            driver.quit()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium in New York's zone for the module's tests."""
    with chromium(NEW_YORK) as driver:
        yield driver


def settled(driver: Any, expected: Mapping[str, str] | None = None, *, ready: bool = True) -> dict[str, str]:
    """The page's status once it has shown the races of a /slots query holding ``expected`` (or failed).

    With ``ready`` (the default) a failure to load fails the test with the page's message.
    """
    from selenium.webdriver.support.ui import WebDriverWait

    def done(d: Any) -> dict[str, str] | Literal[False]:
        status = d.find_element("id", "status")
        state, query = status.get_attribute("data-state"), status.get_attribute("data-query") or ""
        if state == "loading" or not (expected or {}).items() <= dict(parse_qsl(query)).items():
            return False
        return {"state": state, "query": query, "text": status.text, "count": status.get_attribute("data-count")}

    result: dict[str, str] = WebDriverWait(driver, WAIT_SECONDS).until(done)
    assert result["state"] == "ready" or not ready, result["text"]
    return result


def open_page(driver: Any, base: str, query: str, **expected: str) -> dict[str, str]:
    # The browser keeps the API's answers for their max-age: a test that changed the store must not see old ones.
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get(f"{base}/?{query}")
    return settled(driver, expected)


def shown(driver: Any) -> list[dict[str, str]]:
    """Every race row of the page: its slot identity and the local time it shows (read in one script call)."""
    rows: list[dict[str, str]] = driver.execute_script(
        "return [...document.querySelectorAll('#races tbody tr[data-start-time]')].map(r => ({"
        "season: r.dataset.seasonId, week: r.dataset.raceWeekNum, start: r.dataset.startTime,"
        "local: r.dataset.local, text: r.cells[0].textContent, super: r.className,"
        "series: r.cells[2].textContent}))"
    )
    return rows


def identities(rows: list[dict[str, str]]) -> list[Row]:
    return [(int(r["season"]), int(r["week"]), r["start"]) for r in rows]


def slots_answer(base: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """What /slots answers for ``params``, every page (following next_cursor)."""
    slots: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        response = requests.get(
            f"{base}/slots", params=[*params, *([("cursor", cursor)] if cursor else [])], timeout=60
        )
        assert response.status_code == 200, response.text
        body = response.json()
        slots += body["slots"]
        cursor = body["next_cursor"]
        if cursor is None:
            return slots


def slot_rows(base: str, params: list[tuple[str, str]]) -> list[Row]:
    return [(s["season_id"], s["race_week_num"], s["start_time"]) for s in slots_answer(base, params)]


def choose(driver: Any, select_id: str, *values: str) -> None:
    """Pick options of one of the page's filters, as a person would (each pick is a change event)."""
    from selenium.webdriver.support.ui import Select

    select = Select(driver.find_element("id", select_id))
    for value in values:
        select.select_by_value(value)


# --- the page and its parameters (plain HTTP) ----------------------------------------------------------------


def test_finder_page_is_static_html_cached_like_the_docs(synced: str) -> None:
    # When the page is asked for, with and without its parameters
    plain = requests.get(f"{synced}/", timeout=30)
    shared = requests.get(f"{synced}/", params={"from": FROM, "hours": "48", "series_id": "47"}, timeout=30)
    # Then it is one static HTML page: the same bytes and ETag for any view, cached for an hour, revalidated by ETag
    assert plain.status_code == 200 and plain.headers["Content-Type"].startswith("text/html")
    assert plain.headers["Cache-Control"] == "public, max-age=3600"
    assert shared.content == plain.content and shared.headers["ETag"] == plain.headers["ETag"]
    again = requests.get(f"{synced}/", headers={"If-None-Match": plain.headers["ETag"]}, timeout=30)
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
def test_finder_page_refuses_what_it_does_not_take(synced: str, query: dict[str, str], message: str) -> None:
    response = requests.get(f"{synced}/", params=query, timeout=30)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)


# --- in the browser -----------------------------------------------------------------------------------------


def test_finder_lists_exactly_what_slots_answers_for_its_window(synced: str, browser: Any) -> None:
    # When the page opens at the race guide's block (default window: 24 hours)
    status = open_page(browser, synced, f"from={FROM}", **{"from": FROM, "to": TO})
    # Then it lists the slots /slots answers for that window, in its order, and says how many
    expected = slot_rows(synced, [("from", FROM), ("to", TO)])
    assert len(expected) > 500
    assert identities(shown(browser)) == expected
    assert status["count"] == str(len(expected))


@pytest.mark.parametrize(("select_id", "value"), [("series_id", "47"), ("category", "oval"), ("license", "C")])
def test_finder_filter_narrows_the_list_to_what_slots_answers(
    synced: str, browser: Any, select_id: str, value: str
) -> None:
    # Given the page at the snapshot's block
    open_page(browser, synced, f"from={FROM}", **{"from": FROM})
    everything = len(shown(browser))
    # When a filter is picked
    choose(browser, select_id, value)
    settled(browser, {select_id: value})
    # Then the list is exactly what /slots answers with that filter: fewer races, but some
    expected = slot_rows(synced, [("from", FROM), ("to", TO), (select_id, value)])
    assert 0 < len(expected) < everything
    assert identities(shown(browser)) == expected
    # And the view is a shareable URL: opened afresh, it shows the same
    url = browser.current_url
    assert (select_id, value) in parse_qsl(urlsplit(url).query)
    browser.get(url)
    settled(browser, {select_id: value})
    assert identities(shown(browser)) == expected


def test_finder_several_values_of_a_filter_mean_any_of_them(synced: str, browser: Any) -> None:
    both = [("from", FROM), ("to", TO), ("series_id", "47"), ("series_id", "62")]
    # Given the page at the snapshot's block, when two series are picked
    open_page(browser, synced, f"from={FROM}", **{"from": FROM})
    choose(browser, "series_id", "47", "62")
    # Then it asks /slots with the key repeated, and the view's URL holds both
    status = settled(browser, ready=False)
    assert sorted(parse_qsl(status["query"])) == sorted(both)
    chosen = [v for k, v in parse_qsl(urlsplit(browser.current_url).query) if k == "series_id"]
    assert sorted(chosen) == ["47", "62"]
    probe = requests.get(f"{synced}/slots", params=both, timeout=30)
    assert probe.status_code == 200, probe.text[:200]
    # And it shows what /slots answers for both keys: the races of either series
    expected = slot_rows(synced, both)
    assert len(expected) > len(slot_rows(synced, both[:3])) > 0
    assert status["state"] == "ready" and identities(shown(browser)) == expected


def test_finder_shows_local_times_of_the_browsers_zone(synced: str, browser: Any) -> None:
    # When the page opens in a browser whose zone is New York
    open_page(browser, synced, f"from={FROM}", **{"from": FROM})
    rows = shown(browser)
    # Then every race's local time is its UTC start in New York (EDT in September), and the first one says so
    zone = ZoneInfo(NEW_YORK)
    assert [r["local"] for r in rows] == [local_iso(r["start"], zone) for r in rows]
    first = datetime.fromisoformat(rows[0]["start"]).astimezone(zone)
    assert rows[0]["text"] == first.strftime("%H:%M EDT")
    assert browser.find_element("id", "zone").text == NEW_YORK


def test_finder_local_times_follow_a_dst_change_inside_the_window(synced: str) -> None:
    # Given a browser in Santiago, whose clocks went forward at 2025-09-07T04:00Z (-04:00 -> -03:00)
    santiago = ZoneInfo("America/Santiago")
    with chromium("America/Santiago") as driver:
        # When the page shows the 24 hours around that change
        open_page(driver, synced, "from=2025-09-06T16:00:00Z", **{"from": "2025-09-06T16:00:00Z"})
        rows = shown(driver)
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


def test_finder_subscribe_link_is_a_webcal_feed_of_the_chosen_series(synced: str, browser: Any) -> None:
    # When a series is chosen on a page started at the snapshot's block
    open_page(browser, synced, f"from={FROM}&series_id=47", series_id="47")
    link = browser.find_element("id", "subscribe").get_attribute("href")
    # Then the subscribe link is the plan feed of that series from that start, as webcal:// on this host
    parts = urlsplit(link)
    assert (parts.scheme, parts.netloc, parts.path) == ("webcal", urlsplit(synced).netloc, "/calendar.ics")
    assert parse_qsl(parts.query) == [("from", FROM), ("series_id", "47")]
    feed_url = "http:" + link.removeprefix("webcal:")
    assert browser.find_element("id", "feed").get_attribute("href") == feed_url
    # And over http it serves a calendar that parses, holding that series' races of the feed's 28 days
    response = requests.get(feed_url, timeout=60)
    if response.status_code == 404:  # the gateway's own 404: no such route declared
        # The plan feed (GET /calendar.ics) lands with another change; until then the series feed stands in.
        response = requests.get(f"{synced}/series/47/calendar.ics", params={"from": FROM}, timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
    starts = sorted(e.decoded("DTSTART").strftime("%Y-%m-%dT%H:%M:%SZ") for e in events)
    feed_end = (datetime.fromisoformat(FROM) + timedelta(days=28)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = slot_rows(synced, [("from", FROM), ("to", feed_end), ("series_id", "47")])
    assert starts and starts == sorted(start for _, _, start in expected)


def test_finder_shows_api_strings_as_text_never_as_markup(synced: str, browser: Any) -> None:
    from iracing_sync.store import catalog

    # Given a stored series whose name is markup (as if iRacing sent it)
    original = catalog.list_series()
    hostile = '<img src=x id="injected" onerror="document.title=\'pwned\'">NASCAR'
    catalog.put_series([s.model_copy(update={"series_name": hostile}) if s.series_id == 47 else s for s in original])
    try:
        # When the page lists its series to choose from
        open_page(browser, synced, f"from={FROM}", **{"from": FROM})
        options = browser.execute_script("return [...document.querySelectorAll('#series_id option')].map(o => o.text)")
        # Then the name is shown as the text it is, and no element or script came of it
        assert hostile in options
        assert browser.find_elements("id", "injected") == []
        assert browser.title != "pwned"
    finally:
        assert catalog.put_series(original).written == 1  # the series are as synced again


def test_finder_marks_super_sessions(synced: str, browser: Any) -> None:
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
        open_page(browser, synced, f"from={FROM}&series_id=62", series_id="62")
        rows = shown(browser)
        # Then exactly the races /slots calls super sessions are marked, in words
        supers = {
            (s["season_id"], s["race_week_num"], s["start_time"])
            for s in slots_answer(synced, [("from", FROM), ("to", TO), ("series_id", "62")])
            if s["super_session"]
        }
        assert supers
        marked = {row for row, r in zip(identities(rows), rows, strict=True) if r["super"] == "super"}
        assert marked == supers
        assert all("Super session" in r["series"] for r in rows if r["super"] == "super")
    finally:
        assert put(raw).written == 1  # the season is as synced again


def test_finder_shows_the_race_guides_session_ids_and_entries(
    synced: str, browser: Any, module_step_functions: Any
) -> None:
    # Given that day's race guide reconciled (its sessions stored with their IDs and entry counts)
    assert module_step_functions.run("sync_race_guide", progress=False)["matched"] == 133
    guide = {
        (s["season_id"], s["race_week_num"], s["start_time"]): s
        for s in load_sample("season_race_guide_2025-09-09.json")["sessions"]
    }
    # When the page lists the guide's block
    open_page(browser, synced, f"from={FROM}&hours=3")
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


def test_finder_screenshot_over_the_demo_data(synced: str, browser: Any, tmp_path: Path) -> None:
    # When the page shows one series' races of three days from the snapshot's block (the picture in docs/api.md)
    open_page(browser, synced, f"from={FROM}&hours=72&series_id=47", series_id="47")
    target = Path(os.environ.get("RACE_FINDER_SCREENSHOT") or tmp_path / "race-finder.png")
    target.parent.mkdir(parents=True, exist_ok=True)
    width, height = SCREENSHOT_SIZE  # the viewport itself (a window's size includes its frame)
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    # Then a PNG of that size is written
    assert browser.save_screenshot(str(target))
    data = target.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == SCREENSHOT_SIZE
