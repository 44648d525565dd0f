"""Every state machine's worst case, computed from its ASL and the functions' timeouts (tests/support/asl_budget).

Two faults it catches: a task whose TimeoutSeconds Step Functions reaches while its Lambda still runs (the call is
abandoned holding iRacing's token lock and rate budget, then made again), and an EXPRESS execution (a machine, or a
Distributed Map's child) that its retries and waits can carry past express's 5 minutes before its failure is
recorded. A standard machine's loops (waits for the rate budget) are bounded by its own TimeoutSeconds: a run that
reaches it is TIMED_OUT, which alarms (StandardRunFailedRule).
"""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from iracing_sync.race_guide import MAX_RESYNCS
from iracing_sync.settings import Settings
from iracing_sync_local.template import TEMPLATE, load_template
from tests.support.asl_budget import (
    EXPRESS_LIMIT_SECONDS,
    INIT_SECONDS,
    THROTTLED,
    attempts,
    backoff_seconds,
    child_processors,
    function_timeouts,
    task_function,
    task_seconds,
    walk_states,
    worst_case,
)

REPO_ROOT = TEMPLATE.parent
# The Maps whose item count the code bounds: the race guide re-syncs at most race_guide.MAX_RESYNCS seasons a run.
ITEM_BOUNDS = {"sync_race_guide.asl.json": {"Resync": MAX_RESYNCS}}


@cache
def machines() -> dict[str, tuple[str, dict[str, Any]]]:
    """Each ASL file's machine type (STANDARD or EXPRESS) and definition, as the template declares them."""
    found = {}
    for resource in load_template()["Resources"].values():
        if resource["Type"] == "AWS::Serverless::StateMachine":
            p = resource["Properties"]
            path = REPO_ROOT / p["DefinitionUri"]
            found[path.name] = (p.get("Type", "STANDARD"), json.loads(path.read_text()))
    return found


def lambda_tasks(definition: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(n, s) for n, s in walk_states(definition) if task_function(s) is not None]


@pytest.mark.parametrize("file", sorted(machines()))
def test_no_task_times_out_while_its_lambda_still_runs(file: str) -> None:
    timeouts = function_timeouts(load_template())
    tasks = lambda_tasks(machines()[file][1])
    assert tasks
    for name, task in tasks:
        function = task_function(task)
        assert function in timeouts, f"{file} {name}: {function} is not a function of the template"
        # Given the function may run its init (up to 10 s) and then its own timeout
        longest_call = timeouts[function] + INIT_SECONDS
        # Then Step Functions waits at least that long before it gives the call up and tries again
        assert task["TimeoutSeconds"] >= longest_call, (
            f"{file} {name}: TimeoutSeconds {task['TimeoutSeconds']} < {function}'s {timeouts[function]} s "
            f"+ {INIT_SECONDS} s init: the call can be abandoned while the Lambda runs"
        )


@pytest.mark.parametrize("file", sorted(f for f, (kind, _) in machines().items() if kind == "EXPRESS"))
def test_an_express_machine_ends_and_records_its_run_inside_its_timeout_and_express_limit(file: str) -> None:
    definition = machines()[file][1]
    timeout = definition["TimeoutSeconds"]
    worst = worst_case(definition, ITEM_BOUNDS.get(file))
    # (past its TimeoutSeconds the run would end TIMED_OUT before its record task ran, and past 5 minutes AWS ends it)
    assert 0 < timeout <= EXPRESS_LIMIT_SECONDS, file
    assert worst.seconds <= timeout, f"{file}: {worst.seconds:.0f} s at worst > {timeout} s, by {worst.path}"


@pytest.mark.parametrize(
    "where",
    sorted(
        (file, map_name)
        for file, (_, definition) in machines().items()
        for map_name, (kind, _) in child_processors(definition).items()
        if kind == "EXPRESS"
    ),
    ids=lambda w: f"{w[0]}:{w[1]}",
)
def test_an_express_child_records_its_failure_inside_the_express_limit(where: tuple[str, str]) -> None:
    file, map_name = where
    _, processor = child_processors(machines()[file][1])[map_name]
    worst = worst_case(processor)
    # A child killed at 5 minutes records nothing: its run can only say MissingOutcome
    assert worst.seconds <= EXPRESS_LIMIT_SECONDS, f"{file} {map_name}: {worst.seconds:.0f} s by {worst.path}"


@pytest.mark.parametrize("file", sorted(f for f, (kind, _) in machines().items() if kind == "STANDARD"))
def test_a_standard_machine_times_out_and_gives_each_task_room_for_all_its_retries(file: str) -> None:
    definition = machines()[file][1]
    # Its loops (waits for iRacing's rate budget) end at the machine's TimeoutSeconds: a TIMED_OUT run alarms
    assert 0 < definition.get("TimeoutSeconds", 0) < math.inf, file
    for name, task in lambda_tasks(definition):
        assert task_seconds(task) <= definition["TimeoutSeconds"], f"{file} {name}"
    # And a run without a Map (whose items have no bound) records its failures before its timeout, each wait for the
    # rate budget taken once (a window: Settings.rate_window_seconds)
    once = worst_case(definition, one_pass=Settings._field_defaults["rate_window_seconds"])
    if once.seconds < math.inf:
        assert once.seconds <= definition["TimeoutSeconds"], f"{file}: {once.seconds:.0f} s by {once.path}"


