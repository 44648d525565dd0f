"""A client generated from the OpenAPI document (openapi-python-client) parses every real answer of every route.

The client is generated in a subprocess into a temporary directory, from the document the API serves with its
objects opened (``additionalProperties: false`` removed): the generated models then keep any key the document does
not declare in ``additional_properties``, and every answer's, nested ones included, must be empty. The client
raises on a status the document does not list, so every status answered here is documented too.
"""

from __future__ import annotations

import enum
import importlib
import json
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pytest
import requests

from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.integration.conftest import sync_snapshot

pytestmark = pytest.mark.integration

DAY = {"from_": "2025-09-09T00:00:00Z", "to": "2025-09-10T00:00:00Z"}
_MEMBER = load_sample("member_info_ownership_redacted.json")
OWNED = {
    "owned_car_id": [i for p in _MEMBER["car_packages"] for i in p["content_ids"]],
    "owned_track_id": [i for p in _MEMBER["track_packages"] for i in p["content_ids"]],
}
# A week given a forecast by the fixture (the capture's weeks are past: none is due when it is synced).
FORECAST_WEEK = {"season_id": 5376, "race_week_num": 0}
WEEK = {"from_": "2025-09-09", "to": "2025-09-16"}


def _opened(schema: Any) -> Any:
    """The document with every closed object opened (so the generated models collect undeclared keys)."""
    if isinstance(schema, dict):
        return {k: _opened(v) for k, v in schema.items() if not (k == "additionalProperties" and v is False)}
    if isinstance(schema, list):
        return [_opened(v) for v in schema]
    return schema


