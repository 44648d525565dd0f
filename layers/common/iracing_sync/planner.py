"""Planning with owned content: the season grid and the purchase guide, from the seasons' grid items.

Both read only what the season sync wrote on each season's grid item (store.seasons.GridItem: every week's track,
cars, race length, weather summary and the packages of its track and cars) and answer as JSON-ready dicts in the
shapes of ``models.http_planner``. Whether a racer can enter a week is ``Ownership``'s rule (models.planning): the
track's package is owned or free, and one of the week's cars is.

Participation credit (docs/api.md): a season pays it for racing ``min_weeks`` of its weeks, 8 of a 12-week season
(member/participation_credits), that is two thirds rounded up, the rule applied to every length. The cheapest way
to it is exact: within one season each week has one track, so track packages unlock disjoint sets of weeks and the
least-cost set reaching min_weeks is a small 0/1 knapsack, solved for the racer's cars and for each one car package
they could add.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from iracing_sync.instants import iso_z
from iracing_sync.models.planning import Ownership, owns, rain_percent
from iracing_sync.models.records import license_letter
from iracing_sync.weather import weather_out

if TYPE_CHECKING:
    from iracing_sync.store.grid import GridSeason

Json = dict[str, Any]


def credit_threshold(weeks: int) -> int:
    """The weeks a season of ``weeks`` weeks must be raced for participation credit: two thirds, rounded up (8 of
    12, as iRacing's member/participation_credits gives ``min_weeks``)."""
    return math.ceil(2 * weeks / 3)


def package(raw: Mapping[str, Any] | None) -> Json | None:
    """A stored package (its JSON leaves out nulls) as the answers write one (models.planning.ContentPackage)."""
    if raw is None:
        return None
    return {
        "package_id": raw.get("package_id"),
        "name": raw.get("name"),
        "price": raw.get("price"),
        "free": bool(raw.get("free", False)),
        "purchasable": bool(raw.get("purchasable", False)),
        "content_ids": list(raw.get("content_ids", ())),
    }


class WeekAccess(NamedTuple):
    """Whether the racer can enter a week; the track package they lack (None when theirs or free) and the car
    packages of the week when none of its cars is theirs or free (else empty)."""

    enterable: bool
    track: Json | None
    cars: list[Json]


def week_access(week: Mapping[str, Any], owned: Ownership) -> WeekAccess:
    """``Ownership.access`` on a stored grid week (the same rule, on the JSON the grid item holds)."""
    plan = week.get("plan") or {}
    track = package(plan.get("track_package"))
    if track is None and week.get("track_id") is not None:
        track = package({"content_ids": [week["track_id"]]})  # a track the catalog does not list
    cars = [package(p) for p in plan.get("car_packages", ())] or [
        package({"name": c.get("car_name"), "content_ids": [c["car_id"]]}) for c in week.get("cars", ())
    ]
    track_ok = track is not None and owns(track["free"], track["content_ids"], owned.track_ids)
    cars_ok = any(owns(c["free"], c["content_ids"], owned.car_ids) for c in cars if c is not None)
    return WeekAccess(track_ok and cars_ok, None if track_ok else track, [] if cars_ok else _cheapest(cars))


def _price_key(p: Mapping[str, Any]) -> tuple[bool, bool, float, int]:
    """Cheapest first; a package not for sale or without a price last; then by package ID."""
    price = p.get("price")
    return (not p.get("purchasable"), price is None, price or 0.0, p.get("package_id") or 0)


def _cheapest(packages: Iterable[Json | None]) -> list[Json]:
    return sorted((p for p in packages if p is not None), key=_price_key)


def grid_week(week: Mapping[str, Any], owned: Ownership | None) -> Json:
    """One stored week as the grid answers it (models.http_planner.GridWeek)."""
    plan = week.get("plan") or {}
    summary = plan.get("weather_summary")
    out: Json = {
        "race_week_num": week["race_week_num"],
        "start_date": week.get("start_date"),
        "week_end_time": week.get("week_end_time"),
        "first_start": week.get("first_start"),
        "last_start": week.get("last_start"),
        "track_id": week.get("track_id"),
        "track_name": week.get("track_name"),
        "config_name": week.get("config_name"),
        "category": week.get("category"),
        "track_package": package(plan.get("track_package")),
        "cars": [{"car_id": c["car_id"], "car_name": c.get("car_name")} for c in week.get("cars", ())],
        "car_packages": [package(p) for p in plan.get("car_packages", ())],
        "race_laps": week.get("race_laps"),
        "race_minutes": week.get("race_minutes"),
        "rain_chance": rain_percent(summary.get("precip_chance")) if summary else None,
        "weather": weather_out(summary),
    }
    if owned is not None:
        access = week_access(week, owned)
        out["enterable"] = access.enterable
        out["missing"] = {"track_package": access.track, "car_packages": access.cars}  # (nothing when enterable)
    return out


def _season_order(season: GridSeason) -> tuple[bool, str, int]:
    return (season.series_name is None, season.series_name or "", season.season_id)


def season_grid(at: datetime, seasons: Sequence[GridSeason], owned: Ownership | None) -> Json:
    """GET /seasons: the seasons running at ``at`` with all their weeks (models.http_planner.SeasonGrid)."""
    out = []
    for season in sorted(seasons, key=_season_order):
        weeks = [grid_week(w, owned) for w in season.weeks]
        entry: Json = {
            "season_id": season.season_id,
            "series_id": season.series_id,
            "series_name": season.series_name,
            "season_name": season.season_name,
            "category": season.category,
            "license": license_letter(season.license_group),
            "license_group": season.license_group,
            "first_start": season.first_start,
            "end": season.end,
            "weeks": weeks,
        }
        if owned is not None:
            entry["enterable_weeks"] = sum(1 for w in weeks if w["enterable"])
        out.append(entry)
    return {"at": iso_z(at), "count": len(out), "seasons": out}


# --- the purchase guide ---------------------------------------------------------------------------------------


def _cents(pack: Mapping[str, Any]) -> int | None:
    """A package's price in cents, None when it is not for sale."""
    price = pack.get("price")
    return None if price is None or not pack.get("purchasable") else round(price * 100)


def _key(p: Mapping[str, Any]) -> tuple[int, ...]:
    """What tells packages apart: the package ID, or the content of one the catalog does not list."""
    return (p["package_id"],) if p.get("package_id") is not None else (-1, *p["content_ids"])


class _Choice(NamedTuple):
    cost: int  # cents
    packages: tuple[Json, ...]

    @property
    def rank(self) -> tuple[int, int]:
        return (self.cost, len(self.packages))


def cheapest_tracks(gains: Sequence[tuple[Json, int]], need: int) -> _Choice | None:
    """The least-cost set of track packages whose gains (weeks each unlocks: disjoint) add up to at least ``need``,
    fewest packages among equal costs; None if none does. An exact 0/1 knapsack over ``need`` + 1 states."""
    if need <= 0:
        return _Choice(0, ())
    best: list[_Choice | None] = [_Choice(0, ())] + [None] * need
    for pack, gain in gains:
        cost = _cents(pack)
        if cost is None or gain <= 0:
            continue  # not for sale
        for reached in range(need, -1, -1):  # descending: each package once
            base = best[reached]
            if base is None:
                continue
            target = min(need, reached + gain)
            candidate = _Choice(base.cost + cost, (*base.packages, pack))
            current = best[target]
            if current is None or candidate.rank < current.rank:
                best[target] = candidate
    return best[need]


def credit_purchase(weeks: Sequence[Json], owned: Ownership, min_weeks: int) -> Json | None:
    """The cheapest purchase reaching ``min_weeks`` raceable weeks: track packages, with the racer's cars or with
    one more car package of this season's; None if none reaches it."""
    accesses = [week_access(w, owned) for w in weeks]
    buyable: dict[tuple[int, ...], Json] = {}
    for access in accesses:
        for option in access.cars:
            if _cents(option) is not None:
                buyable.setdefault(_key(option), option)
    best: tuple[_Choice, int] | None = None
    cars: list[Json | None] = [None, *sorted(buyable.values(), key=_price_key)]
    for car in cars:
        having = owned if car is None else Ownership(owned.car_ids | frozenset(car["content_ids"]), owned.track_ids)
        raceable = 0
        gains: dict[tuple[int, ...], tuple[Json, int]] = {}
        for week in weeks:
            access = week_access(week, having)
            if access.enterable:
                raceable += 1
            elif not access.cars and access.track is not None:  # its cars are raceable: its track would open it
                pack, gain = gains.get(_key(access.track), (access.track, 0))
                gains[_key(access.track)] = (pack, gain + 1)
        ordered = sorted(gains.values(), key=lambda pg: _key(pg[0]))
        tracks = cheapest_tracks(ordered, min_weeks - raceable)
        if tracks is None:
            continue
        extra = sum(gain for pack, gain in ordered if any(_key(pack) == _key(t) for t in tracks.packages))
        choice = tracks if car is None else _Choice(tracks.cost + (_cents(car) or 0), (car, *tracks.packages))
        if best is None or choice.rank < best[0].rank:
            best = (choice, raceable + extra)
    if best is None:
        return None
    choice, reached = best
    return {"packages": list(choice.packages), "price": choice.cost / 100, "weeks_raceable": reached}


def _guide_week(season: GridSeason, week: Mapping[str, Any]) -> Json:
    return {
        "season_id": season.season_id,
        "series_id": season.series_id,
        "race_week_num": week["race_week_num"],
        "start_date": week.get("start_date"),
        "track_id": week.get("track_id"),
        "track_name": week.get("track_name"),
        "config_name": week.get("config_name"),
    }


def purchase_guide(at: datetime, series_ids: Sequence[int], seasons: Sequence[GridSeason], owned: Ownership) -> Json:
    """GET /purchase-guide (models.http_planner.PurchaseGuide): the track packages the racer lacks for these
    seasons, most weeks unlocked first (ties: cheaper, then by package ID); per season the weeks raceable now, the
    credit threshold, the cheapest purchase reaching it and the cars they lack."""
    lacking: dict[tuple[int, ...], tuple[Json, list[Json]]] = {}
    series = []
    for season in sorted(seasons, key=_season_order):
        weeks = sorted(season.weeks, key=lambda w: int(w["race_week_num"]))
        accesses = [week_access(w, owned) for w in weeks]
        missing_cars: dict[tuple[int, ...], Json] = {}
        for week, access in zip(weeks, accesses, strict=True):
            if access.track is not None:
                lacking.setdefault(_key(access.track), (access.track, []))[1].append(_guide_week(season, week))
            for car in access.cars:
                missing_cars.setdefault(_key(car), car)
        raceable = [int(w["race_week_num"]) for w, a in zip(weeks, accesses, strict=True) if a.enterable]
        min_weeks = credit_threshold(len(weeks))
        series.append(
            {
                "series_id": season.series_id,
                "series_name": season.series_name,
                "season_id": season.season_id,
                "season_name": season.season_name,
                "weeks": len(weeks),
                "weeks_raceable": len(raceable),
                "raceable_weeks": raceable,
                "min_weeks": min_weeks,
                "credit_reachable": len(raceable) >= min_weeks,
                "credit_purchase": credit_purchase(weeks, owned, min_weeks),
                "cars_missing": _cheapest(missing_cars.values()),
            }
        )
    packages = [
        {
            "package_id": pack["package_id"],
            "name": pack["name"],
            "price": pack["price"],
            "purchasable": pack["purchasable"],
            "content_ids": pack["content_ids"],
            "weeks_unlocked": len(unlocked),
            "weeks": unlocked,
        }
        for pack, unlocked in lacking.values()
    ]
    packages.sort(key=lambda p: (-p["weeks_unlocked"], *_price_key(p)))
    running = {s.series_id for s in seasons}
    return {
        "at": iso_z(at),
        "series_ids": sorted(set(series_ids)),
        "not_running": sorted(set(series_ids) - running),
        "packages": packages,
        "series": series,
    }
