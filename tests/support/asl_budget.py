"""How long a state machine can run at worst, read from its ASL and the template's function timeouts.

A Lambda task's attempt lasts at most its TimeoutSeconds, which must outlast the function itself: Lambda's timeout
plus its init phase (at most 10 s; an init that runs over is retried inside the invocation, under the function's
timeout). A task then runs 1 + the MaxAttempts of its retriers, each at most that long, and waits each retrier's
backoff in between (FULL jitter waits at most the computed interval). A throttled invoke
(Lambda.TooManyRequestsException) never started the function: it costs its retrier's waits only. A Wait for a
fixed number of seconds costs them; one for a time read from the state (the rate budget's reset), or a loop back
to an earlier state, has no bound the ASL can show (``math.inf``). An inline Map runs its items in rounds of
MaxConcurrency, when the number of its items has a known bound. A Distributed Map's children are executions of their
own, judged apart (``child_processors``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.template import walk_states

# Lambda's init phase limit: an invocation can take this long before the handler's own timeout starts.
INIT_SECONDS = 10
# An EXPRESS execution (or a Distributed Map's express child) ends at 5 minutes whatever its definition says.
EXPRESS_LIMIT_SECONDS = 300
THROTTLED = "Lambda.TooManyRequestsException"


def function_timeouts(template: Mapping[str, Any]) -> dict[str, int]:
    """Each function's timeout in seconds (its own, else the Globals one), by logical ID."""
    default = int(template.get("Globals", {}).get("Function", {}).get("Timeout", 3))
    return {
        name: int(r.get("Properties", {}).get("Timeout", default))
        for name, r in template["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }


def task_function(state: Mapping[str, Any]) -> str | None:
    """The logical ID of the function a Lambda task invokes (its ``${<Name>FunctionArn}`` placeholder), else None."""
    if state.get("Type") != "Task" or ":lambda:invoke" not in str(state.get("Resource", "")):
        return None
    name = str(state.get("Parameters", {}).get("FunctionName", ""))
    return name[2:-4] if name.startswith("${") and name.endswith("Arn}") else None


def backoff_seconds(retrier: Mapping[str, Any]) -> float:
    """The most a retrier waits over all its attempts: each interval grown by BackoffRate, capped by MaxDelaySeconds."""
    interval, rate = float(retrier.get("IntervalSeconds", 1)), float(retrier.get("BackoffRate", 2.0))
    cap = float(retrier.get("MaxDelaySeconds", math.inf))
    return sum(min(interval * rate**k, cap) for k in range(int(retrier.get("MaxAttempts", 3))))


def attempts(state: Mapping[str, Any]) -> int:
    """How many times a task can run its function: once, and once more for each retry that is not a throttle."""
    return 1 + sum(int(r.get("MaxAttempts", 3)) for r in state.get("Retry", []) if r["ErrorEquals"] != [THROTTLED])


def task_seconds(state: Mapping[str, Any]) -> float:
    """A task's worst case: every attempt at its timeout, and every retrier's backoff."""
    timeout = state.get("TimeoutSeconds")
    if not isinstance(timeout, int):
        return math.inf
    return attempts(state) * timeout + sum(backoff_seconds(r) for r in state.get("Retry", []))


@dataclass
class Worst:
    """The worst case of a run from a state: its seconds and the states on that path."""

    seconds: float
    path: list[str] = field(default_factory=list)


def worst_case(
    definition: Mapping[str, Any], item_bounds: Mapping[str, int] | None = None, *, one_pass: float | None = None
) -> Worst:
    """The longest a run of ``definition`` (a machine, or a Map's item processor) can take from its StartAt.

    ``item_bounds`` names, by Map state, the most items it can be given (else an inline Map's duration is unbounded).
    A loop back has no bound the ASL shows; with ``one_pass`` (a wait for a time read from the state taking that
    many seconds), each loop is taken once: what a run whose every task fails at every retry takes to its record.
    """
    walker = _Walker(definition["States"], dict(item_bounds or {}), one_pass)
    return walker.worst(definition["StartAt"], frozenset())


class _Walker:
    def __init__(self, states: Mapping[str, Any], item_bounds: dict[str, int], one_pass: float | None) -> None:
        self.states, self.item_bounds, self.one_pass = states, item_bounds, one_pass

    def worst(self, name: str, seen: frozenset[str]) -> Worst:
        if name in seen:  # a loop back: nothing in the ASL bounds how often it is taken
            return Worst(math.inf if self.one_pass is None else 0.0, [name])
        state = self.states[name]
        own = self._own_seconds(name, state)
        nexts = [state[k] for k in ("Next", "Default") if k in state]
        nexts += [c["Next"] for c in state.get("Choices", []) + state.get("Catch", [])]
        after = max((self.worst(n, seen | {name}) for n in nexts), key=lambda w: w.seconds, default=Worst(0.0))
        return Worst(own + after.seconds, [name, *after.path])

    def _own_seconds(self, name: str, state: Mapping[str, Any]) -> float:
        kind = state["Type"]
        if kind == "Task":
            return task_seconds(state)
        if kind == "Wait":
            if "Seconds" in state:
                return float(state["Seconds"])
            return math.inf if self.one_pass is None else self.one_pass
        if kind == "Parallel":
            branches = (worst_case(b, self.item_bounds, one_pass=self.one_pass) for b in state["Branches"])
            return max((w.seconds for w in branches), default=0.0)
        if kind == "Map":
            processor = state.get("ItemProcessor") or state["Iterator"]
            if processor.get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED" or name not in self.item_bounds:
                return math.inf  # (a Distributed Map's children are judged apart: child_processors)
            concurrency = int(state.get("MaxConcurrency", 0)) or self.item_bounds[name]
            rounds = math.ceil(self.item_bounds[name] / concurrency)
            return rounds * worst_case(processor, self.item_bounds, one_pass=self.one_pass).seconds
        return 0.0  # Pass, Choice, Succeed, Fail


def child_processors(definition: Mapping[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Each Distributed Map's item processor by the Map's name, with its children's execution type."""
    return {
        name: (state["ItemProcessor"]["ProcessorConfig"].get("ExecutionType", "STANDARD"), state["ItemProcessor"])
        for name, state in walk_states(definition)
        if state.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
    }
