"""iRacing's bodies as we read them: only the fields we use, unknown fields ignored, snake or camel case.

iRacing answers snake_case; some community dumps are camelCased, so every field also accepts its camelCase
spelling. Where we store a body as iRacing sent it (a season's own facts), these shapes are also the stored
records (see ``models.records``). Series, cars and tracks, stored as sent too, are in ``models.catalog``; the bodies
only the sync reads are in ``models.iracing_bodies``.
"""

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from pydantic import AliasChoices, AliasGenerator, ConfigDict, Field, WithJsonSchema, field_validator

from iracing_sync.models.base import DeferredModel


def _either_case(name: str) -> AliasChoices:
    # snake_case -> camelCase as pydantic.alias_generators.to_camel does for our names, without its regexes: it
    # runs for every field of every model at import (a cold start).
    head, *rest = name.split("_")
    return AliasChoices(name, head + "".join(part.capitalize() for part in rest))


class IracingModel(DeferredModel):
    """Base for models of iRacing bodies: ignore unknown fields, accept snake or camel case."""

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=_either_case),
    )


# A time of day in UTC as iRacing writes it ("00:30:00"): JSON Schema's "format: time" would demand an offset.
TimeOfDay = Annotated[
    time,
    WithJsonSchema({"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2})?$", "description": "time of day, UTC"}),
]


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RaceTimeDescriptor(IracingModel):
    """One entry of a week's ``race_time_descriptors``: a repeating pattern or fixed session times."""

    repeating: bool
    super_session: bool = False
    session_minutes: int = Field(ge=0)
    start_date: date | None = None
    day_offset: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    first_session_time: TimeOfDay | None = None
    repeat_minutes: int | None = Field(default=None, gt=0)
    session_times: list[datetime] = Field(default_factory=list)

    @field_validator("session_times")
    @classmethod
    def _times_utc(cls, value: list[datetime]) -> list[datetime]:
        return [_utc(v) for v in value]

    def model_post_init(self, __context: Any) -> None:
        if self.repeating and (self.start_date is None or self.first_session_time is None):
            raise ValueError("a repeating descriptor needs start_date and first_session_time")


class CarRestriction(IracingModel):
    """Balance-of-performance settings for one car in one week."""

    car_id: int
    max_dry_tire_sets: int | None = None
    max_pct_fuel_fill: float | None = None
    power_adjust_pct: float | None = None
    weight_penalty_kg: float | None = None


class WeatherSummary(IracingModel):
    """iRacing's forecast summary of a week's weather (units as iRacing codes them: temp_units 1 = Celsius...)."""

    max_precip_rate: float | None = None
    max_precip_rate_desc: str | None = None
    precip_chance: float | None = None
    skies_high: int | None = None
    skies_low: int | None = None
    temp_high: float | None = None
    temp_low: float | None = None
    temp_units: int | None = None
    wind_dir: int | None = None
    wind_high: float | None = None
    wind_low: float | None = None
    wind_units: int | None = None


class SeasonFacts(IracingModel):
    """A season's own facts (no weeks), as series/seasons or series/past_seasons send them and as stored."""

    season_id: int
    series_id: int | None = None
    # Not in iRacing's season objects: the processor takes them from the weeks (a series absent from series/get
    # is still named by its seasons).
    series_name: str | None = None
    category: str | None = None
    season_name: str | None = None
    season_short_name: str | None = None
    season_year: int | None = None
    season_quarter: int | None = None
    active: bool | None = None
    official: bool | None = None
    license_group: int | None = None
    car_class_ids: list[int] = Field(default_factory=list)
    car_switching: bool | None = None
    start_date: date | None = None
    schedule_description: str | None = None
