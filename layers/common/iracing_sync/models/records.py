"""Our own records: what the service stores and reads back, and the slots it computes from them.

The store takes and returns these (never its PynamoDB items); the slot engine expands ``WeekPattern``s into
``Slot``s. Where a record is iRacing's body as sent (a series, a car, a season's facts), it is the iRacing shape
itself (``models.iracing``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, NamedTuple

from pydantic import ConfigDict, Field

from iracing_sync.instants import iso_z
from iracing_sync.models.base import DeferredModel
from iracing_sync.models.iracing import CarRestriction, RaceTimeDescriptor, ScheduleWeek, SeasonFacts, TrackConfig


class Slot(NamedTuple):
    """One race session start, identified by (season_id, race_week_num, start_time); times are aware UTC.

    A named tuple: immutable, hashable and built in C by the slot engine (``Slot._make``), which makes
    every slot of an answer (a week's window over all seasons is ten thousand of them).
    """

    season_id: int
    series_id: int | None
    race_week_num: int
    start_time: datetime
    end_time: datetime
    super_session: bool = False
    series_name: str | None = None
    track_id: int | None = None
    track_name: str | None = None
    config_name: str | None = None

    @property
    def key(self) -> tuple[datetime, int, int]:
        """Sort and identity key: start_time, season_id, race_week_num."""
        return (self.start_time, self.season_id, self.race_week_num)

    def to_json(self) -> dict[str, Any]:
        """JSON form with ISO 8601 UTC times (``YYYY-MM-DDTHH:MM:SSZ``)."""
        data = self._asdict()
        data["start_time"] = iso_z(self.start_time)
        data["end_time"] = iso_z(self.end_time)
        return data


class WeekPattern(DeferredModel):
    """A race week's time pattern plus what a slot shows about it; the unit the slot engine expands."""

    model_config = ConfigDict(frozen=True)

    season_id: int
    series_id: int | None
    race_week_num: int
    series_name: str | None = None
    track_id: int | None = None
    track_name: str | None = None
    config_name: str | None = None
    descriptors: list[RaceTimeDescriptor] = Field(default_factory=list)

    @classmethod
    def from_week(cls, week: ScheduleWeek, series_id: int | None = None) -> WeekPattern:
        """The pattern of an iRacing schedule week (all its descriptors)."""
        track = week.track
        return cls(
            season_id=week.season_id,
            series_id=week.series_id if week.series_id is not None else series_id,
            race_week_num=week.race_week_num,
            series_name=week.series_name,
            track_id=track.track_id if track else None,
            track_name=track.track_name if track else None,
            config_name=track.config_name if track else None,
            descriptors=list(week.race_time_descriptors or []),
        )


class WeekFacts(DeferredModel):
    """A race week's facts besides its pattern: dates, category, license, cars, BOP, race length, weather."""

    model_config = ConfigDict(frozen=True)

    start_date: date | None = None
    week_end_time: datetime | None = None
    category: str | None = None
    license_group: int | None = None
    car_class_ids: list[int] = Field(default_factory=list)
    car_restrictions: list[CarRestriction] = Field(default_factory=list)
    race_lap_limit: int | None = None
    race_time_limit: int | None = None
    weather_summary: dict[str, Any] | None = None
    race_week_car_ids: list[int] = Field(default_factory=list)


class WeekRecord(WeekFacts):
    """A race week as stored: its repeating pattern plus the week's facts."""

    pattern: WeekPattern  # repeating descriptors only; fixed session_times become slots
    # First session day and the end of the last session day of the repeating pattern (None if none).
    span_start: datetime | None = None
    span_end: datetime | None = None


class SeasonRecord(SeasonFacts):
    """A season as stored: the season's facts, its weeks (in race-week order) and its fixed-time slots."""

    weeks: list[WeekRecord] = Field(default_factory=list)
    fixed_slots: list[Slot] = Field(default_factory=list)


class CarClassRecord(DeferredModel):
    """A car class as stored: which cars race together."""

    model_config = ConfigDict(frozen=True)

    car_class_id: int
    name: str
    short_name: str | None = None
    relative_speed: int | None = None
    car_ids: list[int] = Field(default_factory=list)


class TrackRecord(TrackConfig):
    """A track configuration as stored: ``track_map_layers`` holds each SVG layer's absolute URL."""

    @property
    def map_layer_urls(self) -> dict[str, str]:
        """Layer name -> absolute SVG URL (already absolute here)."""
        return dict(self.track_map_layers)


class ListingState(DeferredModel):
    """What the last current-seasons listing saw: its body's digest, where it is archived, the seasons it listed."""

    digest: str
    archive_key: str
    season_ids: list[int] = Field(default_factory=list)


ChangeKind = Literal[
    "season_added",
    "week_added",
    "week_removed",
    "track_changed",
    "times_changed",
    "cars_changed",
    "slot_added",
    "slot_removed",
]


class ChangeRecord(DeferredModel):
    """One change a sync made to a stored schedule, as GET /changes and the ``Schedule Changed`` event carry it.

    ``at`` is when the body that brought the change was fetched from iRacing; ``before``/``after`` hold what
    the kind is about (a week's track, its repeating pattern, its cars; a fixed session's times; a new season).
    """

    model_config = ConfigDict(frozen=True)

    at: datetime
    kind: ChangeKind
    season_id: int
    series_id: int | None = None
    race_week_num: int | None = None
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None


def utc_day(day: date) -> datetime:
    """Midnight UTC of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class SlotSources:
    """What the slot engine needs for a window: repeating week patterns plus fixed slots."""

    patterns: list[WeekPattern]
    fixed_slots: list[Slot]

    @classmethod
    def of(cls, seasons: Iterable[SeasonRecord]) -> SlotSources:
        """The patterns and fixed slots of whole seasons."""
        patterns: list[WeekPattern] = []
        fixed: list[Slot] = []
        for season in seasons:
            patterns.extend(w.pattern for w in season.weeks)
            fixed.extend(season.fixed_slots)
        return cls(patterns, fixed)

    def __add__(self, other: SlotSources) -> SlotSources:
        return SlotSources(self.patterns + other.patterns, self.fixed_slots + other.fixed_slots)
