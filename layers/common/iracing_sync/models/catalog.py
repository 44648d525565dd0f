"""iRacing's reference data as stored and served: series, cars, track configurations and car classes, and the
catalog of names and packages the season sync reads from them.

Kept apart from ``models.iracing``'s season shapes so that the slot routes' cold start does not build these
models: only the sync and the routes that read the catalog import this module.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from iracing_sync.models.base import DeferredModel
from iracing_sync.models.iracing import IracingModel
from iracing_sync.models.planning import ContentPackage
from iracing_sync.models.records import CarCatalog, CarRef


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
    # Layer name -> SVG file; the URL of a layer is track_map + file (TrackRecord keeps the URLs).
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


class CarClassRecord(DeferredModel):
    """A car class as stored: which cars race together, with their names (from the cars synced beside it)."""

    model_config = ConfigDict(frozen=True)

    car_class_id: int
    name: str
    short_name: str | None = None
    relative_speed: int | None = None
    car_ids: list[int] = Field(default_factory=list)
    cars: list[CarRef] = Field(default_factory=list)


class TrackRecord(TrackConfig):
    """A track configuration as stored: ``track_map_layers`` holds each SVG layer's absolute URL."""

    @property
    def map_layer_urls(self) -> dict[str, str]:
        """Layer name -> absolute SVG URL (already absolute here)."""
        return dict(self.track_map_layers)


def catalog_of(
    cars: Iterable[Car], classes: Mapping[int, tuple[int, ...]], tracks: Iterable[TrackConfig] = ()
) -> CarCatalog:
    """The catalog the stored cars (``Car``), car classes (class -> car IDs) and track configurations
    make: names, classes' cars, and every car's and configuration's package (its content: the cars or
    configurations sharing its package_id)."""
    cars, tracks = list(cars), list(tracks)
    return CarCatalog(
        car_names={c.car_id: c.car_name for c in cars},
        class_cars=dict(classes),
        car_packages=_packages(cars, "car_id", "car_name"),
        track_packages=_packages(tracks, "track_id", "track_name"),
    )


def _packages(items: list[Any], key: str, name: str) -> dict[int, ContentPackage]:
    """Each item's package: items sharing a package_id are one package (its name: the first item's, by ID)."""
    by_package: dict[int, list[Any]] = {}
    for item in sorted(items, key=lambda i: getattr(i, key)):
        if item.package_id is not None:
            by_package.setdefault(item.package_id, []).append(item)
    out: dict[int, ContentPackage] = {}
    for package_id, members in by_package.items():
        first = members[0]
        package = ContentPackage(
            package_id=package_id,
            name=getattr(first, name),
            price=first.price,
            free=bool(first.free_with_subscription),
            purchasable=bool(first.is_ps_purchasable),
            content_ids=tuple(getattr(m, key) for m in members),
        )
        out.update((getattr(m, key), package) for m in members)
    return out
