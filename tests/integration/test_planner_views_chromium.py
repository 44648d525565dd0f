"""The planner page's Season, My content and Shop views and its plan, in Debian's Chromium (chromedriver, Selenium).

Each view is checked against the API's answer for the same inputs, fetched here with requests: the season grid
against /seasons, the content lists against /cars and /tracks, the shop against /purchase-guide, the plan's feed
against /slots. Importing the bundled member/info sample must yield exactly its ownership; a reload keeps the
plan (localStorage) and its link restores it in a fresh profile.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.conftest import load_sample
from tests.support.planner_page import (
    answer_ids,
    api_json,
    chromium,
    fragment,
    open_page,
    race_rows,
    settled,
    slot_ids,
    slots_answer,
)

pytestmark = pytest.mark.integration

FROM = "2025-09-09T11:54:00Z"  # the snapshot's race-guide block
NEW_YORK = "America/New_York"
MEMBER_INFO = "member_info_ownership_redacted.json"
MY_SERIES = (47, 62)


def unpack(ranges: str) -> set[int]:
    """The IDs of the page's link form: "12,15-18"."""
    ids: set[int] = set()
    for token in filter(None, ranges.split(",")):
        first, _, last = token.partition("-")
        ids.update(range(int(first), int(last or first) + 1))
    return ids


def link_plan(url: str) -> dict[str, set[int]]:
    """The plan a page link carries: my series, owned car IDs, owned track IDs."""
    params = dict(fragment(url)[1])
    return {"series": unpack(params.get("my", "")), "cars": unpack(params.get("cars", "")),
            "tracks": unpack(params.get("tracks", ""))}  # fmt: skip


def stored_plan(driver: Any) -> dict[str, set[int]]:
    """The plan the page keeps in localStorage."""
    saved = json.loads(driver.execute_script("return localStorage.getItem('iracing-sync.plan')") or "{}")
    return {key: set(saved.get(key, [])) for key in ("series", "cars", "tracks")}


def sample_ownership() -> dict[str, set[int]]:
    body = load_sample(MEMBER_INFO)
    return {
        "cars": {i for p in body["car_packages"] for i in p["content_ids"]},
        "tracks": {i for p in body["track_packages"] for i in p["content_ids"]},
    }


def catalog_packages(base: str) -> dict[str, dict[str, dict[str, Any]]]:
    """/cars and /tracks grouped by package (key "p<package_id>", or "i<id>" for an item without one)."""
    grouped: dict[str, dict[str, dict[str, Any]]] = {}
    for kind, path, id_key in (("cars", "/cars", "car_id"), ("tracks", "/tracks", "track_id")):
        packages: dict[str, dict[str, Any]] = {}
        for item in api_json(base, path, [])[kind]:
            key = f"p{item['package_id']}" if item["package_id"] is not None else f"i{item[id_key]}"
            p = packages.setdefault(key, {"ids": set(), "free": False, "price_display": item["price_display"]})
            p["ids"].add(item[id_key])
            p["free"] = p["free"] or item["free_with_subscription"]
            p["price_display"] = p["price_display"] or item["price_display"]
        grouped[kind] = packages
    return grouped


def content_boxes(driver: Any) -> dict[str, dict[str, Any]]:
    """Every package checkbox of My content, by list and package key: checked, disabled, price text."""
    boxes: dict[str, dict[str, Any]] = driver.execute_script(
        "const read = id => Object.fromEntries([...document.querySelectorAll(`#${id} label`)]"
        ".map(l => [l.dataset.package,"
        " {checked: l.querySelector('input').checked, disabled: l.querySelector('input').disabled,"
        "  price: l.querySelector('.price').textContent, hidden: l.hidden}]));"
        "return {cars: read('car-packages'), tracks: read('track-packages')}"
    )
    return boxes


