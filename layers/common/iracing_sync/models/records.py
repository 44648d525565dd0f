"""Our own records: what the service stores and reads back, and the slots it computes from them.

The store takes and returns these (never its PynamoDB items); the slot engine expands ``WeekPattern``s into
``Slot``s. Where a record is iRacing's body as sent (a series, a car, a season's facts), it is the iRacing shape
itself (``models.iracing``).
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import ConfigDict, Field

from iracing_sync.instants import iso_z
from iracing_sync.models.base import DeferredModel
from iracing_sync.models.iracing import (
    CarRestriction,
    RaceTimeDescriptor,
    SeasonFacts,
    WeatherSummary,
)
from iracing_sync.models.planning import ContentPackage, WeekPlan

if TYPE_CHECKING:
    from iracing_sync.models.iracing_bodies import ScheduleWeek

# iRacing's license groups (lookup/licenses) by the letter a racer knows them by; 6 and 7 are the Pro ranks.
LICENSE_LETTERS = {1: "R", 2: "D", 3: "C", 4: "B", 5: "A"}
# How long a schedule change is kept (store.changes; GET /changes reads no further back).
CHANGES_KEPT_FOR = timedelta(days=30)


def license_letter(group: int | None) -> str | None:
    """The license class letter of an iRacing license group (R, D, C, B, A), None for none or a Pro group."""
    return LICENSE_LETTERS.get(group) if group is not None else None


class CarRef(DeferredModel):
    """A car as a week races it: its ID and name (null when the car is not in the stored catalog)."""

    model_config = ConfigDict(frozen=True)

    car_id: int
    car_name: str | None = None


class Slot(NamedTuple):
    """One race session start, identified by (season_id, race_week_num, start_time); times are aware UTC.

    A named tuple: immutable, hashable and built in C by the slot engine (``Slot._make``), which makes
    every slot of an answer (a week's window over all seasons is ten thousand of them). Besides its times it
    carries what a racer chooses a race by, all of it its week's (``WeekPattern``); ``session_id`` and
    ``entry_count`` are iRacing's race guide's, None until one is matched.
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
    season_name: str | None = None
    category: str | None = None
    license_group: int | None = None
    cars: tuple[CarRef, ...] = ()
    race_laps: int | None = None
    race_minutes: int | None = None
    rain_chance: int | None = None
    session_id: int | None = None
    entry_count: int | None = None

    @property
    def key(self) -> tuple[datetime, int, int]:
        """Sort and identity key: start_time, season_id, race_week_num."""
        return (self.start_time, self.season_id, self.race_week_num)

    def to_json(self) -> dict[str, Any]:
        """JSON form with ISO 8601 UTC times (``YYYY-MM-DDTHH:MM:SSZ``), the license letter and the cars as objects."""
        data = self._asdict()
        data["start_time"] = iso_z(self.start_time)
        data["end_time"] = iso_z(self.end_time)
        data["license"] = license_letter(self.license_group)
        data["cars"] = [{"car_id": c.car_id, "car_name": c.car_name} for c in self.cars]
        return {key: data[key] for key in SLOT_KEYS}


# The keys of a slot's JSON form, in order (models.http.SlotOut declares them; tz adds the local times).
SLOT_KEYS = (
    "season_id",
    "series_id",
    "race_week_num",
    "start_time",
    "end_time",
    "super_session",
    "series_name",
    "track_id",
    "track_name",
    "config_name",
    "season_name",
    "category",
    "license",
    "license_group",
    "cars",
    "race_laps",
    "race_minutes",
    "rain_chance",
    "session_id",
    "entry_count",
)


_NONE: Mapping[Any, Any] = MappingProxyType({})


class CarCatalog(NamedTuple):
    """What naming a week's cars takes: each stored car's name and each car class's cars (from the store's catalog),
    and what planning with owned content takes: each car's and each track configuration's package.

    Empty when the reference data is not stored: a week then knows only its race-week cars, unnamed.
    """

    car_names: Mapping[int, str] = _NONE
    class_cars: Mapping[int, tuple[int, ...]] = _NONE
    car_packages: Mapping[int, ContentPackage] = _NONE  # car_id -> its package
    track_packages: Mapping[int, ContentPackage] = _NONE  # track_id -> its package (every configuration)

    def cars(self, car_ids: Iterable[int], named: Mapping[int, str | None] | None = None) -> tuple[CarRef, ...]:
        """The cars of ``car_ids`` in that order, once each, named from ``named`` first, else from the catalog."""
        seen: dict[int, CarRef] = {}
        for car_id in car_ids:
            if car_id not in seen:
                name = (named or {}).get(car_id) or self.car_names.get(car_id)
                seen[car_id] = CarRef(car_id=car_id, car_name=name)
        return tuple(seen.values())

    def class_car_ids(self, car_class_ids: Iterable[int]) -> list[int]:
        """The cars of these car classes, class by class (a class not stored has none)."""
        return [car for c in car_class_ids for car in self.class_cars.get(c, ())]

    def plan(self, track_id: int | None, cars: Iterable[CarRef], weather: WeatherSummary | None) -> WeekPlan:
        """A week's planning facts: its track's and cars' packages (from the catalog) and its weather summary."""
        packages: dict[int | tuple[int, ...], ContentPackage] = {}
        for car in cars:
            package = self.car_packages.get(car.car_id) or ContentPackage(name=car.car_name, content_ids=(car.car_id,))
            packages.setdefault(package.package_id or package.content_ids, package)
        track = self.track_packages.get(track_id) if track_id is not None else None
        return WeekPlan(track_package=track, car_packages=tuple(packages.values()), weather_summary=weather)

    @property
    def digest(self) -> str:
        """A digest of the catalog: equal digests name every week's cars and packages alike (e.g. to tell a stale
        week item)."""
        packages = [
            sorted((k, p.model_dump(mode="json")) for k, p in self.car_packages.items()),
            sorted((k, p.model_dump(mode="json")) for k, p in self.track_packages.items()),
        ]
        data = json.dumps([sorted(self.car_names.items()), sorted(self.class_cars.items()), packages])
        return hashlib.blake2b(data.encode(), digest_size=8).hexdigest()


# The facts of a week a slot shows besides its identity and times (WeekPattern's and Slot's alike).
WEEK_SLOT_FACTS = (
    "series_name",
    "track_id",
    "track_name",
    "config_name",
    "season_name",
    "category",
    "license_group",
    "cars",
    "race_laps",
    "race_minutes",
    "rain_chance",
)


class WeekPattern(DeferredModel):
    """A race week's time pattern plus what a slot shows about it; the unit the slot engine expands.

    ``descriptors`` are all of the week's race_time_descriptors as iRacing sent them: repeating patterns and
    fixed ``session_times`` alike. ``cars`` are the race-week cars of a car-rotation week, else the cars of the
    week's car classes; ``race_laps``/``race_minutes`` its race length (either may be null).
    """

    model_config = ConfigDict(frozen=True)

    season_id: int
    series_id: int | None
    race_week_num: int
    series_name: str | None = None
    season_name: str | None = None
    track_id: int | None = None
    track_name: str | None = None
    config_name: str | None = None
    category: str | None = None
    license_group: int | None = None
    cars: tuple[CarRef, ...] = ()
    race_laps: int | None = None
    race_minutes: int | None = None
    descriptors: list[RaceTimeDescriptor] = Field(default_factory=list)
    # What planning with owned content and the weather read (the packages and the summary), written at sync time.
    plan: WeekPlan | None = None

    @property
    def rain_chance(self) -> int | None:
        """The week's chance of rain in percent (iRacing's summary), None if unknown."""
        return self.plan.rain_chance if self.plan is not None else None

    @classmethod
    def from_week(
        cls, week: "ScheduleWeek", season: SeasonFacts | None = None, catalog: CarCatalog | None = None
    ) -> "WeekPattern":
        """The pattern of an iRacing schedule week (all its descriptors), with its season's facts and named cars."""
        track = week.track
        catalog = catalog or CarCatalog()
        if week.race_week_car_ids:  # a car-rotation week races its own cars
            cars = catalog.cars(week.race_week_car_ids, week.race_week_car_names)
        else:
            cars = catalog.cars(catalog.class_car_ids(week_car_class_ids(week, season)))
        track_id = track.track_id if track else None
        weather = week.weather.weather_summary if week.weather else None
        return cls(
            season_id=week.season_id,
            series_id=week.series_id if week.series_id is not None else season.series_id if season else None,
            race_week_num=week.race_week_num,
            series_name=week.series_name,
            season_name=week.season_name or (season.season_name if season else None),
            track_id=track.track_id if track else None,
            track_name=track.track_name if track else None,
            config_name=track.config_name if track else None,
            category=week.category or (track.category if track else None),
            license_group=season.license_group if season else None,
            cars=cars,
            race_laps=week.race_laps,
            race_minutes=week.race_minutes,
            descriptors=list(week.race_time_descriptors or []),
            plan=catalog.plan(track_id, cars, weather),
        )


def week_car_class_ids(week: "ScheduleWeek", season: SeasonFacts | None) -> list[int]:
    """The car classes a week races: its own (race_week_car_class_ids, or the 2026 shape's race_week_car_classes),
    else its season's."""
    own = week.race_week_car_class_ids or [c.car_class_id for c in week.race_week_car_classes]
    return list(own or (season.car_class_ids if season else []))


class WeekFacts(DeferredModel):
    """A race week's facts besides its pattern: dates, car classes and cars, BOP, race length, weather."""

    model_config = ConfigDict(frozen=True)

    start_date: date | None = None
    week_end_time: datetime | None = None
    car_class_ids: list[int] = Field(default_factory=list)
    car_restrictions: list[CarRestriction] = Field(default_factory=list)
    race_lap_limit: int | None = None
    race_time_limit: int | None = None
    weather_summary: WeatherSummary | None = None
    race_week_car_ids: list[int] = Field(default_factory=list)


class WeekRecord(WeekFacts):
    """A race week as stored: its pattern (every descriptor) plus the week's facts.

    ``first_start``/``last_start`` are its first and last session starts (None without any); ``span_start`` and
    ``span_end`` the first session day and the end of the last one.
    """

    pattern: WeekPattern
    first_start: datetime | None = None
    last_start: datetime | None = None
    span_start: datetime | None = None
    span_end: datetime | None = None


class SeasonRecord(SeasonFacts):
    """A season as stored: the season's facts, its weeks (in race-week order) and its fixed-time slots.

    The fixed slots are the weeks' ``session_times`` as slots (stored one item each: the hook for matching
    iRacing's race guide); the weeks' patterns hold them too, so expanding the weeks gives every slot.
    """

    weeks: list[WeekRecord] = Field(default_factory=list)
    fixed_slots: list[Slot] = Field(default_factory=list)


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


SlotKey = tuple[datetime, int, int]  # (start_time, season_id, race_week_num): ``Slot.key``


class GuideSession(NamedTuple):
    """One session of iRacing's race guide (season/race_guide) as stored: a slot's key and what iRacing published.

    ``end_time`` is iRacing's: the scheduled end until the session starts, then its live estimate or actual end;
    ``session_id`` is null until the session is created (about when registration opens), ``entry_count`` counts
    the racers registered or racing.
    """

    season_id: int
    series_id: int | None
    race_week_num: int
    start_time: datetime
    end_time: datetime
    super_session: bool = False
    session_id: int | None = None
    entry_count: int | None = None

    @property
    def key(self) -> SlotKey:
        """The key of the slot it is: (start_time, season_id, race_week_num)."""
        return (self.start_time, self.season_id, self.race_week_num)


_NO_SESSIONS: Mapping[SlotKey, GuideSession] = MappingProxyType({})


class SlotSources(NamedTuple):
    """What the slot engine needs for a window: the week patterns that may race in it (fixed times included), and
    what iRacing's race guide says of their sessions.

    ``sessions`` are race-guide sessions already read (a season's partition holds its own); ``horizon`` is the span
    [first, last] of session starts the stored race guide holds, when the window overlaps it and its sessions are
    still to be read (api.guide reads them only for the slots an answer shows). ``a + b`` holds both.
    """

    patterns: list[WeekPattern]
    sessions: Mapping[SlotKey, GuideSession] = _NO_SESSIONS
    horizon: tuple[datetime, datetime] | None = None

    @classmethod
    def of(cls, seasons: Iterable["SeasonRecord"]) -> "SlotSources":
        """The patterns of whole seasons."""
        return cls([w.pattern for season in seasons for w in season.weeks])

    def __add__(self, other: "SlotSources") -> "SlotSources":  # type: ignore[override]
        sessions = {**self.sessions, **other.sessions} if self.sessions and other.sessions else None
        spans = [s for s in (self.horizon, other.horizon) if s is not None]
        horizon = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
        return SlotSources(self.patterns + other.patterns, sessions or self.sessions or other.sessions, horizon)
