"""The ASL files: every error name is known; every Lambda task retries, catches and times out by the contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from iracing_sync import errors
from tests.support.template import (
    PLACEHOLDER,
    asl_files,
    is_lambda_task,
    load_asl,
    walk_states,
)

LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
]
LAMBDA_THROTTLED = "Lambda.TooManyRequestsException"
# Every predefined Step Functions error name; a misspelling (States.TaskFailedId) silently never matches.
STATES_ERRORS = {
    "States.ALL",
    "States.DataLimitExceeded",
    "States.ExceedToleratedFailureThreshold",
    "States.HeartbeatTimeout",
    "States.Http.Socket",
    "States.IntrinsicFailure",
    "States.ItemReaderFailed",
    "States.NoChoiceMatched",
    "States.ParameterPathFailure",
    "States.Permissions",
    "States.QueryEvaluationError",
    "States.ResultPathMatchFailure",
    "States.ResultWriterFailed",
    "States.Runtime",
    "States.TaskFailed",
    "States.Timeout",
}


def _error_classes() -> set[str]:
    return {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    }


@pytest.mark.parametrize("path", asl_files(), ids=lambda p: p.name)
def test_asl_error_equals_names_are_known(path: Path) -> None:
    known = STATES_ERRORS | set(LAMBDA_TRANSIENT_ERRORS) | {LAMBDA_THROTTLED} | _error_classes()
    for state_name, state in walk_states(load_asl(path)):
        for handler in state.get("Retry", []) + state.get("Catch", []):
            unknown = set(handler["ErrorEquals"]) - known
            assert not unknown, f"{path.name} {state_name}: unknown error names {sorted(unknown)}"


@pytest.mark.parametrize("path", asl_files(), ids=lambda p: p.name)
def test_asl_lambda_tasks_retry_catch_and_time_out(path: Path) -> None:
    tasks = [(n, s) for n, s in walk_states(load_asl(path)) if is_lambda_task(s)]

    assert tasks, f"{path.name} has no Lambda task"
    for name, task in tasks:
        where = f"{path.name} {name}"
        assert PLACEHOLDER.fullmatch(task["Parameters"]["FunctionName"]), f"{where}: FunctionName is not a placeholder"
        assert isinstance(task.get("TimeoutSeconds"), int) and task["TimeoutSeconds"] > 0, f"{where}: no TimeoutSeconds"
        retries = task.get("Retry", [])
        assert retries and retries[0]["ErrorEquals"] == LAMBDA_TRANSIENT_ERRORS, f"{where}: transient Retry not first"
        assert any("RetryableError" in r["ErrorEquals"] for r in retries), f"{where}: no Retry on RetryableError"
        catch_all = [c for c in task.get("Catch", []) if c["ErrorEquals"] == ["States.ALL"]]
        assert catch_all and catch_all[0]["ResultPath"] == "$.error", f"{where}: no Catch States.ALL to $.error"


def test_asl_error_classes_exist_for_retry_contract() -> None:
    assert {"RetryableError", "RateLimited", "PermanentError"} <= _error_classes()
