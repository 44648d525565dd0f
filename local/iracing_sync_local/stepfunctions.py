"""Run the project's own ASL locally: moto's Step Functions interpreter, Lambda tasks dispatched in-process.

moto never runs a Lambda handler without Docker, so ``lambda:invoke`` is routed here to the real
``functions/<name>/app.py`` handler, with errors shaped as Lambda reports them (``errorType`` = the
exception class name, which is what Retry/Catch match on, and the whole stack trace). Calls to 127.0.0.1
(DynamoDB Local, the fake iRacing server) pass through moto untouched.

AWS quotas enforced locally, so a design that would fail in AWS fails here: 256 KiB per state's input and
output (moto's interpreter checks it: States.DataLimitExceeded), 6 MB per Lambda response (checked here:
Function.ResponseSizeTooLarge), 25,000 history events per execution (counted here after the run), and an EXPRESS
execution's 5 minutes (its machine's or a Distributed Map child's; scaled as the waits are: ``express_limit_seconds``).
"""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter
from types import ModuleType
from typing import Any
from unittest import mock

from iracing_sync.errors import IracingSyncError
from iracing_sync_local.asl import (
    ACCOUNT,
    FUNCTIONS,
    FUNCTIONS_DIR,
    REGION,
    STATE_MACHINES,
    function_arn,
    iteration_program,
    load_definition,
    local_definition,
)


@dataclass
class LambdaContext:
    """The context object a Lambda handler receives (what Powertools reads)."""

    function_name: str
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = ""
    aws_request_id: str = ""
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


_modules: dict[str, ModuleType] = {}


def handler_for(logical_id: str) -> Callable[[dict[str, Any], Any], Any]:
    """The real ``lambda_handler`` of a function folder, imported once under a unique module name."""
    folder = FUNCTIONS[logical_id]
    if folder not in _modules:
        path = FUNCTIONS_DIR / folder / "app.py"
        spec = importlib.util.spec_from_file_location(f"functions_{folder}_app", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _modules[folder] = module
    return _modules[folder].lambda_handler  # type: ignore[no-any-return]


# Lambda's synchronous invocation quota: a larger response fails the invocation (not the handler).
MAX_LAMBDA_RESPONSE_BYTES = 6 * 1024 * 1024
# Step Functions' history quota per execution (a Distributed Map's children each have their own).
MAX_HISTORY_EVENTS = 25_000


def invoke(logical_id: str, event: dict[str, Any]) -> tuple[dict[str, Any] | list[Any] | None, str | None]:
    """Invoke a handler as Lambda would: (payload, None) or (the error document, "Unhandled").

    The error document is the Python runtime's: errorMessage, errorType, requestId and the whole stack trace, so
    a Catch's Cause is as large here as in AWS (2-3 KB for a failure deep in the service).
    """
    request_id = str(uuid.uuid4())
    context = LambdaContext(
        function_name=logical_id, invoked_function_arn=function_arn(logical_id), aws_request_id=request_id
    )
    try:
        payload = handler_for(logical_id)(event, context)
    except Exception as exc:  # noqa: BLE001 — reported to the state machine exactly as Lambda would
        return {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }, "Unhandled"
    if len(json.dumps(payload).encode()) > MAX_LAMBDA_RESPONSE_BYTES:
        return {
            "errorMessage": "Response payload size exceeded maximum allowed payload size "
            f"({MAX_LAMBDA_RESPONSE_BYTES} bytes).",
            "errorType": "Function.ResponseSizeTooLarge",
        }, "Unhandled"
    return payload, None


class _Progress:
    """Counts season tasks as the local Lambda "service" runs them, for a progress line on stderr."""

    def __init__(self) -> None:
        self.enabled = False
        self.done = 0
        self.failed = 0
        self._lock = threading.Lock()

    def record(self, event: dict[str, Any], error: str | None) -> None:
        if not self.enabled or event.get("action") != "sync":
            return
        with self._lock:
            self.done += 1
            self.failed += bool(error)
            done, failed = self.done, self.failed
        if done % 10 == 0 or error:
            what = f"season {event.get('season_id')} failed" if error else "seasons"
            print(f"  ... {done} synced{f', {failed} failed' if failed else ''} ({what})", file=sys.stderr)


_progress = _Progress()


# Every Lambda invocation dispatched, as (function, action): what a run cost in invocations (tests, bench).
invocations: list[tuple[str, str | None]] = []


@dataclass(frozen=True)
class TimedInvocation:
    """One dispatched invocation with the handler's wall time: what Lambda bills as its duration (cost bench)."""

    function: str
    action: str | None
    seconds: float


# The same invocations as ``invocations``, each with its duration.
timed_invocations: list[TimedInvocation] = []


def _dispatch(
    self: Any, function_name: str, qualifier: str | None, body: Any, headers: Any, response_headers: Any
) -> bytes:
    logical_id = function_name.rsplit(":", 1)[-1]
    event = json.loads(body) if body else {}
    action = event.get("action") if isinstance(event, dict) else None
    invocations.append((logical_id, action))
    started = perf_counter()  # bound at import: tests may replace this module's `time` with a fake clock
    payload, error = invoke(logical_id, event)
    timed_invocations.append(TimedInvocation(logical_id, action, perf_counter() - started))
    _progress.record(event, error)
    if error:
        response_headers["x-amz-function-error"] = error
    return json.dumps(payload).encode()


class ChangeStream:
    """The table's stream as the changes relay sees it in AWS: new items of the CHANGES partition, in order.

    DynamoDB Local has streams but moto cannot trigger a function from one: the items a run wrote after this
    object was made are handed to the real relay handler in stream-record batches (as Lambda's event source
    mapping would, INSERT events with NEW_IMAGE), and its events go to moto's EventBridge.
    """

    BATCH = 25

    def __init__(self) -> None:
        self._after = self._last_key()

    @staticmethod
    def _query(**kwargs: Any) -> list[Any]:
        from iracing_sync.store.changes import CHANGES
        from iracing_sync.store.schema import Item

        return list(Item.query(CHANGES, **kwargs))

    def _last_key(self) -> str:
        newest = self._query(scan_index_forward=False, limit=1)
        return str(newest[0].sk) if newest else ""

    def deliver(self) -> int:
        """Hand every change written since to the relay; how many."""
        from iracing_sync.store.schema import Item

        fresh = self._query(range_key_condition=Item.sk > self._after) if self._after else self._query()
        for start in range(0, len(fresh), self.BATCH):
            records = [_stream_record(item) for item in fresh[start : start + self.BATCH]]
            payload, error = invoke("ChangesRelayFunction", {"Records": records})
            if error or (isinstance(payload, dict) and payload.get("batchItemFailures")):
                print(f"  ... the changes relay failed: {payload}", file=sys.stderr)
        if fresh:
            self._after = str(fresh[-1].sk)
        return len(fresh)


def _stream_record(item: Any) -> dict[str, Any]:
    image = item.serialize()
    return {
        "eventID": uuid.uuid4().hex,
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": {
            "Keys": {"pk": image["pk"], "sk": image["sk"]},
            "NewImage": image,
            "SequenceNumber": str(time.time_ns()),
            "StreamViewType": "NEW_IMAGE",
        },
        "eventSourceARN": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/local/stream/local",
    }


