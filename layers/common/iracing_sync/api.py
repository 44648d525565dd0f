"""The slots HTTP API: routes, input validation and the one place errors become HTTP responses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from operator import itemgetter
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from iracing_sync import store
from iracing_sync.errors import AppError, InvalidInputError, NotFoundError, RetryableError, UnprocessableError
from iracing_sync.ical import calendar_for, season_calendar_name, series_calendar_name, window_description
from iracing_sync.models import Slot, iso_z
from iracing_sync.observability import logger
from iracing_sync.recurrence import expand, next_slots
from iracing_sync.settings import get_settings
from iracing_sync.timezones import get_zone, slot_json

app = APIGatewayHttpResolver(enable_validation=True)
app.enable_swagger(path="/docs", title="iracing-sync", description="iRacing series, seasons and race time slots")

Id = Annotated[int, Path(gt=0, description="iRacing ID")]
Tz = Annotated[
    str | None,
    Query(description="IANA time zone, e.g. Europe/London: adds tz, start_local and end_local to each slot"),
]


def parse_instant(name: str, value: str) -> datetime:
    """An ISO 8601 date or date-time; naive means UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            d = date.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(f"{name}: {value!r} is not an ISO 8601 date/time") from None
        parsed = datetime(d.year, d.month, d.day)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _window(start: str, end: str) -> tuple[datetime, datetime]:
    lo, hi = parse_instant("from", start), parse_instant("to", end)
    if lo >= hi:
        raise UnprocessableError("from must be before to")
    limit = timedelta(days=get_settings().max_window_days)
    if hi - lo > limit:
        raise UnprocessableError(f"the window may span at most {limit.days} days")
    return lo, hi


def slots_from(sources: store.SlotSources, lo: datetime, hi: datetime) -> list[Slot]:
    """Expand stored patterns and keep fixed slots inside [lo, hi), deduplicated and sorted."""
    return expand(sources.patterns, lo, hi, repeating=True, fixed=sources.fixed_slots)


def _zone(tz: str | None) -> ZoneInfo | None:
    """The zone of a ``tz`` parameter (checked before any read); UnknownTimeZoneError -> 400."""
    return None if tz is None else get_zone(tz)


@app.get("/slots")
def get_slots(
    start: Annotated[str, Query(alias="from", description="window start, ISO 8601 (UTC if no offset)")],
    end: Annotated[str, Query(alias="to", description="window end (exclusive), ISO 8601")],
    series_id: Annotated[int | None, Query(gt=0)] = None,
    season_id: Annotated[int | None, Query(gt=0)] = None,
    tz: Tz = None,
) -> dict[str, Any]:
    """Race slots starting in [from, to), optionally for one series or season."""
    zone = _zone(tz)
    lo, hi = _window(start, end)
    slots = slots_from(store.slot_sources_between(lo, hi), lo, hi)
    if series_id is not None:
        slots = [s for s in slots if s.series_id == series_id]
    if season_id is not None:
        slots = [s for s in slots if s.season_id == season_id]
    body: dict[str, Any] = {"from": iso_z(lo), "to": iso_z(hi), "count": len(slots)}
    if zone is not None:
        body["tz"] = zone.key
    return {**body, "slots": [slot_json(s, zone) for s in slots]}


@app.get("/series")
def get_series_list() -> dict[str, Any]:
    """Every series."""
    return {"series": [store.item_to_dict(s) for s in store.list_series()]}


@app.get("/series/<series_id>")
def get_series(series_id: Id) -> dict[str, Any]:
    """One series."""
    item = store.get_series(series_id)
    if item is None:
        raise NotFoundError(f"series {series_id} not found")
    return store.item_to_dict(item)


@app.get("/series/<series_id>/seasons")
def get_series_seasons(series_id: Id) -> dict[str, Any]:
    """The stored seasons of one series."""
    seasons = store.list_seasons_of_series(series_id)
    if not seasons and store.get_series(series_id) is None:
        raise NotFoundError(f"series {series_id} not found")
    return {"series_id": series_id, "seasons": [store.item_to_dict(s) for s in seasons]}


def _season(season_id: int) -> store.StoredSeason:
    stored = store.get_season(season_id)
    if stored is None:
        raise NotFoundError(f"season {season_id} not found")
    return stored


