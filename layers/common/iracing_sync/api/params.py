"""Query and path parameters: their types (what the OpenAPI document states), windows, filters and zones.

Everything a route takes is parsed and checked here, before any read: a bad value is a 400 (InvalidInputError),
a well-formed but unservable window a 422 (UnprocessableError), never a 5xx.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import Field

from iracing_sync import store
from iracing_sync.errors import InvalidInputError, UnprocessableError
from iracing_sync.instants import FIRST_YEAR, LAST_YEAR, parse_instant
from iracing_sync.models.planning import Ownership
from iracing_sync.models.records import CHANGES_KEPT_FOR, LICENSE_LETTERS
from iracing_sync.settings import get_settings
from iracing_sync.timezones import get_zone

# iRacing IDs are 32-bit; a larger number is bad input (400), never a key DynamoDB would refuse (5xx).
MAX_ID = 2**31 - 1
Id = Annotated[int, Path(gt=0, le=MAX_ID, description="iRacing ID")]
# iRacing's car classes start at 0 (its "Hosted All Cars Class").
ClassId = Annotated[
    int, Path(ge=0, le=MAX_ID, description="iRacing car class ID (0 is iRacing's hosted all-cars class)")
]
Tz = Annotated[
    str | None,
    Query(description="IANA time zone, e.g. Europe/London: adds tz, start_local and end_local to each slot"),
]

# The most slots a page holds, and the default, so a window of a few days over all seasons is one page. A page
# also ends where its JSON would pass api.encoding.MAX_BODY_BYTES (a slot with its names and cars is about half a
# kilobyte): Lambda answers at most 6 MB.
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
LICENSE_GROUPS = {letter: group for group, letter in LICENSE_LETTERS.items()}
# An instant as a person types it, exactly what ``instants.parse_instant`` reads between 1970 and 2199: a real
# calendar date (leap years included), optionally a time ([T ]HH:MM[:SS[.ffffff]]) and an offset (Z or +-HH:MM).
# The OpenAPI document states this pattern, so a string that is no such instant is refused by the schema itself.
# ([0-9], not \d: \d also matches other scripts' digits in Python and in the validator's regex engine.)
_YEAR = r"(?:19[7-9][0-9]|20[0-9][0-9]|21[0-9][0-9])"
_MONTH_DAY = r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
_LEAP_DAY = r"(?:19(?:7[26]|8[048]|9[26])|20(?:[02468][048]|[13579][26])|21(?:0[48]|[2468][048]|[13579][26]))-02-29"
_TIME = (
    r"[T ](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
)
ISO_INSTANT = rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})(?:{_TIME})?$"
LICENSE = "^[RDCBArdcba1-5]$"
# A cursor is URL-safe base64 (paging.encode_cursor): anything else is malformed (400); one of this form that is
# not this query's is a 422 (no schema can tell which strings this API issued).
CURSOR = "^[A-Za-z0-9_-]+$"
PATTERN_MEANS = {
    ISO_INSTANT: "an ISO 8601 date or date-time from 1970 to 2199, e.g. 2025-09-09 or 2025-09-09T12:00:00Z",
    LICENSE: "a license group: R, D, C, B, A or 1-5",
    CURSOR: "a next_cursor this API issued",
}
# How many values a repeated filter key may list ("any of"): DynamoDB's IN takes at most 100 values.
MAX_VALUES = 50
# How many IDs an ownership list may hold: a long-time member owns hundreds of track configurations (the
# member/info sample's 66 track packages hold 239 IDs). Two such lists, comma-joined, stay under CloudFront's 8 KB
# URL: iRacing's car and track IDs have at most 4 digits (2 x 500 x 5 characters).
MAX_OWNED = 500

From = Annotated[
    str,
    Query(alias="from", pattern=ISO_INSTANT, description="window start, ISO 8601 date or date-time (UTC if no offset)"),
]
To = Annotated[str, Query(alias="to", pattern=ISO_INSTANT, description="window end (exclusive), ISO 8601")]
SeasonFrom = Annotated[str | None, Query(alias="from", pattern=ISO_INSTANT, description="first start (default: all)")]
SeasonTo = Annotated[str | None, Query(alias="to", pattern=ISO_INSTANT, description="end, exclusive (default: all)")]
AnId = Annotated[int, Field(gt=0, le=MAX_ID)]
FilterIds = Annotated[
    list[AnId] | None,
    Query(max_length=MAX_VALUES, description="any of these IDs (repeat the key, or separate them by commas)"),
]
SeriesIds = Annotated[
    list[AnId],
    Query(
        alias="series_id",
        min_length=1,
        max_length=MAX_VALUES,
        description="the series of the feed (repeat the key, or separate them by commas)",
    ),
]
CategoryName = Literal["oval", "road", "dirt_oval", "dirt_road", "sports_car", "formula_car"]
Categories = Annotated[
    list[CategoryName] | None,
    Query(
        alias="category",
        max_length=MAX_VALUES,
        description="any of these track categories; road includes sports_car and formula_car",
    ),
]
Licenses = Annotated[
    list[Annotated[str, Field(pattern=LICENSE)]] | None,
    Query(
        alias="license",
        max_length=MAX_VALUES,
        description="any of these license groups: R, D, C, B, A (or 1-5): series of that license",
    ),
]
OwnedIds = Annotated[
    list[AnId] | None,
    Query(
        max_length=MAX_OWNED,
        description=f"what the racer owns (member/info's content_ids; repeat the key, or separate them by commas; at "
        f"most {MAX_OWNED}): only races they can enter",
    ),
]
Content = Annotated[
    Literal["free"] | None,
    Query(description="free: only races a racer with nothing but free content can enter (no owned_* with it)"),
]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"slots per page (default and maximum {MAX_PAGE})")]
Cursor = Annotated[
    str | None,
    Query(max_length=200, pattern=CURSOR, description="next_cursor of the previous page (same query otherwise)"),
]
MAX_NEXT = 50
Count = Annotated[int, Query(ge=1, le=MAX_NEXT, description="how many races (default 1)")]
At = Annotated[str | None, Query(pattern=ISO_INSTANT, description="the instant to look from, ISO 8601 (default: now)")]
CALENDAR_DAYS = 28
CalendarFrom = Annotated[
    str | None,
    Query(alias="from", pattern=ISO_INSTANT, description="first start, ISO 8601 (default: the start of today, UTC)"),
]
CalendarTo = Annotated[
    str | None, Query(alias="to", pattern=ISO_INSTANT, description="end, exclusive (default: from + 28 days)")
]
MAX_ALARM = 1440
Alarm = Annotated[
    int | None,
    Query(ge=0, le=MAX_ALARM, description="minutes before each race to remind (a VALARM on every event; 0-1440)"),
]


CHANGES_DEFAULT = timedelta(hours=24)
Since = Annotated[
    str | None,
    Query(
        pattern=ISO_INSTANT,
        description="changes recorded at or after this instant, ISO 8601 (default: the start of the hour 24 hours "
        "ago; at most 30 days back, as long as changes are kept)",
    ),
]


def changes_since(since: str | None) -> datetime:
    """Where a changes answer starts: ``since``, or the start of the hour 24 hours ago; never more than 30 days back.

    Hours, not the clock: the same query gives the same bytes (one ETag) until a sync records a change or the hour
    turns. Earlier than 30 days is what is kept: from 30 days back (not an error: a reader asking for everything).
    """
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    lo = parse_instant("since", since) if since else hour - CHANGES_DEFAULT
    return max(lo, hour - CHANGES_KEPT_FOR)


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


def instant_or_hour(at: str | None) -> datetime:
    """The ``at`` of a season grid or purchase guide, or the start of this hour: seasons start and end on whole
    hours (a day's start), so an hour's requests share one answer (and its ETag)."""
    return parse_instant("at", at) if at else datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


def ownership(cars: list[int] | None, tracks: list[int] | None, content: str | None) -> Ownership | None:
    """What the racer owns (``owned_car_id``, ``owned_track_id``), nothing for ``content=free``, None when neither
    is asked. Owned IDs are not checked against the catalog: member/info lists retired content iRacing's lists lack.
    """
    if content == "free":
        if cars is not None or tracks is not None:  # (each valid alone: a 422, what a schema cannot state)
            raise UnprocessableError("content=free means owning nothing: it takes no owned_car_id or owned_track_id")
        return Ownership()
    if cars is None and tracks is None:
        return None
    return Ownership(frozenset(cars or ()), frozenset(tracks or ()))


def zone(tz: str | None) -> ZoneInfo | None:
    """The zone of a ``tz`` parameter (checked before any read); UnknownTimeZoneError -> 400."""
    return None if tz is None else get_zone(tz)


def slot_filter(
    series_ids: list[int] | None = None,
    season_ids: list[int] | None = None,
    categories: Sequence[str] | None = None,
    licenses: Sequence[str] | None = None,
    car_ids: list[int] | None = None,
    track_ids: list[int] | None = None,
    owned: Ownership | None = None,
) -> store.SlotFilter:
    """The filter of a slots query or feed: each list is "any of" (a category road is road, sports_car, formula_car);
    ``owned``: only the races this racer can enter."""
    groups = None
    if licenses is not None:
        groups = frozenset(LICENSE_GROUPS.get(x.upper()) or int(x) for x in licenses)
    return store.SlotFilter(
        series_ids=_set(series_ids),
        season_ids=_set(season_ids),
        categories=frozenset().union(*(CATEGORIES[c] for c in categories)) if categories is not None else None,
        license_groups=groups,
        track_ids=_set(track_ids),
        car_ids=_set(car_ids),
        ownership=owned,
    )


def _set(values: list[int] | None) -> frozenset[int] | None:
    return frozenset(values) if values is not None else None


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
