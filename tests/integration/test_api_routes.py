"""The slots API's routes over real HTTP after a real sync: filters, pages, caching and every error.

The 2025-09-09 snapshot (series, reference data, current seasons) is synced once by the real state machines
(moto's interpreter, real handlers, the fake iRacing server, DynamoDB Local); the API function is served on
127.0.0.1. Expected slots come from `iracing-sync slots expand` over the same raw body, filtered here with
facts read straight from the raw iRacing bodies (not from the store), so the store's filters are checked
against an independent answer.
"""

from __future__ import annotations

import io
import json
import math
import time
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pytest
import requests

from iracing_sync.store.schema import Item
from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import SAMPLES, load_sample
from tests.integration.conftest import sync_snapshot
from tests.support.http_errors import error_of

pytestmark = pytest.mark.integration

DAY = ("2025-09-09T00:00:00Z", "2025-09-10T00:00:00Z")
WEEK = ("2025-09-08T00:00:00Z", "2025-09-16T00:00:00Z")
SEASONS = load_sample("series_seasons.json")
CLASS_CARS = {c["car_class_id"]: {x["car_id"] for x in c["cars_in_class"]} for c in load_sample("carclass_get.json")}


@cache
def expanded(start: str, end: str) -> tuple[dict[str, Any], ...]:
    """What `iracing-sync slots expand` prints for the snapshot's raw body over [start, end)."""
    from iracing_sync_local.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        assert (
            main(["slots", "expand", "--schedule", str(SAMPLES / "series_seasons.json"), "--from", start, "--to", end])
            == 0
        )
    return tuple(json.loads(out.getvalue()))


def week_facts() -> dict[tuple[int, int], dict[str, Any]]:
    """(season_id, race_week_num) -> the facts a filter reads, straight from the raw series/seasons body."""
    facts = {}
    for season in SEASONS:
        for week in season["schedules"]:
            classes = week.get("race_week_car_class_ids") or season["car_class_ids"]
            facts[(season["season_id"], week["race_week_num"])] = {
                "series_id": season["series_id"],
                "season_id": season["season_id"],
                "category": week.get("category") or week["track"]["category"],
                "license_group": season["license_group"],
                "track_id": week["track"]["track_id"],
                "cars": set().union(*(CLASS_CARS[c] for c in classes)),
            }
    return facts


FACTS = week_facts()


def expected(window: tuple[str, str], keep: Callable[[dict[str, Any]], bool]) -> list[tuple[Any, ...]]:
    return [_key(s) for s in expanded(*window) if keep(FACTS[(s["season_id"], s["race_week_num"])])]


def _key(slot: dict[str, Any]) -> tuple[Any, ...]:
    return (slot["season_id"], slot["series_id"], slot["race_week_num"], slot["start_time"], slot["end_time"])


