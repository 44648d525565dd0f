"""The HTTP API's answers: every shape a route returns, as the OpenAPI document states it.

Routes fill these from the store's records (``models.records``, ``models.iracing``); the fuzz test checks
every live answer against the document built from them, and a client generated from the document parses every
answer with no key left over. Every key is declared: the document closes every object (api.openapi).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, SerializerFunctionWrapHandler, computed_field, model_serializer

from iracing_sync.models.base import OMITTED_UNLESS_ASKED, DeferredModel, UtcInstant
from iracing_sync.models.catalog import Car, CarClassRecord, Series, TrackRecord
from iracing_sync.models.http_planner import License, WeatherOut
from iracing_sync.models.iracing import RaceTimeDescriptor, SeasonFacts
from iracing_sync.models.planning import ContentPackage, WeekPlan
from iracing_sync.models.records import (
    CarRef,
    ChangeKind,
    WeekFacts,
    WeekPattern,
    license_letter,
)

# iRacing's image paths (car/assets, track/assets, series/assets) are relative to this (data/doc says so).
IMAGES = "https://images-static.iracing.com"

# A local time with its UTC offset, e.g. 2025-03-30T02:30:00+01:00.
LocalInstant = str


class SlotOut(DeferredModel):
    """One race slot: times in UTC (``YYYY-MM-DDTHH:MM:SSZ``); with ``tz``, also local times with their offset.

    Besides its times a slot carries what a racer chooses a race by, all of it its week's: series and season
    names, category, license class, track and config, the week's cars (the race-week cars of a car-rotation
    series, else the cars of the week's car classes) and race length (laps or minutes, either may be null).
    """

    season_id: int
    series_id: int | None
    race_week_num: int = Field(description="0-based week of the season")
    start_time: UtcInstant
    end_time: UtcInstant
    super_session: bool
    series_name: str | None
    track_id: int | None
    track_name: str | None
    config_name: str | None
    season_name: str | None
    category: str | None = Field(description="track category: oval, road, dirt_oval, dirt_road, sports_car...")
    license: License | None = Field(description="license class letter of the series (null for Pro series)")
    license_group: int | None = Field(description="iRacing license group: 1 R, 2 D, 3 C, 4 B, 5 A, 6-7 Pro")
    cars: list[CarRef]
    race_laps: int | None = Field(description="race length in laps (null if timed only)")
    race_minutes: int | None = Field(description="race length in minutes (null if by laps only)")
    rain_chance: int | None = Field(
        description="chance of rain in percent, from iRacing's weather summary of the week (null when unknown)"
    )
    session_id: int | None = Field(description="the race session's ID as iRacing published it, null when it has not")
    entry_count: int | None = Field(description="entries as iRacing published them, null when it has not")
    tz: str | None = Field(
        None, description="with tz: the zone of the local times", json_schema_extra=OMITTED_UNLESS_ASKED
    )
    start_local: LocalInstant | None = Field(
        None, description="with tz: the local start, with its UTC offset", json_schema_extra=OMITTED_UNLESS_ASKED
    )
    end_local: LocalInstant | None = Field(
        None, description="with tz: the local end, with its UTC offset", json_schema_extra=OMITTED_UNLESS_ASKED
    )


class _Page(DeferredModel):
    """What every page of slots holds; ``next_cursor`` fetches the next page (null on the last).

    A page holds at most ``limit`` slots, and ends earlier where its JSON would grow past about 5 MB (Lambda
    answers at most 6 MB): ``next_cursor`` then says more follow.
    """

    count: int = Field(ge=0)
    limit: int = Field(ge=1)
    next_cursor: str | None
    tz: str | None = Field(
        None, description="with tz: the zone of the local times", json_schema_extra=OMITTED_UNLESS_ASKED
    )
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

    series_id: int | None = Field(None, description="for a series' races", json_schema_extra=OMITTED_UNLESS_ASKED)
    season_id: int | None = Field(None, description="for a season's races", json_schema_extra=OMITTED_UNLESS_ASKED)
    at: UtcInstant
    count: int = Field(ge=0)
    tz: str | None = Field(
        None, description="with tz: the zone of the local times", json_schema_extra=OMITTED_UNLESS_ASKED
    )
    slots: list[SlotOut]


class SeriesOut(Series):
    """A series: iRacing's facts and logos (for a series iRacing's series list lacks: what its seasons say)."""


class SeriesList(DeferredModel):
    series: list[SeriesOut]


class SeasonOut(SeasonFacts):
    """A season's own facts (its weeks are at /seasons/{id})."""


class SeriesSeasons(DeferredModel):
    series_id: int
    seasons: list[SeasonOut]


