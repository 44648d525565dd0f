"""Answer bodies built from records: every shape is one declared in ``models.http``, and calendars as iCal.

JSON answers leave here as text, serialized once (``json_answer``): Powertools then passes the text through, and
the caching middleware digests the very bytes sent. The answer shapes are imported on first use (a cold start
serving /slots or a feed never loads them).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response, content_types

from iracing_sync.api.encoding import MAX_BODY_BYTES
from iracing_sync.errors import UnprocessableError
from iracing_sync.ical import calendar_for, window_description
from iracing_sync.instants import iso_z
from iracing_sync.models.base import DeferredModel
from iracing_sync.models.iracing import SeasonFacts
from iracing_sync.models.records import SeasonRecord, Slot, WeekFacts, WeekRecord
from iracing_sync.timezones import slot_json

if TYPE_CHECKING:
    from iracing_sync.models.http import SeasonOut, SeasonWithWeeks, WeekOut


def json_answer(body: DeferredModel | str) -> Response[str]:
    """A 200 JSON answer: a declared shape serialized once, or JSON text already encoded."""
    text = body if isinstance(body, str) else body.model_dump_json(by_alias=True)
    return Response(200, content_types.APPLICATION_JSON, text)


def season_out(season: SeasonFacts) -> SeasonOut:
    """A stored season's facts as the API answers them."""
    from iracing_sync.models.http import SeasonOut

    return SeasonOut(**{name: getattr(season, name) for name in SeasonFacts.model_fields})


def week_out(week: WeekRecord) -> WeekOut:
    """A stored week: what its slots show, its facts, its descriptors and fixed session times, where it ends."""
    from iracing_sync.models.http import WeekOut
    from iracing_sync.weather import weather_out

    facts = {name: getattr(week, name) for name in WeekFacts.model_fields}
    fixed = sorted({t for d in week.pattern.descriptors if not d.repeating for t in d.session_times})
    return WeekOut(
        **dict(week.pattern),
        **facts,
        span_end=week.span_end,
        session_times=[iso_z(t) for t in fixed],
        weather=weather_out(week.weather_summary),
    )


def season_with_weeks(season: SeasonRecord) -> SeasonWithWeeks:
    """GET /seasons/{id}: the season's facts and its weeks."""
    from iracing_sync.models.http import SeasonWithWeeks

    return SeasonWithWeeks(**dict(season_out(season)), weeks=[week_out(w) for w in season.weeks])


def next_body(key: str, ident: int, at: datetime, slots: list[Slot], zone: ZoneInfo | None) -> dict[str, Any]:
    """GET /series|seasons/{id}/next: the slots from ``at`` (``key`` is series_id or season_id)."""
    body: dict[str, Any] = {key: ident, "at": iso_z(at), "count": len(slots)}
    if zone is not None:
        body["tz"] = zone.key
    return {**body, "slots": [slot_json(s, zone) for s in slots]}


def feed(
    slots: list[Slot], name: str, lo: datetime, hi: datetime, filename: str, alarm: int | None = None
) -> Response[str]:
    """The iCalendar feed of ``slots`` over [lo, hi), served as text/calendar (``alarm``: minutes before each race).

    A feed cannot be paged: one that would pass MAX_BODY_BYTES is a 422 asking for a narrower one.
    """
    # DTSTAMP is the window's start, not the clock: the same query over the same data must give the same
    # bytes, or its ETag would change every second and calendar apps would rewrite every event on each poll.
    document = calendar_for(slots, name, description=window_description(lo, hi), stamp=lo, alarm=alarm)
    if len(document) > MAX_BODY_BYTES:
        raise UnprocessableError(
            f"the feed would hold {len(slots)} races ({len(document) // 1_000_000} MB), more than a feed may: "
            "ask for fewer series, more filters or a shorter window"
        )
    return Response(
        200,
        "text/calendar; charset=utf-8",
        document.decode("utf-8"),
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )
