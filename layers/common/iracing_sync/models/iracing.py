"""iRacing's bodies as we read them: only the fields we use, unknown fields ignored, snake or camel case.

iRacing answers snake_case; some community dumps are camelCased, so every field also accepts its camelCase
spelling. Where we store a body as iRacing sent it (series, cars, a season's own facts), these shapes are also
the stored records (see ``models.records``). The bodies only the sync reads are in ``models.iracing_bodies``.
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


class Series(IracingModel):
    """A series from series/get, merged with its series/assets entry; stored and served as such."""

    series_id: int
    series_name: str
    series_short_name: str | None = None
    category: str | None = None
    category_id: int | None = None
    logo: str | None = None
    large_image: str | None = None
    small_image: str | None = None


class Car(IracingModel):
    """A car from car/get, merged with its car/assets entry; stored as such."""

    car_id: int
    car_name: str
    car_name_abbreviated: str | None = None
    car_dirpath: str | None = None
    categories: list[str] = Field(default_factory=list)
    hp: int | None = None
    car_weight: int | None = None
    retired: bool | None = None
    logo: str | None = None
    small_image: str | None = None
    large_image: str | None = None
    folder: str | None = None
    # What buying it takes, as car/get gives it: the package a racer buys and owns (member/info's car_packages).
    package_id: int | None = None
    price: float | None = None
    price_display: str | None = None
    free_with_subscription: bool | None = None
    sku: int | None = None
    is_ps_purchasable: bool | None = None


class TrackConfig(IracingModel):
    """A track configuration from track/get, merged with its track/assets entry (map and SVG layers)."""

    track_id: int
    track_name: str
    config_name: str | None = None
    category: str | None = None
    category_id: int | None = None
    time_zone: str | None = None
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    track_config_length: float | None = None
    retired: bool | None = None
    logo: str | None = None
    small_image: str | None = None
    folder: str | None = None
    track_map: str | None = None
    # Layer name -> SVG file; the URL of a layer is track_map + file (records.TrackRecord keeps the URLs).
    track_map_layers: dict[str, str] = Field(default_factory=dict)
    # What buying it takes, as track/get gives it: every configuration of one package_id is bought and owned
    # together (member/info's track_packages).
    package_id: int | None = None
    price: float | None = None
    price_display: str | None = None
    free_with_subscription: bool | None = None
    sku: int | None = None
    is_ps_purchasable: bool | None = None
    purchasable: bool | None = None

    @field_validator("track_map_layers", mode="before")
    @classmethod
    def _no_layers(cls, value: object) -> object:
        return {} if value is None else value

    @property
    def map_layer_urls(self) -> dict[str, str]:
        """Layer name -> absolute SVG URL."""
        base = self.track_map or ""
        return {name: base + file for name, file in sorted(self.track_map_layers.items())} if base else {}
