"""The local stack behind `iracing-sync sync|serve|demo|runs|local reset`.

DynamoDB Local (data under .local/dynamodb, kept between runs), the fake iRacing server serving a
bundled real snapshot (unless real iRacing credentials are configured), the raw archive under
.local/archive, and the project's own state machines run by moto's interpreter with the real handlers.
Engines this process starts are stopped at exit; ones already running are reused.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iracing_sync.errors import IracingSyncError
from iracing_sync_local import LOCAL_DIR
from iracing_sync_local.dynamodb_local import DynamoDBLocal, checkout_engine
from iracing_sync_local.fake_iracing import FakeIracing

DEFAULT_SNAPSHOT = "2025-09-09"
FAKE_TOKENS = LOCAL_DIR / "fake-iracing" / "tokens.json"
# The environment as the user gave it, before this module points the service at local engines.
_USER_ENV = dict(os.environ)


class UsageError(Exception):
    """A CLI request that cannot be carried out as asked (reported as one line, exit code 2)."""


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _configure_environment(dynamodb_endpoint: str, fake: FakeIracing | None) -> None:
    """Point the service's settings at the local engines (the Lambda environment, locally)."""
    env = {
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "DYNAMODB_ENDPOINT": dynamodb_endpoint,
        "ARCHIVE_DIR": str(LOCAL_DIR / "archive"),
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
    }
    if fake is not None:
        env |= fake.settings_env
    os.environ.update(env)
    from iracing_sync.settings import get_settings

    get_settings.cache_clear()


def _real_credentials_configured() -> bool:
    from iracing_sync.settings import settings_from_env

    s = settings_from_env(_USER_ENV)
    return bool(s.iracing_parameter_name or s.iracing_credentials_file or s.iracing_username)


@dataclass
class LocalStack:
    """What is running: the DynamoDB engine and, unless real iRacing is used, the fake server."""

    dynamodb: DynamoDBLocal
    fake: FakeIracing | None


@contextmanager
def local_stack(snapshot: str = DEFAULT_SNAPSHOT, *, iracing: bool = True) -> Iterator[LocalStack]:
    """Bring the local engines up (reusing running ones), configure the service, create the table."""
    with ExitStack() as stack:
        # This checkout's engine: `serve` in one terminal and `sync` in another share it, another clone never does.
        dynamodb = checkout_engine(LOCAL_DIR)
        if not dynamodb.start().started_here:
            _log(f"using this checkout's DynamoDB Local already running on {dynamodb.endpoint}")
        stack.callback(dynamodb.stop)
        fake = None
        if iracing and not _real_credentials_configured():
            try:
                # Its issued tokens persist as iRacing's do, so the token the last run stored is still good.
                fake = FakeIracing(snapshot, state_file=FAKE_TOKENS)
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
            fake.start()
            stack.callback(fake.stop)
            _log(f"fake iRacing serving the bundled snapshot {snapshot!r} on {fake.base_url}")
        elif iracing:
            _log("using the real iRacing API (credentials configured)")
        _configure_environment(dynamodb.endpoint, fake)
        from iracing_sync.settings import get_settings
        from iracing_sync.store import schema

        if schema.ensure_table():
            _log(f"created table {get_settings().table_name} in DynamoDB Local")
        yield LocalStack(dynamodb, fake)


def execution_for(kind: str, target: int | None = None) -> tuple[str, dict[str, Any]]:
    """The state machine and input of one `iracing-sync sync KIND [ID]`."""
    simple = {
        "series": "sync_series",
        "reference": "sync_reference_data",
        "current": "sync_current_seasons",
        "all-past": "sync_all_past_seasons",
        "race-guide": "sync_race_guide",
    }
    if kind in simple:
        return simple[kind], {}
    if target is None:
        raise UsageError(f"sync {kind} needs an ID")
    if kind == "season":
        return "sync_season", {"season_ids": [target]}
    if kind == "past":
        return "sync_past_seasons", {"series_ids": [target]}
    raise UsageError(f"unknown sync kind {kind!r}")


