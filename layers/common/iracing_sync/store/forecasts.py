"""A week's hourly forecast (the body behind its weather_url), in its season's partition.

- forecast: pk SEASON#<id>, sk FORECAST#<nn:03d>: the forecast's object (its URL without the query string iRacing
  re-signs on every fetch), when it was fetched, its hourly keyframes (JSON, in units) or why it could not be
  fetched or parsed; it expires (purge_at) a week after its week ends. Sorted before the partition's other items,
  so the schedule's reads skip it (``seasons.AFTER_FORECASTS``).

What the season's sync handled is noted on its VERSION item (``forecasts``: race_week_num -> object), which the
current-seasons listing reads anyway: a week entering the forecast horizon, or a forecast iRacing replaced, makes
its season a Map item even when its schedule did not change.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from pynamodb.attributes import BooleanAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException, UpdateError

from iracing_sync.errors import RetryableError
from iracing_sync.instants import iso_z
from iracing_sync.store.schema import Item, get_item, lost_race, read, season_key
from iracing_sync.store.season_writes import VERSION, SeasonVersionItem
from iracing_sync.store.seasons import FORECAST_PREFIX


class ForecastItem(Item, discriminator="week_forecast"):
    """One week's forecast as fetched, or the reason it could not be (``error``; ``transient``: tried again)."""

    season_id = NumberAttribute()
    race_week_num = NumberAttribute()
    object = UnicodeAttribute()
    fetched_at = UnicodeAttribute()
    hours = UnicodeAttribute(null=True)
    error = UnicodeAttribute(null=True)
    transient = BooleanAttribute(default=False)


class StoredForecast(NamedTuple):
    """A week's stored forecast: its object, when it was fetched, its hours (in units), or why it has none."""

    season_id: int
    race_week_num: int
    object: str
    fetched_at: str
    hours: list[dict[str, Any]] | None
    error: str | None


def forecast_key(race_week_num: int) -> str:
    return f"{FORECAST_PREFIX}{race_week_num:03d}"


def put_forecast(
    season_id: int,
    race_week_num: int,
    object_: str,
    fetched_at: datetime,
    purge_at: datetime,
    *,
    hours: list[dict[str, Any]] | None = None,
    error: str | None = None,
    transient: bool = False,
) -> None:
    """Store a week's forecast, or why it could not be fetched or parsed (``transient``: to be tried again)."""
    item = ForecastItem(
        pk=season_key(season_id),
        sk=forecast_key(race_week_num),
        season_id=season_id,
        race_week_num=race_week_num,
        object=object_,
        fetched_at=iso_z(fetched_at),
        hours=json.dumps(hours, separators=(",", ":")) if hours is not None else None,
        error=error,
        transient=transient,
        purge_at=purge_at,
    )
    try:
        item.save()
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of season {season_id} week {race_week_num}'s forecast failed") from exc


def handled_forecasts(season_id: int) -> dict[int, str]:
    """The object of each week's forecast that is stored or failed for good (one Query of the partition's
    forecasts, keys and objects only)."""
    query = Item.query(
        season_key(season_id),
        Item.sk.startswith(FORECAST_PREFIX),
        attributes_to_get=["pk", "sk", "item_type", "race_week_num", "object", "transient"],
    )
    items = read(query, f"the forecasts of season {season_id}")
    return {int(i.race_week_num): str(i.object) for i in items if isinstance(i, ForecastItem) and not i.transient}


def note_forecasts(season_id: int, handled: dict[int, str]) -> None:
    """Note on the season's VERSION which forecasts its sync handled (what the listing compares); nothing if the
    season has no VERSION (its schedule was never stored)."""
    marks = json.dumps({str(week): obj for week, obj in sorted(handled.items())}, sort_keys=True)
    try:
        SeasonVersionItem(pk=season_key(season_id), sk=VERSION).update(
            actions=[SeasonVersionItem.forecasts.set(marks)], condition=SeasonVersionItem.pk.exists()
        )
    except UpdateError as exc:
        if not lost_race(exc):
            raise RetryableError(f"DynamoDB write of season {season_id}'s VERSION failed: {exc.msg}") from exc


def get_forecast(season_id: int, race_week_num: int) -> StoredForecast | None:
    """A week's stored forecast (one GetItem), None if it has none."""
    item = get_item(Item, season_key(season_id), forecast_key(race_week_num), f"season {season_id}'s forecast")
    if not isinstance(item, ForecastItem):
        return None
    return StoredForecast(
        season_id=int(item.season_id),
        race_week_num=int(item.race_week_num),
        object=str(item.object),
        fetched_at=str(item.fetched_at),
        hours=json.loads(item.hours) if item.hours else None,
        error=item.error,
    )
