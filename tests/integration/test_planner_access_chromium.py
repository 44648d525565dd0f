"""The planner page on a phone and without a mouse, in Debian's Chromium (chromedriver, Selenium), over the demo data.

Every view, at a desktop's width and at a phone's 375 CSS px: axe-core (the npm package, injected into the page)
finds no serious or critical violation, nothing is wider than the screen, and every control is at least 24x24 CSS
px (WCAG 2.2 AA). Keyboard alone reaches the views and ticks a filter. The screenshots in the README come from
here: PLANNER_SCREENSHOTS=docs writes docs/planner-<view>-<desktop|phone>.png and docs/race-finder.png.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import load_sample
from tests.support.axe_core import axe_violations
from tests.support.planner_page import (
    DESKTOP,
    PHONE,
    open_page,
    overflow,
    settled,
    small_targets,
    viewport,
)

pytestmark = pytest.mark.integration

FROM = "2025-09-09T11:54:00Z"  # the snapshot's race-guide block
# A racer's plan over the demo data: the member/info sample's content and four series (road and oval) racing then.
MY_SERIES = "47,62,495,135"
SIZES = {"desktop": DESKTOP, "phone": PHONE}


def plan_fragment() -> str:
    body = load_sample("member_info_ownership_redacted.json")
    ids = {kind: sorted({i for p in body[f"{kind}_packages"] for i in p["content_ids"]}) for kind in ("car", "track")}
    return f"my={MY_SERIES}&cars={','.join(map(str, ids['car']))}&tracks={','.join(map(str, ids['track']))}"


# Each view as a racer with that plan opens it (the Races view: my series first, only what I can enter).
VIEWS = {
    "races": f"#races?from={FROM}&mine=first&enter=1",
    "season": f"#season?from={FROM}",
    "content": "#content",
    "shop": f"#shop?from={FROM}",
}


def open_view(driver: Any, base: str, view: str, size: tuple[int, int]) -> None:
    viewport(driver, size)
    separator = "&" if "?" in VIEWS[view] else "?"
    open_page(driver, f"{base}/{VIEWS[view]}{separator}{plan_fragment()}", view)
    assert driver.execute_script("return document.querySelectorAll('tbody tr, .packages label, .card').length") > 0


def screenshot(driver: Any, name: str, size: tuple[int, int], tmp_path: Path) -> None:
    """Save the viewport as ``<PLANNER_SCREENSHOTS or tmp>/<name>.png`` and check it is a PNG of that size."""
    folder = Path(os.environ.get("PLANNER_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    assert driver.save_screenshot(str(path))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == size


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("view", VIEWS)
def test_planner_view_is_accessible_and_fits_the_screen(
    snapshot_api: str, browser: Any, view: str, size: str, tmp_path: Path
) -> None:
    # When a view opens at a desktop's or a phone's width, with a plan
    open_view(browser, snapshot_api, view, SIZES[size])
    # Then axe-core finds no serious or critical violation
    assert axe_violations(browser) == []
    # And nothing is wider than the screen, and every control is large enough to tap
    width = SIZES[size][0]
    assert overflow(browser) == 0
    assert browser.execute_script("return document.documentElement.scrollWidth") <= width
    assert small_targets(browser) == []
    # (and the README's screenshot of it is taken: PLANNER_SCREENSHOTS=docs)
    screenshot(browser, f"planner-{view}-{size}", SIZES[size], tmp_path)


def test_planner_views_and_filters_work_from_the_keyboard_alone(snapshot_api: str, browser: Any) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    def press(*keys: str) -> None:
        ActionChains(browser).send_keys(*keys).perform()

    def tab_to(selector: str, back: bool = False, limit: int = 400) -> None:
        """Press Tab (Shift+Tab if ``back``) until the element ``selector`` has the focus."""
        for _ in range(limit):
            if browser.execute_script("return document.activeElement.matches(arguments[0])", selector):
                return
            keys = ActionChains(browser)
            (
                keys.key_down(Keys.SHIFT).send_keys(Keys.TAB).key_up(Keys.SHIFT) if back else keys.send_keys(Keys.TAB)
            ).perform()
        raise AssertionError(f"Tab never reached {selector}")

    # Given the Races view, no plan yet, and the focus on the page itself
    viewport(browser, DESKTOP)
    open_page(browser, f"{snapshot_api}/#races?from={FROM}", "races")
    browser.execute_script("document.activeElement.blur()")
    # When Tab reaches the filters, Enter opens them, Tab reaches Oval and Space ticks it
    tab_to("#filter-panel summary")
    press(Keys.ENTER)
    tab_to("#f-category input[value='oval']")
    press(Keys.SPACE)
    # Then the list is filtered, and the focus stayed on the checkbox
    settled(browser, "races", {"category": "oval"})
    assert browser.execute_script("return document.activeElement.value") == "oval"
    # When Shift+Tab reaches the Season link and Enter follows it
    tab_to("#nav-season", back=True)
    press(Keys.ENTER)
    # Then the Season view shows (all series: the plan has none), its heading focused
    settled(browser, "season")
    assert browser.execute_script("return document.activeElement.id") == "season-heading"
    # And Space on a season's "My series" puts its series into the plan
    tab_to("#seasons button[aria-pressed]")
    press(Keys.SPACE)
    assert browser.execute_script("return document.activeElement.getAttribute('aria-pressed')") == "true"
    series = browser.execute_script("return +document.activeElement.dataset.seriesId")
    assert json.loads(browser.execute_script("return localStorage.getItem('iracing-sync.plan')"))["series"] == [series]


def test_planner_race_finder_screenshot_over_the_demo_data(snapshot_api: str, browser: Any, tmp_path: Path) -> None:
    # When the Races view shows one series' races over three days (docs/api.md's picture), Then it is saved
    viewport(browser, DESKTOP)
    open_page(browser, f"{snapshot_api}/#races?from={FROM}&hours=72&series_id=47", "races", {"series_id": "47"})
    screenshot(browser, "race-finder", DESKTOP, tmp_path)
