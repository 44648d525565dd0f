"""Reference data over real HTTP after a real sync: cars with images, tracks with their SVG map layers, car classes
with their cars' names, each list whole and each item by ID, checked against the raw iRacing bodies."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.integration.conftest import sync_snapshot

pytestmark = pytest.mark.integration

IMAGES = "https://images-static.iracing.com"
CARS = {c["car_id"]: c for c in load_sample("car_get.json")}
CAR_ASSETS = load_sample("car_assets.json")
TRACKS = {t["track_id"]: t for t in load_sample("track_get.json")}
TRACK_ASSETS = load_sample("track_assets.json")
CLASSES = {c["car_class_id"]: c for c in load_sample("carclass_get.json")}


@pytest.fixture(scope="module")
def synced(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> None:
    """Given the 2025-09-09 snapshot synced by the real state machines: series, reference data, seasons."""
    sync_snapshot(module_step_functions, module_fake_iracing)


def get(api: str, path: str) -> requests.Response:
    return requests.get(api + path, timeout=60)


def test_cars_lists_every_car_by_id_with_absolute_image_urls(synced: None, api: str) -> None:
    response = get(api, "/cars")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "public, max-age=300"
    cars = response.json()["cars"]
    assert [c["car_id"] for c in cars] == sorted(CARS)
    car = next(c for c in cars if c["car_id"] == 1)
    asset = CAR_ASSETS["1"]
    assert car["car_name"] == CARS[1]["car_name"]
    assert car["images"] == {
        "logo": f"{IMAGES}{asset['logo']}",
        "small_image": f"{IMAGES}{asset['folder']}/{asset['small_image']}",
        "large_image": f"{IMAGES}{asset['folder']}/{asset['large_image']}",
    }


def test_one_car_is_its_list_entry(synced: None, api: str) -> None:
    listed = next(c for c in get(api, "/cars").json()["cars"] if c["car_id"] == 139)
    assert get(api, "/cars/139").json() == listed


def test_tracks_hold_each_configuration_with_its_svg_map_layer_urls(synced: None, api: str) -> None:
    tracks = get(api, "/tracks").json()["tracks"]
    assert [t["track_id"] for t in tracks] == sorted(TRACKS)
    track = get(api, "/tracks/1").json()
    asset = TRACK_ASSETS["1"]
    assert track == next(t for t in tracks if t["track_id"] == 1)
    assert (track["track_name"], track["config_name"]) == (TRACKS[1]["track_name"], TRACKS[1].get("config_name"))
    assert track["track_map_layers"] == {
        name: asset["track_map"] + file for name, file in asset["track_map_layers"].items()
    }
    assert track["images"]["logo"] == f"{IMAGES}{asset['logo']}"


def test_car_classes_hold_their_cars_with_names(synced: None, api: str) -> None:
    classes = get(api, "/car-classes").json()["car_classes"]
    assert [c["car_class_id"] for c in classes] == sorted(CLASSES)
    one = get(api, "/car-classes/2978").json()
    ids = sorted(c["car_id"] for c in CLASSES[2978]["cars_in_class"])
    assert one["name"] == CLASSES[2978]["name"] and one["car_ids"] == ids
    assert one["cars"] == [{"car_id": i, "car_name": CARS[i]["car_name"]} for i in ids]
    assert one == next(c for c in classes if c["car_class_id"] == 2978)
    # iRacing's classes start at 0: its hosted all-cars class
    assert get(api, "/car-classes/0").json()["name"] == CLASSES[0]["name"]


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/cars/999999", 404, "car 999999 not found"),
        ("/tracks/999999", 404, "track 999999 not found"),
        ("/car-classes/999999", 404, "car class 999999 not found"),
        ("/cars/abc", 400, None),
        ("/cars/0", 400, None),
        ("/car-classes/-1", 400, None),
        ("/cars?limit=5", 400, "unknown query parameter 'limit'; this route takes: none"),
    ],
)
def test_reference_bad_input_is_a_clear_4xx(synced: None, api: str, path: str, status: int, message: str) -> None:
    response = get(api, path)
    assert response.status_code == status, response.text
    assert set(response.json()["error"]) == {"code", "message"}
    if message:
        assert response.json()["error"]["message"] == message
