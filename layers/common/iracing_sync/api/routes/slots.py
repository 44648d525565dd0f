"""GET /slots: race slots of every season starting in [from, to), filtered, a page at a time."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from iracing_sync import store
from iracing_sync.api.answers import json_answer
from iracing_sync.api.paging import fingerprint, page, page_body
from iracing_sync.api.params import (
    MAX_PAGE,
    Categories,
    Content,
    Cursor,
    FilterIds,
    From,
    Licenses,
    Limit,
    OwnedIds,
    To,
    Tz,
    ownership,
    slot_filter,
    window,
    zone,
)
from iracing_sync.api.resolver import app, ok
from iracing_sync.api.schedules import check_known
from iracing_sync.errors import NotFoundError
from iracing_sync.instants import iso_z


@app.get("/slots", responses=ok("SlotsPage", "the slots starting in [from, to), one page"))
def get_slots(
    start: From,
    end: To,
    series_id: FilterIds = None,
    season_id: FilterIds = None,
    category: Categories = None,
    license_group: Licenses = None,
    car_id: FilterIds = None,
    track_id: FilterIds = None,
    owned_car_id: OwnedIds = None,
    owned_track_id: OwnedIds = None,
    content: Content = None,
    tz: Tz = None,
    limit: Limit = MAX_PAGE,
    cursor: Cursor = None,
) -> Response[str]:
    """Race slots starting in [from, to) (at most the configured days), filtered, a page at a time.

    Filters combine (AND); a repeated key (or commas) means any of its values: series_id, season_id, category,
    license, car_id (the car races that week: a car-rotation week's own cars, else its classes' cars), track_id.
    An ID filter naming anything not stored is a 404. With owned_car_id / owned_track_id (or content=free), only
    the races the racer can enter: the track's package owned or free, and one of the week's cars. Sorted by
    start_time, season_id, race_week_num; next_cursor fetches the next page.
    """
    local = zone(tz)
    lo, hi = window(start, end)
    owned = ownership(owned_car_id, owned_track_id, content)
    where = slot_filter(series_id, season_id, category, license_group, car_id, track_id, owned)
    bound = fingerprint("slots", iso_z(lo), iso_z(hi), where.canonical())
    if where.season_ids is not None and len(where.season_ids) == 1:  # one season: its partition beats the index
        (only,) = where.season_ids
        found = page(lambda at: store.season_slot_sources(only, where), lo, hi, limit, cursor, bound)
        if found is None:
            raise NotFoundError(f"season {only} not found")
    else:
        found = page(lambda at: store.slot_sources_between(at, hi, where), lo, hi, limit, cursor, bound)
        assert found is not None  # the time index always answers
    slots, more = found
    if not cursor:
        check_known(where, slots)
    return json_answer(page_body({"from": iso_z(lo), "to": iso_z(hi)}, slots, more, limit, bound, local))
