"""GET /slots: race slots of every season starting in [from, to), filtered, a page at a time."""

from __future__ import annotations

from typing import Any

from iracing_sync import store
from iracing_sync.api.paging import fingerprint, page, page_body
from iracing_sync.api.params import (
    MAX_PAGE,
    Category,
    Cursor,
    FilterId,
    From,
    License,
    Limit,
    To,
    Tz,
    slot_filter,
    window,
    zone,
)
from iracing_sync.api.resolver import app, ok
from iracing_sync.api.schedules import check_known
from iracing_sync.errors import NotFoundError
from iracing_sync.instants import iso_z
from iracing_sync.models.http import SlotsPage


@app.get("/slots", responses=ok(SlotsPage, "the slots starting in [from, to), one page"))
def get_slots(
    start: From,
    end: To,
    series_id: FilterId = None,
    season_id: FilterId = None,
    category: Category = None,
    license_group: License = None,
    car_id: FilterId = None,
    track_id: FilterId = None,
    tz: Tz = None,
    limit: Limit = MAX_PAGE,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """Race slots starting in [from, to) (at most the configured days), filtered, a page at a time.

    Filters combine (AND): series_id, season_id, category, license, car_id (the car races that week: one of
    its classes, or of a car-switching week's cars), track_id. An ID filter that names nothing stored is a 404.
    Sorted by start_time, season_id, race_week_num; next_cursor fetches the next page.
    """
    local = zone(tz)
    lo, hi = window(start, end)
    where = slot_filter(series_id, season_id, category, license_group, car_id, track_id)
    bound = fingerprint(
        "slots", iso_z(lo), iso_z(hi), series_id, season_id, category, where.license_group, car_id, track_id
    )
    if season_id is not None:  # one season: its partition in one Query beats the time index
        found = page(lambda at: store.season_slot_sources(season_id, where), lo, hi, limit, cursor, bound)
        if found is None:
            raise NotFoundError(f"season {season_id} not found")
    else:
        found = page(lambda at: store.slot_sources_between(at, hi, where), lo, hi, limit, cursor, bound)
        assert found is not None  # the time index always answers
    slots, more = found
    if not slots and not cursor:
        check_known(where)
    return page_body({"from": iso_z(lo), "to": iso_z(hi)}, slots, more, limit, bound, local)