def import_member_info(driver: Any, body: str) -> str:
    """Paste ``body`` into the import box (as a paste would fill it) and press Import; the page's answer."""
    from selenium.webdriver.support.ui import WebDriverWait

    if not driver.execute_script("return document.getElementById('import-panel').open"):
        driver.find_element("css selector", "#import-panel summary").click()
    driver.execute_script(
        "const box = document.getElementById('import-json'); box.value = arguments[0];"
        "box.dispatchEvent(new Event('input', {bubbles: true}));"
        "document.getElementById('import-result').textContent = '';",
        body,
    )
    driver.find_element("id", "import").click()
    return str(WebDriverWait(driver, 30).until(lambda d: d.find_element("id", "import-result").text))


# --- My content ----------------------------------------------------------------------------------------------


def test_content_lists_every_package_with_free_ones_ticked_and_locked(snapshot_api: str, browser: Any) -> None:
    # When My content opens with nothing owned
    open_page(browser, f"{snapshot_api}/#content", "content")
    shown = content_boxes(browser)
    # Then it lists every car and track package of /cars and /tracks, once each
    catalog = catalog_packages(snapshot_api)
    for kind in ("cars", "tracks"):
        assert set(shown[kind]) == set(catalog[kind])
        for key, package in catalog[kind].items():
            box = shown[kind][key]
            # the free ones ticked and locked, the rest open to tick, each with iRacing's price
            assert (box["checked"], box["disabled"]) == (package["free"], package["free"]), key
            assert box["price"] == ("Free" if package["free"] else package["price_display"] or "not on sale"), key
    assert any(p["free"] for p in catalog["tracks"].values()) and not all(p["free"] for p in catalog["cars"].values())


def test_content_search_by_name_shows_only_what_matches(snapshot_api: str, browser: Any) -> None:
    open_page(browser, f"{snapshot_api}/#content", "content")
    # When a name is typed into the search box
    browser.find_element("id", "content-find").send_keys("mazda")
    # Then only the packages whose name holds it stay shown, and some do
    labels = browser.execute_script(
        "return [...document.querySelectorAll('.packages label')].map(l => [l.textContent.toLowerCase(), l.hidden])"
    )
    visible = [text for text, hidden in labels if not hidden]
    assert visible and all("mazda" in text for text in visible)
    assert len(visible) == sum("mazda" in text for text, _ in labels) < len(labels)


def test_content_import_of_member_info_yields_exactly_its_ownership(snapshot_api: str, browser: Any) -> None:
    # Given the bundled member/info sample (49 car packages, 66 track packages holding 239 track IDs)
    expected = sample_ownership()
    open_page(browser, f"{snapshot_api}/#content", "content")
    # When it is pasted and imported
    answer = import_member_info(browser, json.dumps(load_sample(MEMBER_INFO)))
    settled(browser, "content")
    # Then the plan owns exactly its car and track IDs: kept by the page, and in its link
    assert answer.startswith("Imported 49 car packages (63 cars) and 66 track packages (239 configurations)")
    assert {k: v for k, v in stored_plan(browser).items() if k != "series"} == expected
    assert {k: v for k, v in link_plan(browser.current_url).items() if k != "series"} == expected
    # And every package holding one of them is ticked (free ones too), no other
    catalog = catalog_packages(snapshot_api)
    shown = content_boxes(browser)
    for kind in ("cars", "tracks"):
        ticked = {key for key, p in catalog[kind].items() if p["free"] or p["ids"] & expected[kind]}
        assert {key for key, box in shown[kind].items() if box["checked"]} == ticked
    # And what the catalog does not list is kept, and said
    listed = {kind: set().union(*(p["ids"] for p in catalog[kind].values())) for kind in catalog}
    strays = {kind: expected[kind] - listed[kind] for kind in expected}
    assert strays["cars"] and strays["tracks"]
    note = browser.find_element("id", "content-extra").text
    assert all(str(i) in note for kind in strays for i in strays[kind])


