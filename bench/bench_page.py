"""The planner page in a real browser (``python -m bench.run page``): how soon a view shows its first rows, and how
much of that is the page's own work rather than the API's, measured by the browser's own Performance API.

The demo data (the 2025-09-09 snapshot: series, reference data, current seasons) is synced by the real state
machines into DynamoDB Local and the API function is served on 127.0.0.1 by the local adapter (one invocation at a
time, like one Lambda instance). Headless Chromium (Debian's, through chromedriver) opens each view afresh, its
HTTP cache emptied, REPEATS times (after one warm-up):

- Races, the default 24-hour window over all series (1,056 races);
- Season, the grid of every series' season running then (nothing owned: free content).

From the page's Performance API: ``planner:first-rows``, the mark the page sets once a view's first rows are in the
DOM (ms since navigation start), and the resource timing of the answers that view waits on (``/slots`` pages, or
``/seasons``: from the first fetch's start to the last one's response end). Rows, medians of the loads:

- first rows against the issue's budget of 1 s after navigation (a fixed figure, not a measured baseline);
- the page's own time (first rows less the API's span: loading and running the page, parsing the answer, putting
  rows in) against the API's span: the page may take at most as long as the answers it waits on.

Then filtering: a category ticked on the loaded Races view, from the change event (its time on the page's clock)
to the narrowed list's first rows, the page's own part of it against its /slots answer: at most half of it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bench import Row

FROM = "2025-09-09T11:54:00Z"
REPEATS = 5
BUDGET_MS = 1000.0  # the issue's: first rows within a second of navigation
VIEWS = {
    "Races 24 h": (f"#races?from={FROM}", "races", "/slots?"),
    "Season, all series": (f"#season?from={FROM}&scope=all", "season", "/seasons?"),
}

# Everything the page measured of its last load: its marks and the fetches it made.
_TIMINGS = """
const marks = performance.getEntriesByType('mark')
  .map(m => ({name: m.name, at: m.startTime, view: m.detail && m.detail.view}));
const fetches = performance.getEntriesByType('resource').filter(r => r.initiatorType === 'fetch')
  .map(r => ({url: r.name, start: r.startTime, end: r.responseEnd}));
return {marks, fetches};
"""


@contextmanager
def _served() -> Iterator[str]:
    """The demo data synced, the API function served on 127.0.0.1: its base URL."""
    from bench.engines import engines
    from iracing_sync_local.http_server import make_server, serve_in_thread
    from iracing_sync_local.stepfunctions import LambdaContext, handler_for, local_step_functions

    with engines("2025-09-09"):
        with local_step_functions(retry_interval_scale=0) as sfn:
            for machine in ("sync_series", "sync_reference_data", "sync_current_seasons"):
                sfn.run(machine, progress=False)
        # Outside moto: it swaps in its own AWS credentials, and DynamoDB Local keeps a namespace per access key.
        server = make_server(handler_for("SlotsApiFunction"), lambda: LambdaContext("SlotsApiFunction"), port=0)
        serve_in_thread(server)
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def _load(driver: Any, url: str, view: str, awaited: str) -> tuple[float, float]:
    """One fresh load of ``url``: (first rows, API time) in ms, the API time being the span of the awaited fetches."""
    from tests.support.planner_page import open_page

    open_page(driver, url, view)
    timings = driver.execute_script(_TIMINGS)
    first = next(m["at"] for m in timings["marks"] if m["name"] == "planner:first-rows" and m["view"] == view)
    waited = [f for f in timings["fetches"] if awaited in f["url"] and f["end"] <= first]
    assert waited, timings
    return first, max(f["end"] for f in waited) - min(f["start"] for f in waited)


# The panel opened, the load's marks dropped, and the change event's time kept (on the page's clock).
_BEFORE_TICK = """
document.getElementById('filter-panel').open = true;
performance.clearMarks(); performance.clearResourceTimings();
document.addEventListener('change', e => { window.__changed = e.timeStamp; }, true);
"""


def _filter_once(driver: Any, base: str) -> tuple[float, float]:
    """Tick Oval on the loaded Races view: (ms from the change event to the narrowed list's first rows, its /slots
    answer's ms)."""
    from tests.support.planner_page import open_page, settled

    open_page(driver, f"{base}/#races?from={FROM}", "races")
    driver.execute_script(_BEFORE_TICK)
    driver.find_element("css selector", "#f-category input[value='oval']").click()
    settled(driver, "races", {"category": "oval"})
    timings = driver.execute_script(_TIMINGS)
    changed = driver.execute_script("return window.__changed")
    shown = next(m["at"] for m in timings["marks"] if m["name"] == "planner:first-rows")
    answer = [f for f in timings["fetches"] if "category=oval" in f["url"]]
    assert answer, timings
    return shown - changed, max(f["end"] for f in answer) - min(f["start"] for f in answer)


def run() -> list[Row]:
    from tests.support.planner_page import chromium

    rows: list[Row] = []
    with _served() as base, chromium("America/New_York") as driver:
        for name, (fragment, view, awaited) in VIEWS.items():
            _load(driver, f"{base}/{fragment}", view, awaited)  # warm-up: the function's first requests
            loads = [_load(driver, f"{base}/{fragment}", view, awaited) for _ in range(REPEATS)]
            first = statistics.median(f for f, _ in loads)
            own = statistics.median(f - a for f, a in loads)
            api = statistics.median(a for _, a in loads)
            rows += [
                Row(f"page {name}: first rows after navigation", first, "ms", "budget: 1 s", BUDGET_MS,
                    target=1.0, higher_is_better=False),
                Row(f"page {name}: the page's own time to first rows", own, "ms",
                    "the API answers it waits on (resource timing)", api, target=1.0, higher_is_better=False),
            ]  # fmt: skip
        ticks = [_filter_once(driver, base) for _ in range(REPEATS)]
        rows.append(
            Row(
                "page Races: tick a filter, the page's own time to first rows",
                statistics.median(t - a for t, a in ticks),
                "ms",
                "its /slots answer (resource timing)",
                statistics.median(a for _, a in ticks),
                target=2.0,
                higher_is_better=False,
            )  # fmt: skip
        )
    return rows