@pytest.fixture(scope="module")
def synced(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> None:
    """Given the 2025-09-09 snapshot synced by the real state machines: series, reference data, seasons."""
    sync_snapshot(module_step_functions, module_fake_iracing)


def get(api: str, path: str, headers: dict[str, str] | None = None, **params: Any) -> requests.Response:
    return requests.get(api + path, params=params, headers=headers, timeout=60)


def slots(api: str, window: tuple[str, str], **params: Any) -> list[tuple[Any, ...]]:
    response = get(api, "/slots", **{"from": window[0], "to": window[1], **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["next_cursor"] is None and body["count"] == len(body["slots"])
    return [_key(s) for s in body["slots"]]


# --- filters ------------------------------------------------------------------------------------------------

ROAD = {"road", "sports_car", "formula_car"}
FILTERS: dict[str, tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = {
    "series": ({"series_id": 47}, lambda f: f["series_id"] == 47),
    "season (its partition)": ({"season_id": 5862}, lambda f: f["season_id"] == 5862),
    "category oval": ({"category": "oval"}, lambda f: f["category"] == "oval"),
    "category road = road + sports_car + formula_car": ({"category": "road"}, lambda f: f["category"] in ROAD),
    "category formula_car": ({"category": "formula_car"}, lambda f: f["category"] == "formula_car"),
    "license C": ({"license": "C"}, lambda f: f["license_group"] == 3),
    "license 1 (rookie)": ({"license": "1"}, lambda f: f["license_group"] == 1),
    "car in a class of three seasons": ({"car_id": 139}, lambda f: 139 in f["cars"]),
    "track": ({"track_id": 191}, lambda f: f["track_id"] == 191),
    "category and license": (
        {"category": "oval", "license": "c"},
        lambda f: f["category"] == "oval" and f["license_group"] == 3,
    ),
    "season and car": ({"season_id": 5378, "car_id": 139}, lambda f: f["season_id"] == 5378 and 139 in f["cars"]),
    "series and car": ({"series_id": 229, "car_id": 139}, lambda f: f["series_id"] == 229 and 139 in f["cars"]),
    # a repeated key (or its values joined by commas, as API Gateway passes them) means any of its values
    "two series, the key repeated": ({"series_id": [47, 229]}, lambda f: f["series_id"] in {47, 229}),
    "two series, comma-joined": ({"series_id": "47,229"}, lambda f: f["series_id"] in {47, 229}),
    "two seasons (the time index)": ({"season_id": [5862, 5376]}, lambda f: f["season_id"] in {5862, 5376}),
    "two categories": ({"category": ["oval", "formula_car"]}, lambda f: f["category"] in {"oval", "formula_car"}),
    "two licenses": ({"license": ["C", "1"]}, lambda f: f["license_group"] in {1, 3}),
    "two cars": ({"car_id": [139, 1]}, lambda f: bool({139, 1} & f["cars"])),
    "two tracks and a license": (
        {"track_id": [191, 365], "license": "B"},
        lambda f: f["track_id"] in {191, 365} and f["license_group"] == 4,
    ),
}


@pytest.mark.parametrize("name", FILTERS)
def test_slots_filter_equals_expand_filtered_by_the_raw_facts(synced: None, api: str, name: str) -> None:
    # Given a filter and the same filter applied to the raw body's expansion
    params, keep = FILTERS[name]
    want = expected(WEEK, keep)
    # When the API is asked for the week with it
    served = slots(api, WEEK, **params)
    # Then it serves exactly those slots, in order
    assert served == want
    assert 0 < len(want) < len(expanded(*WEEK)), "the filter should pick a proper, non-empty part"


def test_slots_filter_with_no_match_is_an_empty_200(synced: None, api: str) -> None:
    # Season 5862 is a sports-car season racing that week: nothing of it is an oval, and none of its cars is car 139
    assert slots(api, WEEK, season_id=5862, category="oval") == []
    assert slots(api, WEEK, season_id=5862, car_id=139) == []
    # A stored series without races in the window
    assert slots(api, ("2031-01-01", "2031-01-02"), series_id=47) == []
    # A series iRacing's series list lacks (known by its seasons) racing none of the asked cars
    assert slots(api, WEEK, series_id=229, car_id=155) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"series_id": 999999}, "series 999999 not found"),
        ({"season_id": 999999}, "season 999999 not found"),
        ({"track_id": 999999}, "track 999999 not found"),
        ({"car_id": 999999}, "car 999999 not found"),
        # "any of": one unknown ID among known ones is still named
        ({"series_id": [47, 999998]}, "series 999998 not found"),
    ],
)
def test_slots_unknown_id_filter_is_a_404(synced: None, api: str, params: dict[str, int], message: str) -> None:
    response = get(api, "/slots", **{"from": DAY[0], "to": DAY[1], **params})
    assert response.status_code == 404, response.text
    assert response.json() == {"error": {"code": "not_found", "message": message}}


