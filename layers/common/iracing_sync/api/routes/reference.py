"""GET /cars, /tracks, /car-classes and one of each: iRacing's reference data as the last sync stored it.

A list is one Query of its catalog's partition, one item one GetItem; each record is validated straight from its
stored JSON into its answer shape (images and SVG map layers as absolute URLs) and the answer serialized once.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from iracing_sync.api.answers import json_answer
from iracing_sync.api.params import ClassId, Id
from iracing_sync.api.resolver import app, ok
from iracing_sync.errors import NotFoundError
from iracing_sync.models.base import DeferredModel


def _found[M: DeferredModel](record: M | None, what: str) -> M:
    """The record read, or NotFoundError naming ``what``."""
    if record is None:
        raise NotFoundError(f"{what} not found")
    return record


@app.get("/cars", responses=ok("CarList", "every car iRacing lists"))
def get_cars() -> Response[str]:
    """Every car, with its images."""
    from iracing_sync.models.http import CarList, CarOut
    from iracing_sync.store import catalog

    return json_answer(CarList(cars=catalog.list_cars(as_=CarOut)))


@app.get("/cars/<car_id>", responses=ok("CarOut", "the car"))
def get_car(car_id: Id) -> Response[str]:
    """One car, with its images."""
    from iracing_sync.models.http import CarOut
    from iracing_sync.store import catalog

    return json_answer(_found(catalog.get_car(car_id, as_=CarOut), f"car {car_id}"))


@app.get("/tracks", responses=ok("TrackList", "every track configuration iRacing lists"))
def get_tracks() -> Response[str]:
    """Every track configuration, with its SVG map layer URLs and images."""
    from iracing_sync.models.http import TrackList, TrackOut
    from iracing_sync.store import catalog

    return json_answer(TrackList(tracks=catalog.list_tracks(as_=TrackOut)))


@app.get("/tracks/<track_id>", responses=ok("TrackOut", "the track configuration"))
def get_track(track_id: Id) -> Response[str]:
    """One track configuration, with its SVG map layer URLs and images."""
    from iracing_sync.models.http import TrackOut
    from iracing_sync.store import catalog

    return json_answer(_found(catalog.get_track(track_id, as_=TrackOut), f"track {track_id}"))


@app.get("/car-classes", responses=ok("CarClassList", "every car class iRacing lists"))
def get_car_classes() -> Response[str]:
    """Every car class, with its cars (IDs and names)."""
    from iracing_sync.models.http import CarClassList, CarClassOut
    from iracing_sync.store import catalog

    return json_answer(CarClassList(car_classes=catalog.list_car_classes(as_=CarClassOut)))


@app.get("/car-classes/<car_class_id>", responses=ok("CarClassOut", "the car class"))
def get_car_class(car_class_id: ClassId) -> Response[str]:
    """One car class, with its cars (IDs and names)."""
    from iracing_sync.models.http import CarClassOut
    from iracing_sync.store import catalog

    return json_answer(_found(catalog.get_car_class(car_class_id, as_=CarClassOut), f"car class {car_class_id}"))
