"""The Swagger UI page at /docs loads and lists every route in a real browser: Debian's headless Chromium.

The API function is served on 127.0.0.1 as `iracing-sync serve` serves it (the same handler and server).
Chromium renders /docs (Swagger UI's script and style are inlined, so the page needs nothing but this
server) and prints the DOM after the page's scripts ran; the rendered operations must be every route of the
document. Skipped, with the reason, where Chromium is not installed, which fails a CI run (CI installs it).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.chromium import CHROMIUM, QUIET_FLAGS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, list[str]]]:
    """The API function on 127.0.0.1 (no data needed for /docs), and the paths of the requests it received."""
    from iracing_sync_local.http_server import make_server, serve_in_thread
    from iracing_sync_local.stepfunctions import LambdaContext, handler_for

    seen: list[str] = []
    handler = handler_for("SlotsApiFunction")

    def recording(event: dict[str, object], context: object) -> dict[str, object]:
        seen.append(str(event["rawPath"]))
        return handler(event, context)

    server = make_server(recording, lambda: LambdaContext("SlotsApiFunction"), port=0)
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def rendered_dom(url: str, profile: Path) -> str:
    """The DOM of ``url`` after its scripts ran, as headless Chromium prints it."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        *QUIET_FLAGS,
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",  # let Swagger UI's scripts run to the end (virtual, not wall time)
        "--dump-dom",
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_swagger_ui_lists_every_route_in_headless_chromium(served: tuple[str, list[str]], tmp_path: Path) -> None:
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed (apt-get install chromium): the Swagger UI browser test cannot run")
    base, seen = served
    # Given the routes the OpenAPI document states
    from iracing_sync.api.routes.docs import openapi_json

    documented = set(json.loads(openapi_json())["paths"])
    # When Chromium loads the Swagger UI page
    dom = rendered_dom(f"{base}/docs", tmp_path / "profile")
    # Then the page's scripts rendered one operation per route, each a GET, under the API's title
    rendered = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    assert rendered == documented
    assert {"/slots", "/series/{series_id}/next", "/series/{series_id}/calendar.ics"} <= rendered
    assert len(re.findall(r'class="opblock opblock-get', dom)) == len(documented)
    assert re.search(r'<h1 class="title">iracing-sync<', dom)
    # And it needed nothing but the page itself from the function (Swagger UI is inlined); a browser's favicon
    # request is an undeclared route, answered by the gateway without invoking it
    assert seen == ["/docs"]
