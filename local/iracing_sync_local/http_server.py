"""Serve the slots API function over real HTTP on 127.0.0.1 the way API Gateway's HTTP API calls it.

What the adapter enforces as API Gateway does, read from template.yaml at start:
- Only the declared routes (the function's ``HttpApi`` events) reach the function. Any other method or path
  gets the gateway's own ``404 {"message":"Not Found"}`` and the function is not invoked. A ``{id}`` variable
  matches one path segment, a ``{proxy+}`` variable one or more, a literal segment beats a variable, ANY and
  ``$default`` routes apply when declared. HEAD is a method of its own: no GET route answers it.
- The event is payload format 2.0: routeKey is the declared route, rawPath/rawQueryString as sent, repeated
  query keys and headers joined by commas, the Cookie header moved into ``cookies``, pathParameters decoded.
- The answer is mapped as format 2.0 maps it: statusCode, headers, cookies -> Set-Cookie, isBase64Encoded;
  ``multiValueHeaders`` is no part of 2.0 and is ignored; an answer without statusCode is a 200 JSON body;
  a function that raises is the gateway's ``500 {"message":"Internal Server Error"}``.
- The API's CorsConfiguration: a preflight (OPTIONS with Origin and Access-Control-Request-Method) is
  answered 204 by the gateway without invoking the function; an answer to an allowed Origin gets
  Access-Control-Allow-Origin (and Expose-Headers); CORS headers the function returns are dropped.
"""

from __future__ import annotations

import base64
import json
import secrets
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from iracing_sync_local.template import (
    DEFAULT_ROUTE,
    TEMPLATE,
    CorsConfiguration,
    Route,
    cors_configuration,
    http_api_routes,
    load_template,
)

Handler = Callable[[dict[str, Any], Any], Any]
Headers = Mapping[str, str] | Iterable[tuple[str, str]]

ACCOUNT_ID = "123456789012"
API_ID = "local"
NOT_FOUND = (404, {"message": "Not Found"})
INTERNAL_ERROR = (500, {"message": "Internal Server Error"})
# Statuses that never carry a body (RFC 9110): no Content-Length either, so clients do not wait for one.
_BODILESS = {204, 304}
# Request bodies API Gateway passes as text; any other content type arrives base64-encoded.
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "+json", "+xml")


# --- routing -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteMatch:
    """The route a request was sent to and its path parameters (decoded)."""

    route: Route
    path_parameters: dict[str, str]


class Router:
    """API Gateway's route selection over declared routes: the most specific match of path and method wins."""

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes = [r for r in routes if r.path != DEFAULT_ROUTE]
        self._default = next((r for r in routes if r.path == DEFAULT_ROUTE), None)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        """The route for a request, or None (the gateway's 404) when nothing, not even $default, matches."""
        segments = raw_path.split("/")[1:]
        best: tuple[tuple[Any, ...], RouteMatch] | None = None
        for route in self._routes:
            if route.method not in (method, "ANY"):
                continue
            matched = _match_path(route.path.split("/")[1:], segments)
            if matched is None:
                continue
            rank, parameters = matched
            candidate = ((*rank, route.method == "ANY"), RouteMatch(route, parameters))
            if best is None or candidate[0] < best[0]:
                best = candidate
        if best is not None:
            return best[1]
        return RouteMatch(self._default, {}) if self._default is not None else None


def _match_path(pattern: list[str], segments: list[str]) -> tuple[tuple[Any, ...], dict[str, str]] | None:
    """(rank, path parameters) if the request's segments fit the route's; a lower rank is more specific."""
    parameters: dict[str, str] = {}
    kinds: list[int] = []
    for i, part in enumerate(pattern):
        if part.startswith("{") and part.endswith("+}"):
            # A greedy variable is last and takes one or more segments.
            rest = segments[i:]
            if not rest or not rest[0]:
                return None
            parameters[part[1:-2]] = unquote("/".join(rest))
            return (1, *kinds, 2), parameters
        if i >= len(segments):
            return None
        if part.startswith("{") and part.endswith("}"):
            if not segments[i]:
                return None  # a variable never matches an empty segment
            parameters[part[1:-1]] = unquote(segments[i])
            kinds.append(1)
        elif part == segments[i]:
            kinds.append(0)
        else:
            return None
    if len(segments) != len(pattern):
        return None
    return (0, *kinds), parameters