class ExecutionFailed(IracingSyncError):
    """A local state machine execution ended in FAILED, TIMED_OUT or ABORTED."""

    def __init__(
        self, status: str, error: str | None, cause: str | None, execution_name: str = "", execution_arn: str = ""
    ) -> None:
        super().__init__(f"execution {status}: {error or ''} {_cause_message(cause)}".strip())
        self.status, self.error, self.cause, self.execution_name = status, error, cause, execution_name
        self.execution_arn = execution_arn


class LocalStepFunctions:
    """The project's state machines in moto's interpreter; use inside ``local_step_functions()``."""

    def __init__(self, client: Any, retry_interval_scale: float, express_limit: int | None = None) -> None:
        self._client = client
        self._arns: dict[str, str] = {}
        self._scale = retry_interval_scale
        self._express_limit = express_limit

    def _arn(self, name: str) -> str:
        if name not in self._arns:
            created = self._client.create_state_machine(
                name=STATE_MACHINES[name],
                definition=json.dumps(load_definition(name, self._scale, self._express_limit)),
                roleArn=f"arn:aws:iam::{ACCOUNT}:role/local-stepfunctions",
            )
            self._arns[name] = created["stateMachineArn"]
        return self._arns[name]

    def arn(self, name: str) -> str:
        """The ARN of a state machine, created in moto on first use."""
        return self._arn(name)

    def create(self, name: str, definition: dict[str, Any], *, express: bool = False) -> str:
        """Create a state machine from a definition given whole (tests of the runner itself); its ARN.

        Its retries are taken as given; express children (and, with ``express``, the machine) get express's limit.
        """
        local = local_definition(json.loads(json.dumps(definition)), express=express, express_limit=self._express_limit)
        created = self._client.create_state_machine(
            name=name, definition=json.dumps(local), roleArn=f"arn:aws:iam::{ACCOUNT}:role/local-stepfunctions"
        )
        return str(created["stateMachineArn"])

    def executions(self, state_machine_arn: str) -> list[str]:
        """The ARNs of a state machine's executions, newest first."""
        pages = self._client.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
        listed = [execution for page in pages for execution in page["executions"]]
        return [e["executionArn"] for e in sorted(listed, key=lambda e: e["startDate"], reverse=True)]

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        """Every history event of an execution, oldest first."""
        paginator = self._client.get_paginator("get_execution_history")
        return [event for page in paginator.paginate(executionArn=execution_arn) for event in page["events"]]

    def run(
        self, name: str, execution_input: dict[str, Any] | None = None, *, progress: bool = True, timeout: float = 3600
    ) -> Any:
        """Start an execution (unique name), wait for it, return its output or raise ExecutionFailed."""
        return self.run_arn(self._arn(name), execution_input, progress=progress, timeout=timeout)

    def run_arn(
        self, arn: str, execution_input: dict[str, Any] | None = None, *, progress: bool = False, timeout: float = 3600
    ) -> Any:
        """``run`` for a state machine by ARN; then the changes it recorded go through the table's "stream"."""
        _progress.enabled, _progress.done, _progress.failed = progress, 0, 0
        stream = ChangeStream()
        try:
            return execute(
                self._client,
                arn,
                execution_input,
                progress=progress,
                timeout=timeout,
                poll=0.05,
                history_limit=MAX_HISTORY_EVENTS,
            )
        finally:
            _progress.enabled = False
            stream.deliver()


