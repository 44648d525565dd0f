"""What planning with owned content reads: the packages a racer buys, what a week needs of them, who owns what.

A package is what iRacing sells and member/info lists as owned (``car_packages`` / ``track_packages``: a
``package_id`` and its ``content_ids``): a car's package holds one car or a few variants, a track's every
configuration of that track. The season sync writes on each week the packages of its track and cars (from the
stored catalogs), so deciding whether a racer can enter a week reads nothing but the week.
"""

from collections.abc import Iterable
from typing import NamedTuple, Protocol

from pydantic import ConfigDict

from iracing_sync.models.base import DeferredModel
from iracing_sync.models.iracing import WeatherSummary


class _Car(Protocol):
    """A week's car as ``access`` reads it (records.CarRef; records builds on this module, not the reverse)."""

    @property
    def car_id(self) -> int: ...


class ContentPackage(DeferredModel):
    """A car or track package: owning any of its ``content_ids`` (the car IDs or track configuration IDs it holds)
    is owning all of them. ``name``: the car's or the track's; ``price``: iRacing's, in US dollars; ``free``: free
    with the subscription; ``purchasable``: for sale (iRacing's is_ps_purchasable). ``package_id`` is null for
    content the stored catalog does not list (then it is a package of its own)."""

    model_config = ConfigDict(frozen=True)

    package_id: int | None = None
    name: str | None = None
    price: float | None = None
    free: bool = False
    purchasable: bool = False
    content_ids: tuple[int, ...] = ()

    def owned_by(self, owned: frozenset[int]) -> bool:
        """Free, or one of its content IDs is among ``owned``."""
        return owns(self.free, self.content_ids, owned)


def owns(free: bool, content_ids: Iterable[int], owned: frozenset[int]) -> bool:
    """Whether a racer owning ``owned`` (car or track IDs) has a package: it is free with the subscription, or they
    own one of its content IDs (member/info lists a package's content; any one of them stands for all)."""
    return free or not owned.isdisjoint(content_ids)


class WeekPlan(DeferredModel):
    """What deciding a week takes besides its cars: its track's package, its cars' packages, its weather summary.

    ``car_packages`` are the packages of the week's cars, in the order of the cars, each once.
    """

    model_config = ConfigDict(frozen=True)

    track_package: ContentPackage | None = None
    car_packages: tuple[ContentPackage, ...] = ()
    weather_summary: WeatherSummary | None = None

    @property
    def rain_chance(self) -> int | None:
        """iRacing's chance of rain for the week, in percent (its summary's precip_chance), None if unknown."""
        return summary_rain_chance(self.weather_summary)


def summary_rain_chance(summary: WeatherSummary | None) -> int | None:
    """A weather summary's chance of rain in whole percent, None if unknown."""
    return rain_percent(summary.precip_chance if summary is not None else None)


def rain_percent(precip_chance: float | None) -> int | None:
    """The summary's precip_chance (a percent, 0-100, unlike the forecast's x100) in whole percent."""
    return None if precip_chance is None else max(0, min(100, round(precip_chance)))


class Access(NamedTuple):
    """Whether a racer can enter a week, and what they lack: the track's package, and (when no car of the week is
    theirs or free) the packages of its cars."""

    enterable: bool
    track: ContentPackage | None
    cars: tuple[ContentPackage, ...]


class Ownership(NamedTuple):
    """What a racer owns: car and track IDs (member/info's content_ids). Free content is everyone's."""

    car_ids: frozenset[int] = frozenset()
    track_ids: frozenset[int] = frozenset()

    def canonical(self) -> list[list[int]]:
        """Sorted lists, the same in every process (for cursors and fingerprints)."""
        return [sorted(self.car_ids), sorted(self.track_ids)]

    def access(self, track_id: int | None, cars: Iterable[_Car], plan: WeekPlan | None) -> Access:
        """Whether a week of this track and these cars is enterable: its track's package is owned (any
        configuration of it) or free, and one of its cars is owned or free. Content the catalog does not list
        counts as a package of its own, never free; a week without cars is not enterable."""
        plan = plan or WeekPlan()
        track = plan.track_package
        if track is None and track_id is not None:
            track = ContentPackage(content_ids=(track_id,))
        track_ok = track is not None and track.owned_by(self.track_ids)
        packages = plan.car_packages or tuple(ContentPackage(content_ids=(c.car_id,)) for c in cars)
        cars_ok = any(p.owned_by(self.car_ids) for p in packages)
        return Access(
            enterable=track_ok and cars_ok,
            track=None if track_ok else track,
            cars=() if cars_ok else packages,
        )
