"""The local HTTP adapter answers as API Gateway's HTTP API does, over real HTTP on 127.0.0.1.

A handler that echoes its event stands in for the function, so what reaches a function (and whether
anything does) is visible: only template.yaml's routes invoke it, the event is payload format 2.0 as AWS
builds it, and the API's CorsConfiguration is applied by the gateway, not by the function.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from iracing_sync_local import REPO_ROOT
from iracing_sync_local.http_server import make_server, serve_in_thread
from iracing_sync_local.template import http_api_routes, load_template

pytestmark = pytest.mark.integration


class Echo:
    """A function that answers with the event it was given, counting its invocations."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: object) -> dict[str, Any]:
        self.events.append(event)
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json", "Access-Control-Allow-Origin": "https://evil.test"},
            "cookies": ["seen=1; Path=/", "again=2"],
            "multiValueHeaders": {"X-Not-In-2-0": ["a", "b"]},
            "body": json.dumps(event),
        }


@pytest.fixture
def echo() -> Echo:
    return Echo()


def _serve(echo: Echo, **options: Any) -> Iterator[str]:
    server = make_server(echo, lambda: None, port=0, **options)
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(echo: Echo) -> Iterator[str]:
    """The adapter with template.yaml's routes and CORS configuration (CorsAllowedOrigins' default: any)."""
    yield from _serve(echo)


@pytest.fixture
def strict_api(echo: Echo) -> Iterator[str]:
    """The adapter as deployed with CorsAllowedOrigins=https://racer.example."""
    yield from _serve(echo, cors_origins=["https://racer.example"])


def raw_request(base: str, method: str, target: str, headers: list[tuple[str, str]]) -> http.client.HTTPResponse:
    """One request with exactly these header lines (repeats included), as a browser or proxy may send."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest(method, target, skip_accept_encoding=True)
    for name, value in headers:
        connection.putheader(name, value)
    connection.endheaders()
    response = connection.getresponse()
    response.read()
    return response


# --- routes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),  # undeclared path
        ("GET", "/series/47/unknown"),  # a declared prefix, longer path
        ("GET", "/series/"),  # {id} never matches an empty segment
        ("GET", "/favicon.ico"),
        ("POST", "/slots"),  # declared path, undeclared method
        ("DELETE", "/series/47"),
        ("OPTIONS", "/slots"),  # not a preflight (no Origin): routed, and no OPTIONS route exists
    ],
)
def test_adapter_undeclared_route_is_the_gateways_404_without_invoking_the_function(
    api: str, echo: Echo, method: str, path: str
) -> None:
    response = requests.request(method, api + path, timeout=30)
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json() == {"message": "Not Found"}
    assert echo.events == []


def test_adapter_head_reaches_the_function_only_through_the_declared_head_routes(api: str, echo: Echo) -> None:
    # HTTP APIs match the method exactly: HEAD reaches a function only through a HEAD or ANY route, and template.yaml
    # declares HEAD / and HEAD /{proxy+} (no GET route answers a HEAD)
    assert {r.key for r in http_api_routes(load_template()) if r.method == "HEAD"} == {"HEAD /", "HEAD /{proxy+}"}
    root = requests.head(api + "/", timeout=30)
    series = requests.head(api + "/series/47?x=1", timeout=30)
    # Then each reached the function through its HEAD route, and came back with the answer's headers and no body
    assert [e["routeKey"] for e in echo.events] == ["HEAD /", "HEAD /{proxy+}"]
    assert echo.events[1]["pathParameters"] == {"proxy": "series/47"}
    assert echo.events[1]["requestContext"]["http"]["method"] == "HEAD"
    for response, event in zip((root, series), echo.events, strict=True):
        assert response.status_code == 200 and response.content == b""
        assert int(response.headers["Content-Length"]) == len(json.dumps(event).encode())


def test_adapter_head_on_a_template_without_head_routes_is_the_gateways_404(tmp_path: Path, echo: Echo) -> None:
    # Given the template without its HEAD routes
    template = (REPO_ROOT / "template.yaml").read_text()
    lines = template.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "HeadRoot:")
    end = next(i for i, line in enumerate(lines) if line.strip() == "Path: /{proxy+}") + 1
    path = tmp_path / "template.yaml"
    path.write_text("\n".join(lines[:start] + lines[end:]) + "\n")
    # When a GET route's path is asked with HEAD
    base = _serve(echo, template=path)
    api = next(base)
    try:
        response = requests.head(api + "/series/47", timeout=30)
    finally:
        next(base, None)
    # Then the gateway answers 404 itself
    assert response.status_code == 404 and response.content == b"" and echo.events == []


def test_adapter_declared_route_event_is_payload_format_2_0(api: str, echo: Echo) -> None:
    # Given a request to a declared route with a query, a cookie and a header sent twice
    response = raw_request(
        api,
        "GET",
        "/series/47?b=2&a=1&b=3&empty=&tz=Europe%2FLondon",
        [("Cookie", "theme=dark; lang=en"), ("X-Multi", "one"), ("X-Multi", "two"), ("User-Agent", "racer/1.0")],
    )
    assert response.status == 200
    # Then the function was invoked once with the event AWS builds
    (event,) = echo.events
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /series/{id}"
    assert event["rawPath"] == "/series/47"
    assert event["rawQueryString"] == "b=2&a=1&b=3&empty=&tz=Europe%2FLondon"
    assert event["queryStringParameters"] == {"b": "2,3", "a": "1", "empty": "", "tz": "Europe/London"}
    assert event["pathParameters"] == {"id": "47"}
    assert event["cookies"] == ["theme=dark", "lang=en"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-multi"] == "one,two"
    assert all(name == name.lower() for name in event["headers"])
    context = event["requestContext"]
    assert context["routeKey"] == "GET /series/{id}" and context["stage"] == "$default"
    assert context["http"] == {
        "method": "GET",
        "path": "/series/47",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "racer/1.0",
    }
    assert context["domainName"] == "127.0.0.1" and context["domainPrefix"] == "127"
    assert {"accountId", "apiId", "requestId", "time", "timeEpoch"} <= set(context)
    assert event["isBase64Encoded"] is False and "body" not in event


def test_adapter_every_declared_route_reaches_the_function_with_its_route_key(api: str, echo: Echo) -> None:
    # Given every route template.yaml declares (another engineer's new routes included)
    routes = http_api_routes(load_template())
    for route in routes:
        # When its path is requested, with 5 for each {variable}
        path = "/".join("5" if part.startswith("{") else part for part in route.path.split("/"))
        assert requests.request(route.method, api + path, timeout=30).status_code == 200, route
    # Then each reached the function under its own routeKey
    assert [e["routeKey"] for e in echo.events] == [r.key for r in routes]


def test_adapter_answer_maps_format_2_0_cookies_and_ignores_multi_value_headers(api: str) -> None:
    response = raw_request(api, "GET", "/slots", [])
    set_cookies = response.headers.get_all("Set-Cookie")
    assert set_cookies == ["seen=1; Path=/", "again=2"]
    assert response.headers["X-Not-In-2-0"] is None


class Overlap(Echo):
    """An echo that notes whether two of its invocations ever overlapped (each lasts a few milliseconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def __call__(self, event: dict[str, Any], context: object) -> dict[str, Any]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.005)  # long enough for parallel requests to meet inside the function, were they let in
        with self._lock:
            self.running -= 1
        return super().__call__(event, context)


