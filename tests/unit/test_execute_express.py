"""``execute_express``: how the CLI runs an EXPRESS machine on AWS (StartSyncExecution), which moto cannot play.

A plain in-process stand-in for the Step Functions client answers as AWS documents StartSyncExecution's response.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iracing_sync_local.stepfunctions import ExecutionFailed, execute_express

ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:iracing-sync-SyncRaceGuide"


class _Client:
    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.calls: list[dict[str, Any]] = []

    def start_sync_execution(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return self.answer


def test_execute_express_returns_the_output_of_a_succeeded_execution() -> None:
    client = _Client({"status": "SUCCEEDED", "output": json.dumps({"kind": "race-guide", "matched": 133})})
    assert execute_express(client, ARN, {"force": True}) == {"kind": "race-guide", "matched": 133}
    (call,) = client.calls
    assert call["stateMachineArn"] == ARN and json.loads(call["input"]) == {"force": True}
    assert call["name"].startswith("cli-")


@pytest.mark.parametrize("status", ["FAILED", "TIMED_OUT"])
def test_execute_express_raises_execution_failed_with_its_error_and_cause(status: str) -> None:
    arn = f"{ARN}:cli-1"
    client = _Client({"status": status, "error": "SyncFailed", "cause": "season 5935: 404", "executionArn": arn})
    with pytest.raises(ExecutionFailed) as raised:
        execute_express(client, ARN)
    assert raised.value.status == status and raised.value.error == "SyncFailed"
    assert raised.value.execution_arn == arn and "404" in str(raised.value)
