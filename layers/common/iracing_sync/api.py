"""The slots HTTP API: routes, input validation and the one place errors become HTTP responses."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, partial
from operator import itemgetter
from pathlib import Path as FilePath
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo

import aws_lambda_powertools.event_handler
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.shared.json_encoder import Encoder

from iracing_sync import store
from iracing_sync.errors import (
    AppError,
    InvalidCursorError,
    InvalidInputError,
    NotFoundError,
    RetryableError,
    UnprocessableError,
)
from iracing_sync.ical import calendar_for, season_calendar_name, series_calendar_name, window_description
from iracing_sync.models import (
    ErrorBody,
    SeasonSlotsPage,
    SeasonWithWeeks,
    SeriesList,
    SeriesOut,
    SeriesSeasons,
    Slot,
    SlotsPage,
    iso_z,
)
from iracing_sync.observability import logger
from iracing_sync.recurrence import expand, next_slots
from iracing_sync.settings import get_settings
from iracing_sync.timezones import get_zone, slot_json

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

_serialize = partial(json.dumps, separators=(",", ":"), cls=Encoder)


class _Resolver(APIGatewayHttpResolver):
    """Powertools' HTTP API resolver whose OpenAPI document states what this API really answers (see below)."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPI:
        return finish_openapi(super().get_openapi_schema(**kwargs))


app = _Resolver(enable_validation=True, serializer=_serialize)
app.configure_openapi(
    title="iracing-sync",
    version="1.0.0",
    description="iRacing series, seasons and race time slots, computed from each week's schedule pattern. "
    'All times UTC unless a tz is given. Errors: {"error": {"code", "message"}}.',
)

# iRacing IDs are 32-bit; a larger number is bad input (400), never a key DynamoDB would refuse (5xx).
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(gt=0, le=MAX_ID, description="iRacing ID")]
Tz = Annotated[
    str | None,
    Query(description="IANA time zone, e.g. Europe/London: adds tz, start_local and end_local to each slot"),
]


