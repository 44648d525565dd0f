"""Pydantic models: the iRacing fields we use (extra fields ignored) and our own domain shapes.

iRacing answers snake_case; some community dumps are camelCased, so every field also accepts its
camelCase spelling.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    AliasGenerator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic.alias_generators import to_camel

from iracing_sync.errors import InvalidEvent


def _either_case(name: str) -> AliasChoices:
    return AliasChoices(name, to_camel(name))


# Validators built on first use, not on import: about forty models live here and each function uses a handful,
# so building them all would be paid on every cold start for shapes that function never sees.
_DEFERRED = ConfigDict(defer_build=True)


class DeferredModel(BaseModel):
    """Base for every model here: its validator is built on first use (see _DEFERRED)."""

    model_config = _DEFERRED


class IracingModel(DeferredModel):
    """Base for models of iRacing bodies: ignore unknown fields, accept snake or camel case."""

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        alias_generator=AliasGenerator(validation_alias=_either_case),
    )


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class RaceTimeDescriptor(IracingModel):
    """One entry of a week's ``race_time_descriptors``: a repeating pattern or fixed session times."""

    repeating: bool
    super_session: bool = False
    session_minutes: int = Field(ge=0)
    start_date: date | None = None
    day_offset: list[Annotated[int, Field(ge=0)]] = Field(default_factory=list)
    first_session_time: time | None = None
    repeat_minutes: int | None = Field(default=None, gt=0)
    session_times: list[datetime] = Field(default_factory=list)

    @field_validator("session_times")
    @classmethod
    def _times_utc(cls, value: list[datetime]) -> list[datetime]:
        return [_utc(v) for v in value]

    def model_post_init(self, __context: Any) -> None:
        if self.repeating and (self.start_date is None or self.first_session_time is None):
            raise ValueError("a repeating descriptor needs start_date and first_session_time")


class Track(IracingModel):
    """The track of a race week."""

    track_id: int
    track_name: str = ""
    config_name: str | None = None
    category: str | None = None


class CarRestriction(IracingModel):
    """Balance-of-performance settings for one car in one week."""

    car_id: int
    max_dry_tire_sets: int | None = None
    max_pct_fuel_fill: float | None = None
    power_adjust_pct: float | None = None
    weight_penalty_kg: float | None = None


