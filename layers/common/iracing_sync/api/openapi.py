"""The OpenAPI document as this API really answers: its error body, calendars, caching headers and instants.

Powertools documents a 422 "HTTPValidationError" for bad input; this API answers 400 with its own error body
(see ``api.resolver``), and 404/422/503 with the same body. The calendars answer text/calendar, and every 200
carries ETag and Cache-Control. ``finish_openapi`` states that for every route, so a client (and the fuzz test,
which checks every answer against this document) sees the truth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import content_types

from iracing_sync.models.base import OMITTED_UNLESS_ASKED
from iracing_sync.timezones import known_zones

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_ID_FILTERS = {"series_id", "season_id", "car_id", "track_id"}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {content_types.APPLICATION_JSON: {"schema": _ERROR_REF}}}


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter's schema without Powertools' ``anyOf [..., null]`` (absent is how it is unset)."""
    options = [o for o in schema.get("anyOf", []) if o.get("type") != "null"]
    if len(options) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**options[0], **rest}


_INSTANTS = {"from", "to", "at", "since"}
# Real iRacing IDs as examples (NASCAR Class C, its 2025 season, Daytona, a car and a class of its): clients and
# the fuzz test's examples phase then ask for things that exist.
_ID_EXAMPLES = {
    "series_id": 47,
    "season_id": 5376,
    "track_id": 191,
    "car_id": 123,
    "car_class_id": 71,
    "owned_car_id": 123,
    "owned_track_id": 191,
    "race_week_num": 0,
}
_OMITTED = next(iter(OMITTED_UNLESS_ASKED))


# What each instant parameter's examples show (a window of the bundled 2025-09-09 capture, from before to).
_EXAMPLES = {
    "from": ["2025-09-09", "2025-09-09T12:00:00Z"],
    "to": ["2025-09-10", "2025-09-10T00:00:00+02:00"],
    "at": ["2025-09-09T12:00:00Z", "2025-09-09"],
    "since": ["2025-09-08T12:00:00Z", "2025-09-01"],
}