# Instants outside these years are bad input: no iRacing schedule is there, and date arithmetic near
# datetime's limits (a window's lookback, a season's) would overflow.
FIRST_YEAR, LAST_YEAR = 1970, 2199


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
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise InvalidInputError(f"{name}: {value!r} is outside the years {FIRST_YEAR}-{LAST_YEAR}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _checked(lo: datetime, hi: datetime, *, bounded: bool = True) -> tuple[datetime, datetime]:
    """[lo, hi) if lo is before hi and (when ``bounded``) it spans at most the settings' days; else 422."""
    if lo >= hi:
        raise UnprocessableError("from must be before to")
    limit = timedelta(days=get_settings().max_window_days)
    if bounded and hi - lo > limit:
        raise UnprocessableError(f"the window may span at most {limit.days} days")
    return lo, hi


def _window(start: str, end: str) -> tuple[datetime, datetime]:
    return _checked(parse_instant("from", start), parse_instant("to", end))


def slots_from(sources: store.SlotSources, lo: datetime, hi: datetime) -> list[Slot]:
    """Expand stored patterns and keep fixed slots inside [lo, hi), deduplicated and sorted."""
    return expand(sources.patterns, lo, hi, repeating=True, fixed=sources.fixed_slots)


def _zone(tz: str | None) -> ZoneInfo | None:
    """The zone of a ``tz`` parameter (checked before any read); UnknownTimeZoneError -> 400."""
    return None if tz is None else get_zone(tz)


# --- slots: filters and pages ----------------------------------------------------------------------

# A page at most this long stays near 3-4 MB of JSON (with tz), under Lambda's 6 MB response limit. It is
# also the default, so a window of a few days over all seasons is one page, as before pagination.
MAX_PAGE = 10_000
# iRacing's track categories; "road" also means the two it was split into in 2024 (older data knows only road).
CATEGORIES: dict[str, frozenset[str]] = {
    "oval": frozenset({"oval"}),
    "road": frozenset({"road", "sports_car", "formula_car"}),
    "dirt_oval": frozenset({"dirt_oval"}),
    "dirt_road": frozenset({"dirt_road"}),
    "sports_car": frozenset({"sports_car"}),
    "formula_car": frozenset({"formula_car"}),
}
# iRacing's license groups (lookup/licenses): the letter or the group number.
LICENSE_GROUPS = {"R": 1, "D": 2, "C": 3, "B": 4, "A": 5}
ISO_INSTANT = r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?([Zz]|[+-]\d{2}:\d{2})?$"
LICENSE = "^[RDCBArdcba1-5]$"
PATTERN_MEANS = {
    ISO_INSTANT: "an ISO 8601 date or date-time, e.g. 2025-09-09 or 2025-09-09T12:00:00Z",
    LICENSE: "a license group: R, D, C, B, A or 1-5",
}

From = Annotated[
    str,
    Query(alias="from", pattern=ISO_INSTANT, description="window start, ISO 8601 date or date-time (UTC if no offset)"),
]
To = Annotated[str, Query(alias="to", pattern=ISO_INSTANT, description="window end (exclusive), ISO 8601")]
FilterId = Annotated[int | None, Query(gt=0, le=MAX_ID)]
Category = Annotated[
    Literal["oval", "road", "dirt_oval", "dirt_road", "sports_car", "formula_car"] | None,
    Query(description="track category; road includes sports_car and formula_car"),
]
License = Annotated[
    str | None,
    Query(
        alias="license",
        pattern=LICENSE,
        description="license group: R, D, C, B, A (or 1-5): series of that license",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"slots per page (default and maximum {MAX_PAGE})")]
Cursor = Annotated[
    str | None, Query(max_length=200, description="next_cursor of the previous page (same query otherwise)")
]


@dataclass(frozen=True)
class _After:
    """Where a page starts: after the slot (start, season_id, race_week_num) that ended the previous one."""

    start: datetime
    season_id: int
    race_week_num: int

    @property
    def key(self) -> tuple[datetime, int, int]:
        return (self.start, self.season_id, self.race_week_num)


def _fingerprint(*parts: object) -> str:
    """What a cursor is bound to: the window and filters of the query that issued it."""
    return hashlib.blake2b(json.dumps(parts, default=str).encode(), digest_size=8).hexdigest()


def encode_cursor(last: Slot, fingerprint: str) -> str:
    """An opaque cursor: the last slot's sort key plus the query's fingerprint (keyset pagination, no state)."""
    raw = f"{int(last.start_time.timestamp())}.{last.season_id}.{last.race_week_num}.{fingerprint}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, fingerprint: str, lo: datetime, hi: datetime) -> _After:
    """The position a cursor stands for; InvalidCursorError if it is malformed, foreign or outside [lo, hi)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        start, season_id, week, bound = raw.split(".")
        after = _After(datetime.fromtimestamp(int(start), UTC), int(season_id), int(week))
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError):
        raise InvalidCursorError("cursor: not a cursor this API issued") from None
    if bound != fingerprint:
        raise InvalidCursorError("cursor: it belongs to a query with other from, to or filters")
    if not lo <= after.start < hi:
        raise InvalidCursorError("cursor: outside the window")
    return after


def _page(
    sources: Callable[[datetime], store.SlotSources | None],
    lo: datetime,
    hi: datetime,
    limit: int,
    after: _After | None,
) -> tuple[list[Slot], bool] | None:
    """Up to ``limit`` slots of [lo, hi) after ``after``, and whether more follow; None if the sources are unknown.

    The next page reads only from the cursor's start on: each page costs the same few Queries, wherever it is.
    """
    start = after.start if after is not None else lo
    found = sources(start)
    if found is None:
        return None
    slots = slots_from(found, start, hi)
    if after is not None:
        slots = slots[bisect_right(slots, after.key, key=lambda s: s.key) :]
    return slots[:limit], len(slots) > limit


def _slot_filter(
    series_id: int | None,
    season_id: int | None,
    category: str | None,
    license_group: str | None,
    car_id: int | None,
    track_id: int | None,
) -> store.SlotFilter:
    """The filter of a /slots query; a car_id costs one Query of the car classes (NotFoundError if in none)."""
    classes: frozenset[int] = frozenset()
    if car_id is not None:
        classes = store.car_classes_with_car(car_id)
        if not classes:
            raise NotFoundError(f"car {car_id} is in no stored car class")
    group = None if license_group is None else LICENSE_GROUPS.get(license_group.upper()) or int(license_group)
    return store.SlotFilter(
        series_id=series_id,
        season_id=season_id,
        categories=CATEGORIES[category] if category is not None else None,
        license_group=group,
        track_id=track_id,
        car_id=car_id,
        car_class_ids=classes,
    )


def _check_known(where: store.SlotFilter) -> None:
    """NotFoundError for an ID filter that names nothing stored (asked only when a query found no slot)."""
    for kind, ident in (("series", where.series_id), ("track", where.track_id)):
        if ident is not None and not store.is_stored(kind, ident):
            raise NotFoundError(f"{kind} {ident} not found")


def _slot_page_body(
    head: dict[str, Any], page: list[Slot], more: bool, limit: int, bound: str, zone: ZoneInfo | None
) -> dict[str, Any]:
    body = {**head, "count": len(page), "limit": limit, "next_cursor": encode_cursor(page[-1], bound) if more else None}
    if zone is not None:
        body["tz"] = zone.key
    return {**body, "slots": [slot_json(s, zone) for s in page]}


def _ok(model: type, description: str) -> dict[int, OpenAPIResponse]:
    return {200: {"description": description, "content": {content_types.APPLICATION_JSON: {"model": model}}}}


@app.get("/slots", responses=_ok(SlotsPage, "the slots starting in [from, to), one page"))
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
    zone = _zone(tz)
    lo, hi = _window(start, end)
    where = _slot_filter(series_id, season_id, category, license_group, car_id, track_id)
    bound = _fingerprint(
        "slots", iso_z(lo), iso_z(hi), series_id, season_id, category, where.license_group, car_id, track_id
    )
    after = decode_cursor(cursor, bound, lo, hi) if cursor else None
    if season_id is not None:  # one season: its partition in one Query beats the time index
        page = _page(lambda at: store.season_slot_sources(season_id, where), lo, hi, limit, after)
        if page is None:
            raise NotFoundError(f"season {season_id} not found")
    else:
        page = _page(lambda at: store.slot_sources_between(at, hi, where), lo, hi, limit, after)
        assert page is not None  # the time index always answers
    slots, more = page
    if not slots and after is None:
        _check_known(where)
    return _slot_page_body({"from": iso_z(lo), "to": iso_z(hi)}, slots, more, limit, bound, zone)


@app.get("/series", responses=_ok(SeriesList, "every stored series"))
def get_series_list() -> dict[str, Any]:
    """Every series."""
    return {"series": [store.item_to_dict(s) for s in store.list_series()]}


@app.get("/series/<series_id>", responses=_ok(SeriesOut, "the series"))
def get_series(series_id: Id) -> dict[str, Any]:
    """One series."""
    item = store.get_series(series_id)
    if item is None:
        raise NotFoundError(f"series {series_id} not found")
    return store.item_to_dict(item)


@app.get("/series/<series_id>/seasons", responses=_ok(SeriesSeasons, "the series' stored seasons"))
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


@app.get("/seasons/<season_id>", responses=_ok(SeasonWithWeeks, "the season with its weeks"))
def get_season(season_id: Id) -> dict[str, Any]:
    """One season with its weeks."""
    stored = _season(season_id)
    return {**store.item_to_dict(stored.season), "weeks": [store.item_to_dict(w) for w in stored.weeks]}


@app.get("/seasons/<season_id>/slots", responses=_ok(SeasonSlotsPage, "the season's slots, one page"))
def get_season_slots(
    season_id: Id,
    start: Annotated[
        str | None, Query(alias="from", pattern=ISO_INSTANT, description="first start (default: all)")
    ] = None,
    end: Annotated[
        str | None, Query(alias="to", pattern=ISO_INSTANT, description="end, exclusive (default: all)")
    ] = None,
    tz: Tz = None,
    limit: Limit = MAX_PAGE,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The slots of one season, within [from, to) if given, a page at a time (one Query per page)."""
    zone = _zone(tz)
    lo = parse_instant("from", start) if start else datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    hi = parse_instant("to", end) if end else datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
    lo, hi = _checked(lo, hi, bounded=False)  # a season is finite: any window of it is one Query a page
    bound = _fingerprint("season", season_id, iso_z(lo), iso_z(hi))
    after = decode_cursor(cursor, bound, lo, hi) if cursor else None
    page = _page(lambda at: store.season_slot_sources(season_id), lo, hi, limit, after)
    if page is None:
        raise NotFoundError(f"season {season_id} not found")
    slots, more = page
    return _slot_page_body({"season_id": season_id}, slots, more, limit, bound, zone)


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
    """[from, to) of a feed: from defaults to the start of today (UTC), to to from + 28 days; at most the window."""
    limit = timedelta(days=get_settings().max_window_days)
    # Today's start, not the clock: a race keeps its event in the subscriber's calendar while it runs and for
    # the rest of the day (calendar apps delete what a feed drops), and the feed's bytes, so its ETag, hold all
    # day until a sync changes the data, so a poll costs a 304.
    lo = parse_instant("from", start) if start else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    hi = parse_instant("to", end) if end else lo + min(timedelta(days=CALENDAR_DAYS), limit)
    return _checked(lo, hi)


def _feed(slots: list[Slot], name: str, lo: datetime, hi: datetime, filename: str) -> Response[str]:
    """The iCalendar feed of ``slots`` over [lo, hi), served as text/calendar."""
    # DTSTAMP is the window's start, not the clock: the same query over the same data must give the same
    # bytes, or its ETag would change every second and calendar apps would rewrite every event on each poll.
    document = calendar_for(slots, name, description=window_description(lo, hi), stamp=lo)
    return Response(
        200,
        "text/calendar; charset=utf-8",
        document.decode("utf-8"),
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


CalendarFrom = Annotated[
    str | None, Query(alias="from", description="first start, ISO 8601 (default: the start of today, UTC)")
]
CalendarTo = Annotated[str | None, Query(alias="to", description="end, exclusive (default: from + 28 days)")]


@app.get("/series/<series_id>/calendar.ics")
def get_series_calendar(series_id: Id, start: CalendarFrom = None, end: CalendarTo = None) -> Response[str]:
    """An iCalendar feed of a series: one event per race slot in [from, to), times in UTC."""
    lo, hi = _calendar_window(start, end)
    slots = _series_slots(_seasons_of_series(series_id), lo, hi)
    series = store.get_series(series_id)
    name = series_calendar_name(series_id, series.series_name if series else None)
    return _feed(slots, name, lo, hi, f"iracing-series-{series_id}.ics")


@app.get("/seasons/<season_id>/calendar.ics")
def get_season_calendar(season_id: Id, start: CalendarFrom = None, end: CalendarTo = None) -> Response[str]:
    """An iCalendar feed of a season: one event per race slot in [from, to), times in UTC."""
    lo, hi = _calendar_window(start, end)
    stored = _season(season_id)
    name = season_calendar_name(season_id, stored.season.season_name)
    return _feed(slots_from(stored.sources, lo, hi), name, lo, hi, f"iracing-season-{season_id}.ics")


@app.get("/openapi.json")
def get_openapi() -> Response[str]:
    """This API's OpenAPI document."""
    return Response(200, content_types.APPLICATION_JSON, openapi_json())


@cache
def openapi_json() -> str:
    """The OpenAPI document (built once per process: the routes never change while it runs)."""
    return app.get_openapi_json_schema()


@app.get("/docs", include_in_schema=False)
def get_docs() -> Response[str]:
    """Swagger UI over this API's OpenAPI document."""
    return Response(200, content_types.TEXT_HTML, swagger_html())


@cache
def swagger_html() -> str:
    """Powertools' Swagger UI page, script and style inlined (so it needs nothing but this API)."""
    # Not app.enable_swagger(): it imports the OpenAPI models at registration, a tenth of every cold start,
    # while only this page and /openapi.json need them.
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    bundled = FilePath(aws_lambda_powertools.event_handler.__file__).parent / "openapi" / "swagger_ui"
    script = (bundled / "swagger-ui-bundle.min.js").read_text(encoding="utf-8")
    style = (bundled / "swagger-ui.min.css").read_text(encoding="utf-8")
    # "</" escaped so the document inlined in a <script> can never close it.
    return generate_swagger_html(openapi_json().replace("</", "<\\/"), script, style, "", None)


# --- the one place errors become HTTP responses ------------------------------------------------------


def _error(status: int, code: str, message: str) -> Response[dict[str, Any]]:
    body = {"error": {"code": code, "message": message}}
    return Response(status, content_types.APPLICATION_JSON, body, headers={"Cache-Control": "no-store"})


@app.exception_handler(AppError)
def _app_error(exc: AppError) -> Response[dict[str, Any]]:
    logger.info("request refused", extra={"status": exc.status, "reason": exc.message})
    return _error(exc.status, exc.code, exc.message)


def _validation_message(error: dict[str, Any]) -> str:
    """One parameter's problem in words: a pattern is named by what it means, not shown as a regex."""
    where = ".".join(str(p) for p in error.get("loc", ())[1:]) or "request"
    hint = PATTERN_MEANS.get(str(error.get("ctx", {}).get("pattern")))
    if error.get("type") == "string_pattern_mismatch" and hint:
        return f"{where}: {error.get('input')!r} is not {hint}"
    return f"{where}: {error.get('msg')}"


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response[dict[str, Any]]:
    details = "; ".join(_validation_message(e) for e in exc.errors())
    return _error(400, "invalid_input", details or "invalid request")


@app.not_found
def _not_found(exc: Exception) -> Response[dict[str, Any]]:
    return _error(404, "not_found", f"no route {app.current_event.path}")


@app.exception_handler(RetryableError)
def _unavailable(exc: RetryableError) -> Response[dict[str, Any]]:
    logger.exception("backend unavailable")
    return _error(503, "unavailable", "the data store is unavailable, try again")


# --- HTTP caching: Cache-Control by how often an answer can change, ETag and conditional GET --------------

# Answers about stored schedules change only when a sync runs; these change with the clock or with a deploy.
NOW_RELATIVE_SECONDS = 60  # /next without `at`: the next race changes when a race starts
FEED_SECONDS = 900  # calendar.ics without `from` (window from today): calendar apps poll hourly at best
STATIC_SECONDS = 3600  # the OpenAPI document and Swagger UI change only with a deploy


def cache_control(route: str, query: dict[str, str]) -> str:
    """The Cache-Control of a 200 answer of ``route`` (the resolver's rule, e.g. /series/<series_id>/next)."""
    if route in ("/openapi.json", "/docs"):
        seconds = STATIC_SECONDS
    elif _now_relative(route, query):
        seconds = NOW_RELATIVE_SECONDS
    elif route.endswith("/calendar.ics") and "from" not in query:
        seconds = FEED_SECONDS
    else:
        seconds = get_settings().api_cache_seconds
    return f"public, max-age={seconds}"


def etag_of(body: str | bytes) -> str:
    """A strong ETag: a digest of the exact bytes sent."""
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def _now_relative(route: str, query: dict[str, str]) -> bool:
    """Whether an answer of ``route`` is about the clock's now: /next without ``at``."""
    return route.endswith("/next") and "at" not in query


def _validator(route: str, query: dict[str, str], body: Any, sent: str | bytes) -> str:
    """The ETag of a 200 answer: strong over the bytes sent, weak over all but the echoed instant if now-relative."""
    if _now_relative(route, query) and isinstance(body, dict):
        # The answer echoes the instant it looked from ("at": now), which changes every second while the next
        # races do not: a weak tag over the rest says "semantically the same" (RFC 9110 8.8.1), so a client
        # revalidating within the minute gets a 304 instead of the same races again.
        return "W/" + etag_of(_serialize({k: v for k, v in body.items() if k != "at"}))
    return etag_of(sent)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match (weak comparison): "*" or one of the listed tags."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def _http_caching(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response[Any]]) -> Response[Any]:
    """Every 200 gets Cache-Control and an ETag; a GET whose If-None-Match holds that ETag gets a bodiless 304."""
    response = next_middleware(app)
    if response.status_code != 200:
        return response
    event = app.current_event
    route, query = app.context["_route"].path, event.query_string_parameters or {}
    body = response.body
    sent = body if isinstance(body, str | bytes) else _serialize(body)
    response.body = sent
    etag = _validator(route, query, body, sent)
    headers = {"Cache-Control": cache_control(route, query), "ETag": etag}
    if _matches(event.headers.get("if-none-match"), etag):
        return Response(304, None, "", headers=headers)
    response.headers.update(headers)
    return response


def _known_parameters(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response[Any]]) -> Response[Any]:
    """A query parameter the route does not take is a 400, not silently ignored (a typo would widen the answer)."""
    route = app.context["_route"]
    # Not /docs (it reads Swagger UI's own parameters), nor the catch-all route of an unknown path (a 404 wins).
    if route.include_in_schema and route.rule.pattern != "^.*$":
        takes = {field.alias for field in route.dependant.query_params}
        unknown = sorted(set(app.current_event.query_string_parameters or {}) - takes)
        if unknown:
            raise InvalidInputError(
                f"unknown query parameter {unknown[0]!r}; this route takes: {', '.join(sorted(takes)) or 'none'}"
            )
    return next_middleware(app)


app.use(middlewares=[_known_parameters, _http_caching])


# --- the OpenAPI document: what the API really answers ----------------------------------------------------
#
# Powertools documents a 422 "HTTPValidationError" for bad input; this API answers 400 with its own error
# body (see _validation_error), and 404/422/503 with the same body. The calendars answer text/calendar, and
# every 200 carries ETag and Cache-Control. finish_openapi states that for every route, so a client (and the
# fuzz test, which checks every answer against this document) sees the truth.

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_ID_FILTERS = {"series_id", "season_id", "car_id", "track_id"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"schema": _ERROR_REF}}}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter's schema without Powertools' ``anyOf [..., null]`` (absent is how it is unset)."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**options[0], **rest}


_INSTANTS = {"from", "to", "at"}


def _instant_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """An instant parameter's schema stating what it takes: an RFC 3339 date or date-time, or what the route accepts.

    The last branch is the parameter's own constraint (the ISO pattern, or any string where the route parses
    the value itself), so the document accepts exactly what the API accepts; the first two tell clients, and
    the fuzz test's generator, that real dates are meant (schemathesis then tries years 0001 and 9999 too).
    """
    own = {"pattern": schema["pattern"]} if "pattern" in schema else {}
    rest = {k: v for k, v in schema.items() if k != "pattern"}
    return {**rest, "anyOf": [{"format": "date"}, {"format": "date-time"}, own]}


def _finish_operation(path: str, operation: dict[str, Any]) -> None:
    params = operation.get("parameters", [])
    for param in params:
        if param.get("in") == "query" and "schema" in param:
            param["schema"] = _without_null(param["schema"])
            if param["name"] in _INSTANTS and param["schema"].get("type") == "string":
                param["schema"] = _instant_schema(param["schema"])
    names = {p["name"] for p in params}
    # (keys are strings: the document was dumped in JSON mode)
    responses: dict[str, Any] = {k: v for k, v in operation["responses"].items() if k != "422"}
    ok: dict[str, Any] = responses.setdefault("200", {"description": "OK"})
    if path.endswith(".ics"):
        ok["content"] = {"text/calendar": {"schema": {"type": "string"}}}
    elif path == "/openapi.json":
        ok["content"] = {content_types.APPLICATION_JSON: {"schema": {"type": "object"}}}
    cache_headers = {
        "ETag": {
            "description": "digest of the body (weak, W/, for /next without at: all but the echoed instant); "
            "send it as If-None-Match",
            "schema": {"type": "string"},
        },
        "Cache-Control": {"description": "how long the answer may be reused", "schema": {"type": "string"}},
    }
    ok["headers"] = {name: {**h, "required": True} for name, h in cache_headers.items()}
    responses["304"] = {"description": "Not Modified: If-None-Match holds the current ETag", "headers": cache_headers}
    if params:
        responses["400"] = _error_response("Bad input: malformed date, ID, tz, cursor or parameter")
    if any(p.get("in") == "path" for p in params) or names & _ID_FILTERS:
        responses["404"] = _error_response("Unknown series, season, car or track")
    if names & {"from", "to"}:
        responses["422"] = _error_response("from not before to, or a window longer than allowed")
    if path != "/openapi.json":
        responses["503"] = _error_response("The data store is unavailable; retry")
    operation["responses"] = {k: responses[k] for k in sorted(responses, key=str)}


def finish_openapi(schema: OpenAPI) -> OpenAPI:
    """Powertools' generated document with this API's real error, calendar and caching responses."""
    # Imported here: the OpenAPI models are about a tenth of the API's cold import, and only /openapi.json and
    # /docs need them.
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

    document = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            _finish_operation(path, operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["ErrorBody"] = error_schema
    return OpenAPI.model_validate(document)