def test_content_import_refuses_what_is_not_member_info(snapshot_api: str, browser: Any) -> None:
    open_page(browser, f"{snapshot_api}/#content", "content")
    before = stored_plan(browser)
    assert import_member_info(browser, "{not json").startswith("That is not JSON")
    assert import_member_info(browser, '{"cust_id": 1}').startswith("Could not import: it has no car_packages list")
    assert stored_plan(browser) == before  # nothing lost


def test_plan_survives_a_reload_and_its_link_restores_it_in_a_fresh_profile(snapshot_api: str, browser: Any) -> None:
    # Given a plan: the sample's content imported, two series marked as mine (through the link)
    open_page(browser, f"{snapshot_api}/#content?my={MY_SERIES[0]},{MY_SERIES[1]}", "content")
    import_member_info(browser, json.dumps(load_sample(MEMBER_INFO)))
    settled(browser, "content")
    plan = stored_plan(browser)
    assert plan["series"] == set(MY_SERIES) and plan["cars"]
    boxes = content_boxes(browser)
    # When the bare page is opened again (no fragment), then My content
    open_page(browser, f"{snapshot_api}/", "races", keep=True)
    # Then the plan came back from the browser's storage, into the link
    assert link_plan(browser.current_url) == plan
    link = browser.current_url
    # And the link, opened in a fresh profile (another device), restores the same plan and ticks
    with chromium(NEW_YORK) as other:
        open_page(other, link.replace("#races", "#content"), "content")
        assert stored_plan(other) == plan
        assert content_boxes(other) == boxes
        assert other.find_element("id", "plan-summary").text == browser.find_element("id", "plan-summary").text


# --- Season ----------------------------------------------------------------------------------------------------


def seasons_shown(driver: Any) -> list[dict[str, Any]]:
    shown: list[dict[str, Any]] = driver.execute_script(
        "return [...document.querySelectorAll('#seasons section.season')].map(s => ({season: +s.dataset.seasonId,"
        " weeks: [...s.querySelectorAll('tbody tr')].map(r => ({week: +r.dataset.raceWeekNum, now: r.className,"
        "  track: r.cells[2].textContent, rain: r.cells[4].querySelector('.chance').textContent,"
        "  you: r.cells[5].textContent}))}))"
    )
    return shown


def track_text(week: dict[str, Any]) -> str:
    return " — ".join(x for x in (week["track_name"], week["config_name"]) if x) or f"Track {week['track_id']}"


def test_season_grid_shows_what_seasons_answers_with_this_week_marked(snapshot_api: str, browser: Any) -> None:
    owned = sample_ownership()
    owned_params = [
        ("owned_car_id", ",".join(map(str, sorted(owned["cars"])))),
        ("owned_track_id", ",".join(map(str, sorted(owned["tracks"])))),
    ]
    # Given a plan: my two series and the sample's content (as the link carries it)
    cars = ",".join(map(str, sorted(owned["cars"])))
    tracks = ",".join(map(str, sorted(owned["tracks"])))
    url = f"{snapshot_api}/#season?from={FROM}&my=47,62&cars={cars}&tracks={tracks}"
    # When the Season view opens
    status = open_page(browser, url, "season", {"at": FROM})
    # Then it shows what /seasons answers for my series and content at that instant, week by week
    grid = api_json(snapshot_api, "/seasons", [("at", FROM), ("series_id", "47,62"), *owned_params])
    assert dict(parse_qsl(status["query"])) == dict([("at", FROM), ("series_id", "47,62"), *owned_params])
    shown = seasons_shown(browser)
    assert [s["season"] for s in shown] == [s["season_id"] for s in grid["seasons"]] and shown
    at = datetime.fromisoformat(FROM)
    for season, seen in zip(grid["seasons"], shown, strict=True):
        assert [w["week"] for w in seen["weeks"]] == [w["race_week_num"] for w in season["weeks"]]
        for week, row in zip(season["weeks"], seen["weeks"], strict=True):
            assert row["track"] == track_text(week)
            assert row["rain"] == (f"{week['rain_chance']}%" if week["rain_chance"] is not None else "—")
            assert row["you"].startswith("✓ You can enter") == week["enterable"]
            if not week["enterable"]:
                lacking = week["missing"]["track_package"]
                assert lacking is None or (lacking["name"] or "") in row["you"]
            # this week is marked: the week whose days hold the instant
            start = datetime.fromisoformat(f"{week['start_date']}T00:00:00+00:00")
            assert (row["now"] == "now") == (start <= at < datetime.fromisoformat(week["week_end_time"]))
    assert sum(row["now"] == "now" for s in shown for row in s["weeks"]) == len(shown)


