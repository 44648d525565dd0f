"""The iRacing bodies only the sync reads: a season schedule and its weeks, a car class as carclass/get sends it.

Named through ``models.iracing`` too (imported there on first use), so the API function, which never reads them,
never creates these classes on a cold start.
"""

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
    """The part of a week's weather we keep: iRacing's forecast summary, and the link to its hourly forecast."""

    weather_summary: WeatherSummary | None = None
    # A presigned S3 link, re-signed on every fetch of the schedule (so it is compared without its query string).
    weather_url: str | None = None


class EventSession(IracingModel):
    """One session of a week's event in the 2026 shape (``event_sessions``): practice, qualifying or the race."""

    type: int | None = None
    type_name: str | None = None
    laps: int | None = None
    minutes: int | None = None
    unlimited_laps: bool = False
    unlimited_time: bool = False

    @property
    def is_race(self) -> bool:
        """The race session (type 6, "Race", in every bundled body)."""
        return (self.type_name or "").strip().lower() == "race" if self.type_name else self.type == 6


class CarInWeekClass(IracingModel):
    car_id: int
    car_name: str | None = None


class RaceWeekCarClass(IracingModel):
    """A car class of a week in the 2026 shape (``race_week_car_classes``), with its cars (``cars_in_class``)."""

    car_class_id: int
    cars_in_class: list[CarInWeekClass] = Field(default_factory=list)

    @field_validator("cars_in_class", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value


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
    # The 2026 shape: the week's sessions (the race's laps and minutes) and its car classes with their cars, in
    # place of race_lap_limit/race_time_limit alone and race_week_cars/race_week_car_class_ids.
    event_sessions: list[EventSession] = Field(default_factory=list)
    race_week_car_classes: list[RaceWeekCarClass] = Field(default_factory=list)

    @property
    def race_week_car_ids(self) -> list[int]:
        """IDs of the week's own cars (a car-switching week's race_week_cars, else the cars its
        race_week_car_classes list), sorted."""
        if self.race_week_cars:
            ids = {_car_field(c, "car_id", "carId") if isinstance(c, dict) else c for c in self.race_week_cars}
        else:
            ids = {car.car_id for c in self.race_week_car_classes for car in c.cars_in_class}
        return sorted(i for i in ids if isinstance(i, int))

    @property
    def race_week_car_names(self) -> dict[int, str | None]:
        """The names iRacing gave the week's cars, where it sent car objects with a ``car_name``."""
        if not self.race_week_cars:
            return {car.car_id: car.car_name for c in self.race_week_car_classes for car in c.cars_in_class}
        named = {}
        for c in self.race_week_cars:
            car_id = _car_field(c, "car_id", "carId") if isinstance(c, dict) else None
            if isinstance(car_id, int):
                name = _car_field(c, "car_name", "carName")
                named[car_id] = name if isinstance(name, str) else None
        return named

    @property
    def race_session(self) -> EventSession | None:
        """The race of the week's event_sessions (2026 shape), None in the older shape."""
        races = [s for s in self.event_sessions if s.is_race]
        return races[-1] if races else None

    @property
    def race_laps(self) -> int | None:
        """The race length in laps: the race event_session's (null when unlimited), else race_lap_limit."""
        race = self.race_session
        if race is None:
            return self.race_lap_limit
        return None if race.unlimited_laps else race.laps

    @property
    def race_minutes(self) -> int | None:
        """The race length in minutes: the race event_session's (null when unlimited), else race_time_limit."""
        race = self.race_session
        if race is None:
            return self.race_time_limit
        return None if race.unlimited_time else race.minutes

    @field_validator(
        "car_restrictions",
        "race_week_car_class_ids",
        "race_week_cars",
        "event_sessions",
        "race_week_car_classes",
        mode="before",
    )
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("week_end_time")
    @classmethod
    def _end_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)


def _car_field(car: dict[str, Any], name: str, camel: str) -> Any:
    """A field of a race_week_cars object, in iRacing's snake case or a community dump's camel case."""
    return car.get(name, car.get(camel))


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


class ForecastKeyframe(IracingModel):
    """One hourly keyframe of the forecast behind a week's weather_url, in iRacing's scaled integers (SOURCES.md)."""

    index: int | None = None
    time_offset: int | None = None
    timestamp: str | None = None
    air_temp: float | None = None
    raw_air_temp: float | None = None
    pressure: float | None = None
    wind_speed: float | None = None
    wind_dir: int | None = None
    rel_humidity: float | None = None
    precip_chance: float | None = None
    cloud_cover: float | None = None
    precip_amount: float | None = None
    affects_session: bool | None = None
    allow_precip: bool | None = None
    is_sun_up: bool | None = None
    valid_stats: bool | None = None