@cache
def _template_router(template: Path, function: str) -> Router:
    return Router(http_api_routes(load_template(template), function))


# --- the event ---------------------------------------------------------------------------------------------


def _header_pairs(headers: Headers) -> list[tuple[str, str]]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(k), str(v)) for k, v in items]


def http_api_event(
    method: str,
    raw_path: str,
    headers: Headers,
    body: bytes = b"",
    *,
    route: RouteMatch | None = None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event for one request, as AWS builds it.

    ``raw_path`` is the request target (path and query as sent). ``route`` is the matched route; by default
    the request is matched against template.yaml's routes (``$default`` when none fits).
    """
    parts = urlsplit(raw_path)
    path = parts.path or "/"
    if route is None:
        route = _template_router(TEMPLATE, "SlotsApiFunction").match(method, path)
    route_key = route.route.key if route is not None else DEFAULT_ROUTE

    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in _header_pairs(headers):
        key = name.lower()
        if key == "cookie":
            # Format 2.0 moves every Cookie header into `cookies`, one entry per cookie, and drops the header.
            cookies += [c.strip() for c in value.split(";") if c.strip()]
            continue
        joined[key] = f"{joined[key]},{value}" if key in joined else value
    host = joined.get("host", "127.0.0.1").split(":")[0]
    joined.setdefault("x-forwarded-for", source_ip)
    joined.setdefault("x-forwarded-proto", "http")
    joined.setdefault("x-amzn-trace-id", f"Root=1-{int(time.time()):08x}-{secrets.token_hex(12)}")

    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        # API Gateway joins repeated parameters with commas.
        query[key] = f"{query[key]},{value}" if key in query else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": parts.query,
        "headers": joined,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": joined.get("user-agent", ""),
            },
            "requestId": uuid.uuid4().hex,
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if route is not None and route.path_parameters:
        event["pathParameters"] = route.path_parameters
    if body:
        content_type = joined.get("content-type", "").lower()
        if any(t in content_type for t in _TEXT_TYPES):
            event["body"] = body.decode("utf-8", errors="replace")
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return event


# --- the answer --------------------------------------------------------------------------------------------


@dataclass
class Answer:
    """What goes back to the client: status, header lines (repeatable), body."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _json_answer(status: int, body: Any) -> Answer:
    return Answer(status, [("Content-Type", "application/json")], json.dumps(body, separators=(",", ":")).encode())


def function_answer(result: Any) -> Answer:
    """A format 2.0 Lambda result as API Gateway turns it into an HTTP answer."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # A result without statusCode is the body itself: 200, application/json.
        return _json_answer(200, result)
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError):
        return _json_answer(*INTERNAL_ERROR)  # what the gateway answers for a malformed integration response
    headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    headers += [("Set-Cookie", str(c)) for c in result.get("cookies") or []]
    body = result.get("body")
    text = body if isinstance(body, str) else ("" if body is None else json.dumps(body))
    data = base64.b64decode(text) if result.get("isBase64Encoded") else text.encode()
    return Answer(status, headers, data)


# --- CORS --------------------------------------------------------------------------------------------------


def _allowed_origin(cors: CorsConfiguration, origin: str | None) -> str | None:
    if not origin:
        return None
    if "*" in cors.allow_origins:
        return "*"
    return origin if origin in cors.allow_origins else None


def preflight_answer(cors: CorsConfiguration, origin: str | None, requested_method: str) -> Answer:
    """The gateway's own answer to a preflight: 204, with the CORS headers if origin and method are allowed."""
    allowed = _allowed_origin(cors, origin)
    method_ok = "*" in cors.allow_methods or requested_method.upper() in cors.allow_methods
    headers: list[tuple[str, str]] = []
    if allowed is not None and method_ok:
        headers.append(("Access-Control-Allow-Origin", allowed))
        if cors.allow_methods:
            headers.append(("Access-Control-Allow-Methods", ",".join(cors.allow_methods)))
        if cors.allow_headers:
            headers.append(("Access-Control-Allow-Headers", ",".join(cors.allow_headers)))
        if cors.max_age is not None:
            headers.append(("Access-Control-Max-Age", str(cors.max_age)))
        if cors.allow_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
    return Answer(204, headers, b"")


def with_cors(answer: Answer, cors: CorsConfiguration, origin: str | None) -> Answer:
    """The function's answer as the gateway sends it: its own CORS headers dropped, the configured ones added."""
    headers = [(k, v) for k, v in answer.headers if not k.lower().startswith("access-control-")]
    allowed = _allowed_origin(cors, origin)
    if allowed is not None:
        headers.append(("Access-Control-Allow-Origin", allowed))
        if cors.expose_headers:
            headers.append(("Access-Control-Expose-Headers", ",".join(cors.expose_headers)))
        if cors.allow_credentials:
            headers.append(("Access-Control-Allow-Credentials", "true"))
    return Answer(answer.status, headers, answer.body)


# --- the server --------------------------------------------------------------------------------------------


class HttpApiGateway:
    """The gateway in front of one function: routes, CORS and payload mapping, without sockets."""

    def __init__(
        self,
        handler: Handler,
        context_factory: Callable[[], Any],
        *,
        template: Path = TEMPLATE,
        function: str = "SlotsApiFunction",
        cors_origins: Sequence[str] | None = None,
    ) -> None:
        loaded = load_template(template)
        self.router = Router(http_api_routes(loaded, function))
        self.cors = cors_configuration(loaded, function, origins=cors_origins)
        self._handler = handler
        self._context_factory = context_factory
        # One function instance: Lambda gives an execution environment one event at a time, and the resolver keeps
        # each request's state in module globals (app.context), so a browser's parallel requests take turns here.
        self._invoking = threading.Lock()

    def answer(self, method: str, target: str, headers: Headers, body: bytes = b"") -> Answer:
        """The HTTP answer to one request (invoking the function only for a declared route)."""
        pairs = _header_pairs(headers)
        lowered = {k.lower(): v for k, v in pairs}
        origin = lowered.get("origin")
        if self.cors is not None and method == "OPTIONS" and origin and "access-control-request-method" in lowered:
            return preflight_answer(self.cors, origin, lowered["access-control-request-method"])
        route = self.router.match(method, urlsplit(target).path or "/")
        if route is None:
            return _json_answer(*NOT_FOUND)
        event = http_api_event(method, target, pairs, body, route=route)
        try:
            with self._invoking:
                result = self._handler(event, self._context_factory())
        except Exception:  # noqa: BLE001 - Lambda reports an unhandled error and the gateway answers 500
            traceback.print_exc(file=sys.stderr)
            answer = _json_answer(*INTERNAL_ERROR)
        else:
            answer = function_answer(result)
        answer.headers.append(("Apigw-Requestid", event["requestContext"]["requestId"]))
        return with_cors(answer, self.cors, origin) if self.cors is not None else answer


def make_server(
    handler: Handler,
    context_factory: Callable[[], Any],
    port: int = 3000,
    *,
    template: Path = TEMPLATE,
    cors_origins: Sequence[str] | None = None,
) -> ThreadingHTTPServer:
    """A ThreadingHTTPServer on 127.0.0.1:port in front of ``handler`` as API Gateway's HTTP API would be.

    Routes and CORS come from ``template`` (read now, so routes added there are served on the next start);
    ``cors_origins`` overrides the CorsAllowedOrigins parameter's default.
    """
    gateway = HttpApiGateway(handler, context_factory, template=template, cors_origins=cors_origins)

    class RequestHandler(BaseHTTPRequestHandler):
        def __getattr__(self, name: str) -> Any:
            # http.server looks up do_<METHOD>: every method (GET, HEAD, OPTIONS, POST, QUERY...) lands here.
            if name.startswith("do_"):
                return self._answer
            raise AttributeError(name)

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body_in = self.rfile.read(length) if length > 0 else b""
            answer = gateway.answer(self.command, self.path, self.headers.items(), body_in)
            self.send_response(answer.status)
            for key, value in answer.headers:
                self.send_header(key, value)
            if answer.status not in _BODILESS:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            if self.command != "HEAD" and answer.status not in _BODILESS:
                self.wfile.write(answer.body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 — keep stderr for progress
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), RequestHandler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    """Run ``server`` in a daemon thread (tests); call ``server.shutdown()`` to stop."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread
