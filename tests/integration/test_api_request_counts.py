"""DynamoDB requests per API route, counted on the wire: every route is GetItem/Query (BatchGetItem to tell several
unknown IDs apart) only, never a Scan.

Both bundled snapshots are synced by the real state machines into one table: the 2025-09-09 capture (35
seasons, with series and reference data) and the full 2023 S2 quarter (137 seasons, 1,629 weeks): the scale
of a real quarter. The API function is served on 127.0.0.1 and reaches DynamoDB Local through the counting
proxy of tests/support, so each figure is the number of requests DynamoDB really received for one answer,
pages of a Query included.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
import requests

from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.integration.conftest import _point_at, sync_snapshot
from tests.support.dynamodb_proxy import DynamoDBProxy

pytestmark = pytest.mark.integration

READS = {"GetItem", "Query", "BatchGetItem"}


@pytest.fixture(scope="module")
def synced(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> None:
    """Given both snapshots synced: 2025-09-09 (series, reference data, seasons, that day's race guide, whose horizon
    is 2025-09-09 05:00 to 15:00) and the 2023 S2 quarter."""
    sync_snapshot(module_step_functions, module_fake_iracing)
    assert module_step_functions.run("sync_race_guide", {}, progress=False)["matched"] == 133
    from iracing_sync.settings import get_settings

    with pytest.MonkeyPatch.context() as env, FakeIracing("2023s2") as quarter:
        _point_at(env, quarter)
        summary = module_step_functions.run("sync_current_seasons", {}, progress=False)
        assert summary["status"] == "SUCCEEDED" and summary["seasons_synced"] == 137, summary
    get_settings.cache_clear()  # back to the module's fake iRacing


def requests_for(proxy: DynamoDBProxy, url: str) -> Counter[str]:
    """The DynamoDB operations one API request caused (the API must answer 200)."""
    proxy.reset_counts()
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, (url, response.text)
    return Counter(proxy.operations)


_MEMBER = load_sample("member_info_ownership_redacted.json")
# A real member's ownership (member/info's content IDs, comma-joined: 49 car packages, 239 track IDs).
OWNED = "owned_car_id={}&owned_track_id={}".format(
    ",".join(str(i) for p in _MEMBER["car_packages"] for i in p["content_ids"]),
    ",".join(str(i) for p in _MEMBER["track_packages"] for i in p["content_ids"]),
)
DAY_2025 = "from=2025-09-09T00:00:00Z&to=2025-09-10T00:00:00Z"
DAY_2023 = "from=2023-05-05T00:00:00Z&to=2023-05-06T00:00:00Z"
# route -> the operations it takes (exactly): the access patterns of the store package's docstring, measured.
EXPECTED: dict[str, dict[str, int]] = {
    # 24 hours over all seasons: one Query per month of [from - 7 days, to), here September, and one of the long
    # weeks' partition; this day overlaps the stored race guide's horizon, so one more reads its sessions
    f"/slots?{DAY_2025}": {"Query": 3},
    f"/slots?{DAY_2023}": {"Query": 3},  # 137 seasons, still one page each: April and May, and the long weeks
    f"/slots?{DAY_2025}&category=oval&license=C": {"Query": 3},
    f"/slots?{DAY_2025}&car_id=139": {"Query": 3},  # the week items carry their cars: no car class is read
    f"/slots?{DAY_2025}&car_id=155,114": {"Query": 3},  # (one car or several: each a filter DynamoDB accepts)
    # "any of": the same reads (the answer shows every ID asked for, so none is looked up)
    f"/slots?{DAY_2025}&series_id=47&series_id=62&car_id=155,114": {"Query": 3},
    # car 139 races neither series, series 62 none of these cars: the IDs no slot shows are looked up (one GetItem
    # each) to tell an unknown ID (404) from one that does not race then (200)
    f"/slots?{DAY_2025}&series_id=47&series_id=62&car_id=139,155": {"Query": 3, "GetItem": 2},
    f"/slots?{DAY_2025}&season_id=5376": {"Query": 1},  # the season's partition
    f"/slots?{DAY_2025}&series_id=47&tz=Europe/London&limit=5": {"Query": 3},
    # outside the race guide's horizon: no read of its sessions
    "/slots?from=2025-09-20&to=2025-09-21": {"Query": 2},
    # seven days of the full quarter
    "/slots?from=2023-04-25&to=2023-05-02": {"Query": 3},
    # nothing found for a series: one GetItem tells an unknown series (404) from a quiet one (200)
    "/slots?from=2031-01-20&to=2031-01-21&series_id=47": {"Query": 2, "GetItem": 1},
    # a plan feed of two series over 28 days: September and October, the long weeks, and the race guide (its
    # horizon is inside the 28 days)
    "/calendar.ics?series_id=47&series_id=62&from=2025-09-09&to=2025-10-07": {"Query": 4},
    "/calendar.ics?series_id=47,62&car_id=155,114&alarm=30&from=2025-09-09&to=2025-10-07": {"Query": 4},
    # reference data: a list is one Query of its partition, one item one GetItem
    "/cars": {"Query": 1},
    "/cars/139": {"GetItem": 1},
    "/tracks": {"Query": 1},
    "/tracks/191": {"GetItem": 1},
    "/car-classes": {"Query": 1},
    "/car-classes/2978": {"GetItem": 1},
    # a series iRacing's series list lacks: answered from its seasons
    "/series/207": {"GetItem": 1, "Query": 1},
    "/series": {"Query": 1},
    "/series/47": {"GetItem": 1},
    "/series/47/seasons": {"Query": 1},
    "/seasons/5376": {"Query": 1},
    "/seasons/5376/slots": {"Query": 1},
    "/seasons/5376/slots?from=2025-09-09&to=2025-09-10&limit=10": {"Query": 1},
    "/series/47/next?at=2025-09-09T12:00:00Z": {"Query": 2},  # its seasons, then the running one
    "/seasons/5376/next?at=2025-09-09T12:00:00Z": {"Query": 1},
    "/series/47/calendar.ics?from=2025-09-09&to=2025-09-16": {"Query": 2, "GetItem": 1},
    "/seasons/5376/calendar.ics?from=2025-09-09&to=2025-09-16": {"Query": 1},
    # the changes of the last 24 hours: one Query of the CHANGES partition (both snapshots' season_added, one page)
    "/changes": {"Query": 1},
    "/changes.atom": {"Query": 1},
    # a series filter is applied to what that Query reads; a series it finds no change of is looked up (404 or 200)
    "/changes?series_id=47,62": {"Query": 1},
    "/changes.atom?series_id=47&since=2199-01-01": {"Query": 1, "GetItem": 1},
    "/changes?series_id=47&series_id=62&since=2199-01-01": {"Query": 1, "BatchGetItem": 1},
    "/openapi.json": {},
    "/docs": {},
    # what a racer owns is decided on the week items read anyway (their packages ride on them): no read more
    f"/slots?{DAY_2023}&{OWNED}": {"Query": 3},
    f"/slots?{DAY_2025}&content=free": {"Query": 3},
    "/series/47/next?at=2025-09-09T12:00:00Z&content=free": {"Query": 2},
    f"/seasons/5376/calendar.ics?from=2025-09-09&to=2025-09-16&{OWNED}": {"Query": 1},
    # (a series none of whose races the member can enter then is looked up: 404 or 200)
    f"/calendar.ics?series_id=47&series_id=62&from=2025-09-09&to=2025-10-07&{OWNED}": {"Query": 3, "BatchGetItem": 1},
    # the season grid and the purchase guide: the grid items of the seasons running then, the year's partition and
    # the next one's; no catalog read
    "/seasons?at=2023-05-09T18:00:00Z": {"Query": 2},
    f"/seasons?at=2023-05-09T18:00:00Z&{OWNED}": {"Query": 2},
    "/seasons?at=2025-09-09T12:00:00Z&series_id=47,62&category=oval&license=C,B": {"Query": 2},
    f"/purchase-guide?series_id=139,455,353,62,228&at=2023-05-09T18:00:00Z&{OWNED}": {"Query": 2},
    # a series running no season then is looked up (404 or 200: listed among not_running)
    "/purchase-guide?series_id=47,139&at=2025-09-09T12:00:00Z": {"Query": 2, "GetItem": 1},
}


@pytest.mark.parametrize("path", EXPECTED)
def test_route_takes_only_the_expected_key_lookups_and_queries(
    synced: None, api: str, dynamodb_proxy: DynamoDBProxy, path: str
) -> None:
    # When the route answers once
    operations = requests_for(dynamodb_proxy, api + path)
    # Then DynamoDB received exactly the expected GetItem/Query requests, and never a Scan
    assert dict(operations) == EXPECTED[path]
    assert set(operations) <= READS


@pytest.mark.parametrize("day", [DAY_2025, DAY_2023])
def test_a_24_hour_window_over_all_seasons_takes_at_most_3_requests(
    synced: None, api: str, dynamodb_proxy: DynamoDBProxy, day: str
) -> None:
    # Given every 24-hour window starting at each hour of a month, so both month-bucket cases occur
    start = day.split("&")[0].removeprefix("from=")[:8]  # "YYYY-MM-"
    worst = 0
    for d in range(1, 29):
        for hour in (0, 13):
            lo = f"{start}{d:02d}T{hour:02d}:00:00Z"
            hi = f"{start}{d + 1:02d}T{hour:02d}:00:00Z"
            # When each is asked for over all seasons
            operations = requests_for(dynamodb_proxy, f"{api}/slots?from={lo}&to={hi}")
            assert set(operations) <= READS, operations
            worst = max(worst, sum(operations.values()))
    # Then none took more than 3 requests
    assert worst <= 3


def test_a_page_by_cursor_costs_what_the_first_page_costs(
    synced: None, api: str, dynamodb_proxy: DynamoDBProxy
) -> None:
    # Given the first page of a day of the full quarter, and its cost
    url = f"{api}/slots?{DAY_2023}&limit=500"
    first_cost = requests_for(dynamodb_proxy, url)
    cursor = requests.get(url, timeout=60).json()["next_cursor"]
    assert cursor
    # When the next page is fetched by its cursor
    next_cost = requests_for(dynamodb_proxy, f"{url}&cursor={cursor}")
    # Then it costs no more than the first page
    assert sum(next_cost.values()) <= sum(first_cost.values()) <= 3


def test_no_route_ever_scans(synced: None, api: str, dynamodb_proxy: DynamoDBProxy) -> None:
    # When every route answers, including 4xx answers
    dynamodb_proxy.reset_counts()
    unknown = ["/series/999999", "/seasons/999999/slots", f"/slots?{DAY_2025}&track_id=999999", "/cars/999999"]
    unknown += [f"/slots?{DAY_2025}&series_id=47&series_id=999999", "/calendar.ics?series_id=999999"]
    unknown += ["/changes?series_id=999999", "/changes.atom?series_id=47,999999"]
    unknown += ["/seasons?series_id=999999", "/purchase-guide?series_id=47,999999", "/seasons/5376/weeks/0/forecast"]
    for path in [*EXPECTED, *unknown]:
        requests.get(api + path, timeout=60)
    # Then DynamoDB saw key lookups and queries only
    assert set(dynamodb_proxy.operations) <= READS
    assert "Scan" not in dynamodb_proxy.operations
