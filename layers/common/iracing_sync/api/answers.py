"""Answer bodies built from records: every shape is one declared in ``models.http``, and calendars as iCal."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler import Response

from iracing_sync.ical import calendar_for, window_description
from iracing_sync.instants import iso_z
from iracing_sync.models.http import SeasonOut, SeasonWithWeeks, SeriesOut, WeekOut, dump
from iracing_sync.models.iracing import SeasonFacts, Series
from iracing_sync.models.records import SeasonRecord, Slot, WeekFacts, WeekRecord
from iracing_sync.timezones import slot_json


def series_out(series: Series) -> SeriesOut:
    """A stored series as the API answers it."""
    return SeriesOut(**dict(series))


def season_out(season: SeasonFacts) -> SeasonOut:
    """A stored season's facts as the API answers them."""
    return SeasonOut(**{name: getattr(season, name) for name in SeasonFacts.model_fields})


def week_out(week: WeekRecord) -> WeekOut:
    """A stored week: its pattern's identity and descriptors, its facts and where its pattern ends."""
    facts = {name: getattr(week, name) for name in WeekFacts.model_fields}
    return WeekOut(**dict(week.pattern), **facts, span_end=week.span_end)


def season_with_weeks(season: SeasonRecord) -> dict[str, Any]:
    """GET /seasons/{id}: the season's facts and its weeks."""
    return dump(SeasonWithWeeks(**dict(season_out(season)), weeks=[week_out(w) for w in season.weeks]))


def next_body(key: str, ident: int, at: datetime, slots: list[Slot], zone: ZoneInfo | None) -> dict[str, Any]:
    """GET /series|seasons/{id}/next: the slots from ``at`` (``key`` is series_id or season_id)."""
    body: dict[str, Any] = {key: ident, "at": iso_z(at), "count": len(slots)}
    if zone is not None:
        body["tz"] = zone.key
    return {**body, "slots": [slot_json(s, zone) for s in slots]}


def feed(slots: list[Slot], name: str, lo: datetime, hi: datetime, filename: str) -> Response[str]:
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
