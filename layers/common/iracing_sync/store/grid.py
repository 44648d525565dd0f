"""The seasons running at an instant, with all their weeks: the season grid's and the purchase guide's one read.

Each season's grid item (store.seasons.GridItem) sits in the time index by the end of its last racing day, in that
year's partition (``S#<year>``). No season spans more than a year (the longest bundled one races 294 days), so the
seasons running at ``at`` end in its year or the next: two Queries, each from ``at`` on, filtered in DynamoDB to
the seasons that started by then and to the query's series, category and license. Never a Scan.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from iracing_sync.instants import iso_z
from iracing_sync.store.schema import grid_bucket, plain, raw_query
from iracing_sync.store.slot_sources import ANY, SlotFilter


class GridSeason(NamedTuple):
    """A season's grid item as read: its own facts, its end and its weeks (the stored JSON, decoded)."""

    season_id: int
    series_id: int | None
    series_name: str | None
    season_name: str | None
    category: str | None
    license_group: int | None
    first_start: str | None
    end: str | None
    weeks: list[dict[str, Any]]


def grid_queries(at: datetime, where: SlotFilter = ANY) -> list[dict[str, Any]]:
    """The low-level Query requests (without TableName) for the grid items of the seasons running at ``at``."""
    requests = []
    for bucket in (grid_bucket(at), grid_bucket(at.replace(year=at.year + 1, month=1, day=1))):
        q = where.expression()
        tpk, tsk, first = q.name("tpk"), q.name("tsk"), q.name("first_start")
        instant = q.value(iso_z(at))
        requests.append(q.request(f"{tpk} = {q.value(bucket)} AND {tsk} >= {instant}", [f"{first} <= {instant}"]))
    return requests


def grid_weeks(stored: dict[str, Any]) -> list[dict[str, Any]]:
    """A grid item's weeks (``seasons._grid_weeks``) with their references resolved: each week's cars
    (``{"car_id", "car_name"}``) and its ``plan`` (its track's and cars' packages, its weather summary), shared
    objects, not copies."""
    packages = stored.get("packages", [])
    names = stored.get("cars", {})
    weeks = []
    for week in stored.get("weeks", []):
        track = week.get("track_package")
        plan = {
            "track_package": packages[track] if track is not None else None,
            "car_packages": [packages[i] for i in week.get("car_packages", ())],
            "weather_summary": week.get("weather_summary"),
        }
        cars = [{"car_id": i, "car_name": names.get(str(i))} for i in week.get("car_ids", ())]
        weeks.append({**week, "cars": cars, "plan": plan})
    return weeks


def _season(item: dict[str, Any]) -> GridSeason:
    def value(name: str) -> Any:
        return plain(item[name]) if name in item else None

    return GridSeason(
        season_id=value("season_id"),
        series_id=value("series_id"),
        series_name=value("series_name"),
        season_name=value("season_name"),
        category=value("category"),
        license_group=value("license_group"),
        first_start=value("first_start"),
        end=str(value("tsk")).split("#", 1)[0],
        weeks=grid_weeks(json.loads(value("cars") or "{}")),
    )


def running_seasons(at: datetime, where: SlotFilter = ANY) -> list[GridSeason]:
    """The seasons running at ``at`` (first session at or before it, last racing day ending at or after it) that
    pass ``where`` (its series, category and license sets), with all their weeks: two Queries."""
    found: list[GridSeason] = []
    for request in grid_queries(at, where):
        found += [_season(item) for item in raw_query(request, f"the seasons running at {iso_z(at)}")]
    return found
