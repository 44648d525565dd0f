"""The iRacing bodies only the sync reads: a season schedule and its weeks, a car class as carclass/get sends it."""

from datetime import date, datetime
from typing import Any

from pydantic import Field, field_validator

from iracing_sync.models.iracing import (
    CarRestriction,
    IracingModel,
    RaceTimeDescriptor,
    SeasonFacts,
    WeatherSummary,
    _utc,
)


class Track(IracingModel):
    """The track of a race week."""

    track_id: int
    track_name: str = ""
    config_name: str | None = None
    category: str | None = None


class Weather(IracingModel):
    """The part of a week's weather we keep: iRacing's forecast summary."""

    weather_summary: WeatherSummary | None = None


class ScheduleWeek(IracingModel):
    """One race week of a season schedule."""

    season_id: int
    series_id: int | None = None
    race_week_num: int = Field(ge=0)
    series_name: str | None = None
    season_name: str | None = None
    schedule_name: str | None = None
    start_date: date | None = None
    week_end_time: datetime | None = None
    category: str | None = None
    track: Track | None = None
    race_time_descriptors: list[RaceTimeDescriptor] | None = None
    car_restrictions: list[CarRestriction] = Field(default_factory=list)
    race_week_car_class_ids: list[int] = Field(default_factory=list)
    race_lap_limit: int | None = None
    race_time_limit: int | None = None
    weather: Weather | None = None
    # Cars of a car-switching week: iRacing sends car objects (with car_id) or bare IDs.
    race_week_cars: list[Any] = Field(default_factory=list)

    @property
    def race_week_car_ids(self) -> list[int]:
        """IDs of the week's cars (car-switching series), sorted."""
        ids = {c.get("car_id") if isinstance(c, dict) else c for c in self.race_week_cars}
        return sorted(i for i in ids if isinstance(i, int))

    @property
    def race_week_car_names(self) -> dict[int, str | None]:
        """The names iRacing gave the week's cars, where it sent car objects with a ``car_name``."""
        return {
            c["car_id"]: c.get("car_name") if isinstance(c.get("car_name"), str) else None
            for c in self.race_week_cars
            if isinstance(c, dict) and isinstance(c.get("car_id"), int)
        }

    @field_validator("car_restrictions", "race_week_car_class_ids", "race_week_cars", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("week_end_time")
    @classmethod
    def _end_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)


class Season(SeasonFacts):
    """A season with its schedule, from series/seasons or series/season_schedule."""

    schedules: list[ScheduleWeek] = Field(default_factory=list)

    def model_post_init(self, __context: Any) -> None:
        # season_schedule bodies carry series_id only on the weeks.
        if self.series_id is None:
            week_series = {w.series_id for w in self.schedules if w.series_id is not None}
            if len(week_series) == 1:
                object.__setattr__(self, "series_id", week_series.pop())


class CarInClass(IracingModel):
    car_id: int


class CarClass(IracingModel):
    """A car class from carclass/get: which cars race together."""

    car_class_id: int
    name: str
    short_name: str | None = None
    relative_speed: int | None = None
    cars_in_class: list[CarInClass] = Field(default_factory=list)

    @property
    def car_ids(self) -> list[int]:
        """The IDs of the cars in this class, sorted."""
        return sorted({c.car_id for c in self.cars_in_class})


class RaceGuideSession(IracingModel):
    """One session of season/race_guide: its slot's key, iRacing's end, and (once created) its ID and entries."""

    season_id: int
    series_id: int | None = None
    race_week_num: int = Field(ge=0)
    start_time: datetime
    end_time: datetime
    super_session: bool = False
    session_id: int | None = None
    entry_count: int | None = Field(default=None, ge=0)

    @field_validator("start_time", "end_time")
    @classmethod
    def _times_utc(cls, value: datetime) -> datetime:
        return _utc(value)


class RaceGuide(IracingModel):
    """season/race_guide: every official session starting in [block_begin_time, block_end_time) (about 3 hours)."""

    block_begin_time: datetime
    block_end_time: datetime
    sessions: list[RaceGuideSession] = Field(default_factory=list)

    @field_validator("block_begin_time", "block_end_time")
    @classmethod
    def _block_utc(cls, value: datetime) -> datetime:
        return _utc(value)

    @field_validator("sessions", mode="before")
    @classmethod
    def _null_is_none(cls, value: object) -> object:
        return [] if value is None else value
