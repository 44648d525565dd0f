"""The weeks' forecasts a season sync fetches: the weeks due (running or starting within the horizon), each
fetched once per week and forecast object whatever the link's signature, stored with its week; one that cannot be
fetched or parsed is recorded and never fails the season."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from iracing_sync.client import FORECAST_ENDPOINT, IracingClient
from iracing_sync.errors import PermanentError, RetryableError
from iracing_sync.models.iracing_bodies import Season
from iracing_sync.observability import logger
from iracing_sync.settings import get_settings
from iracing_sync.sources import new_client, shared_archive
from iracing_sync.store import forecasts
from iracing_sync.weather import forecast_due, forecast_hours, forecast_object, week_bounds

# A week's stored forecast is kept this long after its week ends (then DynamoDB's TTL deletes it).
FORECAST_KEPT_FOR = timedelta(days=7)


def forecast_clock() -> datetime:
    """The instant the weeks' forecasts are due by: the clock, or FORECAST_NOW where set (the local demo)."""
    return get_settings().forecast_now or datetime.now(UTC)


def forecasts_due(season: Season, now: datetime) -> dict[int, tuple[str, datetime]]:
    """The weeks whose forecast is fetched at ``now`` (running or starting within the horizon, with a weather_url):
    race_week_num -> (its weather_url, when its week ends)."""
    due = {}
    for week in season.schedules:
        url = week.weather.weather_url if week.weather else None
        bounds = week_bounds(week.start_date, week.week_end_time)
        if url and bounds is not None and forecast_due(bounds, now):
            due[week.race_week_num] = (url, bounds[1])
    return due


def sync_forecasts(season: Season, client: IracingClient | None) -> tuple[IracingClient | None, int, int]:
    """Fetch the forecasts due of a stored season (running or starting within the horizon) that are not stored yet
    for the object its weather_url names: once per week and object, whatever the link's signature. One that cannot
    be fetched or parsed is stored as such and never fails the season (a transient failure is tried again by the
    next run). Returns the client (made on the first fetch), and how many were fetched and failed."""
    due = forecasts_due(season, forecast_clock())
    if not due:
        return client, 0, 0
    handled = forecasts.handled_forecasts(season.season_id)
    fetched = failed = 0
    for week, (url, ends) in sorted(due.items()):
        target = forecast_object(url)
        if handled.get(week) == target:
            continue
        client = client or new_client()
        at = datetime.now(UTC)
        where = {"season_id": season.season_id, "race_week_num": week}
        purge = ends + FORECAST_KEPT_FOR
        try:
            body = client.forecast(url, **where)
            shared_archive().put(FORECAST_ENDPOINT, where, body, fetched_at=at)
            hours = forecast_hours(body)
        except RetryableError as exc:  # an expired link, a timeout, S3 down: the next run tries again
            forecasts.put_forecast(season.season_id, week, target, at, purge, error=str(exc), transient=True)
            failed += 1
            logger.warning("forecast not fetched", extra={"race_week_num": week, "reason": str(exc)})
            continue
        except PermanentError as exc:  # refused, or not a forecast: recorded, not fetched again for this object
            forecasts.put_forecast(season.season_id, week, target, at, purge, error=str(exc))
            handled[week] = target
            failed += 1
            logger.warning("forecast unusable", extra={"race_week_num": week, "reason": str(exc)})
            continue
        forecasts.put_forecast(season.season_id, week, target, at, purge, hours=hours)
        handled[week] = target
        fetched += 1
    forecasts.note_forecasts(season.season_id, {week: handled[week] for week in due if week in handled})
    return client, fetched, failed
