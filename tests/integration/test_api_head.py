"""HEAD on the slots API over real sockets: every GET route answers it as its GET, headers only.

Uptime and link checkers send HEAD, and CloudFront always allows it (its AllowedMethods choices all hold HEAD). An HTTP
API route matches one method, so template.yaml declares HEAD routes (``HEAD /`` and ``HEAD /{proxy+}``); the resolver
answers a HEAD as the GET of its path, and the gateway sends the GET's status and headers without the body.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests

from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.template import http_api_routes, load_template
from tests.integration.conftest import sync_snapshot

pytestmark = pytest.mark.integration

# An ID of the 2025-09-09 snapshot for each kind of {id} (a path's first segment).
IDS = {"series": "47", "seasons": "5376", "cars": "139", "tracks": "191", "car-classes": "2978"}
# The queries of the routes that require one.
QUERIES = {
    "/slots": "?from=2025-09-09T00:00:00Z&to=2025-09-10T00:00:00Z",
    "/calendar.ics": "?series_id=47",
    "/purchase-guide": "?series_id=47",
}
# The snapshot's schedules predate weather_url, so a week's forecast is a 404 there: HEAD must answer it as GET does.
STATUS = {"/seasons/5376/weeks/0/forecast": 404}
# Headers that differ between any two answers.
PER_REQUEST = {"date", "apigw-requestid"}


def get_paths() -> list[str]:
    """A concrete path for every GET route template.yaml declares."""
    paths = []
    for route in http_api_routes(load_template()):
        if route.method == "GET":
            first = route.path.split("/")[1]
            path = route.path.replace("{id}", IDS.get(first, "1")).replace("{week}", "0")
            paths.append(path + QUERIES.get(route.path, ""))
    return sorted(paths)


@pytest.fixture(scope="module")
def synced(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> None:
    """Given the 2025-09-09 snapshot synced by the real state machines."""
    sync_snapshot(module_step_functions, module_fake_iracing)


def raw(api: str, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    """One request on a socket of its own, read to its close: status, headers (lower-cased), and every byte after
    them (a HEAD answer's must be none)."""
    host, port = api.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("iso-8859-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def test_every_get_route_is_covered() -> None:
    gets = [r for r in http_api_routes(load_template()) if r.method == "GET"]
    assert len(set(get_paths())) == len(gets) > 20 and "/" in get_paths()
    assert not any("{" in p for p in get_paths()) and set(STATUS) <= set(get_paths())


@pytest.mark.parametrize("path", get_paths())
def test_head_answers_as_get_without_the_body(synced: None, api: str, path: str) -> None:
    # Given the route's GET answer
    get_status, get_headers, get_body = raw(api, "GET", path)
    assert get_status == STATUS.get(path, 200), (path, get_body[:300])
    # When the same path is asked with HEAD
    status, headers, body = raw(api, "HEAD", path)
    # Then it is the same status and headers (its Content-Length the GET body's), and no byte of body follows
    assert status == get_status
    assert {k: v for k, v in headers.items() if k not in PER_REQUEST} == {
        k: v for k, v in get_headers.items() if k not in PER_REQUEST
    }
    assert int(headers["content-length"]) == len(get_body) > 0
    assert body == b""


def test_head_revalidates_by_etag_as_get_does(synced: None, api: str) -> None:
    etag = requests.get(api + "/series/47", timeout=60).headers["ETag"]
    response = requests.head(api + "/series/47", headers={"If-None-Match": etag}, timeout=60)
    assert response.status_code == 304 and response.headers["ETag"] == etag and response.content == b""


@pytest.mark.parametrize("path", ["/nope", "/series/47/unknown"])
def test_head_on_an_unknown_path_is_a_404_without_a_body(synced: None, api: str, path: str) -> None:
    # (GET there is the gateway's own 404; HEAD reaches the function through HEAD /{proxy+}, whose 404 it is)
    status, headers, body = raw(api, "HEAD", path)
    assert status == 404 and body == b""
    assert requests.get(api + path, timeout=60).status_code == 404
