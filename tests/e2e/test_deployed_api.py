"""Against a deployed stack (AWS_SAM_STACK_NAME): the API answers from the stack's table."""

from __future__ import annotations

import pytest
import requests

from tests.e2e.conftest import needs_stack

pytestmark = [pytest.mark.e2e, needs_stack]


@pytest.fixture(scope="module")
def api_url(stack_outputs: dict[str, str]) -> str:
    return stack_outputs["ApiUrl"].rstrip("/")


def test_deployed_slots_route_answers_json(api_url: str) -> None:
    response = requests.get(f"{api_url}/slots", params={"from": "2026-01-01", "to": "2026-01-02"}, timeout=30)
    assert response.status_code == 200
    assert isinstance(response.json()["slots"], list)


def test_deployed_bad_window_is_a_4xx(api_url: str) -> None:
    response = requests.get(f"{api_url}/slots", params={"from": "x", "to": "y"}, timeout=30)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message"}


def test_deployed_undeclared_route_is_the_gateways_404(api_url: str) -> None:
    # The local adapter answers this the same way (tests/integration/test_http_adapter.py)
    response = requests.get(f"{api_url}/nope", timeout=30)
    assert response.status_code == 404 and response.json() == {"message": "Not Found"}


@pytest.mark.parametrize("path", ["/", "/series", "/nope"])
def test_deployed_head_is_answered_as_get_without_a_body(api_url: str, path: str) -> None:
    # The local adapter answers HEAD the same way (tests/integration/test_api_head.py): what is unverifiable locally
    # is that API Gateway sends the GET's Content-Length and no body
    get = requests.get(f"{api_url}{path}", headers={"Accept-Encoding": "identity"}, timeout=30)
    head = requests.head(f"{api_url}{path}", headers={"Accept-Encoding": "identity"}, timeout=30)
    assert head.status_code == get.status_code and head.content == b""
    assert head.headers.get("ETag") == get.headers.get("ETag")
    assert head.headers.get("Content-Length") == str(len(get.content))


def test_deployed_preflight_is_answered_by_the_gateway_as_the_local_adapter_answers_it(api_url: str) -> None:
    headers = {"Origin": "https://racer.example", "Access-Control-Request-Method": "GET"}
    response = requests.options(f"{api_url}/slots", headers=headers, timeout=30)
    assert response.status_code == 204
    assert "GET" in response.headers["Access-Control-Allow-Methods"].split(",")
    assert response.headers["Access-Control-Allow-Origin"] in {"*", "https://racer.example"}


def test_deployed_changes_answer_json_and_atom(api_url: str) -> None:
    response = requests.get(f"{api_url}/changes", timeout=30)
    assert response.status_code == 200 and isinstance(response.json()["changes"], list)
    feed = requests.get(f"{api_url}/changes.atom", timeout=30)
    assert feed.status_code == 200 and feed.headers["Content-Type"].startswith("application/atom+xml")