class WeekOut(WeekPattern, WeekFacts):
    """A race week: what its slots carry (names, category, license, track, cars, race length), its facts, and all
    its race_time_descriptors as iRacing sent them (repeating patterns and fixed ``session_times`` alike).

    ``session_times`` are the week's fixed session starts (from its non-repeating descriptors); ``span_end`` is the
    end of the last day the week races on (null without any session). ``track_package`` and ``car_packages`` are
    what a racer buys to race it (null for a track the catalog does not list), ``rain_chance`` and ``weather``
    the week's weather summary.
    """

    span_end: datetime | None = None
    session_times: list[UtcInstant] = Field(default_factory=list)
    plan: WeekPlan | None = Field(None, exclude=True)  # (served as the fields below)
    weather: WeatherOut | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def license(self) -> License | None:
        """The license class letter of the week's series (null for none or a Pro series)."""
        return license_letter(self.license_group)  # type: ignore[return-value]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def track_package(self) -> ContentPackage | None:
        """The package of the week's track: every configuration of it (null when the catalog does not list it)."""
        return self.plan.track_package if self.plan is not None else None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def car_packages(self) -> list[ContentPackage]:
        """The packages of the week's cars, in the order of the cars."""
        return list(self.plan.car_packages) if self.plan is not None else []

    @computed_field(description="chance of rain in percent (null when unknown)")  # type: ignore[prop-decorator]
    @property
    def rain_chance(self) -> int | None:
        return self.plan.rain_chance if self.plan is not None else None


class SeasonWithWeeks(SeasonOut):
    weeks: list[WeekOut]


class CarImages(DeferredModel):
    """A car's images as absolute URLs (null where iRacing has none)."""

    logo: str | None
    small_image: str | None
    large_image: str | None


def _image(path: str | None, folder: str | None = None) -> str | None:
    """The absolute URL of one of iRacing's image paths (``folder`` + file, or a path from the root)."""
    if not path:
        return None
    if path.startswith(("http://", "https://")):
        return path
    return f"{IMAGES}{folder}/{path}" if folder else f"{IMAGES}/{path.lstrip('/')}"


class CarOut(Car):
    """A car: iRacing's facts (car/get), its asset paths (car/assets) and those images as absolute URLs."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def images(self) -> CarImages:
        return CarImages(
            logo=_image(self.logo),
            small_image=_image(self.small_image, self.folder),
            large_image=_image(self.large_image, self.folder),
        )


class CarList(DeferredModel):
    cars: list[CarOut]


class TrackMapLayers(DeferredModel):
    """A track configuration's SVG map, one absolute URL per layer (null where iRacing has none)."""

    model_config = ConfigDict(populate_by_name=True)

    background: str | None = None
    inactive: str | None = None
    active: str | None = None
    pitroad: str | None = None
    start_finish: str | None = Field(default=None, alias="start-finish")
    turns: str | None = None


class TrackImages(DeferredModel):
    """A track's images as absolute URLs (null where iRacing has none)."""

    logo: str | None
    small_image: str | None


class TrackOut(TrackRecord):
    """A track configuration: iRacing's facts (track/get), its map and images (track/assets) as absolute URLs."""

    track_map_layers: TrackMapLayers = Field(default_factory=TrackMapLayers)  # type: ignore[assignment]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def images(self) -> TrackImages:
        return TrackImages(logo=_image(self.logo), small_image=_image(self.small_image, self.folder))


class TrackList(DeferredModel):
    tracks: list[TrackOut]


class CarClassOut(CarClassRecord):
    """A car class: which cars race together (their IDs, and each with its name)."""


class CarClassList(DeferredModel):
    car_classes: list[CarClassOut]


def _part(description: str) -> Any:
    return Field(None, description=description, json_schema_extra=OMITTED_UNLESS_ASKED)


class ChangePart(DeferredModel):
    """What a change is about, before or after it; which keys it holds depends on the change's kind (a key whose
    value is null is left out): a week's track (track_id, track_name, config_name), its repeating pattern
    (descriptors), its cars (car_class_ids, race_week_car_ids), a week that appeared or vanished (its track,
    start_date and descriptors), a fixed session (start_time, end_time), a new season (season_name, weeks,
    start_date)."""

    track_id: int | None = _part("the week's track")
    track_name: str | None = _part("the week's track name")
    config_name: str | None = _part("the track's configuration")
    start_date: str | None = _part("the week's or the season's first day (ISO 8601 date)")
    descriptors: list[RaceTimeDescriptor] | None = _part("the week's repeating race_time_descriptors")
    car_class_ids: list[int] | None = _part("the week's car classes")
    race_week_car_ids: list[int] | None = _part("a car-rotation week's own cars")
    start_time: UtcInstant | None = _part("a fixed session's start")
    end_time: UtcInstant | None = _part("a fixed session's end")
    season_name: str | None = _part("a new season's name")
    weeks: int | None = _part("a new season's number of race weeks")

    @model_serializer(mode="wrap")
    def _without_nulls(self, handler: SerializerFunctionWrapHandler) -> Any:
        return {key: value for key, value in handler(self).items() if value is not None}


class ChangeOut(DeferredModel):
    """One change a sync made to a stored schedule (as the ``Schedule Changed`` event announces it).

    ``at`` is when the body that brought it was fetched from iRacing; ``before``/``after`` hold what the kind is
    about (null where there is nothing: no before for a new season or week, no after for a removed one).
    """

    at: UtcInstant
    kind: ChangeKind
    season_id: int
    series_id: int | None
    race_week_num: int | None = Field(description="0-based week the change is about (null for a whole season)")
    before: ChangePart | None
    after: ChangePart | None


class ChangesList(DeferredModel):
    """The schedule changes recorded at or after ``since`` (kept 30 days), oldest first."""

    since: UtcInstant
    changes: list[ChangeOut]


class ErrorDetail(DeferredModel):
    code: str
    message: str


class ErrorBody(DeferredModel):
    """Every 4xx/5xx answer of the HTTP API."""

    error: ErrorDetail
