"""Driving the planner page (GET /) in Debian's headless Chromium through chromedriver (Selenium), for the tests
and the page bench: a browser with a fresh profile, opening a view and waiting until it has shown its answer,
reading what it shows, its size on a phone, and the API's own answers to compare with.

The page keeps its view and plan in the URL fragment (``/#season?from=..&my=47``); ``#status`` says which view
loaded what (``data-view``, ``data-state`` loading/ready/error, ``data-query``: the query of the answer shown).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import requests

from tests.support.chromium import CHROMEDRIVER, CHROMIUM, QUIET_FLAGS

WAIT_SECONDS = 60
DESKTOP = (1280, 900)
PHONE = (375, 812)  # an iPhone's CSS pixels: nothing may be wider
MIN_TARGET = 24  # CSS px: WCAG 2.2 AA's target size (2.5.8)


@contextmanager
def chromium(tz: str, size: tuple[int, int] = DESKTOP) -> Iterator[Any]:
    """Headless Chromium with a fresh profile, its clock in zone ``tz`` (the TZ of chromedriver, which it inherits)."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        raise RuntimeError("Chromium and chromedriver are needed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    with tempfile.TemporaryDirectory(prefix="planner-profile-") as profile:
        for argument in (
            "--headless=new",
            *QUIET_FLAGS,
            "--lang=en-US",
            f"--window-size={size[0]},{size[1]}",
            f"--user-data-dir={profile}",
        ):
            options.add_argument(argument)
        service = Service(CHROMEDRIVER, env={**os.environ, "TZ": tz})
        driver = webdriver.Chrome(service=service, options=options)
        try:
            viewport(driver, size)
            yield driver
        finally:
            driver.quit()


def viewport(driver: Any, size: tuple[int, int]) -> None:
    """The page's viewport in CSS px (a window's size includes its frame); a phone's is a touch screen."""
    width, height = size
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def settled(
    driver: Any, view: str = "races", expected: Mapping[str, str] | None = None, *, ready: bool = True
) -> dict[str, str]:
    """The page's status once ``view`` has shown the answer to a query holding ``expected`` (or failed).

    With ``ready`` (the default) a failure to load fails the test with the page's message.
    """
    from selenium.webdriver.support.ui import WebDriverWait

    def done(d: Any) -> dict[str, str] | Literal[False]:
        status = d.find_element("id", "status")
        state, query = status.get_attribute("data-state"), status.get_attribute("data-query") or ""
        if status.get_attribute("data-view") != view or state == "loading":
            return False
        if not set((expected or {}).items()) <= set(parse_qsl(query)):  # a repeated key counts with each of its values
            return False
        return {"state": state, "query": query, "text": status.text, "count": status.get_attribute("data-count")}

    result: dict[str, str] = WebDriverWait(driver, WAIT_SECONDS).until(done)
    assert result["state"] == "ready" or not ready, result["text"]
    return result


def open_page(
    driver: Any, url: str, view: str = "races", expected: Mapping[str, str] | None = None, *, keep: bool = False
) -> dict[str, str]:
    """Load ``url`` afresh (a new document, not a fragment change) and wait until ``view`` has settled.

    The plan the page stored in an earlier test is forgotten first, unless ``keep``.
    """
    # The browser keeps the API's answers for their max-age: a test that changed the store must not see old ones.
    driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    if not keep:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        driver.execute_cdp_cmd("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "local_storage"})
    driver.get("about:blank")  # a URL differing only in its fragment would not load the page again
    driver.get(url)
    return settled(driver, view, expected)


def fragment(url: str) -> tuple[str, list[tuple[str, str]]]:
    """The view and the parameters of a page URL's fragment (``#season?from=..``)."""
    view, _, query = urlsplit(url).fragment.partition("?")
    return view, parse_qsl(query)


def race_rows(driver: Any) -> list[dict[str, str]]:
    """Every race row of the Races view: its slot identity and what it shows (read in one script call)."""
    rows: list[dict[str, str]] = driver.execute_script(
        "return [...document.querySelectorAll('#races tbody tr[data-start-time]')].map(r => ({"
        "season: r.dataset.seasonId, week: r.dataset.raceWeekNum, start: r.dataset.startTime,"
        "local: r.dataset.local, text: r.cells[0].textContent, super: r.className,"
        "series: r.cells[2].textContent, rain: r.querySelector('.col-rain').textContent}))"
    )
    return rows


def slot_ids(rows: list[dict[str, str]]) -> list[tuple[int, int, str]]:
    """Slot identities (season_id, race_week_num, start_time) of rows the page shows."""
    return [(int(r["season"]), int(r["week"]), r["start"]) for r in rows]


def api_json(base: str, path: str, params: list[tuple[str, str]]) -> Any:
    """An API answer (200) for ``params``."""
    response = requests.get(f"{base}{path}", params=params, timeout=120)
    assert response.status_code == 200, response.text
    return response.json()


def slots_answer(base: str, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """What /slots answers for ``params``, every page (following next_cursor)."""
    slots: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        body = api_json(base, "/slots", [*params, *([("cursor", cursor)] if cursor else [])])
        slots += body["slots"]
        cursor = body["next_cursor"]
        if cursor is None:
            return slots


def answer_ids(slots: list[dict[str, Any]]) -> list[tuple[int, int, str]]:
    return [(s["season_id"], s["race_week_num"], s["start_time"]) for s in slots]


def tick(driver: Any, selector: str) -> None:
    """Click a checkbox or radio (each click is a change event, as a person's tap is), opening its panel first."""
    box = driver.find_element("css selector", selector)
    panel = driver.execute_script("const d = arguments[0].closest('details'); return d && !d.open ? d : null", box)
    if panel is not None:
        panel.find_element("css selector", "summary").click()
    box.click()


def overflow(driver: Any) -> int:
    """How far the page is wider than its viewport, in CSS px (0: nothing scrolls sideways)."""
    width: int = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    return width


def small_targets(driver: Any) -> list[str]:
    """Visible controls smaller than MIN_TARGET x MIN_TARGET CSS px (links, buttons, inputs, selects, summaries)."""
    small: list[str] = driver.execute_script(
        "const min = arguments[0];"
        "return [...document.querySelectorAll('a[href], button, input, select, textarea, summary')]"
        ".filter(e => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden')"
        ".map(e => [e, e.getBoundingClientRect()]).filter(([e, r]) => r.width < min || r.height < min)"
        ".map(([e, r]) => `${e.tagName.toLowerCase()}#${e.id}[${e.name || e.textContent.trim().slice(0, 30)}]"
        " ${Math.round(r.width)}x${Math.round(r.height)}`)",
        MIN_TARGET,
    )
    return small
