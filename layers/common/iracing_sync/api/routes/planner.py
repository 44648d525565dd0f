"""GET /seasons (the season grid), /purchase-guide, and a week's forecast: planning with owned content.

The grid and the guide read the seasons running at an instant from the time index (store.grid: two Queries, the
seasons' grid items, which carry every week's packages and weather), so they read no catalog; both answer as text,
serialized once. A week's forecast is one GetItem.
"""

from __future__ import annotations

import json
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from iracing_sync.api.answers import json_answer
from iracing_sync.api.params import (
    ISO_INSTANT,
    MAX_ID,
    MAX_VALUES,
    AnId,
    Categories,
    Content,
    FilterIds,
    Id,
    Licenses,
    OwnedIds,
    instant_or_hour,
    ownership,
    slot_filter,
)
from iracing_sync.api.resolver import app, ok
from iracing_sync.api.schedules import series_known
from iracing_sync.errors import NotFoundError

GridAt = Annotated[
    str | None,
    Query(pattern=ISO_INSTANT, description="the instant, ISO 8601 (default: now, to the start of the hour)"),
]
GuideSeriesIds = Annotated[
    list[AnId],
    Query(
        alias="series_id",
        min_length=1,
        max_length=MAX_VALUES,
        description="the series to plan for (repeat the key, or separate them by commas)",
    ),
]
WeekNum = Annotated[int, Path(ge=0, le=MAX_ID, description="0-based week of the season")]


def _text(body: object) -> Response[str]:
    return json_answer(json.dumps(body, separators=(",", ":")))


@app.get("/seasons", responses=ok("SeasonGrid", "the seasons running at at, with all their weeks"))
def get_season_grid(
    at: GridAt = None,
    series_id: FilterIds = None,
    category: Categories = None,
    license_group: Licenses = None,
    owned_car_id: OwnedIds = None,
    owned_track_id: OwnedIds = None,
    content: Content = None,
) -> Response[str]:
    """Every season running at ``at`` with all its weeks: dates, track and its package, cars and theirs, race
    length, rain chance and weather; with ownership parameters, whether the racer can enter each week and what
    they lack. Filters: series_id, category, license ("any of" each)."""
    from iracing_sync.planner import season_grid  # (the planner's modules load on first use: api.routes)
    from iracing_sync.store.grid import running_seasons

    instant = instant_or_hour(at)
    owned = ownership(owned_car_id, owned_track_id, content)
    where = slot_filter(series_id, None, category, license_group)
    seasons = running_seasons(instant, where)
    if where.series_ids:
        series_known(where.series_ids - {s.series_id for s in seasons})
    return _text(season_grid(instant, seasons, owned))


@app.get("/purchase-guide", responses=ok("PurchaseGuide", "what to buy next for these series"))
def get_purchase_guide(
    series_id: GuideSeriesIds,
    at: GridAt = None,
    owned_car_id: OwnedIds = None,
    owned_track_id: OwnedIds = None,
    content: Content = None,
) -> Response[str]:
    """For the seasons of these series running at ``at``: every track package the racer lacks, ranked by the weeks
    it unlocks (ties: cheaper first); per season the weeks raceable now, the participation credit's threshold,
    whether it is reachable now and the cheapest purchase that reaches it, and the cars the racer lacks."""
    from iracing_sync.models.planning import Ownership
    from iracing_sync.planner import purchase_guide
    from iracing_sync.store.grid import running_seasons

    instant = instant_or_hour(at)
    owned = ownership(owned_car_id, owned_track_id, content) or Ownership()
    seasons = running_seasons(instant, slot_filter(series_id))
    series_known(set(series_id) - {s.series_id for s in seasons})
    return _text(purchase_guide(instant, series_id, seasons, owned))


@app.get(
    "/seasons/<season_id>/weeks/<race_week_num>/forecast",
    responses=ok("WeekForecast", "the week's hourly forecast, in units"),
)
def get_week_forecast(season_id: Id, race_week_num: WeekNum) -> Response[str]:
    """The forecast behind the week's weather_url, as the season sync fetched it (hourly keyframes, in units); 404
    when the week has none (not fetched yet, out of the horizon when it was synced, or unusable)."""
    from iracing_sync.store.forecasts import get_forecast

    found = get_forecast(season_id, race_week_num)
    if found is None or found.hours is None:
        why = f": {found.error}" if found is not None and found.error else ""
        raise NotFoundError(f"season {season_id} week {race_week_num} has no forecast{why}")
    body = {
        "season_id": found.season_id,
        "race_week_num": found.race_week_num,
        "object": found.object,
        "fetched_at": found.fetched_at,
        "hours": found.hours,
    }
    return _text(body)
