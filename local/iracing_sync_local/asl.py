"""Our ASL as the local interpreter runs it: ${...} substituted with local ARNs, express children run as STANDARD
ones bounded by express's 5 minutes (moto's parser takes only STANDARD children), tasks given this machine's time,
retries and waits scaled for quick tests. The names of functions and machines come from template.yaml."""

from __future__ import annotations

import json
import math
import re
from functools import cache
from typing import Any

from iracing_sync_local import REPO_ROOT
from iracing_sync_local.template import function_folders, load_template, state_machine_files

ACCOUNT = "123456789012"
REGION = "us-east-1"
STATEMACHINE_DIR = REPO_ROOT / "statemachine"
FUNCTIONS_DIR = REPO_ROOT / "functions"

_TEMPLATE = load_template()
# Logical function name (as in template.yaml) -> function folder.
FUNCTIONS = function_folders(_TEMPLATE)
# State machine file -> its name in template.yaml.
STATE_MACHINES = state_machine_files(_TEMPLATE)


def function_arn(logical_id: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def substitutions() -> dict[str, str]:
    """The local values of every DefinitionSubstitutions key."""
    return {f"{logical_id[: -len('Function')]}FunctionArn": function_arn(logical_id) for logical_id in FUNCTIONS}


# An EXPRESS execution, or a Distributed Map's express child, ends at 5 minutes whatever its definition says.
EXPRESS_LIMIT_SECONDS = 300
# The least local express limit: the handlers run at this machine's speed while waits shrink, so a limit scaled as
# far as the waits are would end healthy runs; a runaway one (a retry or wait loop) still ends within it.
MIN_LOCAL_EXPRESS_SECONDS = 120
# The least local TimeoutSeconds of a Lambda task: here the handlers run in-process against DynamoDB Local, the fake
# iRacing server and every other test, on a shared CPU or two, several times slower than in Lambda, and nothing
# stops them at the function's timeout. What a task's timeout guards in AWS (a call is never abandoned while its
# Lambda runs) is checked on the ASL itself (tests/unit/test_worst_case.py).
MIN_LOCAL_TASK_SECONDS = 120
# How a converted express child's item processor carries its local limit to the interpreter (its Comment).
_EXPRESS_MARK = re.compile(r"\[local: express, (\d+) s\]")


def express_limit_seconds(retry_interval_scale: float, own: float = EXPRESS_LIMIT_SECONDS) -> int:
    """The local limit of an express execution: its own TimeoutSeconds or express's 5 minutes, whichever is less,
    scaled as the runner scales retries and waits, and at least MIN_LOCAL_EXPRESS_SECONDS."""
    return max(MIN_LOCAL_EXPRESS_SECONDS, math.ceil(min(own, EXPRESS_LIMIT_SECONDS) * retry_interval_scale))


@cache
def express_machines() -> frozenset[str]:
    """The ASL file names (as in STATE_MACHINES) of the machines template.yaml declares EXPRESS."""
    from iracing_sync_local.template import load_template

    resources = load_template()["Resources"]
    return frozenset(f for f, n in STATE_MACHINES.items() if resources[n]["Properties"].get("Type") == "EXPRESS")


def load_definition(name: str, retry_interval_scale: float = 1.0, express_limit: int | None = None) -> dict[str, Any]:
    """An ASL file with its ${...} substituted; Retry intervals scaled (moto sleeps them for real).

    Below scale 1, a Wait until a timestamp (the rate budget's reset) also becomes a 1 s wait. An EXPRESS machine
    or express child ends at ``express_limit`` (default: ``express_limit_seconds`` of the scale), as AWS ends it.
    """
    text = (STATEMACHINE_DIR / f"{name}.asl.json").read_text()
    for key, value in substitutions().items():
        text = text.replace("${" + key + "}", value)
    return local_definition(
        json.loads(text), retry_interval_scale, express=name in express_machines(), express_limit=express_limit
    )


def local_definition(
    definition: dict[str, Any],
    retry_interval_scale: float = 1.0,
    *,
    express: bool = False,
    express_limit: int | None = None,
) -> dict[str, Any]:
    """A definition as the local interpreter runs it: express children as STANDARD ones bounded by express's
    limit, an EXPRESS machine's TimeoutSeconds bounded by it, tasks given this machine's time, retries and waits
    scaled."""
    limit = express_limit or express_limit_seconds(retry_interval_scale)
    _express_as_standard(definition, limit)
    _slower_here(definition)
    if express:
        own = definition.get("TimeoutSeconds", EXPRESS_LIMIT_SECONDS)
        definition["TimeoutSeconds"] = min(express_limit or express_limit_seconds(retry_interval_scale, own), own)
    if retry_interval_scale != 1.0:
        _scale_retries(definition, retry_interval_scale)
    return definition


def _slower_here(node: Any) -> None:
    """Every task's TimeoutSeconds raised to MIN_LOCAL_TASK_SECONDS."""
    if isinstance(node, dict):
        if node.get("Type") == "Task" and isinstance(node.get("TimeoutSeconds"), int):
            node["TimeoutSeconds"] = max(node["TimeoutSeconds"], MIN_LOCAL_TASK_SECONDS)
        for value in node.values():
            _slower_here(value)
    elif isinstance(node, list):
        for value in node:
            _slower_here(value)


def _express_as_standard(node: Any, limit: int) -> None:
    """moto's parser takes only STANDARD Distributed Map children: run EXPRESS ones as STANDARD (same states, same
    results; AWS's pricing differs), marked with their limit, which the interpreter enforces (iteration_program)."""
    if isinstance(node, dict):
        config = node.get("ProcessorConfig")
        if isinstance(config, dict) and config.get("ExecutionType") == "EXPRESS":
            config["ExecutionType"] = "STANDARD"
            node["Comment"] = f"{node.get('Comment', '')} [local: express, {limit} s]".strip()
        for value in node.values():
            _express_as_standard(value, limit)
    elif isinstance(node, list):
        for value in node:
            _express_as_standard(value, limit)


def iteration_program(self: Any) -> Any:
    """A Map's item program; an express child's ends at its limit and fails as AWS's would (States.Timeout).

    moto reads a child program that timed out as one that succeeded: its item would count as done, and the run
    would never see the MissingOutcome AWS's killed child leaves.
    """
    from moto.stepfunctions.parser.api import ExecutionFailedEventDetails
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
    from moto.stepfunctions.parser.asl.component.program.program import Program
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramTimedOut

    mark = _EXPRESS_MARK.search(self._comment.comment if self._comment is not None else "")
    limit = int(mark[1]) if mark is not None else None

    class ExpressChild(Program):  # type: ignore[misc]
        def eval(self, env: Any) -> None:
            super().eval(env)
            if isinstance(env.program_state(), ProgramTimedOut):
                cause = f"the express child ran past its {limit} s limit (express's 5 minutes, scaled)"
                env.set_error(ExecutionFailedEventDetails(error="States.Timeout", cause=cause))

    # (what moto's own IterationComponent._get_iteration_program builds, with the child's limit)
    return (Program if limit is None else ExpressChild)(
        query_language=self._query_language,
        start_at=self._start_at,
        states=self._states,
        timeout_seconds=None if limit is None else TimeoutSeconds(limit),
        comment=self._comment,
    )


def _scale_retries(node: Any, scale: float) -> None:
    if isinstance(node, dict):
        if scale < 1 and node.get("Type") == "Wait" and "TimestampPath" in node:
            # A wait for the rate budget's reset sleeps up to a window (60 s) for real: quick tests wait 1 s and
            # try again (the budget then refuses without calling iRacing until it has reset).
            node.pop("TimestampPath")
            node["Seconds"] = 1
        for retrier in node.get("Retry", []):
            # ASL's floor is 1 s; below scale 1 the backoff also stops growing, so tests stay quick.
            retrier["IntervalSeconds"] = max(1, round(retrier.get("IntervalSeconds", 1) * scale))
            retrier.pop("JitterStrategy", None)
            if scale < 1:
                retrier["BackoffRate"] = 1.0
            if "MaxDelaySeconds" in retrier:
                retrier["MaxDelaySeconds"] = max(1, round(retrier["MaxDelaySeconds"] * scale))
        for value in node.values():
            _scale_retries(value, scale)
    elif isinstance(node, list):
        for value in node:
            _scale_retries(value, scale)
