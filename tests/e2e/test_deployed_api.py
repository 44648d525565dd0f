"""Against a deployed stack (AWS_SAM_STACK_NAME): the API answers from the stack's table."""

from __future__ import annotations

import os

import pytest
import requests

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not os.environ.get("AWS_SAM_STACK_NAME"), reason="AWS_SAM_STACK_NAME not set: no deployed stack"
    ),
]


@pytest.fixture(scope="module")
def api_url() -> str:
    import boto3

    stack = boto3.client("cloudformation").describe_stacks(StackName=os.environ["AWS_SAM_STACK_NAME"])["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return outputs["ApiUrl"].rstrip("/")


def test_deployed_slots_route_answers_json(api_url: str) -> None:
    response = requests.get(f"{api_url}/slots", params={"from": "2026-01-01", "to": "2026-01-02"}, timeout=30)
    assert response.status_code == 200
    assert isinstance(response.json()["slots"], list)


def test_deployed_bad_window_is_a_4xx(api_url: str) -> None:
    response = requests.get(f"{api_url}/slots", params={"from": "x", "to": "y"}, timeout=30)
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message"}
