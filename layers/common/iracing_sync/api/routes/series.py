"""GET /series, /series/{id}, its seasons, its next races and its calendar feed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response

from iracing_sync.api.answers import feed, json_answer, next_body, season_out
from iracing_sync.api.params import (
    At,
    CalendarFrom,
    CalendarTo,
    Content,
    Count,
    Id,
    OwnedIds,
    Tz,
    calendar_window,
    instant_or_now,
    ownership,
    slot_filter,
    zone,
)
from iracing_sync.api.resolver import app, ok
from iracing_sync.api.schedules import seasons_of_series, series_next, series_of_seasons, series_or_404, series_slots
from iracing_sync.ical import series_calendar_name


@app.get("/series", responses=ok("SeriesList", "every stored series"))
def get_series_list() -> Response[str]:
    """Every series iRacing lists (series/get)."""
    from iracing_sync.models.http import SeriesList, SeriesOut
    from iracing_sync.store import catalog

    return json_answer(SeriesList(series=catalog.list_series(as_=SeriesOut)))


@app.get("/series/<series_id>", responses=ok("SeriesOut", "the series"))
def get_series(series_id: Id) -> Response[str]:
    """One series (one iRacing's series list lacks: what its stored seasons say of it)."""
    return json_answer(series_or_404(series_id))


@app.get("/series/<series_id>/seasons", responses=ok("SeriesSeasons", "the series' stored seasons"))
def get_series_seasons(series_id: Id) -> Response[str]:
    """The stored seasons of one series."""
    from iracing_sync.models.http import SeriesSeasons

    seasons = seasons_of_series(series_id)
    return json_answer(SeriesSeasons(series_id=series_id, seasons=[season_out(s) for s in seasons]))


@app.get("/series/<series_id>/next", responses=ok("NextRaces", "the series' next races from at"))
def get_series_next(
    series_id: Id,
    at: At = None,
    count: Count = 1,
    owned_car_id: OwnedIds = None,
    owned_track_id: OwnedIds = None,
    content: Content = None,
    tz: Tz = None,
) -> dict[str, Any]:
    """The next race(s) of a series: the first slots starting at or after ``at`` (empty if none); with ownership
    parameters, the first the racer can enter."""
    local = zone(tz)
    instant = instant_or_now(at)
    where = slot_filter(owned=ownership(owned_car_id, owned_track_id, content))
    slots = series_next(seasons_of_series(series_id), instant, count, where)
    return next_body("series_id", series_id, instant, slots, local)


@app.get("/series/<series_id>/calendar.ics")
def get_series_calendar(
    series_id: Id,
    start: CalendarFrom = None,
    end: CalendarTo = None,
    owned_car_id: OwnedIds = None,
    owned_track_id: OwnedIds = None,
    content: Content = None,
) -> Response[str]:
    """An iCalendar feed of a series: one event per race slot in [from, to) (with ownership parameters: those the
    racer can enter), times in UTC."""
    from iracing_sync.store import catalog

    lo, hi = calendar_window(start, end)
    seasons = seasons_of_series(series_id)
    slots = series_slots(seasons, lo, hi, slot_filter(owned=ownership(owned_car_id, owned_track_id, content)))
    series = catalog.get_series(series_id) or series_of_seasons(series_id, seasons)
    name = series_calendar_name(series_id, series.series_name)
    return feed(slots, name, lo, hi, f"iracing-series-{series_id}.ics")