def test_season_all_series_filtered_and_a_week_leads_to_its_races(snapshot_api: str, browser: Any) -> None:
    # When the grid shows all series' seasons of one license class (nothing owned: free content)
    open_page(browser, f"{snapshot_api}/#season?from={FROM}&scope=all&license=R", "season", {"license": "R"})
    grid = api_json(snapshot_api, "/seasons", [("at", FROM), ("license", "R"), ("content", "free")])
    shown = seasons_shown(browser)
    # Then its seasons are the ones /seasons answers, and some weeks free content can enter
    assert [s["season"] for s in shown] == [s["season_id"] for s in grid["seasons"]]
    assert any(w["enterable"] for s in grid["seasons"] for w in s["weeks"])
    # And this week's link leads to the Races view of its series over that week
    link = browser.find_element("css selector", "#seasons tr.now td.week a")
    season = next(s for s in grid["seasons"] if s["season_id"] == shown[0]["season"])
    link.click()
    status = settled(browser, "races", {"series_id": str(season["series_id"])})
    window = [("from", dict(parse_qsl(status["query"]))["from"]), ("to", dict(parse_qsl(status["query"]))["to"])]
    assert fragment(browser.current_url)[0] == "races"
    assert slot_ids(race_rows(browser)) == answer_ids(
        slots_answer(snapshot_api, [*window, ("series_id", str(season["series_id"]))])
    )


def js(number: float) -> str:
    """A JSON number as JavaScript writes it (100.0 as 100)."""
    return str(int(number)) if float(number).is_integer() else repr(number)


def test_season_week_forecast_is_what_the_forecast_route_answers(snapshot_api: str, browser: Any) -> None:
    from datetime import timedelta

    from selenium.webdriver.support.ui import WebDriverWait

    from iracing_sync.store.forecasts import ForecastItem, forecast_key, put_forecast
    from iracing_sync.store.schema import season_key
    from iracing_sync.weather import forecast_hours

    # Given this week's forecast of season 5376 (series 47) stored as the sync stores it (the demo's weeks are long
    # past, so the sync fetched none), and none for next week
    season, week = 5376, 30
    fetched = datetime.fromisoformat(FROM)
    hours = forecast_hours(load_sample("weather_forecast_2024-04-13_envelope.json")["content"])
    put_forecast(season, week, "s3://forecast/rw30", fetched, fetched + timedelta(days=14), hours=hours)
    try:
        # When the Season view of my series opens and this week's forecast box is opened
        open_page(browser, f"{snapshot_api}/#season?from={FROM}&my=47", "season")
        boxes = browser.find_elements("css selector", f"section[data-season-id='{season}'] details.forecast")
        assert len(boxes) == 2  # this week and next: the weeks within the sync's 8-day horizon
        for box in boxes:
            box.find_element("css selector", "summary").click()
        WebDriverWait(browser, 30).until(
            lambda d: all(b.get_attribute("data-state") in ("ready", "error") for b in boxes)
        )
        # Then it lists the route's hours, one line each from the session's start; next week says it has none
        answer = api_json(snapshot_api, f"/seasons/{season}/weeks/{week}/forecast", [])
        lines = [li.text for li in boxes[0].find_elements("css selector", "li")]
        assert len(lines) == len(answer["hours"]) == len(hours) > 0
        for line, hour in zip(lines, answer["hours"], strict=True):
            offset = hour["time_offset"]
            assert line.startswith(f"{'−' if offset < 0 else '+'}{abs(offset) // 60}:{abs(offset) % 60:02d} · ")
            assert f"{js(hour['air_temp_c'])} °C" in line and f"rain {js(hour['precip_chance_pct'])}%" in line
        assert boxes[1].get_attribute("data-state") == "error" and "no forecast" in boxes[1].text
    finally:
        ForecastItem(season_key(season), forecast_key(week)).delete()