class Weather(IracingModel):
    """The part of a week's weather we keep: iRacing's forecast summary."""

    weather_summary: dict[str, Any] | None = None


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

    @field_validator("car_restrictions", "race_week_car_class_ids", "race_week_cars", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value

    @field_validator("week_end_time")
    @classmethod
    def _end_utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else _utc(value)


class Season(IracingModel):
    """A season with its schedule, from series/seasons or series/season_schedule."""

    season_id: int
    series_id: int | None = None
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
    schedules: list[ScheduleWeek] = Field(default_factory=list)

    def model_post_init(self, __context: Any) -> None:
        # season_schedule bodies carry series_id only on the weeks.
        if self.series_id is None:
            week_series = {w.series_id for w in self.schedules if w.series_id is not None}
            if len(week_series) == 1:
                object.__setattr__(self, "series_id", week_series.pop())


class Series(IracingModel):
    """A series from series/get, merged with its series/assets entry."""

    series_id: int
    series_name: str
    series_short_name: str | None = None
    category: str | None = None
    category_id: int | None = None
    logo: str | None = None
    large_image: str | None = None
    small_image: str | None = None


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


class Car(IracingModel):
    """A car from car/get, merged with its car/assets entry."""

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
    # Layer name -> SVG file; the URL of a layer is track_map + file.
    track_map_layers: dict[str, str] = Field(default_factory=dict)

    @field_validator("track_map_layers", mode="before")
    @classmethod
    def _no_layers(cls, value: object) -> object:
        return {} if value is None else value

    @property
    def map_layer_urls(self) -> dict[str, str]:
        """Layer name -> absolute SVG URL."""
        base = self.track_map or ""
        return {name: base + file for name, file in sorted(self.track_map_layers.items())} if base else {}


class Slot(DeferredModel):
    """One race session start: identified by (season_id, race_week_num, start_time)."""

    model_config = ConfigDict(frozen=True)

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
        data = self.model_dump()
        data["start_time"] = iso_z(self.start_time)
        data["end_time"] = iso_z(self.end_time)
        return data


def iso_z(value: datetime) -> str:
    """Format an aware datetime as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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


class WeekRecord(DeferredModel):
    """A race week as stored: its repeating pattern plus the week's facts."""

    model_config = ConfigDict(frozen=True)

    pattern: WeekPattern  # repeating descriptors only; fixed session_times become slots
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
    # First session day and the end of the last session day of the repeating pattern (None if none).
    span_start: datetime | None = None
    span_end: datetime | None = None


class SeasonRecord(DeferredModel):
    """A season as stored: the season's facts, its weeks and its fixed-time slots."""

    model_config = ConfigDict(frozen=True)

    season_id: int
    series_id: int | None
    season_name: str | None = None
    season_short_name: str | None = None
    season_year: int | None = None
    season_quarter: int | None = None
    license_group: int | None = None
    car_class_ids: list[int] = Field(default_factory=list)
    active: bool | None = None
    official: bool | None = None
    car_switching: bool | None = None
    start_date: date | None = None
    schedule_description: str | None = None
    weeks: list[WeekRecord] = Field(default_factory=list)
    fixed_slots: list[Slot] = Field(default_factory=list)


# --- Lambda inputs and outputs (Step Functions task payloads) -----------------------------------------


class TaskEvent(DeferredModel):
    """Common fields of every state machine task payload."""

    model_config = ConfigDict(extra="forbid")

    execution_id: str | None = None


class ListCurrentSeasonsEvent(TaskEvent):
    action: Literal["list_current"]


class SyncSeasonEvent(TaskEvent):
    action: Literal["sync"]
    season_id: int = Field(gt=0)
    # Pointer to an archived series/seasons body holding this season; absent = fetch season_schedule.
    archive_key: str | None = None
    # Pointer to an archived series/past_seasons body with this season's facts (name, year, quarter...),
    # which a season_schedule body lacks.
    meta_key: str | None = None


class SeasonOutcome(DeferredModel):
    """One season's result inside a run: counts on success, the error on failure."""

    season_id: int | None = None
    series_id: int | None = None
    ok: bool = True
    api_requests: int = 0
    items_written: int = 0
    items_unchanged: int = 0
    items_deleted: int = 0
    error: dict[str, Any] | None = None


class Tally(DeferredModel):
    """Totals over many outcomes; what a run records and what a backfill's child summarizes to."""

    api_requests: int = 0
    items_written: int = 0
    items_unchanged: int = 0
    items_deleted: int = 0
    seasons_synced: int = 0
    failed: list[dict[str, Any]] = Field(default_factory=list)

    def add(self, entry: Any) -> None:
        """Add a SeasonOutcome, a Tally, their dict forms, or (nested) lists of them."""
        if entry is None:
            # A Map iteration without a result: never expected (every failure is caught), so never hidden.
            self.failed.append({"error": "MissingResult", "cause": "a Map iteration returned no result"})
        elif isinstance(entry, list):
            for item in entry:
                self.add(item)
        elif isinstance(entry, dict) and "failed" in entry:
            self.add(Tally.model_validate(entry))
        elif isinstance(entry, Tally):
            for field in ("api_requests", "items_written", "items_unchanged", "items_deleted", "seasons_synced"):
                setattr(self, field, getattr(self, field) + getattr(entry, field))
            self.failed.extend(entry.failed)
        else:
            outcome = entry if isinstance(entry, SeasonOutcome) else SeasonOutcome.model_validate(entry)
            self.api_requests += outcome.api_requests
            if not outcome.ok:
                where = {k: v for k, v in (("season_id", outcome.season_id), ("series_id", outcome.series_id)) if v}
                self.failed.append({**where, **_error_summary(outcome.error)})
                return
            self.items_written += outcome.items_written
            self.items_unchanged += outcome.items_unchanged
            self.items_deleted += outcome.items_deleted
            self.seasons_synced += 1 if outcome.season_id is not None else 0


def _error_summary(error: dict[str, Any] | None) -> dict[str, Any]:
    """Error name and message of a Step Functions Catch result ({"Error", "Cause"})."""
    if not error:
        return {"error": "Unknown"}
    cause: Any = error.get("Cause", "")
    try:
        parsed = json.loads(cause) if isinstance(cause, str) else cause
    except json.JSONDecodeError:
        parsed = None
    message = parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause
    return {"error": error.get("Error", "Unknown"), "reason": " ".join(str(message).split())[:500]}


class RecordRunEvent(TaskEvent):
    action: Literal["record_run"]
    kind: str = Field(min_length=1)
    api_requests: int = 0
    outcomes: list[Any] = Field(default_factory=list)


class SummarizeEvent(TaskEvent):
    """Sum outcomes into a Tally without recording a run (a backfill child's compact result)."""

    action: Literal["summarize"]
    api_requests: int = 0
    outcomes: list[Any] = Field(default_factory=list)


SeasonTask = Annotated[
    ListCurrentSeasonsEvent | SyncSeasonEvent | RecordRunEvent | SummarizeEvent, Field(discriminator="action")
]
SEASON_TASK: TypeAdapter[SeasonTask] = TypeAdapter(SeasonTask, config=_DEFERRED)


class SyncSeriesEvent(TaskEvent):
    """Sync every series with its assets."""

    action: Literal["series"] = "series"


class SyncReferenceEvent(TaskEvent):
    """Sync the reference data: car classes (with car IDs), cars, tracks (with map layers)."""

    action: Literal["reference"]


SeriesTask = Annotated[SyncSeriesEvent | SyncReferenceEvent, Field(discriminator="action")]
SERIES_TASK: TypeAdapter[SeriesTask] = TypeAdapter(SeriesTask, config=_DEFERRED)


class ListPastSeasonsEvent(TaskEvent):
    """List the past season IDs of one series (series/past_seasons)."""

    action: Literal["list_past"] = "list_past"
    series_id: int = Field(gt=0)


class ListSeriesEvent(TaskEvent):
    """List every series ID (series/get), the start of a full backfill."""

    action: Literal["list_series"]


PastSeasonsTask = Annotated[ListPastSeasonsEvent | ListSeriesEvent, Field(discriminator="action")]
PAST_SEASONS_TASK: TypeAdapter[PastSeasonsTask] = TypeAdapter(PastSeasonsTask, config=_DEFERRED)


class RunSummary(Tally):
    """The JSON summary a sync prints as its last line and records as a sync run."""

    run_id: str
    kind: str
    status: str


def parse_event[T](adapter: TypeAdapter[T], event: Any) -> T:
    """Validate a Lambda event; InvalidEvent (a PermanentError: never retried) names the first bad field."""
    try:
        return adapter.validate_python(event)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "event"
        raise InvalidEvent(f"invalid event: {where}: {first['msg']}") from exc


# --- HTTP API response shapes (documentation: the OpenAPI document's schemas, checked by the API fuzz test) ---


UtcInstant = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]


