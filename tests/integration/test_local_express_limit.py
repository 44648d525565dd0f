"""The local runner ends an EXPRESS execution at express's limit, as AWS does (moto runs it as STANDARD).

A Distributed Map's express child that runs past it fails with States.Timeout (its item has no output: the run's
record then reports the season as MissingOutcome, as in AWS), and an EXPRESS machine ends TIMED_OUT. The limit is
express's 5 minutes, scaled as the runner's waits are (``express_limit_seconds``); these tests set a short one.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from iracing_sync_local.asl import (
    EXPRESS_LIMIT_SECONDS,
    MIN_LOCAL_EXPRESS_SECONDS,
    MIN_LOCAL_TASK_SECONDS,
    express_limit_seconds,
    express_machines,
    load_definition,
)
from iracing_sync_local.stepfunctions import ExecutionFailed, LocalStepFunctions, execute, local_step_functions

pytestmark = pytest.mark.integration

LIMIT = 2


def waiting(seconds_path: str) -> dict[str, Any]:
    return {"StartAt": "Work", "States": {"Work": {"Type": "Wait", "SecondsPath": seconds_path, "End": True}}}


def fan_out(execution_type: str) -> dict[str, Any]:
    """A Distributed Map whose children wait the seconds of their item (tolerating failed children, as ours do)."""
    return {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemsPath": "$.seconds",
                "ItemSelector": {"seconds.$": "$$.Map.Item.Value"},
                "MaxConcurrency": 2,
                "ToleratedFailurePercentage": 100.0,
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": execution_type},
                    **waiting("$.seconds"),
                },
                "End": True,
            }
        },
    }


@pytest.fixture
def sfn() -> Iterator[LocalStepFunctions]:
    with local_step_functions(express_limit=LIMIT) as runner:
        yield runner


def run(sfn: LocalStepFunctions, arn: str, execution_input: dict[str, Any]) -> tuple[Any, float]:
    started = time.monotonic()
    output = execute(sfn._client, arn, execution_input, progress=False, poll=0.05)
    return output, time.monotonic() - started


def test_an_express_child_past_the_limit_fails_and_leaves_no_output(sfn: LocalStepFunctions) -> None:
    # Given express children, one quick and one that waits twice the limit
    arn = sfn.create("express-children", fan_out("EXPRESS"))
    # When they run
    output, elapsed = run(sfn, arn, {"seconds": [0, 2 * LIMIT]})
    # Then the slow one was ended at the limit: no output of its own, and the run did not wait for it
    assert output == [{"seconds": 0}, None]
    assert elapsed < 2 * LIMIT


def test_a_standard_child_is_not_limited(sfn: LocalStepFunctions) -> None:
    arn = sfn.create("standard-children", fan_out("STANDARD"))
    output, elapsed = run(sfn, arn, {"seconds": [0, LIMIT + 1]})
    assert output == [{"seconds": 0}, {"seconds": LIMIT + 1}] and elapsed >= LIMIT + 1


def test_an_express_machine_past_the_limit_times_out(sfn: LocalStepFunctions) -> None:
    arn = sfn.create("express-machine", {**waiting("$.seconds"), "TimeoutSeconds": 280}, express=True)
    with pytest.raises(ExecutionFailed) as failed:
        run(sfn, arn, {"seconds": 2 * LIMIT})
    assert failed.value.status == "TIMED_OUT"
    # (and one inside it ends as it would in AWS)
    assert run(sfn, arn, {"seconds": 0})[0] == {"seconds": 0}


def test_the_limit_is_express_s_five_minutes_scaled_as_the_waits_are() -> None:
    assert express_limit_seconds(1.0) == EXPRESS_LIMIT_SECONDS == 300
    assert express_limit_seconds(1.0, own=280) == 280  # the machine's own TimeoutSeconds, when shorter
    assert express_limit_seconds(0.5) == 150
    # Handlers run at this machine's speed while waits shrink to 1 s: a limit scaled to nothing would end healthy runs
    assert express_limit_seconds(0.0) == express_limit_seconds(0.01) == MIN_LOCAL_EXPRESS_SECONDS


def test_the_project_s_express_executions_get_the_limit() -> None:
    # Given the machines as the runner loads them, unscaled and as the tests run them
    assert express_machines() == {"sync_race_guide"}
    for scale in (1.0, 0.0):
        guide = load_definition("sync_race_guide", scale)
        current = load_definition("sync_current_seasons", scale)
        processor = current["States"]["SyncSeasons"]["ItemProcessor"]
        # Then the race guide ends at its own 280 s (or the scaled limit), and the hourly sync's children at the limit
        assert guide["TimeoutSeconds"] == min(280, express_limit_seconds(scale, 280))
        assert processor["ProcessorConfig"]["ExecutionType"] == "STANDARD"
        assert f"[local: express, {express_limit_seconds(scale)} s]" in processor["Comment"]
        backfill = load_definition("sync_all_past_seasons", scale)["States"]["BackfillSeries"]
        assert "Comment" not in backfill["ItemProcessor"]  # standard children: no limit
        # And every task has this machine's time (no Lambda timeout stops a handler here)
        tasks = [s for s in _states(current) if s["Type"] == "Task"]
        assert tasks and all(s["TimeoutSeconds"] >= MIN_LOCAL_TASK_SECONDS for s in tasks)


def _states(definition: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for state in definition["States"].values():
        found.append(state)
        if "ItemProcessor" in state:
            found += _states(state["ItemProcessor"])
    return found