def execute(
    client: Any,
    state_machine_arn: str,
    execution_input: dict[str, Any] | None = None,
    *,
    progress: bool = True,
    timeout: float = 3600,
    poll: float = 2.0,
    prefix: str = "local",
    history_limit: int | None = None,
) -> Any:
    """Start an execution with a unique name and follow it to the end (locally or on AWS).

    Returns the execution's output; raises ExecutionFailed (with the execution name) otherwise, and, with
    ``history_limit``, when its history holds more events than that (the quota AWS enforces and moto does not).
    """
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    started = client.start_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps(execution_input or {})
    )
    arn, deadline, last = started["executionArn"], time.monotonic() + timeout, ""
    while True:
        described = client.describe_execution(executionArn=arn)
        status = described["status"]
        if status != "RUNNING":
            break
        if progress:
            last = _report_progress(client, arn, last)
        if time.monotonic() > deadline:
            raise ExecutionFailed("TIMED_OUT", "LocalTimeout", f"still running after {timeout}s", name, arn)
        time.sleep(poll)
    if history_limit and _history_length(client, arn) > history_limit:
        # AWS fails an execution whose history would pass the quota; moto does not count.
        cause = f"the execution history passed {history_limit} events"
        raise ExecutionFailed("FAILED", "States.Runtime", cause, name, arn)
    if status != "SUCCEEDED":
        raise ExecutionFailed(status, described.get("error"), described.get("cause"), name, arn)
    return json.loads(described.get("output") or "null")


def execute_express(client: Any, state_machine_arn: str, execution_input: dict[str, Any] | None = None) -> Any:
    """Run an EXPRESS state machine on AWS to its end (StartSyncExecution: AWS keeps no history of an express
    execution to describe) and return its output, or raise ExecutionFailed."""
    name = f"cli-{uuid.uuid4().hex[:12]}"
    ended = client.start_sync_execution(
        stateMachineArn=state_machine_arn, name=name, input=json.dumps(execution_input or {})
    )
    if ended["status"] != "SUCCEEDED":
        raise ExecutionFailed(
            ended["status"], ended.get("error"), ended.get("cause"), name, ended.get("executionArn", "")
        )
    return json.loads(ended.get("output") or "null")


def _history_length(client: Any, arn: str) -> int:
    pages = client.get_paginator("get_execution_history").paginate(
        executionArn=arn, PaginationConfig={"PageSize": 1000}
    )
    return sum(len(page["events"]) for page in pages)


def _cause_message(cause: str | None) -> str:
    """The errorMessage of a Lambda error cause, else the cause as given (one line)."""
    try:
        data = json.loads(cause or "")
    except json.JSONDecodeError:
        return " ".join((cause or "").split())
    return str(data.get("errorMessage", cause)) if isinstance(data, dict) else " ".join(str(cause).split())


def _report_progress(client: Any, arn: str, last: str) -> str:
    events = client.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=1).get("events", [])
    entered = next((e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e), "")
    if entered and entered != last:
        print(f"  ... {entered}", file=sys.stderr)
        return entered
    return last


@contextmanager
def local_step_functions(
    retry_interval_scale: float = 1.0, express_limit: int | None = None
) -> Iterator[LocalStepFunctions]:
    """moto's Step Functions interpreter with Lambda tasks dispatched to the real handlers.

    ``express_limit`` overrides the seconds an express execution may run (default: ``express_limit_seconds``).
    """
    import boto3
    from moto import mock_aws
    from moto.awslambda.models import LambdaBackend
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.iteration_component import (
        IterationComponent,
    )

    config = {
        "stepfunctions": {"execute_state_machine": True},
        "lambda": {"use_docker": False},
        # DynamoDB Local and the fake iRacing server are real servers on loopback: let calls through.
        "core": {"passthrough": {"urls": [r"https?://(127\.0\.0\.1|localhost)(:\d+)?/.*"]}},
    }
    with (
        mock_aws(config=config),  # type: ignore[call-overload]
        mock.patch.object(LambdaSimpleBackend, "invoke", _dispatch),
        mock.patch.object(LambdaBackend, "invoke", _dispatch),
        mock.patch.object(IterationComponent, "_get_iteration_program", iteration_program),
    ):
        client = boto3.client("stepfunctions", region_name=REGION)
        yield LocalStepFunctions(client, retry_interval_scale, express_limit)
