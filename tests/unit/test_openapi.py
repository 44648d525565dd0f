"""The slots API's OpenAPI document: a valid OpenAPI 3.1 document that states every route of the design and
what each really answers (error body, calendar content type, caching headers); and the API's pure helpers
(cursor codec, cache policy). The fuzz test (tests/integration/test_api_fuzz.py) checks live answers against it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from iracing_sync.api.caching import cache_control
from iracing_sync.api.paging import decode_cursor, encode_cursor
from iracing_sync.api.routes.docs import openapi_json
from iracing_sync.errors import InvalidCursorError
from iracing_sync.models.records import Slot

DESIGN_ROUTES = {
    "/cars",
    "/cars/{car_id}",
    "/tracks",
    "/tracks/{track_id}",
    "/car-classes",
    "/car-classes/{car_class_id}",
    "/calendar.ics",
    "/slots",
    "/series",
    "/series/{series_id}",
    "/series/{series_id}/seasons",
    "/seasons/{season_id}",
    "/seasons/{season_id}/slots",
    "/series/{series_id}/next",
    "/series/{series_id}/calendar.ics",
    "/openapi.json",
    "/seasons",
    "/purchase-guide",
    "/seasons/{season_id}/weeks/{race_week_num}/forecast",
}
ERROR = {"$ref": "#/components/schemas/ErrorBody"}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return json.loads(openapi_json())  # type: ignore[no-any-return]


def test_document_is_valid_openapi_31(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["title"] == "iracing-sync"


def test_validator_rejects_a_broken_document(document: dict[str, Any]) -> None:
    # The check above can fail: a response without its description is refused
    broken = json.loads(json.dumps(document))
    del broken["paths"]["/slots"]["get"]["responses"]["200"]["description"]
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def test_every_route_of_the_design_is_documented_as_a_get(document: dict[str, Any]) -> None:
    assert set(document["paths"]) >= DESIGN_ROUTES
    assert all(set(item) == {"get"} for item in document["paths"].values())


def test_slots_documents_every_filter_and_the_page_parameters(document: dict[str, Any]) -> None:
    params = {p["name"]: p for p in document["paths"]["/slots"]["get"]["parameters"]}
    assert set(params) == {
        "from",
        "to",
        "series_id",
        "season_id",
        "category",
        "license",
        "car_id",
        "track_id",
        "owned_car_id",
        "owned_track_id",
        "content",
        "tz",
        "limit",
        "cursor",
    }
    assert params["from"]["required"] and params["to"]["required"]
    assert not any(params[n]["required"] for n in set(params) - {"from", "to"})
    # a filter takes any of several values: the key repeated (or the values joined by commas)
    for name in ("series_id", "season_id", "category", "license", "car_id", "track_id"):
        assert params[name]["schema"]["type"] == "array" and params[name]["schema"]["maxItems"] == 50, name
    assert params["category"]["schema"]["items"]["enum"] == [
        "oval",
        "road",
        "dirt_oval",
        "dirt_road",
        "sports_car",
        "formula_car",
    ]
    assert params["limit"]["schema"]["maximum"] == 10_000
    # what a racer owns takes hundreds of IDs (member/info's 66 track packages hold 239), and says so
    for name in ("owned_car_id", "owned_track_id"):
        assert params[name]["schema"]["type"] == "array" and params[name]["schema"]["maxItems"] == 500, name
    assert params["content"]["schema"] == {**params["content"]["schema"], "type": "string", "const": "free"}
    # an optional parameter is absent, never null
    assert all("null" not in json.dumps(p["schema"]) for p in params.values())


def test_errors_are_documented_with_the_one_error_body(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert schemas["ErrorBody"]["required"] == ["error"]
    assert set(schemas["ErrorDetail"]["required"]) == {"code", "message"}
    assert "HTTPValidationError" not in schemas
    for path, item in document["paths"].items():
        responses = item["get"]["responses"]
        for status in set(responses) - {"200", "304"}:
            assert responses[status]["content"]["application/json"]["schema"] == ERROR, (path, status)
    slots = document["paths"]["/slots"]["get"]["responses"]
    assert {"400", "404", "422", "503"} <= set(slots)
    # a route without parameters still refuses an unknown one (400)
    assert set(document["paths"]["/series"]["get"]["responses"]) == {"200", "304", "400", "503"}


def test_answers_document_content_type_and_caching_headers(document: dict[str, Any]) -> None:
    ok = document["paths"]["/series/{series_id}/calendar.ics"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"text/calendar"}
    for item in document["paths"].values():
        headers = item["get"]["responses"]["200"]["headers"]
        assert headers["ETag"]["required"] and headers["Cache-Control"]["required"]
    page = document["paths"]["/slots"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert page == {"$ref": "#/components/schemas/SlotsPage"}
    assert "next_cursor" in document["components"]["schemas"]["SlotsPage"]["required"]


def _objects(schema: Any) -> list[dict[str, Any]]:
    """Every object schema inside ``schema``."""
    if isinstance(schema, list):
        return [o for item in schema for o in _objects(item)]
    if not isinstance(schema, dict):
        return []
    found = [schema] if schema.get("type") == "object" or "properties" in schema else []
    return found + [o for value in schema.values() for o in _objects(value)]


def test_every_answer_object_is_closed_and_none_is_free_form(document: dict[str, Any]) -> None:
    # Every key an answer holds is declared: no object takes undeclared keys, none is a bare "type: object"
    for name, schema in document["components"]["schemas"].items():
        for obj in _objects(schema):
            assert obj.get("properties"), (name, obj)
            assert obj.get("additionalProperties") is False, (name, obj)
    # (the one exception: /openapi.json answers this document, whose shape OpenAPI 3.1 itself defines)
    for path, item in document["paths"].items():
        content = item["get"]["responses"]["200"].get("content", {})
        for media, body in content.items():
            if path != "/openapi.json" and media == "application/json":
                assert set(body["schema"]) == {"$ref"}, path


def test_every_route_documents_each_status_it_can_answer(document: dict[str, Any]) -> None:
    for path, item in document["paths"].items():
        responses = set(item["get"]["responses"])
        names = {p["name"] for p in item["get"].get("parameters", [])}
        # a 400 everywhere (an unknown query parameter is refused on every route, even one taking none)
        assert {"200", "304", "400"} <= responses, path
        assert ("404" in responses) == ("{" in path or bool(names & {"series_id", "season_id", "car_id", "track_id"}))
        # (a window that cannot be served, a feed too large; more changes than one answer holds; or content=free
        # with owned IDs)
        assert ("422" in responses) == bool(names & {"from", "to", "content"} or path.startswith("/changes")), path
        assert ("503" in responses) == (path != "/openapi.json"), path


def test_instants_are_typed_by_their_pattern_alone(document: dict[str, Any]) -> None:
    # A string that is no date is refused by the schema itself: formats are annotations, the pattern decides
    from iracing_sync.api.params import ISO_INSTANT

    seen = 0
    for item in document["paths"].values():
        for param in item["get"].get("parameters", []):
            if param["name"] in ("from", "to", "at"):
                assert param["schema"]["type"] == "string" and param["schema"]["pattern"] == ISO_INSTANT
                assert "anyOf" not in param["schema"] and "format" not in param["schema"]
                seen += 1
    assert seen >= 10


def test_plan_feed_documents_its_series_filters_and_alarm(document: dict[str, Any]) -> None:
    params = {p["name"]: p for p in document["paths"]["/calendar.ics"]["get"]["parameters"]}
    ownership = {"owned_car_id", "owned_track_id", "content"}
    assert set(params) == {"series_id", "car_id", "track_id", "category", "license", "from", "to", "alarm", *ownership}
    assert params["series_id"]["required"] and params["series_id"]["schema"]["minItems"] == 1
    assert (params["alarm"]["schema"]["minimum"], params["alarm"]["schema"]["maximum"]) == (0, 1440)
    ok = document["paths"]["/calendar.ics"]["get"]["responses"]["200"]
    assert set(ok["content"]) == {"text/calendar"}


def test_slot_keys_are_documented_as_the_api_writes_them(document: dict[str, Any]) -> None:
    from iracing_sync.models.records import SLOT_KEYS

    slot = document["components"]["schemas"]["SlotOut"]
    assert list(slot["properties"]) == [*SLOT_KEYS, "tz", "start_local", "end_local"]
    assert slot["required"] == list(SLOT_KEYS)  # the local times only with tz, and never null
    assert slot["properties"]["tz"] == {
        "type": "string",
        "title": "Tz",
        "description": slot["properties"]["tz"]["description"],
    }
    assert slot["properties"]["license"]["anyOf"][0]["enum"] == ["R", "D", "C", "B", "A"]


SLOT = Slot(
    season_id=5376,
    series_id=47,
    race_week_num=3,
    start_time=datetime(2025, 9, 9, 12, 0, tzinfo=UTC),
    end_time=datetime(2025, 9, 9, 12, 20, tzinfo=UTC),
)
LO, HI = datetime(2025, 9, 9, tzinfo=UTC), datetime(2025, 9, 10, tzinfo=UTC)


def test_cursor_round_trips_to_the_slot_it_ends_after() -> None:
    after = decode_cursor(encode_cursor(SLOT, "abc"), "abc", LO, HI)
    assert after.key == SLOT.key


@pytest.mark.parametrize(
    ("cursor", "bound", "lo", "hi"),
    [
        (encode_cursor(SLOT, "abc"), "xyz", LO, HI),  # another query's
        (encode_cursor(SLOT, "abc"), "abc", HI, datetime(2025, 9, 11, tzinfo=UTC)),  # outside the window
        ("", "abc", LO, HI),
        ("%%%", "abc", LO, HI),
        ("bm90IGEgY3Vyc29y", "abc", LO, HI),  # base64 of "not a cursor"
        ("OTk5OTk5OTk5OTk5OTk5OTk5LjEuMS5hYmM", "abc", LO, HI),  # a timestamp beyond datetime
    ],
)
def test_cursor_that_is_not_this_querys_is_refused(cursor: str, bound: str, lo: datetime, hi: datetime) -> None:
    with pytest.raises(InvalidCursorError):
        decode_cursor(cursor, bound, lo, hi)


@pytest.mark.parametrize(
    ("route", "query", "expected"),
    [
        ("/slots", {"from": "2025-09-09", "to": "2025-09-10"}, "public, max-age=300"),
        ("/series/<series_id>/next", {}, "public, max-age=60"),
        ("/series/<series_id>/next", {"at": "2025-09-09"}, "public, max-age=300"),
        ("/seasons/<season_id>/calendar.ics", {}, "public, max-age=900"),
        ("/openapi.json", {}, "public, max-age=3600"),
    ],
)
def test_cache_control_fits_how_often_the_answer_changes(route: str, query: dict[str, str], expected: str) -> None:
    assert cache_control(route, query) == expected