def tasks_in_express(kind: str, definition: dict[str, Any]) -> list[tuple[str, dict[str, Any], bool]]:
    """Every Lambda task, and whether it runs in an EXPRESS execution (the machine's, or an express child's)."""
    express_children = {
        n
        for _, (k, processor) in child_processors(definition).items()
        if k == "EXPRESS"
        for n, _ in walk_states(processor)
    }
    return [(n, s, kind == "EXPRESS" or n in express_children) for n, s in lambda_tasks(definition)]


@pytest.mark.parametrize("file", sorted(machines()))
def test_throttling_has_its_own_patient_retrier(file: str) -> None:
    for name, task, express in tasks_in_express(*machines()[file]):
        retries = task["Retry"]
        throttle = [r for r in retries if r["ErrorEquals"] == [THROTTLED]]
        # Given a throttle is the account's concurrency spent (a quota of 10 in a new account), not a fault
        assert len(throttle) == 1, f"{file} {name}: no retrier of its own for {THROTTLED}"
        assert all(THROTTLED not in r["ErrorEquals"] for r in retries if r is not throttle[0]), f"{file} {name}"
        # Then it waits longer than any other retrier of the task, growing: minutes in a standard execution, what the
        # 5 minutes leave in an express one
        others = max(backoff_seconds(r) for r in retries if r is not throttle[0])
        patience = backoff_seconds(throttle[0])
        assert patience > others and throttle[0]["BackoffRate"] > 1, f"{file} {name}"
        assert patience >= (5 if express else 120), f"{file} {name}: {patience} s"


def test_the_race_guide_resyncs_all_its_seasons_in_one_round() -> None:
    resync = dict(walk_states(machines()["sync_race_guide.asl.json"][1]))["Resync"]
    assert resync["MaxConcurrency"] >= MAX_RESYNCS


# --- the checks can fail: what they say about faults of the kind the issue found -----------------------------------

_TASK = {
    "Type": "Task",
    "Resource": "arn:aws:states:::lambda:invoke",
    "Parameters": {"FunctionName": "${SeasonFunctionArn}"},
}


def _task(timeout: int, retries: list[dict[str, Any]], **rest: Any) -> dict[str, Any]:
    return {**_TASK, "TimeoutSeconds": timeout, "Retry": retries, **rest}


def test_a_task_timeout_below_its_function_is_an_abandoned_call() -> None:
    # Given today's race guide: 60 s tasks for a function that may run 110 s
    timeouts = {"SeasonFunction": 110}
    task = _task(60, [])
    # Then the check that guards the machines sees the call abandoned
    assert task["TimeoutSeconds"] < timeouts[task_function(task) or ""] + INIT_SECONDS


def test_retries_and_a_wait_for_the_rate_budget_carry_an_express_run_past_its_limit() -> None:
    transient = {"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2}
    retryable = {"ErrorEquals": ["RetryableError"], "IntervalSeconds": 5, "MaxAttempts": 4, "MaxDelaySeconds": 60}
    states: dict[str, dict[str, Any]] = {
        "Reconcile": _task(
            60,
            [transient, retryable],
            Catch=[{"ErrorEquals": ["RateLimited"], "Next": "WaitForBudget"}],
            Next="Record",
        ),
        "WaitForBudget": {"Type": "Wait", "TimestampPath": "$.retry_at", "Next": "Reconcile"},
        "Record": _task(60, [transient, retryable], End=True),
    }
    guide = {"StartAt": "Reconcile", "States": states}
    # When its worst case is computed: 8 attempts of 60 s and their backoffs, twice over, and an unbounded wait loop
    assert attempts(states["Reconcile"]) == 8
    assert task_seconds(states["Reconcile"]) == 8 * 60 + (1 + 2 + 4) + (5 + 10 + 20 + 40)
    assert worst_case(guide).seconds == math.inf
    del states["Reconcile"]["Catch"]
    # Then even without the loop it is past express's 5 minutes
    assert worst_case(guide).seconds == 2 * (8 * 60 + 82) > EXPRESS_LIMIT_SECONDS


def test_an_inline_map_without_a_bound_on_its_items_is_unbounded_and_one_with_one_runs_in_rounds() -> None:
    item = {"StartAt": "Sync", "States": {"Sync": _task(25, [], End=True)}}
    machine = {
        "StartAt": "M",
        "States": {"M": {"Type": "Map", "MaxConcurrency": 2, "ItemProcessor": item, "End": True}},
    }
    assert worst_case(machine).seconds == math.inf
    assert worst_case(machine, {"M": 4}).seconds == 2 * 25  # two rounds of two
    assert worst_case(machine, {"M": 5}).seconds == 3 * 25


def test_a_throttled_attempt_costs_its_waits_only() -> None:
    throttle = {"ErrorEquals": [THROTTLED], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2}
    task = _task(25, [throttle])
    assert attempts(task) == 1 and task_seconds(task) == 25 + 2 + 4 + 8


def test_the_repository_files_are_the_ones_judged() -> None:
    assert {p.name for p in (REPO_ROOT / "statemachine").glob("*.asl.json")} == set(machines())
    assert Path(TEMPLATE).is_file()
