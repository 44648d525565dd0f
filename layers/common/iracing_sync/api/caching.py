"""HTTP caching: Cache-Control by how often an answer can change, an ETag on every 200, and conditional GET."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import partial
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.shared.json_encoder import Encoder

from iracing_sync.settings import get_settings

# The one JSON encoding of an answer: compact, and what its ETag is computed over.
serialize = partial(json.dumps, separators=(",", ":"), cls=Encoder)

# Answers about stored schedules change only when a sync runs; these change with the clock or with a deploy.
NOW_RELATIVE_SECONDS = 60  # /next without `at`: the next race changes when a race starts
FEED_SECONDS = 900  # calendar.ics without `from` (window from today): calendar apps poll hourly at best
STATIC_SECONDS = 3600  # the OpenAPI document, Swagger UI and the planner page change only with a deploy


def cache_control(route: str, query: dict[str, str]) -> str:
    """The Cache-Control of a 200 answer of ``route`` (the resolver's rule, e.g. /series/<series_id>/next)."""
    if route in ("/openapi.json", "/docs", "/"):
        seconds = STATIC_SECONDS
    elif _now_relative(route, query):
        seconds = NOW_RELATIVE_SECONDS
    elif route.endswith("/calendar.ics") and "from" not in query:
        seconds = FEED_SECONDS
    else:
        seconds = get_settings().api_cache_seconds
    return f"public, max-age={seconds}"


def etag_of(body: str | bytes) -> str:
    """A strong ETag: a digest of the exact bytes sent."""
    data = body.encode() if isinstance(body, str) else body
    return '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'


def _now_relative(route: str, query: dict[str, str]) -> bool:
    """Whether an answer of ``route`` is about the clock's now: /next without ``at``."""
    return route.endswith("/next") and "at" not in query


def _validator(route: str, query: dict[str, str], body: Any, sent: str | bytes) -> str:
    """The ETag of a 200 answer: strong over the bytes sent, weak over all but the echoed instant if now-relative."""
    if _now_relative(route, query) and isinstance(body, dict):
        # The answer echoes the instant it looked from ("at": now), which changes every second while the next
        # races do not: a weak tag over the rest says "semantically the same" (RFC 9110 8.8.1), so a client
        # revalidating within the minute gets a 304 instead of the same races again.
        return "W/" + etag_of(serialize({k: v for k, v in body.items() if k != "at"}))
    return etag_of(sent)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match (weak comparison): "*" or one of the listed tags."""
    if not if_none_match:
        return False
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def http_caching(app: APIGatewayHttpResolver, next_middleware: Callable[..., Response[Any]]) -> Response[Any]:
    """Every 200 gets Cache-Control and an ETag; a GET whose If-None-Match holds that ETag gets a bodiless 304."""
    response = next_middleware(app)
    if response.status_code != 200:
        return response
    event = app.current_event
    route, query = app.context["_route"].path, event.query_string_parameters or {}
    body = response.body
    sent = body if isinstance(body, str | bytes) else serialize(body)
    response.body = sent
    etag = _validator(route, query, body, sent)
    headers = {"Cache-Control": cache_control(route, query), "ETag": etag}
    if _matches(event.headers.get("if-none-match"), etag):
        return Response(304, None, "", headers=headers)
    response.headers.update(headers)
    return response