@pytest.fixture(scope="module")
def client(
    module_step_functions: Any, module_fake_iracing: FakeIracing, api: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ModuleType, Any]]:
    """Given the snapshot synced and served, and a client generated from the document it serves."""
    sync_snapshot(module_step_functions, module_fake_iracing)
    _store_a_forecast()
    folder = tmp_path_factory.mktemp("client")
    (folder / "openapi.json").write_text(json.dumps(_opened(requests.get(f"{api}/openapi.json", timeout=30).json())))
    # (the generator reads only text/* as text: told that an Atom feed is text too, as a feed reader knows)
    config = "post_hooks: []\npackage_name_override: iracing_sync_client\n"
    config += "content_type_overrides:\n  application/atom+xml: text/plain\n"
    (folder / "config.yaml").write_text(config)
    generator = Path(sys.executable).with_name("openapi-python-client")
    generated = subprocess.run(
        [generator, "generate", "--path", "openapi.json", "--meta", "none", "--output-path", "iracing_sync_client"]
        + ["--config", "config.yaml"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert generated.returncode == 0, generated.stdout[-3000:] + generated.stderr[-3000:]
    sys.path.insert(0, str(folder))
    package = importlib.import_module("iracing_sync_client")
    http = package.Client(base_url=api, raise_on_unexpected_status=True, timeout=60)
    yield package, http
    sys.path.remove(str(folder))


def _store_a_forecast() -> None:
    """The real forecast stored for FORECAST_WEEK as the season sync stores one."""
    from datetime import UTC, datetime, timedelta

    from iracing_sync.store.forecasts import put_forecast
    from iracing_sync.weather import forecast_hours

    hours = forecast_hours(load_sample("weather_forecast_2024-04-13_envelope.json")["content"])
    now = datetime.now(UTC)
    put_forecast(
        *FORECAST_WEEK.values(),
        "https://example.invalid/rw0_evt5_display.json",
        now,
        now + timedelta(days=1),
        hours=hours,
    )


def undeclared(value: Any, where: str = "answer") -> list[str]:
    """Where a parsed answer holds keys its model does not declare (``additional_properties``), recursively."""
    if isinstance(value, list):
        return [p for i, item in enumerate(value) for p in undeclared(item, f"{where}[{i}]")]
    if not attrs.has(type(value)):
        return []
    found = [f"{where}: {sorted(value.additional_properties)}"] if getattr(value, "additional_properties", {}) else []
    for field in attrs.fields(type(value)):
        if field.name != "additional_properties":
            found += undeclared(getattr(value, field.name), f"{where}.{field.name}")
    return found


def typed(function: Any, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments as the generated function takes them: a value of a documented enum (tz, category) as its enum."""
    hints = typing.get_type_hints(function)

    def enum_of(hint: Any) -> type[enum.Enum] | None:
        for arg in typing.get_args(hint) or (hint,):
            if isinstance(arg, type) and issubclass(arg, enum.Enum):
                return arg
            if typing.get_args(arg) and (inner := enum_of(arg)):
                return inner
        return None

    out = {}
    for name, value in arguments.items():
        kind = enum_of(hints[name])
        out[name] = value if kind is None else [kind(v) for v in value] if isinstance(value, list) else kind(value)
    return out


# operation module (api/default/<name>.py), its arguments, the status it answers and the model it parses into
CALLS: list[tuple[str, dict[str, Any], int, str]] = [
    ("get_slots_slots_get", DAY, 200, "SlotsPage"),
    ("get_slots_slots_get", {**WEEK, "tz": "Europe/London", "limit": 50}, 200, "SlotsPage"),
    ("get_slots_slots_get", {**WEEK, "series_id": [47, 229], "car_id": [139, 155]}, 200, "SlotsPage"),
    (
        "get_slots_slots_get",
        {**WEEK, "category": ["oval"], "license_": ["R", "4"], "track_id": [191]},
        200,
        "SlotsPage",
    ),
    ("get_slots_slots_get", {**DAY, "season_id": [5376]}, 200, "SlotsPage"),
    ("get_slots_slots_get", {**DAY, "series_id": [999999]}, 404, "ErrorBody"),
    ("get_slots_slots_get", {"from_": "2025-09-10", "to": "2025-09-09"}, 422, "ErrorBody"),
    ("get_slots_slots_get", {**DAY, "cursor": "not-a-cursor"}, 422, "ErrorBody"),  # of the form, not issued
    ("get_slots_slots_get", {**DAY, "cursor": "not a cursor!"}, 400, "ErrorBody"),  # malformed
    ("get_series_list_series_get", {}, 200, "SeriesList"),
    ("get_series_series_series_id_get", {"series_id": 47}, 200, "SeriesOut"),
    ("get_series_series_series_id_get", {"series_id": 207}, 200, "SeriesOut"),
    ("get_series_series_series_id_get", {"series_id": 999999}, 404, "ErrorBody"),
    ("get_series_seasons_series_series_id_seasons_get", {"series_id": 47}, 200, "SeriesSeasons"),
    ("get_series_next_series_series_id_next_get", {"series_id": 47, "at": "2025-09-09T12:00:00Z"}, 200, "NextRaces"),
    ("get_series_next_series_series_id_next_get", {"series_id": 47, "count": 5, "tz": "Asia/Tokyo"}, 200, "NextRaces"),
    ("get_season_seasons_season_id_get", {"season_id": 5376}, 200, "SeasonWithWeeks"),
    ("get_season_seasons_season_id_get", {"season_id": 5379}, 200, "SeasonWithWeeks"),
    ("get_season_seasons_season_id_get", {"season_id": 999999}, 404, "ErrorBody"),
    ("get_season_slots_seasons_season_id_slots_get", {"season_id": 5376, "limit": 100}, 200, "SeasonSlotsPage"),
    ("get_season_slots_seasons_season_id_slots_get", {"season_id": 5379, "tz": "UTC"}, 200, "SeasonSlotsPage"),
    ("get_season_next_seasons_season_id_next_get", {"season_id": 5376, "at": "2025-09-09"}, 200, "NextRaces"),
    ("get_cars_cars_get", {}, 200, "CarList"),
    ("get_car_cars_car_id_get", {"car_id": 139}, 200, "CarOut"),
    ("get_car_cars_car_id_get", {"car_id": 999999}, 404, "ErrorBody"),
    ("get_tracks_tracks_get", {}, 200, "TrackList"),
    ("get_track_tracks_track_id_get", {"track_id": 191}, 200, "TrackOut"),
    ("get_car_classes_car_classes_get", {}, 200, "CarClassList"),
    ("get_car_class_car_classes_car_class_id_get", {"car_class_id": 2978}, 200, "CarClassOut"),
    ("get_plan_calendar_calendar_ics_get", {"series_id": [47, 62], **WEEK, "alarm": 15}, 200, "str"),
    ("get_plan_calendar_calendar_ics_get", {"series_id": [999999]}, 404, "ErrorBody"),
    ("get_series_calendar_series_series_id_calendar_ics_get", {"series_id": 47, **WEEK}, 200, "str"),
    ("get_season_calendar_seasons_season_id_calendar_ics_get", {"season_id": 5376}, 200, "str"),
    ("get_changes_changes_get", {}, 200, "ChangesList"),
    ("get_changes_changes_get", {"since": "2025-09-09T00:00:00Z", "series_id": [47, 62]}, 200, "ChangesList"),
    ("get_changes_changes_get", {"series_id": [999999]}, 404, "ErrorBody"),
    ("get_changes_changes_get", {"since": "yesterday"}, 400, "ErrorBody"),
    ("get_changes_feed_changes_atom_get", {"series_id": [47]}, 200, "str"),
    ("get_season_grid_seasons_get", {"at": "2025-09-09T12:00:00Z"}, 200, "SeasonGrid"),
    ("get_season_grid_seasons_get", {"at": "2025-09-09T12:00:00Z", **OWNED}, 200, "SeasonGrid"),
    ("get_season_grid_seasons_get", {"at": "2025-09-09", "content": "free", "license_": ["C"]}, 200, "SeasonGrid"),
    ("get_season_grid_seasons_get", {"series_id": [999999]}, 404, "ErrorBody"),
    (
        "get_purchase_guide_purchase_guide_get",
        {"series_id": [47, 62, 139], "at": "2025-09-09", **OWNED},
        200,
        "PurchaseGuide",
    ),
    ("get_purchase_guide_purchase_guide_get", {"series_id": [999999]}, 404, "ErrorBody"),
    ("get_slots_slots_get", {**DAY, **OWNED}, 200, "SlotsPage"),
    ("get_week_forecast_seasons_season_id_weeks_race_week_num_forecast_get", FORECAST_WEEK, 200, "WeekForecast"),
    (
        "get_week_forecast_seasons_season_id_weeks_race_week_num_forecast_get",
        {"season_id": 5376, "race_week_num": 30},
        404,
        "ErrorBody",
    ),
]


@pytest.mark.parametrize(("operation", "arguments", "status", "model"), CALLS)
def test_generated_client_parses_every_answer_with_no_undeclared_key(
    client: tuple[ModuleType, Any], operation: str, arguments: dict[str, Any], status: int, model: str
) -> None:
    package, http = client
    call = importlib.import_module(f"iracing_sync_client.api.default.{operation}")
    arguments = typed(call.sync_detailed, arguments)
    # When the generated client sends the request and parses the real answer
    response = call.sync_detailed(client=http, **arguments)
    # Then the status is one it expects, the answer is the documented model, and no key is left undeclared
    assert response.status_code == status, response.content[:500]
    expected = str if model == "str" else getattr(package.models, model)
    assert isinstance(response.parsed, expected), type(response.parsed)
    assert undeclared(response.parsed) == []
    if model == "SlotsPage" and status == 200:
        assert response.parsed.slots, "the answer should hold slots to check"


def test_every_operation_is_called(client: tuple[ModuleType, Any]) -> None:
    # (a route added to the document without a call here would go unchecked)
    package, _ = client
    folder = Path(package.__file__).parent / "api" / "default"
    operations = {p.stem for p in folder.glob("get_*.py")}
    assert operations - {c[0] for c in CALLS} == {"get_openapi_openapi_json_get"}


def test_an_undeclared_key_is_found_however_deep(client: tuple[ModuleType, Any], api: str) -> None:
    # (the check above can fail: a key the document lacks, in a slot's car, is reported with its place)
    package, _ = client
    body = requests.get(f"{api}/slots", params={"from": "2025-09-09", "to": "2025-09-10", "limit": 1}, timeout=30)
    answer = body.json()
    answer["slots"][0]["cars"][0]["colour"] = "red"
    assert undeclared(package.models.SlotsPage.from_dict(answer)) == ["answer.slots[0].cars[0]: ['colour']"]
