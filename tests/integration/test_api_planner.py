"""Planning with owned content over real HTTP after a real sync of the full 2023 S2 quarter: the season grid
(GET /seasons?at), the ownership filters on the slot routes and feeds, and the purchase guide, each checked against a
plain recomputation from the raw bodies (series/seasons, car/get, track/get, carclass/get) and a real member/info.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import requests

from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.integration.conftest import sync_snapshot

pytestmark = pytest.mark.integration

AT = datetime(2023, 5, 9, 18, 0, tzinfo=UTC)  # a Tuesday inside 2023 S2
AT_Z = "2023-05-09T18:00:00Z"
# A planner's five series of 2023 S2 (as the API bench): Global Mazda MX-5, Formula Vee, Ferrari GT3, NASCAR
# Class B, GT Sprint.
PLAN_SERIES = (139, 455, 353, 62, 228)
MEMBER = load_sample("member_info_ownership_redacted.json")
OWNED_CARS = sorted({i for p in MEMBER["car_packages"] for i in p["content_ids"]})
OWNED_TRACKS = sorted({i for p in MEMBER["track_packages"] for i in p["content_ids"]})
# member/info maps one to one to the ownership parameters: every content ID of its car and track packages.
OWNED = {"owned_car_id": ",".join(map(str, OWNED_CARS)), "owned_track_id": ",".join(map(str, OWNED_TRACKS))}


@pytest.fixture(scope="module")
def fake_2023s2() -> Iterator[FakeIracing]:
    from iracing_sync.settings import get_settings

    with pytest.MonkeyPatch.context() as env, FakeIracing("2023s2") as fake:
        for name, value in fake.settings_env.items():
            env.setenv(name, value)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def synced(module_step_functions: Any, fake_2023s2: FakeIracing, api: str) -> None:
    """Given the full 2023 S2 quarter synced by the real state machines: series, reference data, seasons."""
    sync_snapshot(module_step_functions, fake_2023s2)


def get(api: str, path: str, **params: Any) -> Any:
    response = requests.get(f"{api}{path}", params=params, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


# --- the plain recomputation from the raw bodies -------------------------------------------------------------


class Raw:
    """The raw bodies, read plainly: what each week races (track, cars) and what each package is."""

    seasons = load_sample("series_seasons_2023s2_full.json")
    cars = {c["car_id"]: c for c in load_sample("car_get.json")}
    tracks = {t["track_id"]: t for t in load_sample("track_get.json")}
    classes = {c["car_class_id"]: [x["car_id"] for x in c["cars_in_class"]] for c in load_sample("carclass_get.json")}

    @classmethod
    def week_cars(cls, season: dict[str, Any], week: dict[str, Any]) -> list[int]:
        if week.get("race_week_cars"):
            return [c["car_id"] if isinstance(c, dict) else c for c in week["race_week_cars"]]
        class_ids = week.get("race_week_car_class_ids") or season.get("car_class_ids") or []
        return list(dict.fromkeys(car for c in class_ids for car in cls.classes.get(c, [])))

    @classmethod
    def running(cls, at: datetime) -> list[dict[str, Any]]:
        """Seasons whose first race day is on or before ``at`` and whose last race week is not over."""
        out = []
        for season in cls.seasons:
            days = [date.fromisoformat(w["start_date"]) for w in season["schedules"]]
            if days and min(days) <= at.date() and at.date() < max(days) + timedelta(days=7):
                out.append(season)
        return out

    @classmethod
    def track_ok(cls, track_id: int, owned_tracks: set[int]) -> bool:
        track = cls.tracks.get(track_id)
        if track is None:
            return track_id in owned_tracks
        return bool(track["free_with_subscription"]) or track["package_id"] in _packages(
            "track", frozenset(owned_tracks)
        )

    @classmethod
    def car_ok(cls, car_id: int, owned_cars: set[int]) -> bool:
        car = cls.cars.get(car_id)
        if car is None:
            return car_id in owned_cars
        return bool(car["free_with_subscription"]) or car["package_id"] in _packages("car", frozenset(owned_cars))

    @classmethod
    def enterable(cls, season: dict[str, Any], week: dict[str, Any], cars: set[int], tracks: set[int]) -> bool:
        return cls.track_ok(week["track"]["track_id"], tracks) and any(
            cls.car_ok(c, cars) for c in cls.week_cars(season, week)
        )


@functools.cache
def _packages(kind: str, owned: frozenset[int]) -> frozenset[int]:
    """The packages (per car/get or track/get) of the owned content IDs."""
    items = Raw.cars if kind == "car" else Raw.tracks
    return frozenset(items[i]["package_id"] for i in owned if i in items)


# --- the season grid -----------------------------------------------------------------------------------------


def test_the_grid_lists_every_season_running_at_at_with_all_its_weeks(synced: None, api: str) -> None:
    # Given the 2023 S2 quarter synced; When the grid is asked for a Tuesday of the quarter
    grid = get(api, "/seasons", at=AT_Z)
    # Then it lists exactly the seasons racing then, each with all its weeks: track, cars, race length
    expected = {s["season_id"]: s for s in Raw.running(AT)}
    assert grid["at"] == AT_Z and grid["count"] == len(grid["seasons"]) == len(expected) > 100
    for season in grid["seasons"]:
        raw = expected[season["season_id"]]
        weeks = sorted(raw["schedules"], key=lambda w: w["race_week_num"])
        assert [w["race_week_num"] for w in season["weeks"]] == [w["race_week_num"] for w in weeks]
        for week, raw_week in zip(season["weeks"], weeks, strict=True):
            assert week["track_id"] == raw_week["track"]["track_id"]
            assert sorted(c["car_id"] for c in week["cars"]) == sorted(Raw.week_cars(raw, raw_week))
            assert (week["race_laps"], week["race_minutes"]) == (
                raw_week["race_lap_limit"],
                raw_week["race_time_limit"],
            )
            track = Raw.tracks.get(week["track_id"])
            assert week["track_package"] == (
                None
                if track is None
                else {
                    "package_id": track["package_id"],
                    "name": min(
                        (t for t in Raw.tracks.values() if t["package_id"] == track["package_id"]),
                        key=lambda t: t["track_id"],
                    )["track_name"],
                    "price": track["price"],
                    "free": track["free_with_subscription"],
                    "purchasable": min(
                        (t for t in Raw.tracks.values() if t["package_id"] == track["package_id"]),
                        key=lambda t: t["track_id"],
                    )["is_ps_purchasable"],
                    "content_ids": sorted(t for t, x in Raw.tracks.items() if x["package_id"] == track["package_id"]),
                }
            )
            assert "enterable" not in week and "missing" not in week  # (only with ownership parameters)


def test_the_grid_says_for_each_week_whether_a_real_member_can_enter_it(synced: None, api: str) -> None:
    # Given a real member's ownership (member/info's content IDs, comma-joined: 239 track IDs)
    grid = get(api, "/seasons", at=AT_Z, **OWNED)
    expected = {s["season_id"]: s for s in Raw.running(AT)}
    cars, tracks = set(OWNED_CARS), set(OWNED_TRACKS)
    entered = 0
    for season in grid["seasons"]:
        raw = {w["race_week_num"]: w for w in expected[season["season_id"]]["schedules"]}
        for week in season["weeks"]:
            # Then each week says whether they can enter it, as the raw bodies say, and what they lack
            want = Raw.enterable(expected[season["season_id"]], raw[week["race_week_num"]], cars, tracks)
            assert week["enterable"] is want, (season["season_id"], week["race_week_num"])
            if want:
                assert week["missing"] == {"track_package": None, "car_packages": []}
            else:
                season_raw, week_raw = expected[season["season_id"]], raw[week["race_week_num"]]
                cars_ok = any(Raw.car_ok(c, cars) for c in Raw.week_cars(season_raw, week_raw))
                assert (week["missing"]["track_package"] is None) is Raw.track_ok(week["track_id"], tracks)
                assert (week["missing"]["car_packages"] == []) is cars_ok
        entered += season["enterable_weeks"]
        assert season["enterable_weeks"] == sum(w["enterable"] for w in season["weeks"])
    assert 0 < entered < sum(len(s["weeks"]) for s in grid["seasons"])  # a real member enters some, not all


def test_the_grid_filters_by_series_category_and_license(synced: None, api: str) -> None:
    every = get(api, "/seasons", at=AT_Z)["seasons"]
    some = get(api, "/seasons", at=AT_Z, series_id=",".join(map(str, PLAN_SERIES)))["seasons"]
    assert {s["series_id"] for s in some} == set(PLAN_SERIES) and some == [
        s for s in every if s["series_id"] in PLAN_SERIES
    ]
    ovals = get(api, "/seasons", at=AT_Z, category="oval", license=["C", "B"])["seasons"]
    assert ovals == [s for s in every if s["category"] == "oval" and s["license"] in ("C", "B")] and ovals


# --- ownership on the slot routes and the feeds --------------------------------------------------------------


def _all_slots(api: str, **params: Any) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        body = get(api, "/slots", **params, **({"cursor": cursor} if cursor else {}))
        found += body["slots"]
        if (cursor := body["next_cursor"]) is None:
            return found


def test_slots_with_ownership_are_exactly_the_races_the_member_can_enter(synced: None, api: str) -> None:
    window = {"from": AT_Z, "to": "2023-05-10T18:00:00Z"}
    every = _all_slots(api, **window)
    mine = _all_slots(api, **window, **OWNED)
    seasons = {s["season_id"]: s for s in Raw.seasons}
    weeks = {(s["season_id"], w["race_week_num"]): w for s in Raw.seasons for w in s["schedules"]}
    cars, tracks = set(OWNED_CARS), set(OWNED_TRACKS)
    wanted = [
        s
        for s in every
        if Raw.enterable(seasons[s["season_id"]], weeks[(s["season_id"], s["race_week_num"])], cars, tracks)
    ]
    assert mine == wanted and 0 < len(mine) < len(every)
    # content=free: only what free content alone enters
    free = _all_slots(api, **window, content="free")
    assert free == [
        s
        for s in every
        if Raw.enterable(seasons[s["season_id"]], weeks[(s["season_id"], s["race_week_num"])], set(), set())
    ]
    assert free and len(free) < len(mine)


def test_ownership_narrows_next_races_and_every_feed_alike(synced: None, api: str) -> None:
    series = 139  # Global Mazda MX-5 Cup: free car and a few free tracks
    season = next(s["season_id"] for s in Raw.running(AT) if s["series_id"] == series)
    free_next = get(api, f"/series/{series}/next", at=AT_Z, count=5, content="free")["slots"]
    every_next = get(api, f"/series/{series}/next", at=AT_Z, count=50)["slots"]
    free_weeks = {
        w["race_week_num"]
        for s in get(api, "/seasons", at=AT_Z, series_id=series, content="free")["seasons"]
        for w in s["weeks"]
        if w["enterable"]
    }
    assert free_next and all(s["race_week_num"] in free_weeks for s in free_next)
    assert free_next == [s for s in every_next if s["race_week_num"] in free_weeks][:5] or len(every_next) == 50
    assert get(api, f"/seasons/{season}/next", at=AT_Z, count=5, content="free")["slots"] == free_next
    window = {"from": "2023-05-09", "to": "2023-06-06"}
    for path, extra in (
        (f"/series/{series}/calendar.ics", {}),
        (f"/seasons/{season}/calendar.ics", {}),
        ("/calendar.ics", {"series_id": series}),
    ):
        every = requests.get(f"{api}{path}", params={**window, **extra}, timeout=60).text
        free = requests.get(f"{api}{path}", params={**window, **extra, "content": "free"}, timeout=60).text
        assert 0 < free.count("BEGIN:VEVENT") < every.count("BEGIN:VEVENT"), path
    season_slots = get(api, f"/seasons/{season}/slots", **window, content="free")["slots"]
    assert season_slots and {s["race_week_num"] for s in season_slots} <= free_weeks


# --- the purchase guide --------------------------------------------------------------------------------------


def _brute_force_credit(season: dict[str, Any], cars: set[int], tracks: set[int], need: int) -> float | None:
    """The least price reaching ``need`` raceable weeks: every subset of the lacking track packages, with the
    member's cars or one more car package (plainly enumerated, from the raw bodies)."""
    weeks = []  # per week: its track's package (None: not sold), whether it is raceable by track, its car packages
    for week in season["schedules"]:
        track = week["track"]["track_id"]
        cars_of = [c for c in Raw.week_cars(season, week) if c in Raw.cars]
        weeks.append(
            (
                Raw.tracks[track]["package_id"] if track in Raw.tracks else None,
                Raw.track_ok(track, tracks),
                {Raw.cars[c]["package_id"] for c in cars_of},
                any(Raw.car_ok(c, cars) for c in Raw.week_cars(season, week)),
            )
        )
    for_sale = {t["package_id"] for t in Raw.tracks.values() if t["is_ps_purchasable"]}
    lacking = sorted({package for package, track_ok, _, _ in weeks if not track_ok and package in for_sale})
    price = {t["package_id"]: t["price"] for t in Raw.tracks.values()}
    car_price = {c["package_id"]: c["price"] for c in Raw.cars.values() if c["is_ps_purchasable"]}
    options = [
        None,
        *sorted({p for _, _, packages, cars_ok in weeks if not cars_ok for p in packages if p in car_price}),
    ]
    best: float | None = None
    for option in options:
        gains: dict[int, int] = {}  # a lacking package -> the weeks it would open (their cars raceable)
        raced = 0
        for package, track_ok, packages, cars_ok in weeks:
            if cars_ok or option in packages:
                if track_ok:
                    raced += 1
                elif package in lacking:
                    gains[package] = gains.get(package, 0) + 1
        cost = _least_cost(gains, {p: price[p] for p in gains}, need - raced)
        if cost is not None:
            total = round(cost + (car_price[option] if option else 0), 2)
            best = total if best is None else min(best, total)
    return best


