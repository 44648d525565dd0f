"""Stored schedules read for an answer: a season or a series (or 404), and the slots they race in a window.

A series is read season by season (one partition Query each), only the seasons that can race in the window;
its next races read later seasons only while they could still hold one of the answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import TYPE_CHECKING

from iracing_sync.api.guide import guided
from iracing_sync.api.paging import slots_from
from iracing_sync.errors import NotFoundError
from iracing_sync.models.iracing import SeasonFacts
from iracing_sync.models.records import SeasonRecord, Slot, SlotSources, utc_day
from iracing_sync.recurrence import next_slots
from iracing_sync.store import seasons, slot_sources
from iracing_sync.store.slot_sources import ANY, SlotFilter

if TYPE_CHECKING:
    from iracing_sync.models.http import SeriesOut

# How far back a season may have started and still race: the longest season in the bundled data runs
# 300 days after its start_date (year-long series); no season races before its start_date.
SEASON_LOOKBACK = timedelta(days=400)


def season_or_404(season_id: int) -> SeasonRecord:
    """A stored season with its weeks and fixed slots (one Query); NotFoundError if unknown."""
    season = seasons.get_season(season_id)
    if season is None:
        raise NotFoundError(f"season {season_id} not found")
    return season


def season_sources_or_404(season_id: int, where: SlotFilter = ANY) -> tuple[SeasonFacts, SlotSources]:
    """A stored season's facts and the slot sources of its weeks ``where`` accepts, its race-guide sessions with
    them (one Query); NotFoundError if unknown."""
    found = slot_sources.season_sources(season_id, where)
    if found is None:
        raise NotFoundError(f"season {season_id} not found")
    return found


def seasons_of_series(series_id: int) -> list[SeasonFacts]:
    """The stored seasons of a series (one Query); NotFoundError if the series is unknown (one GetItem more)."""
    from iracing_sync.store import catalog

    found = seasons.list_seasons_of_series(series_id)
    if not found and catalog.get_series(series_id) is None:
        raise NotFoundError(f"series {series_id} not found")
    return found


def series_or_404(series_id: int) -> SeriesOut:
    """A stored series; one iRacing's series list lacks (new, or of another day) from its seasons' facts; else 404.

    One GetItem, and one Query of its seasons only if the series itself is not stored.
    """
    from iracing_sync.models.http import SeriesOut
    from iracing_sync.store import catalog

    series = catalog.get_series(series_id, as_=SeriesOut)
    if series is not None:
        return series
    found = seasons.list_seasons_of_series(series_id)
    if not found:
        raise NotFoundError(f"series {series_id} not found")
    return series_of_seasons(series_id, found)


def series_of_seasons(series_id: int, seasons: list[SeasonFacts]) -> SeriesOut:
    """What a series' seasons say about it: its latest named season's series name and category."""
    from iracing_sync.models.http import SeriesOut

    named = sorted((s for s in seasons if s.series_name), key=lambda s: (s.start_date or date.min, s.season_id))
    latest = named[-1] if named else None
    return SeriesOut(
        series_id=series_id,
        series_name=latest.series_name if latest and latest.series_name else f"Series {series_id}",
        category=latest.category if latest else None,
    )


def check_known(where: slot_sources.SlotFilter, slots: Sequence[Slot] = ()) -> None:
    """NotFoundError for an ID filter naming something not stored, among the IDs no slot of the answer shows.

    "Any of" lists are checked too: a typo among known IDs would otherwise narrow the answer unseen. An ID some slot
    shows is stored, so an answer showing every ID it asked for costs no read (one BatchGetItem per kind else).
    """
    from iracing_sync.store import catalog

    seen: dict[str, Callable[[], set[int]]] = {  # (built only for a kind the filter names: most answers name none)
        "series": lambda: {s.series_id for s in slots if s.series_id is not None},
        "season": lambda: {s.season_id for s in slots},
        "track": lambda: {s.track_id for s in slots if s.track_id is not None},
        "car": lambda: {c.car_id for s in slots for c in s.cars},
    }
    for kind, idents in (
        ("series", where.series_ids),
        ("season", where.season_ids),
        ("track", where.track_ids),
        ("car", where.car_ids),
    ):
        if not idents:
            continue
        shown = idents - seen[kind]()
        if kind == "series":
            series_known(shown)
            continue
        missing = catalog.unknown(kind, shown) if shown else []
        if missing:
            raise NotFoundError(f"{kind} {missing[0]} not found")


def series_known(series_ids: Iterable[int]) -> None:
    """NotFoundError for a series that is not stored: neither iRacing's series list nor any stored season names it
    (one BatchGetItem, and one Query of its seasons for each the list lacks); nothing read for no IDs."""
    from iracing_sync.store import catalog

    wanted = set(series_ids)
    missing = catalog.unknown("series", wanted) if wanted else []
    # A series iRacing's series list lacks is known by its seasons.
    missing = [i for i in missing if not seasons.list_seasons_of_series(i)]
    if missing:
        raise NotFoundError(f"series {missing[0]} not found")


def _start(season: SeasonFacts) -> datetime | None:
    return utc_day(season.start_date) if season.start_date else None


def _sources(seasons: list[SeasonFacts], where: SlotFilter = ANY) -> SlotSources:
    """The patterns of these seasons ``where`` accepts, one partition Query each."""
    found = SlotSources([])
    for season in seasons:
        stored = slot_sources.season_slot_sources(season.season_id, where)
        if stored is not None:  # None: deleted since it was listed
            found = found + stored
    return found


def series_slots(seasons: list[SeasonFacts], lo: datetime, hi: datetime, where: SlotFilter = ANY) -> list[Slot]:
    """The slots in [lo, hi) of a series ``where`` accepts, reading only the seasons that can race then."""
    racing = [s for s in seasons if (start := _start(s)) is None or lo - SEASON_LOOKBACK <= start < hi]
    return slots_from(_sources(racing, where), lo, hi)


def series_next(seasons: list[SeasonFacts], at: datetime, count: int, where: SlotFilter = ANY) -> list[Slot]:
    """The next ``count`` slots of a series from ``at``: running seasons first, then later ones in start order.

    A later season is read only while it could still hold one of the answers (it starts before the
    last one found), so a series with years of stored history costs a few Queries, not one per season.
    """
    dated = [(_start(s), s) for s in seasons]
    running = [s for start, s in dated if start is None or at - SEASON_LOOKBACK <= start <= at]
    later = sorted(((start, s) for start, s in dated if start is not None and start > at), key=itemgetter(0))
    sources = _sources(running, where)
    found = next_slots(sources.patterns, at, count)
    for opens, season in later:
        if len(found) == count and found[-1].start_time < opens:
            break
        sources = sources + _sources([season], where)
        found = next_slots(sources.patterns, at, count)
    return guided(found, sources)


def season_next(season_id: int, at: datetime, count: int, where: SlotFilter = ANY) -> list[Slot]:
    """The next ``count`` slots of one season ``where`` accepts from ``at`` (one Query); NotFoundError if the season
    is unknown."""
    _, sources = season_sources_or_404(season_id, where)
    return guided(next_slots(sources.patterns, at, count), sources)