@app.get("/seasons/<season_id>")
def get_season(season_id: Id) -> dict[str, Any]:
    """One season with its weeks."""
    stored = _season(season_id)
    return {**store.item_to_dict(stored.season), "weeks": [store.item_to_dict(w) for w in stored.weeks]}


@app.get("/seasons/<season_id>/slots")
def get_season_slots(
    season_id: Id,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
    tz: Tz = None,
) -> dict[str, Any]:
    """The slots of one season, within [from, to) if given."""
    zone = _zone(tz)
    stored = _season(season_id)
    lo = parse_instant("from", start) if start else datetime(1970, 1, 1, tzinfo=UTC)
    hi = parse_instant("to", end) if end else datetime(9999, 1, 1, tzinfo=UTC)
    if lo >= hi:
        raise UnprocessableError("from must be before to")
    slots = slots_from(stored.sources, lo, hi)
    body: dict[str, Any] = {"season_id": season_id, "count": len(slots)}
    if zone is not None:
        body["tz"] = zone.key
    return {**body, "slots": [slot_json(s, zone) for s in slots]}


# --- next race and calendars ------------------------------------------------------------------------

# How far back a season may have started and still race: the longest season in the bundled data runs
# 300 days after its start_date (year-long series); no season races before its start_date.
SEASON_LOOKBACK = timedelta(days=400)
CALENDAR_DAYS = 28
MAX_NEXT = 50
Count = Annotated[int, Query(ge=1, le=MAX_NEXT, description="how many races (default 1)")]
At = Annotated[str | None, Query(description="the instant to look from, ISO 8601 (default: now)")]


def _season_start(season: store.SeasonItem) -> datetime | None:
    if not season.start_date:
        return None
    d = date.fromisoformat(season.start_date)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def _seasons_of_series(series_id: int) -> list[store.SeasonItem]:
    """The stored seasons of a series (one Query); NotFoundError if the series is unknown."""
    seasons = store.list_seasons_of_series(series_id)
    if not seasons and store.get_series(series_id) is None:
        raise NotFoundError(f"series {series_id} not found")
    return seasons


def _sources(seasons: list[store.SeasonItem]) -> store.SlotSources:
    """The patterns and fixed slots of these seasons, one partition Query each."""
    patterns, fixed = [], []
    for season in seasons:
        stored = store.get_season(int(season.season_id))
        if stored is not None:  # deleted since it was listed
            patterns.extend(stored.sources.patterns)
            fixed.extend(stored.sources.fixed_slots)
    return store.SlotSources(patterns, fixed)


def _series_slots(seasons: list[store.SeasonItem], lo: datetime, hi: datetime) -> list[Slot]:
    """The slots in [lo, hi) of a series, reading only the seasons that can race then."""
    racing = [s for s in seasons if (start := _season_start(s)) is None or lo - SEASON_LOOKBACK <= start < hi]
    return slots_from(_sources(racing), lo, hi)


def _series_next(seasons: list[store.SeasonItem], at: datetime, count: int) -> list[Slot]:
    """The next ``count`` slots of a series from ``at``: running seasons first, then later ones in start order.

    A later season is read only while it could still hold one of the answers (it starts before the
    last one found), so a series with years of stored history costs a few Queries, not one per season.
    """
    dated = [(_season_start(s), s) for s in seasons]
    running = [s for start, s in dated if start is None or at - SEASON_LOOKBACK <= start <= at]
    later = sorted(((start, s) for start, s in dated if start is not None and start > at), key=itemgetter(0))
    sources = _sources(running)
    found = next_slots(sources.patterns, at, count, repeating=True, fixed=sources.fixed_slots)
    for opens, season in later:
        if len(found) == count and found[-1].start_time < opens:
            break
        more = _sources([season])
        sources = store.SlotSources(sources.patterns + more.patterns, sources.fixed_slots + more.fixed_slots)
        found = next_slots(sources.patterns, at, count, repeating=True, fixed=sources.fixed_slots)
    return found


def _next_body(key: str, ident: int, at: datetime, slots: list[Slot], zone: ZoneInfo | None) -> dict[str, Any]:
    body: dict[str, Any] = {key: ident, "at": iso_z(at), "count": len(slots)}
    if zone is not None:
        body["tz"] = zone.key
    return {**body, "slots": [slot_json(s, zone) for s in slots]}