def _least_cost(gains: dict[int, int], prices: dict[int, float], need: int) -> float | None:
    """The least price of packages opening at least ``need`` weeks: every subset when they are few (plain
    enumeration), else a table of the least price for each number of weeks, package by package."""
    if need <= 0:
        return 0.0
    if len(gains) <= 16:
        found = [
            sum(prices[p] for p in chosen)
            for size in range(len(gains) + 1)
            for chosen in itertools.combinations(sorted(gains), size)
            if sum(gains[p] for p in chosen) >= need
        ]
        return min(found) if found else None
    least: dict[int, float] = {0: 0.0}
    for package in sorted(gains):
        for weeks, cost in list(least.items()):
            reached = min(need, weeks + gains[package])
            least[reached] = min(least.get(reached, math.inf), cost + prices[package])
    return least.get(need)


def test_the_purchase_guide_for_five_series_matches_a_plain_recomputation(synced: None, api: str) -> None:
    # Given a real member and the five series of a plan; When the guide is asked
    guide = get(api, "/purchase-guide", series_id=",".join(map(str, PLAN_SERIES)), at=AT_Z, **OWNED)
    cars, tracks = set(OWNED_CARS), set(OWNED_TRACKS)
    seasons = [s for s in Raw.running(AT) if s["series_id"] in PLAN_SERIES]
    assert guide["not_running"] == [] and {s["season_id"] for s in guide["series"]} == {s["season_id"] for s in seasons}
    # Then each track package they lack counts the weeks of these seasons it unlocks, ranked most first, then cheaper
    unlocks: dict[int, int] = {}
    for season in seasons:
        for week in season["schedules"]:
            track = week["track"]["track_id"]
            if not Raw.track_ok(track, tracks):
                package = Raw.tracks[track]["package_id"]
                unlocks[package] = unlocks.get(package, 0) + 1
    assert {p["package_id"]: p["weeks_unlocked"] for p in guide["packages"]} == unlocks
    ranks = [(-p["weeks_unlocked"], not p["purchasable"], p["price"], p["package_id"]) for p in guide["packages"]]
    assert ranks == sorted(ranks)
    assert all(len(p["weeks"]) == p["weeks_unlocked"] for p in guide["packages"])
    # And per series: the weeks raceable now, the credit threshold, and the cheapest purchase reaching it
    for entry in guide["series"]:
        season = next(s for s in seasons if s["season_id"] == entry["season_id"])
        raceable = [w["race_week_num"] for w in season["schedules"] if Raw.enterable(season, w, cars, tracks)]
        assert entry["raceable_weeks"] == sorted(raceable) and entry["weeks"] == len(season["schedules"])
        assert entry["min_weeks"] == math.ceil(2 * len(season["schedules"]) / 3)
        assert entry["credit_reachable"] is (len(raceable) >= entry["min_weeks"])
        cheapest = _brute_force_credit(season, cars, tracks, entry["min_weeks"])
        purchase = entry["credit_purchase"]
        assert (purchase is None) is (cheapest is None), entry["series_id"]
        if purchase is not None:
            assert purchase["price"] == pytest.approx(cheapest) and purchase["weeks_raceable"] >= entry["min_weeks"]
            assert (purchase["packages"] == []) is entry["credit_reachable"]
        # the cars of the weeks no owned or free car races, cheapest first
        missing = {
            Raw.cars[c]["package_id"]
            for w in season["schedules"]
            if not any(Raw.car_ok(c, cars) for c in Raw.week_cars(season, w))
            for c in Raw.week_cars(season, w)
            if c in Raw.cars
        }
        assert {p["package_id"] for p in entry["cars_missing"]} == missing
        assert [p["price"] for p in entry["cars_missing"]] == sorted(p["price"] for p in entry["cars_missing"])


