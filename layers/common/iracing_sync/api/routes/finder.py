"""GET /: the race finder, one static page whose script asks this API (/slots, /series) for what it shows.

The page is not in the OpenAPI document (like /docs, it is HTML for people, not an operation), so the resolver's
unknown-parameter check skips it; this route refuses unknown parameters itself. It takes the page's own
parameters, so a view is a shareable URL: ``from`` (ISO 8601, default now), ``hours`` (the window, 1-168, default
24) and the filters it passes on to /slots (``series_id``, ``category``, ``license``, ``car_id``, ``track_id``,
each repeatable: any of). The filters' values are checked by /slots, whose one-line error the page shows.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response, content_types

from iracing_sync.api.resolver import app
from iracing_sync.errors import InvalidInputError
from iracing_sync.instants import parse_instant

PAGE = Path(__file__).resolve().parents[1] / "finder" / "index.html"
FILTERS = ("series_id", "category", "license", "car_id", "track_id")
PARAMETERS = ("from", "hours", *FILTERS)
MAX_HOURS = 7 * 24


@app.get("/", include_in_schema=False)
def get_finder() -> Response[str]:
    """The race finder page (text/html); the same bytes for every query, so one ETag and one cached copy."""
    query = app.current_event.query_string_parameters or {}
    unknown = sorted(set(query) - set(PARAMETERS))
    if unknown:
        raise InvalidInputError(f"unknown query parameter {unknown[0]!r}; this page takes: {', '.join(PARAMETERS)}")
    if "from" in query:
        parse_instant("from", query["from"])
    if "hours" in query:
        hours(query["hours"])
    return Response(200, content_types.TEXT_HTML, finder_html())


def hours(value: str) -> int:
    """The page's window in hours: a whole number 1..MAX_HOURS (InvalidInputError otherwise)."""
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_HOURS:
        raise InvalidInputError(f"hours: {value!r} is not a whole number of hours from 1 to {MAX_HOURS}")
    return int(value)


@cache
def finder_html() -> str:
    """The page as shipped in the layer (read once per process)."""
    return PAGE.read_text(encoding="utf-8")