def test_car_switching_week_matches_only_its_own_cars(synced: None, api: str) -> None:
    # Given a car-switching season (none in the bundled snapshot): its class holds cars 139-141, week 0 races
    # only car 140 and week 1 has no week cars (so its class decides)
    from iracing_sync import store
    from iracing_sync.models.iracing import Season
    from iracing_sync.schedule import ScheduleProcessor

    # (named from the stored catalog, as the sync does: a week's cars are written at sync time)
    week = {
        "season_id": 990001,
        "series_id": 229,
        "track": {"track_id": 191, "track_name": "Test"},
        "category": "oval",
        "race_time_descriptors": [
            {
                "repeating": True,
                "session_minutes": 20,
                "start_date": "2031-01-07",
                "day_offset": [0],
                "first_session_time": "10:00:00",
                "repeat_minutes": 60,
            }
        ],
    }
    season = Season.model_validate(
        {
            "season_id": 990001,
            "series_id": 229,
            "car_class_ids": [2978],
            "car_switching": True,
            "license_group": 3,
            "schedules": [
                {**week, "race_week_num": 0, "race_week_cars": [{"car_id": 140}]},
                {
                    **week,
                    "race_week_num": 1,
                    "start_date": "2031-01-14",
                    "race_time_descriptors": [{**week["race_time_descriptors"][0], "start_date": "2031-01-14"}],
                },
            ],
        }
    )
    store.put_season(ScheduleProcessor(store.car_catalog()).process(season))
    window = ("2031-01-01", "2031-01-21")
    try:
        # When the weeks are asked for by car, through the time index and through the season's partition
        for extra in ({}, {"season_id": 990001}):
            weeks_of = {c: {k[2] for k in slots(api, window, car_id=c, **extra)} for c in (139, 140)}
            # Then car 140 races both weeks; car 139 only the week without its own car list
            assert weeks_of == {139: {1}, 140: {0, 1}}, extra
    finally:
        for item in Item.query(store.season_key(990001)):
            item.delete()


# --- pages ----------------------------------------------------------------------------------------------------