def _instant_schema(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An instant parameter's schema: a string matching the exact instant pattern (api.params.ISO_INSTANT).

    The pattern alone decides: JSON Schema formats are annotations a validator may ignore, so a ``format`` branch
    would let any string through. Examples tell clients (and the fuzz test's generator) what is meant.
    """
    return {**schema, "type": "string", "examples": _EXAMPLES[name]}


def _names(zones: list[str]) -> list[str]:
    """A distinct identifier per zone, for generated clients' enums (Etc/GMT+1 and Etc/GMT-1 would both be GMT1)."""
    names: list[str] = []
    for zone in zones:
        name = zone.upper().replace("+", "_PLUS_").replace("-", "_MINUS_").replace("/", "__")
        names.append(name if name not in names else f"{name}_{len(names)}")  # (none repeats in tzdata today)
    return names


def _close(schema: Any) -> None:
    """Every object with declared properties is closed (additionalProperties: false), nested ones included; a
    property an answer leaves out unless asked (models.base.OMITTED_UNLESS_ASKED) is optional, and never null."""
    if isinstance(schema, dict):
        if "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        for name, prop in schema.get("properties", {}).items():
            if prop.pop(_OMITTED, False):
                schema["required"] = [r for r in schema.get("required", []) if r != name]
                prop.update(_without_null(prop))
                prop.pop("anyOf", None)
                prop.pop("default", None)
        for value in schema.values():
            _close(value)
    elif isinstance(schema, list):
        for value in schema:
            _close(value)


def _finish_operation(path: str, operation: dict[str, Any]) -> None:
    params = operation.get("parameters", [])
    for param in params:
        if param["name"] in _ID_EXAMPLES and "schema" in param:
            example = _ID_EXAMPLES[param["name"]]
            options = [param["schema"], *param["schema"].get("anyOf", [])]  # (a list filter: anyOf [array, null])
            is_list = any(o.get("type") == "array" for o in options)
            param["schema"]["examples"] = [[example] if is_list else example]
        if param.get("in") == "query" and "schema" in param:
            param["schema"] = _without_null(param["schema"])
            if param["name"] in _INSTANTS and param["schema"].get("type") == "string":
                param["schema"] = _instant_schema(param["name"], param["schema"])
            elif param["name"] == "tz":
                # The zones served, listed: a name that is none is refused by the schema itself.
                zones = sorted(known_zones())
                param["schema"] = {**param["schema"], "type": "string", "enum": zones, "x-enum-varnames": _names(zones)}
    names = {p["name"] for p in params}
    # (keys are strings: the document was dumped in JSON mode)
    responses: dict[str, Any] = {k: v for k, v in operation["responses"].items() if k != "422"}
    ok: dict[str, Any] = responses.setdefault("200", {"description": "OK"})
    if path.endswith(".ics"):
        ok["content"] = {"text/calendar": {"schema": {"type": "string"}}}
    elif path.endswith(".atom"):
        ok["content"] = {"application/atom+xml": {"schema": {"type": "string"}}}
    elif path == "/openapi.json":
        ok["content"] = {content_types.APPLICATION_JSON: {"schema": {"type": "object"}}}
    cache_headers = {
        "ETag": {
            "description": "digest of the body (weak, W/, for /next without at: all but the echoed instant); "
            "send it as If-None-Match",
            "schema": {"type": "string"},
        },
        "Cache-Control": {"description": "how long the answer may be reused", "schema": {"type": "string"}},
    }
    ok["headers"] = {name: {**h, "required": True} for name, h in cache_headers.items()}
    responses["304"] = {"description": "Not Modified: If-None-Match holds the current ETag", "headers": cache_headers}
    # Every route refuses a query parameter it does not take (api.params.known_parameters), even one taking none.
    responses["400"] = _error_response("Bad input: a malformed date, ID, tz, cursor or value, or an unknown parameter")
    if any(p.get("in") == "path" for p in params) or names & _ID_FILTERS:
        responses["404"] = _error_response("Unknown series, season, car, car class or track")
    if names & {"from", "to"}:
        detail = "; or a feed too large to serve" if path.endswith(".ics") else ""
        detail += "; or content=free with owned_car_id or owned_track_id" if "content" in names else ""
        responses["422"] = _error_response(f"from not before to, or a window longer than allowed{detail}")
    elif path.startswith("/changes"):
        responses["422"] = _error_response("more changes since then than one answer holds")
    elif "content" in names:
        responses["422"] = _error_response("content=free with owned_car_id or owned_track_id")
    if path != "/openapi.json":
        responses["503"] = _error_response("The data store is unavailable; retry")
    operation["responses"] = {k: responses[k] for k in sorted(responses, key=str)}


def _references(value: Any) -> set[str]:
    """The component schemas a part of the document names (``#/components/schemas/<name>``)."""
    if isinstance(value, dict):
        found = {str(value["$ref"]).rsplit("/", 1)[-1]} if "$ref" in value else set()
        return found.union(*map(_references, value.values()))
    if isinstance(value, list):
        return set().union(*map(_references, value))
    return set()


def _shapes(names: set[str]) -> dict[str, Any]:
    """The JSON Schemas of the named ``models.http`` (or ``models.http_planner``) shapes and of every model they use,
    as answers (serialized)."""
    from pydantic.json_schema import models_json_schema

    from iracing_sync.models import http, http_planner

    models = [(getattr(http, name, None) or getattr(http_planner, name), "serialization") for name in sorted(names)]
    _, document = models_json_schema(models, ref_template="#/components/schemas/{model}")  # type: ignore[arg-type]
    return dict(document.get("$defs", {}))


def finish_openapi(schema: OpenAPI) -> OpenAPI:
    """Powertools' generated document with this API's real error, calendar and caching responses."""
    # Imported here: the OpenAPI models are about a tenth of the API's cold import, and only /openapi.json and
    # /docs need them.
    from aws_lambda_powertools.event_handler.openapi.models import OpenAPI

    document = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
    for path, item in document.get("paths", {}).items():
        for operation in item.values():
            _finish_operation(path, operation)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(unused, None)
    schemas.update(_shapes({*_references(document["paths"]), "ErrorBody"}))
    _close(schemas)
    return OpenAPI.model_validate(document)
