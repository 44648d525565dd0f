"""GET /seasons/{id} (with weeks), its slots, its next races and its calendar feed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from iracing_sync import store
from iracing_sync.api.answers import feed, json_answer, next_body, season_with_weeks
from iracing_sync.api.paging import fingerprint, page, page_body, slots_from
from iracing_sync.api.params import (
    MAX_PAGE,
    At,
    CalendarFrom,
    CalendarTo,
    Content,
    Count,
    Cursor,
    Id,
    Limit,
    OwnedIds,
    SeasonFrom,
    SeasonTo,
    Tz,
    calendar_window,
    instant_or_now,
    ownership,
    season_window,
    slot_filter,
    zone,
)
from iracing_sync.api.resolver import app, ok
from iracing_sync.api.schedules import season_next, season_or_404, season_sources_or_404
from iracing_sync.errors import NotFoundError
from iracing_sync.ical import season_calendar_name
from iracing_sync.instants import iso_z


@app.get("/seasons/<season_id>", responses=ok("SeasonWithWeeks", "the season with its weeks"))
def get_season(season_id: Id) -> Response[str]:
    """One season with its weeks."""
    return json_answer(season_with_weeks(season_or_404(season_id)))


@app.get("/seasons/<season_id>/slots", responses=ok("SeasonSlotsPage", "the season's slots, one page"))
def get_season_slots(
    season_id: Id,
    start: SeasonFrom = None,
    end: SeasonTo = None,
    owned_car_id: OwnedIds = None,
    owned_track_id: OwnedIds = None,
    content: Content = None,
    tz: Tz = None,
    limit: Limit = MAX_PAGE,
    cursor: Cursor = None,
) -> Response[str]:
    """The slots of one season, within [from, to) if given, a page at a time (one Query per page); with ownership
    parameters only the races the racer can enter."""
    local = zone(tz)
    lo, hi = season_window(start, end)
    where = slot_filter(owned=ownership(owned_car_id, owned_track_id, content))
    # (a cursor is bound to the ownership too, when given)
    owned = [where.ownership.canonical()] if where.ownership is not None else []
    bound = fingerprint("season", season_id, iso_z(lo), iso_z(hi), *owned)
    found = page(lambda at: store.season_slot_sources(season_id, where), lo, hi, limit, cursor, bound)
    if found is None:
        raise NotFoundError(f"season {season_id} not found")
    return json_answer(page_body({"season_id": season_id}, *found, limit, bound, local))


@app.get("/seasons/<season_id>/next", responses=ok("NextRaces", "the season's next races from at"))
def get_season_next(
    season_id: Id,
    at: At = None,
    count: Count = 1,
    owned_car_id: OwnedIds = None,
    owned_track_id: OwnedIds = None,
    content: Content = None,
    tz: Tz = None,
) -> dict[str, Any]:
    """The next race(s) of a season: the first slots starting at or after ``at`` (empty if none); with ownership
    parameters, the first the racer can enter."""
    local = zone(tz)
    instant = instant_or_now(at)
    where = slot_filter(owned=ownership(owned_car_id, owned_track_id, content))
    return next_body("season_id", season_id, instant, season_next(season_id, instant, count, where), local)


@app.get("/seasons/<season_id>/calendar.ics")
def get_season_calendar(
    season_id: Id,
    start: CalendarFrom = None,
    end: CalendarTo = None,
    owned_car_id: OwnedIds = None,
    owned_track_id: OwnedIds = None,
    content: Content = None,
) -> Response[str]:
    """An iCalendar feed of a season: one event per race slot in [from, to) (with ownership parameters: those the
    racer can enter), times in UTC."""
    lo, hi = calendar_window(start, end)
    facts, sources = season_sources_or_404(
        season_id, slot_filter(owned=ownership(owned_car_id, owned_track_id, content))
    )
    name = season_calendar_name(season_id, facts.season_name)
    return feed(slots_from(sources, lo, hi), name, lo, hi, f"iracing-season-{season_id}.ics")