@app.get("/series/<series_id>/next")
def get_series_next(series_id: Id, at: At = None, count: Count = 1, tz: Tz = None) -> dict[str, Any]:
    """The next race(s) of a series: the first slots starting at or after ``at`` (empty if none)."""
    zone = _zone(tz)
    instant = parse_instant("at", at) if at else datetime.now(UTC)
    slots = _series_next(_seasons_of_series(series_id), instant, count)
    return _next_body("series_id", series_id, instant, slots, zone)


@app.get("/seasons/<season_id>/next")
def get_season_next(season_id: Id, at: At = None, count: Count = 1, tz: Tz = None) -> dict[str, Any]:
    """The next race(s) of a season: the first slots starting at or after ``at`` (empty if none)."""
    zone = _zone(tz)
    instant = parse_instant("at", at) if at else datetime.now(UTC)
    sources = _season(season_id).sources
    slots = next_slots(sources.patterns, instant, count, repeating=True, fixed=sources.fixed_slots)
    return _next_body("season_id", season_id, instant, slots, zone)


def _calendar_window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """[from, to) of a feed: from defaults to now, to to from + 28 days; at most the settings' window."""
    limit = timedelta(days=get_settings().max_window_days)
    lo = parse_instant("from", start) if start else datetime.now(UTC).replace(microsecond=0)
    hi = parse_instant("to", end) if end else lo + min(timedelta(days=CALENDAR_DAYS), limit)
    if lo >= hi:
        raise UnprocessableError("from must be before to")
    if hi - lo > limit:
        raise UnprocessableError(f"the window may span at most {limit.days} days")
    return lo, hi


def _ics(document: bytes, filename: str) -> Response[str]:
    return Response(
        200,
        "text/calendar; charset=utf-8",
        document.decode("utf-8"),
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


CalendarFrom = Annotated[str | None, Query(alias="from", description="first start, ISO 8601 (default: now)")]
CalendarTo = Annotated[str | None, Query(alias="to", description="end, exclusive (default: from + 28 days)")]


@app.get("/series/<series_id>/calendar.ics")
def get_series_calendar(series_id: Id, start: CalendarFrom = None, end: CalendarTo = None) -> Response[str]:
    """An iCalendar feed of a series: one event per race slot in [from, to), times in UTC."""
    lo, hi = _calendar_window(start, end)
    slots = _series_slots(_seasons_of_series(series_id), lo, hi)
    series = store.get_series(series_id)
    name = series_calendar_name(series_id, series.series_name if series else None)
    document = calendar_for(slots, name, description=window_description(lo, hi))
    return _ics(document, f"iracing-series-{series_id}.ics")


@app.get("/seasons/<season_id>/calendar.ics")
def get_season_calendar(season_id: Id, start: CalendarFrom = None, end: CalendarTo = None) -> Response[str]:
    """An iCalendar feed of a season: one event per race slot in [from, to), times in UTC."""
    lo, hi = _calendar_window(start, end)
    stored = _season(season_id)
    name = season_calendar_name(season_id, stored.season.season_name)
    document = calendar_for(slots_from(stored.sources, lo, hi), name, description=window_description(lo, hi))
    return _ics(document, f"iracing-season-{season_id}.ics")


@app.get("/openapi.json")
def get_openapi() -> Response[str]:
    """This API's OpenAPI document."""
    return Response(200, content_types.APPLICATION_JSON, app.get_openapi_json_schema(title="iracing-sync"))


# --- the one place errors become HTTP responses ------------------------------------------------------


def _error(status: int, code: str, message: str) -> Response[dict[str, Any]]:
    return Response(status, content_types.APPLICATION_JSON, {"error": {"code": code, "message": message}})


@app.exception_handler(AppError)
def _app_error(exc: AppError) -> Response[dict[str, Any]]:
    logger.info("request refused", extra={"status": exc.status, "reason": exc.message})
    return _error(exc.status, exc.code, exc.message)


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response[dict[str, Any]]:
    details = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}" for e in exc.errors()
    )
    return _error(400, "invalid_input", details or "invalid request")


@app.not_found
def _not_found(exc: Exception) -> Response[dict[str, Any]]:
    return _error(404, "not_found", f"no route {app.current_event.path}")


@app.exception_handler(RetryableError)
def _unavailable(exc: RetryableError) -> Response[dict[str, Any]]:
    logger.exception("backend unavailable")
    return _error(503, "unavailable", "the data store is unavailable, try again")