def walk(api: str, path: str, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every page of a query, following next_cursor; checks each page's shape on the way."""
    pages, cursor = [], None
    while True:
        extra = {"cursor": cursor} if cursor else {}
        response = get(api, path, limit=limit, **params, **extra)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["limit"] == limit and body["count"] == len(body["slots"]) <= limit
        pages.append(body)
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert body["count"] == limit, "only the last page may be short"


@pytest.mark.parametrize("limit", [1000, 997])
def test_slots_pages_concatenate_to_the_whole_window(synced: None, api: str, limit: int) -> None:
    # Given a week of 7,505 slots
    whole = [_key(s) for s in expanded(*WEEK)]
    # When it is read a page at a time
    pages = walk(api, "/slots", limit, **{"from": WEEK[0], "to": WEEK[1]})
    # Then the pages hold every slot once, in order, in as few pages as the limit allows
    assert [_key(s) for p in pages for s in p["slots"]] == whole
    assert len(pages) == math.ceil(len(whole) / limit)


def test_slots_pages_keep_filters_and_tz(synced: None, api: str) -> None:
    params = {"from": WEEK[0], "to": WEEK[1], "category": "oval", "tz": "Europe/London"}
    pages = walk(api, "/slots", 100, **params)
    served = [s for p in pages for s in p["slots"]]
    assert [_key(s) for s in served] == expected(WEEK, lambda f: f["category"] == "oval")
    assert all(p["tz"] == "Europe/London" for p in pages)
    assert all(s["start_local"].endswith("+01:00") for s in served)


def test_a_page_boundary_inside_one_instant_loses_no_slot(synced: None, api: str) -> None:
    # Given an instant at which many seasons start a race (a page of 1 ends inside it on every page)
    day = [_key(s) for s in expanded("2025-09-09T12:00:00Z", "2025-09-09T12:00:01Z")]
    assert len(day) > 3
    # When it is read one slot per page
    pages = walk(api, "/slots", 1, **{"from": "2025-09-09T12:00:00Z", "to": "2025-09-09T12:00:01Z"})
    # Then every slot comes once, in order
    assert [_key(p["slots"][0]) for p in pages] == day


def test_season_slots_pages_concatenate_to_the_whole_season(synced: None, api: str) -> None:
    whole = [_key(s) for s in expanded("2024-01-01", "2027-01-01") if s["season_id"] == 5376]
    pages = walk(api, "/seasons/5376/slots", 400)
    assert [_key(s) for p in pages for s in p["slots"]] == whole
    assert len(pages) == math.ceil(len(whole) / 400) > 1


def test_cursor_of_another_query_or_tampered_is_refused(synced: None, api: str) -> None:
    # Given a cursor issued for the oval slots of the week
    first = get(api, "/slots", **{"from": WEEK[0], "to": WEEK[1], "category": "oval", "limit": 10}).json()
    cursor = first["next_cursor"]
    # A cursor of the documented form (URL-safe base64) this API did not issue for the query is a 422: the document
    # cannot say which such strings are this query's; one of another form is malformed, a 400.
    cases = {
        "other filter": (422, {"from": WEEK[0], "to": WEEK[1], "category": "road", "cursor": cursor}),
        "other window": (422, {"from": DAY[0], "to": WEEK[1], "category": "oval", "cursor": cursor}),
        "garbage": (400, {"from": WEEK[0], "to": WEEK[1], "category": "oval", "cursor": "not-a-cursor!"}),
        "garbage of the form": (422, {"from": WEEK[0], "to": WEEK[1], "category": "oval", "cursor": "not-a-cursor"}),
        "tampered": (422, {"from": WEEK[0], "to": WEEK[1], "category": "oval", "cursor": "A" + cursor[1:]}),
        "empty parts": (422, {"from": WEEK[0], "to": WEEK[1], "category": "oval", "cursor": "Li4u"}),
    }
    for name, (status, params) in cases.items():
        response = get(api, "/slots", **params)
        assert response.status_code == status, (name, response.text)
        assert response.json()["error"]["code"] == ("invalid_cursor" if status == 422 else "invalid_input"), name
    # And the cursor itself still works for its own query
    again = get(api, "/slots", **{"from": WEEK[0], "to": WEEK[1], "category": "oval", "limit": 10, "cursor": cursor})
    assert again.status_code == 200 and again.json()["slots"][0] != first["slots"][0]


# --- caching --------------------------------------------------------------------------------------------------


def test_slots_carry_etag_and_cache_control_and_a_conditional_get_is_a_304(synced: None, api: str) -> None:
    # Given a 200 answer
    params = {"from": DAY[0], "to": DAY[1], "series_id": 47}
    first = get(api, "/slots", **params)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and first.headers["Cache-Control"] == "public, max-age=300"
    assert etag.startswith('"') and etag.endswith('"')
    # When the same request is sent with its ETag (also as a weak tag, or in a list)
    for held in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = get(api, "/slots", headers={"If-None-Match": held}, **params)
        # Then the answer is a bodiless 304 with the same validators
        assert again.status_code == 304, held
        assert again.content == b""
        assert again.headers["ETag"] == etag and again.headers["Cache-Control"] == "public, max-age=300"
    # And another ETag, or another query, gets the full answer
    assert get(api, "/slots", headers={"If-None-Match": '"stale"'}, **params).status_code == 200
    other = get(api, "/slots", headers={"If-None-Match": etag}, **{**params, "series_id": 62})
    assert other.status_code == 200 and other.headers["ETag"] != etag


def test_etag_is_stable_across_requests_and_a_resync_of_unchanged_data(
    synced: None, api: str, module_step_functions: Any
) -> None:
    before = get(api, "/seasons/5376").headers["ETag"]
    module_step_functions.run("sync_current_seasons", {}, progress=False)
    assert get(api, "/seasons/5376").headers["ETag"] == before


@pytest.mark.parametrize(
    ("path", "params", "cache_control"),
    [
        ("/series", {}, "public, max-age=300"),
        ("/series/47", {}, "public, max-age=300"),
        ("/series/47/seasons", {}, "public, max-age=300"),
        ("/seasons/5376", {}, "public, max-age=300"),
        ("/seasons/5376/slots", {}, "public, max-age=300"),
        ("/series/47/next", {}, "public, max-age=60"),
        ("/series/47/next", {"at": "2025-09-09T12:00:00Z"}, "public, max-age=300"),
        ("/seasons/5376/next", {}, "public, max-age=60"),
        ("/series/47/calendar.ics", {}, "public, max-age=900"),
        ("/series/47/calendar.ics", {"from": "2025-09-09", "to": "2025-09-16"}, "public, max-age=300"),
        ("/seasons/5376/calendar.ics", {"from": "2025-09-09"}, "public, max-age=300"),
        # changes are recorded by syncs (hourly): the same as any stored answer, with or without since
        ("/changes", {}, "public, max-age=300"),
        ("/changes", {"since": "2025-09-09", "series_id": "47,62"}, "public, max-age=300"),
        ("/changes.atom", {}, "public, max-age=300"),
        ("/changes.atom", {"series_id": 47}, "public, max-age=300"),
        ("/openapi.json", {}, "public, max-age=3600"),
        ("/docs", {}, "public, max-age=3600"),
        # the grid and the guide look from this hour when at is not given: an hour's requests share one answer
        ("/seasons", {}, "public, max-age=300"),
        ("/seasons", {"at": "2025-09-09T12:00:00Z", "content": "free"}, "public, max-age=300"),
        ("/purchase-guide", {"series_id": "47,62", "at": "2025-09-09"}, "public, max-age=300"),
    ],
)
def test_every_route_answers_with_cache_control_fit_for_how_often_it_changes(
    synced: None, api: str, path: str, params: dict[str, str], cache_control: str
) -> None:
    response = get(api, path, **params)
    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == cache_control
    assert get(api, path, headers={"If-None-Match": response.headers["ETag"]}, **params).status_code == 304


def test_next_from_now_revalidates_in_a_later_second_with_a_weak_etag(synced: None, api: str) -> None:
    # Given the next race from now, fetched once
    first = get(api, "/seasons/5376/next")
    etag = first.headers["ETag"]
    # When the clock has moved on to another second and the client revalidates
    time.sleep(1.05 - datetime.now(UTC).microsecond / 1e6)
    again = get(api, "/seasons/5376/next", headers={"If-None-Match": etag})
    fresh = get(api, "/seasons/5376/next")
    # Then the answer is unchanged but for its echo of the clock: a weak tag, and a 304
    assert fresh.json()["at"] != first.json()["at"]
    assert etag.startswith('W/"') and fresh.headers["ETag"] == etag
    assert again.status_code == 304
    # And an answer from a given instant keeps a strong tag over its exact bytes
    assert get(api, "/seasons/5376/next", at="2025-09-09T12:00:00Z").headers["ETag"].startswith('"')


@pytest.mark.parametrize(("method", "path"), [("GET", "/nope"), ("POST", "/slots"), ("HEAD", "/series/47")])
def test_undeclared_route_is_the_gateways_404_not_the_functions(synced: None, api: str, method: str, path: str) -> None:
    # API Gateway answers a route template.yaml does not declare (HEAD included: no HEAD route) itself
    response = requests.request(method, api + path, timeout=30)
    assert response.status_code == 404
    if method != "HEAD":
        assert response.json() == {"message": "Not Found"}


def test_function_answers_a_path_it_has_no_route_for_with_its_own_error_shape(synced: None) -> None:
    # Reachable in AWS only through a declared route the code lacks (a route added to the template first)
    from iracing_sync_local.http_server import http_api_event
    from iracing_sync_local.stepfunctions import LambdaContext, handler_for

    result = handler_for("SlotsApiFunction")(http_api_event("GET", "/nope", {}), LambdaContext("SlotsApiFunction"))
    assert result["statusCode"] == 404
    assert json.loads(result["body"])["error"]["code"] == "not_found"


def test_calendar_is_text_calendar(synced: None, api: str) -> None:
    response = get(api, "/series/47/calendar.ics", **{"from": "2025-09-09", "to": "2025-09-16"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    assert response.text.startswith("BEGIN:VCALENDAR")


# --- errors ---------------------------------------------------------------------------------------------------

W = f"from={DAY[0]}&to={DAY[1]}"
BAD_INPUT = {
    # bad dates
    "/slots?from=yesterday&to=2025-09-10": (400, "invalid_input"),
    "/slots?from=2025-13-01&to=2025-09-10": (400, "invalid_input"),
    "/slots?from=2025-02-30&to=2025-03-10": (400, "invalid_input"),
    "/slots?from=0001-01-01&to=0001-01-02": (400, "invalid_input"),
    "/slots?from=9999-12-30&to=9999-12-31": (400, "invalid_input"),
    "/slots?to=2025-09-10": (400, "invalid_input"),
    # from after to, windows longer than allowed
    "/slots?from=2025-09-10&to=2025-09-09": (422, "unprocessable"),
    "/slots?from=2025-09-09&to=2025-09-09": (422, "unprocessable"),
    "/slots?from=2025-09-01&to=2025-10-15": (422, "unprocessable"),
    "/seasons/5376/slots?from=2025-09-10&to=2025-09-09": (422, "unprocessable"),
    # unknown IDs
    "/series/999999": (404, "not_found"),
    "/series/999999/seasons": (404, "not_found"),
    "/seasons/999999": (404, "not_found"),
    "/seasons/999999/slots": (404, "not_found"),
    "/series/999999/next": (404, "not_found"),
    "/series/999999/calendar.ics": (404, "not_found"),
    # non-numeric or out-of-range IDs
    "/seasons/abc": (400, "invalid_input"),
    "/series/1e3": (400, "invalid_input"),
    "/series/0": (400, "invalid_input"),
    "/series/-5/seasons": (400, "invalid_input"),
    "/series/99999999999999999999999999999999999999999": (400, "invalid_input"),
    f"/slots?{W}&series_id=abc": (400, "invalid_input"),
    f"/slots?{W}&series_id=1,abc": (400, "invalid_input"),
    f"/slots?{W}&series_id=" + "&series_id=".join(map(str, range(1, 52))): (400, "invalid_input"),
    f"/slots?{W}&car_id=99999999999999999999": (400, "invalid_input"),
    # unknown tz, category, license; limits
    f"/slots?{W}&tz=Mars/Olympus": (400, "unknown_time_zone"),
    f"/slots?{W}&tz=../../etc/passwd": (400, "unknown_time_zone"),
    f"/slots?{W}&category=karting": (400, "invalid_input"),
    f"/slots?{W}&license=E": (400, "invalid_input"),
    f"/slots?{W}&limit=0": (400, "invalid_input"),
    f"/slots?{W}&limit=10001": (400, "invalid_input"),
    "/series/47/next?at=0001-01-01": (400, "invalid_input"),
    # a parameter the route does not take (a typo must not silently widen the answer)
    f"/slots?{W}&seriesid=47": (400, "invalid_input"),
    "/series/47?limit=5": (400, "invalid_input"),
    "/changes?since=yesterday": (400, "invalid_input"),
    "/changes.atom?series_id=999999": (404, "not_found"),
    # ownership: at most 500 IDs a list, IDs only; content=free contradicts owned IDs
    f"/slots?{W}&owned_track_id=" + ",".join(map(str, range(1, 502))): (400, "invalid_input"),
    f"/slots?{W}&owned_car_id=1,,2": (400, "invalid_input"),
    "/seasons/5376/next?owned_car_id=x": (400, "invalid_input"),
    "/calendar.ics?series_id=47&content=all": (400, "invalid_input"),
    "/series/47/calendar.ics?content=free&owned_track_id=191": (422, "unprocessable"),
    # the planner's routes
    "/purchase-guide": (400, "invalid_input"),
    "/purchase-guide?series_id=999999": (404, "not_found"),
    "/seasons?series_id=999999": (404, "not_found"),
    "/seasons?at=tomorrow": (400, "invalid_input"),
    "/seasons/5376/weeks/99/forecast": (404, "not_found"),
    "/seasons/5376/weeks/abc/forecast": (400, "invalid_input"),
}


@pytest.mark.parametrize("path", BAD_INPUT)
def test_bad_input_is_a_clear_4xx_with_the_error_shape(synced: None, api: str, path: str) -> None:
    status, code = BAD_INPUT[path]
    error = error_of(requests.get(api + path, timeout=30), status)
    assert error["code"] == code and error["message"]


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/slots?from=yesterday&to=2025-09-10", "from: 'yesterday' is not an ISO 8601 date or date-time"),
        ("/seasons/5376/calendar.ics?from=tomorrow", "from: 'tomorrow' is not an ISO 8601 date or date-time"),
        ("/slots?from=2025-02-30&to=2025-03-10", "from: '2025-02-30' is not an ISO 8601 date or date-time from 1970"),
        ("/slots?from=0001-01-01&to=0001-01-02", "from: '0001-01-01' is not an ISO 8601 date or date-time from 1970"),
        (f"/slots?{W}&license=E", "license: 'E' is not a license group: R, D, C, B, A or 1-5"),
        (
            f"/slots?{W}&seriesid=47",
            "unknown query parameter 'seriesid'; this route takes: car_id, category, content, cursor",
        ),
        ("/slots?from=2025-09-10&to=2025-09-09", "from must be before to"),
        ("/slots?from=2025-09-01&to=2025-10-15", "the window may span at most 31 days"),
    ],
)
def test_error_messages_say_what_is_wrong(synced: None, api: str, path: str, message: str) -> None:
    assert requests.get(api + path, timeout=30).json()["error"]["message"].startswith(message)


def test_window_limit_follows_the_setting(synced: None, api: str, settings_env: pytest.MonkeyPatch) -> None:
    settings_env.setenv("MAX_WINDOW_DAYS", "2")
    assert get(api, "/slots", **{"from": "2025-09-09", "to": "2025-09-11"}).status_code == 200
    response = get(api, "/slots", **{"from": "2025-09-09", "to": "2025-09-11T00:00:01Z"})
    assert response.status_code == 422 and "2 days" in response.json()["error"]["message"]


def test_slots_day_window_equals_expand_and_dates_mean_utc_midnight(synced: None, api: str) -> None:
    assert slots(api, ("2025-09-09", "2025-09-10")) == [_key(s) for s in expanded(*DAY)]


# --- what a slot and a week carry -------------------------------------------------------------------------------

CAR_NAMES = {c["car_id"]: c["car_name"] for c in load_sample("car_get.json")}
LETTERS = {1: "R", 2: "D", 3: "C", 4: "B", 5: "A"}


def raw_slot_facts() -> dict[tuple[int, int], dict[str, Any]]:
    """(season_id, race_week_num) -> what each of its slots shows, straight from the raw iRacing bodies."""
    facts = {}
    for season in SEASONS:
        for week in season["schedules"]:
            classes = week.get("race_week_car_class_ids") or season["car_class_ids"]
            cars = [c for k in classes for c in sorted(CLASS_CARS[k])]
            facts[(season["season_id"], week["race_week_num"])] = {
                "series_name": week["series_name"],
                "season_name": season["season_name"],
                "category": week.get("category") or week["track"]["category"],
                "license": LETTERS.get(season["license_group"]),
                "license_group": season["license_group"],
                "track_id": week["track"]["track_id"],
                "track_name": week["track"]["track_name"],
                "config_name": week["track"].get("config_name"),
                "cars": [{"car_id": c, "car_name": CAR_NAMES[c]} for c in dict.fromkeys(cars)],
                "race_laps": week.get("race_lap_limit"),
                "race_minutes": week.get("race_time_limit"),
                "session_id": None,
                "entry_count": None,
            }
    return facts


def test_every_slot_carries_what_a_racer_chooses_by(synced: None, api: str) -> None:
    # Given a week of slots, and each week's facts read from the raw series/seasons, carclass/get and car/get
    facts = raw_slot_facts()
    response = get(api, "/slots", **{"from": WEEK[0], "to": WEEK[1]})
    served = response.json()["slots"]
    assert len(served) == len(expanded(*WEEK))
    # Then every slot shows its series and season names, category, license, track, cars with names, race length
    for slot in served:
        want = facts[(slot["season_id"], slot["race_week_num"])]
        assert {k: slot[k] for k in want} == want, (slot["season_id"], slot["race_week_num"])
    assert {s["license"] for s in served} == {"R", "D", "C", "B"}
    assert any(s["race_minutes"] for s in served) and any(s["race_laps"] for s in served)


def test_a_week_carries_the_same_facts_and_its_fixed_session_times(synced: None, api: str) -> None:
    # Given season 5379, whose weeks race at fixed session times only
    body = get(api, "/seasons/5379").json()
    raw = next(s for s in SEASONS if s["season_id"] == 5379)
    facts = raw_slot_facts()
    for week, raw_week in zip(body["weeks"], raw["schedules"], strict=True):
        # Then each week lists its fixed session times (and its descriptors hold them), and shows its slots' facts
        times = sorted(t for d in raw_week["race_time_descriptors"] if not d["repeating"] for t in d["session_times"])
        assert week["session_times"] == times and times
        assert [d["session_times"] for d in week["descriptors"]] == [
            d["session_times"] for d in raw_week["race_time_descriptors"]
        ]
        want = {k: v for k, v in facts[(5379, week["race_week_num"])].items() if k not in ("session_id", "entry_count")}
        assert {k: week[k] for k in want} == want
    # And the week's slots are exactly those times
    slots = get(api, "/seasons/5379/slots").json()["slots"]
    assert len(slots) == sum(len(w["session_times"]) for w in body["weeks"])


def test_a_series_missing_from_the_series_list_is_answered_from_its_seasons(synced: None, api: str) -> None:
    # Given series 207: its seasons are in series/seasons, the series itself is not in series/get
    assert 207 not in {s["series_id"] for s in load_sample("series_get.json")}
    response = get(api, "/series/207")
    # Then it is a 200 named as its weeks name it
    assert response.status_code == 200, response.text
    week = next(w for s in SEASONS if s["series_id"] == 207 for w in s["schedules"])
    assert response.json()["series_id"] == 207 and response.json()["series_name"] == week["series_name"]
    assert response.json()["category"] == (week.get("category") or week["track"]["category"])
    assert get(api, "/series/207/seasons").status_code == 200


def test_a_long_week_is_found_on_every_day_it_races(synced: None, api: str) -> None:
    # Given a real season whose week 10 races 8 days (its sessions span more than the short weeks' 7)
    from iracing_sync import store
    from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body

    body = load_sample("extract_series_seasons_2023s4_dallara_fir_8day_week.json")
    (season,) = parse_schedule_body(body)
    store.put_season(ScheduleProcessor().process(season))
    try:
        for day in range(8):  # 2023-11-21 .. 2023-11-28
            window = (f"2023-11-{21 + day}T00:00:00Z", f"2023-11-{22 + day}T00:00:00Z")
            # When each of its days is asked for
            served = [k for k in slots(api, window) if k[0] == 4465]
            # Then it serves that day's slots exactly as iRacing's schedule expands
            want = [_key(s) for s in expand_file("extract_series_seasons_2023s4_dallara_fir_8day_week.json", *window)]
            assert served == want and want, window
    finally:
        for item in Item.query(store.season_key(4465)):
            item.delete()


def expand_file(name: str, start: str, end: str) -> list[dict[str, Any]]:
    from iracing_sync_local.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["slots", "expand", "--schedule", str(SAMPLES / name), "--from", start, "--to", end]) == 0
    return list(json.loads(out.getvalue()))


def test_a_page_ends_before_lambdas_answer_limit(synced: None, api: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an answer limit of 200 KB (the function's is 5 MB: a week of every season's slots is more)
    from iracing_sync.api import paging

    monkeypatch.setattr(paging, "MAX_BODY_BYTES", 200_000)
    # When a week is read a page at a time with the largest limit
    pages, cursor = [], None
    while True:
        response = get(api, "/slots", **{"from": WEEK[0], "to": WEEK[1], **({"cursor": cursor} if cursor else {})})
        assert len(response.content) <= 200_000
        pages.append(response.json())
        if (cursor := pages[-1]["next_cursor"]) is None:
            break
    # Then each page stays under the limit, and the pages hold the week's slots once each, in order
    assert len(pages) > 5 and all(p["count"] < p["limit"] for p in pages)
    assert [_key(s) for p in pages for s in p["slots"]] == [_key(s) for s in expanded(*WEEK)]
