"""Season schedules: turn raw iRacing bodies into validated models and week patterns.

Accepted bodies are a ``series/season_schedule`` object (``{"success", "season_id", "schedules"}``,
which is also the shape of one season object of ``series/seasons``) and a ``series/seasons`` array.
Anything else raises :class:`~iracing_sync.errors.MalformedPayload`, so a caller (a Lambda task, the
CLI) can treat it as permanent instead of retrying.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from iracing_sync.errors import MalformedPayload
from iracing_sync.models.base import validation_summary
from iracing_sync.models.iracing import RaceTimeDescriptor, SeasonFacts
from iracing_sync.models.iracing_bodies import Season
from iracing_sync.models.records import (
    CarCatalog,
    SeasonRecord,
    Slot,
    WeekPattern,
    WeekRecord,
    utc_day,
    week_car_class_ids,
)
from iracing_sync.recurrence import MAX_WEEK_SPAN, collate, compile_descriptor, day_start, expand_week

__all__ = ["ScheduleProcessor", "parse_schedule_body", "week_patterns"]


def parse_schedule_body(body: object) -> list[Season]:
    """Validate a ``series/season_schedule`` object or a ``series/seasons`` array into seasons.

    Raises MalformedPayload (one line naming the season and field) if the body has another shape
    or a season does not validate.
    """
    if isinstance(body, Mapping):
        if body.get("success") is False:
            raise MalformedPayload(f"season_schedule body{_season_label(body)} reports success=false")
        if "season_id" not in body and "seasonId" not in body:
            raise MalformedPayload(
                f"expected a series/season_schedule object or a series/seasons array, got an object "
                f"with keys {_key_summary(body)}"
            )
        return [_validate_season(body, where="season_schedule")]
    if isinstance(body, list):
        seasons: list[Season] = []
        for index, item in enumerate(body):
            where = f"series/seasons[{index}]"
            if not isinstance(item, Mapping):
                raise MalformedPayload(f"{where}: expected a season object, got {type(item).__name__}")
            seasons.append(_validate_season(item, where=where))
        return seasons
    raise MalformedPayload(
        f"expected a series/season_schedule object or a series/seasons array, got {type(body).__name__}"
    )


def week_patterns(seasons: Iterable[Season], catalog: CarCatalog | None = None) -> list[WeekPattern]:
    """The week patterns of every schedule week of ``seasons``, in input order (cars named from ``catalog``)."""
    # season_schedule weeks carry series_id themselves; series/seasons weeks may rely on the season's.
    return [WeekPattern.from_week(week, season, catalog) for season in seasons for week in season.schedules]


class ScheduleProcessor:
    """Turns a validated Season (from series/seasons or series/season_schedule) into what we store.

    Both iRacing shapes give the same SeasonRecord for the same season. A week keeps every descriptor (its
    pattern); its fixed ``session_times`` also become slots. The week's cars are named from ``catalog`` (the
    stored car classes and cars), so a slot answer needs no catalog read: a week item says all a slot shows.
    """

    # Bumped when what process() makes of the same body changes (a sync that skips seasons whose raw body is
    # unchanged must also compare this and the catalog's digest: see ``version``).
    # 3: week items carry their track's and cars' packages and the weather summary (planning with owned content).
    FORMAT = 3

    def __init__(self, catalog: CarCatalog | None = None) -> None:
        self.catalog = catalog or CarCatalog()
        # What besides the raw body decides the records: the output format and the car catalog's digest (hashed
        # once: the listing's change detection reads it for every season, and the catalog never changes).
        self.version = f"{self.FORMAT}:{self.catalog.digest}"

    def process(self, season: Season) -> SeasonRecord:
        """The SeasonRecord for one season; MalformedPayload if a week cannot be indexed."""
        weeks: list[WeekRecord] = []
        fixed: list[Slot] = []
        for week in season.schedules:
            pattern = WeekPattern.from_week(week, season, self.catalog)
            repeating_start, repeating_end = _span([d for d in pattern.descriptors if d.repeating])
            repeating_span = repeating_end - repeating_start if repeating_start and repeating_end else None
            if repeating_span is not None and repeating_span > MAX_WEEK_SPAN:
                raise MalformedPayload(
                    f"season {season.season_id} week {week.race_week_num}: race_time_descriptors span "
                    f"{repeating_span}, more than the {MAX_WEEK_SPAN} a week may cover"
                )
            fixed.extend(expand_week(pattern, _EPOCH, _FAR_FUTURE, repeating=False))
            span_start, span_end = _span(pattern.descriptors)
            first_start, last_start = _start_bounds(pattern.descriptors)
            weeks.append(
                WeekRecord(
                    pattern=pattern,
                    start_date=week.start_date,
                    week_end_time=week.week_end_time,
                    car_class_ids=week_car_class_ids(week, season),
                    car_restrictions=week.car_restrictions,
                    race_lap_limit=pattern.race_laps,
                    race_time_limit=pattern.race_minutes,
                    weather_summary=week.weather.weather_summary if week.weather else None,
                    race_week_car_ids=week.race_week_car_ids,
                    first_start=first_start,
                    last_start=last_start,
                    span_start=span_start,
                    span_end=span_end,
                )
            )
        facts = {name: getattr(season, name) for name in SeasonFacts.model_fields}
        first = weeks[0].pattern if weeks else None
        facts["series_name"] = season.series_name or (first.series_name if first else None)
        facts["category"] = season.category or (first.category if first else None)
        return SeasonRecord(**facts, weeks=weeks, fixed_slots=collate(fixed))


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)


def _span(descriptors: list[RaceTimeDescriptor]) -> tuple[datetime | None, datetime | None]:
    """First session day and end of the last session day of descriptors (repeating days and fixed times alike)."""
    days = [day_start(d, o) for d in descriptors if d.repeating for o in d.day_offset]
    days += [utc_day(t.date()) for d in descriptors if not d.repeating for t in d.session_times]
    if not days:
        return None, None
    return min(days), max(days) + timedelta(days=1)


def _start_bounds(descriptors: list[RaceTimeDescriptor]) -> tuple[datetime | None, datetime | None]:
    """The first and the last session start of descriptors (None, None if they start none)."""
    bounds: list[int] = []
    for descriptor in descriptors:
        p = compile_descriptor(descriptor)
        if p.repeating and p.days:
            bounds += [p.days[0] + p.first, p.days[-1] + p.last]
        elif p.times:
            bounds += [p.times[0], p.times[-1]]
    if not bounds:
        return None, None
    return datetime.fromtimestamp(min(bounds), UTC), datetime.fromtimestamp(max(bounds), UTC)


# --- helpers ---------------------------------------------------------------------------------


def _validate_season(raw: Mapping[str, Any], *, where: str) -> Season:
    try:
        return Season.model_validate(raw)
    except ValidationError as exc:
        raise MalformedPayload(f"{where}{_season_label(raw)}: {validation_summary(exc)}") from exc


def _season_label(raw: Mapping[str, Any]) -> str:
    season_id = raw.get("season_id", raw.get("seasonId"))
    return "" if season_id is None else f" (season_id {season_id!r})"


def _key_summary(body: Mapping[str, Any], limit: int = 5) -> str:
    keys = [str(k) for k in list(body)[:limit]]
    suffix = ", ..." if len(body) > limit else ""
    return "[" + ", ".join(keys) + suffix + "]" if keys else "[]"