def test_adapter_invokes_the_function_with_one_event_at_a_time_like_one_lambda_instance() -> None:
    # Given the adapter in front of a function that notes overlapping invocations (the real one keeps each
    # request's state in module globals, as a Lambda execution environment allows)
    overlap = Overlap()
    served = _serve(overlap)
    url = f"{next(served)}/series"
    # When a browser asks several routes at once
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: requests.get(url, timeout=30).status_code, range(16)))
    next(served, None)  # the server shuts down
    # Then every request is answered, one invocation at a time
    assert statuses == [200] * 16
    assert len(overlap.events) == 16 and overlap.most == 1


def test_adapter_function_error_is_the_gateways_500(echo: Echo) -> None:
    def failing(event: dict[str, Any], context: object) -> dict[str, Any]:
        raise RuntimeError("boom")

    for base in _serve(failing):  # type: ignore[arg-type]
        response = requests.get(base + "/slots", timeout=30)
        assert response.status_code == 500 and response.json() == {"message": "Internal Server Error"}


# --- CORS -------------------------------------------------------------------------------------------------


def test_adapter_preflight_is_answered_by_the_gateway_without_invoking_the_function(api: str, echo: Echo) -> None:
    response = requests.options(
        api + "/series/47",
        headers={
            "Origin": "https://racer.example",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
        timeout=30,
    )
    assert response.status_code == 204 and response.content == b""
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Allow-Methods"] == "GET,HEAD,OPTIONS"
    assert response.headers["Access-Control-Allow-Headers"] == "if-none-match"
    assert response.headers["Access-Control-Max-Age"] == "3600"
    assert echo.events == []


def test_adapter_answer_to_an_origin_carries_the_gateways_cors_headers_only(api: str) -> None:
    response = requests.get(api + "/slots", headers={"Origin": "https://racer.example"}, timeout=30)
    assert response.status_code == 200
    # The gateway's value, not the function's own (API Gateway ignores CORS headers from the integration)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.headers["Access-Control-Expose-Headers"] == "etag,cache-control"


def test_adapter_answer_without_origin_has_no_cors_headers(api: str) -> None:
    response = requests.get(api + "/slots", timeout=30)
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


def test_adapter_allowed_origin_is_echoed_when_origins_are_listed(strict_api: str, echo: Echo) -> None:
    preflight = requests.options(
        strict_api + "/slots",
        headers={"Origin": "https://racer.example", "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://racer.example"
    answer = requests.get(strict_api + "/slots", headers={"Origin": "https://racer.example"}, timeout=30)
    assert answer.headers["Access-Control-Allow-Origin"] == "https://racer.example"


def test_adapter_disallowed_origin_gets_no_cors_headers(strict_api: str, echo: Echo) -> None:
    preflight = requests.options(
        strict_api + "/slots",
        headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"},
        timeout=30,
    )
    answer = requests.get(strict_api + "/slots", headers={"Origin": "https://elsewhere.example"}, timeout=30)
    assert preflight.status_code == 204 and answer.status_code == 200
    for response in (preflight, answer):
        assert not [h for h in response.headers if h.lower().startswith("access-control-")], response.headers
    assert len(echo.events) == 1  # the GET only: a preflight never reaches the function
