"""Query and path parameters: their types (what the OpenAPI document states), windows, filters and zones.

Everything a route takes is parsed and checked here, before any read: a bad value is a 400 (InvalidInputError),
a well-formed but unservable window a 422 (UnprocessableError), never a 5xx.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from iracing_sync import store
from iracing_sync.errors import InvalidInputError, NotFoundError, UnprocessableError
from iracing_sync.instants import FIRST_YEAR, LAST_YEAR, parse_instant
from iracing_sync.settings import get_settings
from iracing_sync.timezones import get_zone

# iRacing IDs are 32-bit; a larger number is bad input (400), never a key DynamoDB would refuse (5xx).
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(gt=0, le=MAX_ID, description="iRacing ID")]
Tz = Annotated[
    str | None,
    Query(description="IANA time zone, e.g. Europe/London: adds tz, start_local and end_local to each slot"),
]

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
SeasonFrom = Annotated[str | None, Query(alias="from", pattern=ISO_INSTANT, description="first start (default: all)")]
SeasonTo = Annotated[str | None, Query(alias="to", pattern=ISO_INSTANT, description="end, exclusive (default: all)")]
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
MAX_NEXT = 50
Count = Annotated[int, Query(ge=1, le=MAX_NEXT, description="how many races (default 1)")]
At = Annotated[str | None, Query(description="the instant to look from, ISO 8601 (default: now)")]
CALENDAR_DAYS = 28
CalendarFrom = Annotated[
    str | None, Query(alias="from", description="first start, ISO 8601 (default: the start of today, UTC)")
]
CalendarTo = Annotated[str | None, Query(alias="to", description="end, exclusive (default: from + 28 days)")]


def checked(lo: datetime, hi: datetime, *, bounded: bool = True) -> tuple[datetime, datetime]:
    """[lo, hi) if lo is before hi and (when ``bounded``) it spans at most the settings' days; else 422."""
    if lo >= hi:
        raise UnprocessableError("from must be before to")
    limit = timedelta(days=get_settings().max_window_days)
    if bounded and hi - lo > limit:
        raise UnprocessableError(f"the window may span at most {limit.days} days")
    return lo, hi


def window(start: str, end: str) -> tuple[datetime, datetime]:
    """The checked [from, to) of a slots query."""
    return checked(parse_instant("from", start), parse_instant("to", end))


def season_window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """[from, to) of a season's slots: all of it by default, any length (a season is finite)."""
    lo = parse_instant("from", start) if start else datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
    hi = parse_instant("to", end) if end else datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
    return checked(lo, hi, bounded=False)


def calendar_window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """[from, to) of a feed: from defaults to the start of today (UTC), to to from + 28 days; at most the window."""
    limit = timedelta(days=get_settings().max_window_days)
    # Today's start, not the clock: a race keeps its event in the subscriber's calendar while it runs and for
    # the rest of the day (calendar apps delete what a feed drops), and the feed's bytes, so its ETag, hold all
    # day until a sync changes the data, so a poll costs a 304.
    lo = parse_instant("from", start) if start else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    hi = parse_instant("to", end) if end else lo + min(timedelta(days=CALENDAR_DAYS), limit)
    return checked(lo, hi)


def instant_or_now(at: str | None) -> datetime:
    """The ``at`` of a next-race query, or now."""
    return parse_instant("at", at) if at else datetime.now(UTC)


def zone(tz: str | None) -> ZoneInfo | None:
    """The zone of a ``tz`` parameter (checked before any read); UnknownTimeZoneError -> 400."""
    return None if tz is None else get_zone(tz)


def slot_filter(
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


def known_parameters(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response[Any]]) -> Response[Any]:
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
