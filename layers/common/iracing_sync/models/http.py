"""The HTTP API's answers: every shape a route returns, as the OpenAPI document states it.

Routes fill these from the store's records (``models.records``, ``models.iracing``); the fuzz test checks
every live answer against the document built from them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from iracing_sync.models.base import DeferredModel, UtcInstant
from iracing_sync.models.iracing import SeasonFacts, Series
from iracing_sync.models.records import WeekFacts, WeekPattern


class SlotOut(DeferredModel):
    """One race slot: times in UTC (``YYYY-MM-DDTHH:MM:SSZ``); with ``tz``, also local times with their offset."""

    season_id: int
    series_id: int | None
    race_week_num: int
    start_time: UtcInstant
    end_time: UtcInstant
    super_session: bool
    series_name: str | None
    track_id: int | None
    track_name: str | None
    config_name: str | None
    tz: str | None = None
    start_local: str | None = None
    end_local: str | None = None


class _Page(DeferredModel):
    """What every page of slots holds; ``next_cursor`` fetches the next page (null on the last)."""

    count: int = Field(ge=0)
    limit: int = Field(ge=1)
    next_cursor: str | None
    tz: str | None = None
    slots: list[SlotOut]


class SlotsPage(_Page):
    """A page of the slots starting in [from, to)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str


class SeasonSlotsPage(_Page):
    """A page of one season's slots (within [from, to) if given)."""

    season_id: int


class NextRaces(DeferredModel):
    """The next races of a series (``series_id``) or a season (``season_id``) from ``at``."""

    series_id: int | None = None
    season_id: int | None = None
    at: UtcInstant
    count: int = Field(ge=0)
    tz: str | None = None
    slots: list[SlotOut]


class SeriesOut(Series):
    """A series: iRacing's facts and logos."""


class SeriesList(DeferredModel):
    series: list[SeriesOut]


class SeasonOut(SeasonFacts):
    """A season's own facts (its weeks are at /seasons/{id})."""


class SeriesSeasons(DeferredModel):
    series_id: int
    seasons: list[SeasonOut]


class WeekOut(WeekPattern, WeekFacts):
    """A race week: track, facts and its repeating race_time_descriptors as iRacing sent them.

    ``span_end`` is the end of the last day the repeating pattern races on (null without one).
    """

    span_end: datetime | None = None


class SeasonWithWeeks(SeasonOut):
    weeks: list[WeekOut]


class ErrorDetail(DeferredModel):
    code: str
    message: str


class ErrorBody(DeferredModel):
    """Every 4xx/5xx answer of the HTTP API."""

    error: ErrorDetail


def dump(model: DeferredModel) -> dict[str, Any]:
    """An answer's JSON-ready body (dates and instants as ISO 8601 strings)."""
    return model.model_dump(mode="json")
