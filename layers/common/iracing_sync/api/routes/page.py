"""GET /: the planner page, one static HTML page whose script asks this API for what it shows.

The page is not in the OpenAPI document (like /docs, it is HTML for people, not an operation), so the resolver's
unknown-parameter check skips it; this route refuses unknown parameters itself. Its views and plan travel in the
URL fragment, which never reaches the server; the query takes only the older race-finder parameters, so links made
before the planner still open: ``from`` (ISO 8601), ``hours`` (1-168) and the /slots filters (``series_id``,
``category``, ``license``, ``car_id``, ``track_id``).

The page is kept in parts (``api/page``: index.html, planner.css, NN-*.js by view) and served as one document, its
style and script inline: the first rows wait on the API's answers, never on a second request for the page's own.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from aws_lambda_powertools.event_handler import Response, content_types

from iracing_sync.api.resolver import app
from iracing_sync.errors import InvalidInputError
from iracing_sync.instants import parse_instant

PAGE = Path(__file__).resolve().parents[1] / "page"
STYLE_MARK = "/* planner.css */"
SCRIPT_MARK = "/* NN-*.js, in order, inside one function scope */"
FILTERS = ("series_id", "category", "license", "car_id", "track_id")
PARAMETERS = ("from", "hours", *FILTERS)
MAX_HOURS = 7 * 24


@app.get("/", include_in_schema=False)
def get_page() -> Response[str]:
    """The planner page (text/html); the same bytes for every query, so one ETag and one cached copy."""
    query = app.current_event.query_string_parameters or {}
    unknown = sorted(set(query) - set(PARAMETERS))
    if unknown:
        raise InvalidInputError(f"unknown query parameter {unknown[0]!r}; this page takes: {', '.join(PARAMETERS)}")
    if "from" in query:
        parse_instant("from", query["from"])
    if "hours" in query:
        hours(query["hours"])
    return Response(200, content_types.TEXT_HTML, page_html())


def hours(value: str) -> int:
    """The page's window in hours: a whole number 1..MAX_HOURS (InvalidInputError otherwise)."""
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_HOURS:
        raise InvalidInputError(f"hours: {value!r} is not a whole number of hours from 1 to {MAX_HOURS}")
    return int(value)


@cache
def page_html() -> str:
    """The page as one document: index.html with planner.css and the scripts (in file-name order, sharing one
    function scope) put in at its two marks. Read once per process."""
    html = (PAGE / "index.html").read_text(encoding="utf-8")
    style = (PAGE / "planner.css").read_text(encoding="utf-8")
    scripts = "\n".join(part.read_text(encoding="utf-8") for part in sorted(PAGE.glob("[0-9][0-9]-*.js")))
    if html.count(STYLE_MARK) != 1 or html.count(SCRIPT_MARK) != 1 or not scripts:
        raise RuntimeError(f"{PAGE}: index.html needs each mark once and at least one NN-*.js part")
    return html.replace(STYLE_MARK, style.rstrip("\n")).replace(SCRIPT_MARK, "(() => {\n" + scripts + "})();")