class SyncRunFailed(IracingSyncError):
    """A sync ran and failed; ``summary`` is its recorded run (None if none was recorded)."""

    def __init__(self, message: str, summary: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.summary = summary


# How many recent runs are searched for a failed execution's record (it was recorded moments ago).
_RECENT_RUNS = 50


def _run_named(runs: list[dict[str, Any]], execution_name: str) -> dict[str, Any] | None:
    """The run an execution recorded (its run_id is the execution's name), if it recorded one."""
    return next((run for run in runs if run["run_id"] == execution_name), None)


def _recorded(execution_name: str) -> dict[str, Any] | None:
    from iracing_sync.store import runs

    return _run_named([r.model_dump(mode="json") for r in runs.list_sync_runs(limit=_RECENT_RUNS)], execution_name)


def run_sync(
    kind: str,
    target: int | None = None,
    *,
    snapshot: str = DEFAULT_SNAPSHOT,
    stack: str | None = None,
    replay: str | None = None,
) -> dict[str, Any]:
    """Run one sync state machine (locally, or on the deployed ``stack``) and return its JSON summary."""
    name, execution_input = execution_for(kind, target)
    if stack is not None:
        return run_on_stack(stack, name, execution_input)
    if replay is not None:
        return _run_replay(name, execution_input, replay)
    from iracing_sync_local.stepfunctions import ExecutionFailed, local_step_functions

    with local_stack(snapshot), local_step_functions() as sfn:
        _log(f"running {name} locally")
        try:
            return dict(sfn.run(name, execution_input))
        except ExecutionFailed as exc:
            raise SyncRunFailed(str(exc), _recorded(exc.execution_name)) from exc


def _run_replay(name: str, execution_input: dict[str, Any], archive: str) -> dict[str, Any]:
    """Run a sync locally with every iRacing call answered from a raw archive (no fake server, no iRacing).

    ``archive`` is a directory holding ``raw/`` (e.g. .local/archive) or ``s3://bucket``; each call gets the
    newest archived body of its endpoint and parameters, and a call never archived fails that task.
    """
    from iracing_sync_local.stepfunctions import ExecutionFailed, local_step_functions

    if not archive.startswith("s3://"):
        folder = Path(archive).expanduser().resolve()
        if not (folder / "raw").is_dir():
            raise UsageError(f"--replay {archive}: not an archive directory (no raw/ inside)")
        archive = str(folder)
    with local_stack(iracing=False), local_step_functions() as sfn:
        os.environ["IRACING_REPLAY"] = archive
        from iracing_sync.settings import get_settings

        get_settings.cache_clear()
        _log(f"running {name} locally, replaying iRacing from {archive}")
        try:
            return dict(sfn.run(name, execution_input))
        except ExecutionFailed as exc:
            raise SyncRunFailed(str(exc), _recorded(exc.execution_name)) from exc
        finally:
            os.environ.pop("IRACING_REPLAY", None)
            get_settings.cache_clear()


def stack_outputs(stack_name: str) -> dict[str, str]:
    """The Outputs of a deployed CloudFormation stack."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        described = boto3.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    except (BotoCoreError, ClientError) as exc:
        raise UsageError(f"cannot read stack {stack_name!r}: {exc}") from exc
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


# A deployed execution ends by itself (a backfill may run for hours): follow it with no deadline of our own.
FOLLOW_DEPLOYED = math.inf


def run_on_stack(stack_name: str, name: str, execution_input: dict[str, Any]) -> dict[str, Any]:
    """Start the state machine on a deployed stack (found from its outputs) and follow it to the end.

    A failed run raises SyncRunFailed carrying the run the execution recorded in the stack's table.
    """
    import boto3

    from iracing_sync_local.asl import STATE_MACHINES
    from iracing_sync_local.stepfunctions import ExecutionFailed, execute, execute_express

    output_key = f"{STATE_MACHINES[name]}Arn"
    outputs = stack_outputs(stack_name)
    if output_key not in outputs:
        raise UsageError(f"stack {stack_name!r} has no output {output_key}")
    _log(f"starting {name} on stack {stack_name}")
    client = boto3.client("stepfunctions")
    arn = outputs[output_key]
    try:
        if client.describe_state_machine(stateMachineArn=arn).get("type") == "EXPRESS":
            return dict(execute_express(client, arn, execution_input))
        return dict(execute(client, arn, execution_input, prefix="cli", timeout=FOLLOW_DEPLOYED))
    except ExecutionFailed as exc:
        raise SyncRunFailed(str(exc), _recorded_on_stack(stack_name, outputs, exc.execution_name)) from exc


def _recorded_on_stack(stack_name: str, outputs: dict[str, str], execution_name: str) -> dict[str, Any] | None:
    try:
        runs = runs_in_table(_table_of(stack_name, outputs), _RECENT_RUNS)
    except UsageError as exc:  # the failure itself is what the user must see: its record is a bonus
        _log(f"cannot read the failed run's record: {exc}")
        return None
    return _run_named(runs, execution_name)


def _table_of(stack_name: str, outputs: dict[str, str]) -> str:
    if "TableName" not in outputs:
        raise UsageError(f"stack {stack_name!r} has no output TableName")
    return outputs["TableName"]


def runs_in_table(table_name: str, limit: int = 20) -> list[dict[str, Any]]:
    """Recent sync runs in a deployed table, newest first, shaped as ``iracing-sync runs`` prints local ones.

    Read with boto3, not the store: the store's models are bound at import to the table the settings name. It is
    the store's own query (by_parent RUNS, newest first) and the same SyncRun model validates each record.
    """
    import boto3
    from boto3.dynamodb.types import TypeDeserializer
    from botocore.exceptions import BotoCoreError, ClientError

    from iracing_sync.models.tasks import SyncRun
    from iracing_sync.store.runs import RUNS
    from iracing_sync.store.schema import ByParentIndex

    try:
        answer = boto3.client("dynamodb").query(
            TableName=table_name,
            IndexName=ByParentIndex.Meta.index_name,
            KeyConditionExpression="#parent = :runs",
            ExpressionAttributeNames={"#parent": ByParentIndex.gsi1pk.attr_name},
            ExpressionAttributeValues={":runs": {"S": RUNS}},
            ScanIndexForward=False,
            Limit=limit,
        )
    except (BotoCoreError, ClientError) as exc:
        raise UsageError(f"cannot read table {table_name!r}: {exc}") from exc
    deserialize = TypeDeserializer().deserialize
    runs = []
    for raw in answer.get("Items", []):
        item = {key: _plain(deserialize(value)) for key, value in raw.items()}
        for name in ("failed", "guide"):  # stored as JSON (a list; a race-guide run's findings)
            if isinstance(item.get(name), str):
                item[name] = json.loads(item[name])
        runs.append(SyncRun.model_validate(item).model_dump(mode="json"))
    return runs


def _plain(value: Any) -> Any:
    """DynamoDB numbers arrive as Decimal: the JSON number they stand for."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def list_runs(limit: int = 20, stack: str | None = None) -> list[dict[str, Any]]:
    """Recent sync runs recorded in the local table, or in the deployed ``stack``'s table."""
    if stack is not None:
        return runs_in_table(_table_of(stack, stack_outputs(stack)), limit)
    with local_stack(iracing=False):
        from iracing_sync.store import runs

        return [run.model_dump(mode="json") for run in runs.list_sync_runs(limit)]


def _serve_forever(port: int) -> None:
    from iracing_sync_local.http_server import make_server
    from iracing_sync_local.stepfunctions import LambdaContext, handler_for

    handler = handler_for("SlotsApiFunction")
    server = make_server(handler, lambda: LambdaContext(function_name="SlotsApiFunction"), port)
    base = f"http://127.0.0.1:{port}"
    _log(f"slots API on {base}  (Swagger UI: {base}/docs, OpenAPI: {base}/openapi.json); Ctrl-C stops")
    print(base, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve(port: int = 3000) -> None:
    """Serve the slots API on 127.0.0.1:port until interrupted."""
    with local_stack(iracing=False):
        _serve_forever(port)


EXAMPLE_DAY = "2025-09-09"
EXAMPLE_AT = f"{EXAMPLE_DAY}T11:54:00Z"  # the race guide's capture


def example_urls(base: str) -> list[tuple[str, str]]:
    """What to open after the demo sync (the snapshot's capture day), the planner page first: (tool, URL) pairs, a
    browser for the pages and curl for the JSON."""
    return [
        ("open", f"{base}/#races?from={EXAMPLE_AT}"),
        ("curl", f"{base}/slots?from={EXAMPLE_AT}&to={EXAMPLE_DAY}T14:54:00Z"),
        ("curl", f"{base}/seasons?at={EXAMPLE_AT}&series_id=47"),
        ("curl", f"{base}/purchase-guide?series_id=47&series_id=62&at={EXAMPLE_AT}"),
        ("curl", f"{base}/seasons/5376/weeks/30/forecast"),
        ("curl", f"{base}/series/47/seasons"),
        ("curl", f"{base}/seasons/5376/slots?from={EXAMPLE_DAY}&to=2025-09-10"),
        ("open", f"{base}/docs"),
    ]


def demo_machines(snapshot: str, *, iracing: bool = True) -> list[str]:
    """The machines the demo runs, in order: series and reference data first (a season's week items name their
    cars from the stored car catalog), the race guide last (it reconciles against the stored seasons)."""
    from iracing_sync_local.fake_iracing import SNAPSHOTS

    names = ["sync_series", "sync_reference_data", "sync_current_seasons"]
    if not iracing or "season/race_guide" in SNAPSHOTS[snapshot].files:
        names.append("sync_race_guide")  # (2023 S2 has no guide of its own: 2025's would match nothing)
    return names


def demo(port: int = 3000, snapshot: str = DEFAULT_SNAPSHOT) -> None:
    """Local stack up, the bundled snapshot synced through the real state machines (``demo_machines``), API served."""
    from iracing_sync.settings import get_settings
    from iracing_sync_local.fake_iracing import SNAPSHOTS
    from iracing_sync_local.stepfunctions import local_step_functions

    with local_stack(snapshot) as running:
        if captured_at := SNAPSHOTS[snapshot].captured_at:
            # The weeks whose forecasts are due are those of the capture's day, not of today's.
            os.environ["FORECAST_NOW"] = captured_at
            get_settings.cache_clear()
        with local_step_functions() as sfn:
            for name in demo_machines(snapshot, iracing=running.fake is not None):
                _log(f"running {name} through moto's Step Functions interpreter")
                print(json_line(sfn.run(name, {})), flush=True)
        if running.fake is not None:
            running.fake.stop()
        base = f"http://127.0.0.1:{port}"
        _log("try:")
        for tool, url in example_urls(base):
            _log(f"  {tool} '{url}'")
        _serve_forever(port)


def json_line(data: Any) -> str:
    import json

    return json.dumps(data, separators=(",", ":"), sort_keys=True)


def reset() -> None:
    """Wipe .local/ data (DynamoDB files, archive, the fake iRacing's tokens), keeping the downloaded tools."""
    names = ("dynamodb", "archive", "fake-iracing")
    for name in names:
        shutil.rmtree(LOCAL_DIR / name, ignore_errors=True)
    _log(f"wiped {', '.join(f'{LOCAL_DIR}/{name}' for name in names)}")