class _Open(DeferredModel):
    """A stored item as the API returns it: the fields below plus any other stored fact."""

    model_config = ConfigDict(extra="allow")


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


class SlotsPage(DeferredModel):
    """A page of the slots starting in [from, to); ``next_cursor`` fetches the next page (null on the last)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    count: int = Field(ge=0)
    limit: int = Field(ge=1)
    next_cursor: str | None
    tz: str | None = None
    slots: list[SlotOut]


class SeasonSlotsPage(DeferredModel):
    """A page of one season's slots (within [from, to) if given)."""

    season_id: int
    count: int = Field(ge=0)
    limit: int = Field(ge=1)
    next_cursor: str | None
    tz: str | None = None
    slots: list[SlotOut]


class SeriesOut(_Open):
    series_id: int
    series_name: str


class SeriesList(DeferredModel):
    series: list[SeriesOut]


class SeasonOut(_Open):
    season_id: int
    series_id: int | None = None


class SeriesSeasons(DeferredModel):
    series_id: int
    seasons: list[SeasonOut]


class WeekOut(_Open):
    """A race week: its facts and its repeating race_time_descriptors as iRacing sent them."""

    season_id: int
    race_week_num: int
    descriptors: list[dict[str, Any]]


class SeasonWithWeeks(SeasonOut):
    weeks: list[WeekOut]


class ErrorDetail(DeferredModel):
    code: str
    message: str


class ErrorBody(DeferredModel):
    """Every 4xx/5xx answer of the HTTP API."""

    error: ErrorDetail