def test_the_guide_for_a_racer_with_nothing_lists_what_free_content_lacks(synced: None, api: str) -> None:
    guide = get(api, "/purchase-guide", series_id=139, at=AT_Z)
    (entry,) = guide["series"]
    season = next(s for s in Raw.running(AT) if s["series_id"] == 139)
    assert entry["raceable_weeks"] == [
        w["race_week_num"] for w in season["schedules"] if Raw.enterable(season, w, set(), set())
    ]
    assert entry["cars_missing"] == []  # (the MX-5 is free)
    assert entry["credit_purchase"]["price"] == pytest.approx(
        _brute_force_credit(season, set(), set(), entry["min_weeks"])
    )


# --- bad input -----------------------------------------------------------------------------------------------


BAD = {
    "501 owned cars": (
        "/slots",
        {"from": AT_Z, "to": "2023-05-10", "owned_car_id": ",".join(map(str, range(1, 502)))},
        400,
    ),
    "a malformed owned list": ("/seasons", {"owned_track_id": "1,,2"}, 400),
    "a word among owned IDs": ("/purchase-guide", {"series_id": 139, "owned_car_id": "12,abc"}, 400),
    "content=free with owned IDs": ("/seasons", {"content": "free", "owned_car_id": 1}, 422),
    "another content": ("/seasons", {"content": "paid"}, 400),
    "a guide without series": ("/purchase-guide", {}, 400),
    "51 series": ("/purchase-guide", {"series_id": ",".join(map(str, range(1, 52)))}, 400),
    "an unknown series": ("/purchase-guide", {"series_id": "139,999999"}, 404),
    "an unknown series in the grid": ("/seasons", {"series_id": 999999}, 404),
    "a bad instant": ("/seasons", {"at": "2023-02-30"}, 400),
    "a forecast of a week not stored": ("/seasons/4048/weeks/3/forecast", {}, 404),
    "a negative week": ("/seasons/4048/weeks/-1/forecast", {}, 400),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_planner_input_is_a_clear_4xx(synced: None, api: str, name: str) -> None:
    path, params, status = BAD[name]
    response = requests.get(f"{api}{path}", params=params, timeout=60)
    assert response.status_code == status, response.text
    assert set(json.loads(response.text)["error"]) == {"code", "message"}


def test_500_owned_ids_each_fit_one_url_under_cloudfronts_limit(synced: None, api: str) -> None:
    # The largest lists allowed, comma-joined, of IDs as long as iRacing's (4 digits): the URL stays under 8 KB
    ids = ",".join(str(1000 + i) for i in range(500))
    url = requests.Request("GET", f"{api}/seasons", params={"owned_car_id": ids, "owned_track_id": ids}).prepare().url
    assert url is not None and len(url) < 8192
    assert requests.get(url, timeout=60).status_code == 200