# --- Shop and the plan's feed ----------------------------------------------------------------------------------


def test_shop_shows_the_purchase_guide_for_my_series_and_content(snapshot_api: str, browser: Any) -> None:
    owned = {"cars": {67}, "tracks": {191, 192, 193}}
    link = f"{snapshot_api}/#shop?from={FROM}&my=47,62&cars=67&tracks=191-193"
    # When the Shop opens for that plan
    open_page(browser, link, "shop", {"at": FROM})
    # Then it shows what /purchase-guide answers: the packages lacking, in its order, with price and weeks
    guide = api_json(
        snapshot_api,
        "/purchase-guide",
        [("series_id", "47,62"), ("owned_car_id", "67"), ("owned_track_id", "191,192,193"), ("at", FROM)],
    )
    assert owned and guide["packages"]
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#shop-packages tbody tr')].map(r => [r.dataset.packageId,"
        " r.cells[1].textContent, +r.cells[2].textContent])"
    )
    prices = {p["package_id"]: p["price_display"] for p in api_json(snapshot_api, "/tracks", [])["tracks"]}
    # (iRacing's price_display; a package without one, price 0, is not on sale)
    shown = [
        [str(p["package_id"]), prices[p["package_id"]] or "not on sale", p["weeks_unlocked"]] for p in guide["packages"]
    ]
    assert rows == shown
    # And per series the weeks raceable now against the credit's threshold
    cards = browser.execute_script(
        "return [...document.querySelectorAll('.guide-series')].map(c => [+c.dataset.seasonId,"
        " c.querySelector('.weeks').textContent, c.querySelector('.credit').textContent])"
    )
    assert [c[0] for c in cards] == [s["season_id"] for s in guide["series"]]
    for series, (_, weeks, credit) in zip(guide["series"], cards, strict=True):
        assert weeks.startswith(f"You can race {series['weeks_raceable']} of {series['weeks']} weeks now")
        assert str(series["min_weeks"]) in weeks
        assert credit.startswith("✓") == series["credit_reachable"]


def test_plan_subscribe_link_is_the_feed_of_the_races_i_can_enter_in_my_series(snapshot_api: str, browser: Any) -> None:
    import icalendar
    import requests

    # Given a plan in the link: my series and some content
    open_page(browser, f"{snapshot_api}/#races?from={FROM}&my=47,62&cars=67,114-116&tracks=191-193,365", "races")
    link = browser.find_element("id", "plan-subscribe").get_attribute("href")
    # Then the subscribe link is the plan feed of my series with my content, from the page's start
    parts = urlsplit(link)
    assert (parts.scheme, parts.path) == ("webcal", "/calendar.ics")
    params = [("from", FROM), ("series_id", "47,62"), ("owned_car_id", "67,114,115,116"),
              ("owned_track_id", "191,192,193,365")]  # fmt: skip
    assert parse_qsl(parts.query) == params
    # And it holds exactly the races /slots answers for those series and that content over the feed's 28 days
    feed = requests.get("http:" + link.removeprefix("webcal:"), timeout=60)
    assert feed.status_code == 200, feed.text
    starts = sorted(
        (e.decoded("DTSTART").strftime("%Y-%m-%dT%H:%M:%SZ"))
        for e in icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    )
    window = [("from", FROM), ("to", "2025-10-07T11:54:00Z")]
    expected = sorted(s["start_time"] for s in slots_answer(snapshot_api, [*window, *params[1:]]))
    assert starts and starts == expected
