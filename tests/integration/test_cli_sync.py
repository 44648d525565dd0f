"""`iracing-sync sync|runs ... --stack NAME` on a deployed stack: found from the stack's outputs, its state machine
started and followed to the end, its table read for the recorded runs.

moto plays the deployed stack (CloudFormation outputs, Step Functions running our ASL with the real handlers);
the stack's table is the test's DynamoDB Local table, which boto3 reaches through AWS_ENDPOINT_URL_DYNAMODB as
it would reach the deployed one through the default endpoint.
"""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Iterator
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest import mock

import boto3
import pytest

from iracing_sync_local import stepfunctions
from iracing_sync_local.asl import STATE_MACHINES
from iracing_sync_local.cli import main
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions

pytestmark = pytest.mark.integration


def deploy_outputs(sfn: LocalStepFunctions, stack_name: str) -> None:
    """A stack whose outputs name the state machines and the table, as template.yaml's Outputs do."""
    outputs = {f"{logical}Arn": {"Value": sfn.arn(name)} for name, logical in STATE_MACHINES.items()}
    outputs["TableName"] = {"Value": os.environ["TABLE_NAME"]}
    template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}, "Outputs": outputs}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=stack_name, TemplateBody=json.dumps(template)
    )


# The store's access key (tests/conftest.py): DynamoDB Local keeps one database per access key and region.
STORE_ACCESS_KEY = "testing"


@pytest.fixture
def stack_table(step_functions: LocalStepFunctions) -> Iterator[None]:
    """boto3's DynamoDB calls reach the table the store writes, as the CLI's reach a deployed stack's table.

    Inside moto's mock (which sets its own access key), for this test only: patch.dict restores the mock's env,
    and boto3's default session (which caches the credentials it found) is a fresh one meanwhile.
    """
    reach = {"AWS_ENDPOINT_URL_DYNAMODB": os.environ["DYNAMODB_ENDPOINT"], "AWS_ACCESS_KEY_ID": STORE_ACCESS_KEY}
    with mock.patch.dict(os.environ, reach), mock.patch.object(boto3, "DEFAULT_SESSION", None):
        yield


def run_cli(*argv: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue().splitlines()


def test_sync_on_a_stack_runs_its_state_machine_and_prints_the_summary(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    from iracing_sync.store import seasons

    # Given a deployed stack
    deploy_outputs(step_functions, "iracing-sync-dev")
    # When a season is synced on it from the CLI
    code, lines = run_cli("sync", "season", "5935", "--stack", "iracing-sync-dev")
    # Then its execution ran to the end and the last stdout line is the JSON summary
    assert code == 0
    summary = json.loads(lines[-1])
    assert summary["kind"] == "season" and summary["seasons_synced"] == 1 and summary["run_id"].startswith("cli-")
    assert seasons.get_season(5935) is not None


def test_sync_race_guide_on_a_stack_prints_the_guide_summary(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, stack_table: None
) -> None:
    # Given a deployed stack whose seasons are synced (moto runs the EXPRESS machine as STANDARD: AWS's own path,
    # StartSyncExecution, which moto lacks, is unit-tested in tests/unit/test_execute_express.py)
    deploy_outputs(step_functions, "iracing-sync-dev")
    assert run_cli("sync", "current", "--stack", "iracing-sync-dev")[0] == 0
    # When the race guide is reconciled on it from the CLI
    code, lines = run_cli("sync", "race-guide", "--stack", "iracing-sync-dev")
    # Then the last line is the guide's summary
    assert code == 0
    summary = json.loads(lines[-1])
    assert summary["kind"] == "race-guide" and (summary["sessions"], summary["matched"]) == (133, 133)
    assert (summary["unexpected"], summary["missing"], summary["drifting"]) == (0, 0, [])
    # And the stack's recorded runs show it, its findings with it
    code, lines = run_cli("runs", "--stack", "iracing-sync-dev")
    assert code == 0
    newest = json.loads(lines[0])  # one JSON line per run, newest first
    assert newest["kind"] == "race-guide" and newest["matched"] == 133


def test_sync_on_an_unknown_stack_is_one_clear_error(
    step_functions: LocalStepFunctions, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sync", "current", "--stack", "no-such-stack"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no-such-stack" in err


def test_a_failed_run_on_a_stack_exits_1_with_the_reason_and_its_recorded_run(
    step_functions: LocalStepFunctions,
    stack_table: None,
    fake_iracing: FakeIracing,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from iracing_sync.store import runs

    # Given a stack and an iRacing that refuses the only season asked for
    deploy_outputs(step_functions, "iracing-sync-dev")
    fake_iracing.fail_season(5935, 404)
    # When it is synced
    code = main(["sync", "season", "5935", "--stack", "iracing-sync-dev"])
    # Then the command fails with one error line (after the progress lines) naming the failure
    out, err = capsys.readouterr()
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("iracing-sync: error:")]
    assert len(errors) == 1 and "SyncFailed" in errors[0]
    # And the last stdout line is the run the execution recorded in the stack's table
    (run,) = (r.model_dump(mode="json") for r in runs.list_sync_runs(limit=1))
    assert run["status"] == "FAILED" and run["failed"][0]["season_id"] == 5935
    assert out.splitlines() and json.loads(out.splitlines()[-1]) == run, err


def test_runs_on_a_stack_lists_the_stacks_recorded_runs_newest_first(
    step_functions: LocalStepFunctions, stack_table: None, capsys: pytest.CaptureFixture[str]
) -> None:
    from iracing_sync.models.tasks import RunSummary
    from iracing_sync.store import runs

    # Given runs recorded in the stack's table (one failed with its reasons), and a stack naming that table
    start = datetime(2025, 9, 9, 12, tzinfo=UTC)
    for n, status in enumerate(["SUCCEEDED", "FAILED", "PARTIAL"]):
        failed = [{"season_id": 5935, "error": "PermanentError", "reason": "404"}] if status != "SUCCEEDED" else []
        summary = RunSummary(run_id=f"cli-{n}", kind="season", status=status, api_requests=n + 1, failed=failed)
        runs.put_sync_run(summary, start + timedelta(hours=n), start + timedelta(hours=n, minutes=1))
    deploy_outputs(step_functions, "iracing-sync-dev")
    # When the CLI lists the stack's runs
    code = main(["runs", "--stack", "iracing-sync-dev"])
    # Then it prints exactly what the store lists for that table, one JSON line per run, newest first
    out, err = capsys.readouterr()
    assert code == 0, err
    printed = [json.loads(line) for line in out.splitlines()]
    assert printed == [r.model_dump(mode="json") for r in runs.list_sync_runs(limit=20)]
    assert [r["run_id"] for r in printed] == ["cli-2", "cli-1", "cli-0"]


def test_sync_on_a_stack_follows_the_execution_past_any_local_deadline(
    step_functions: LocalStepFunctions,
    fake_iracing: FakeIracing,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a long execution (a backfill): every look at the clock while following it finds an hour gone by
    class HourPerLook:
        now = 0.0

        def __call__(self) -> float:
            self.now += 3601
            return self.now

    monkeypatch.setattr(stepfunctions, "time", SimpleNamespace(monotonic=HourPerLook(), sleep=time.sleep))
    fake_iracing.slow("/data/series/season_schedule", 1.0)  # still running at the first look
    deploy_outputs(step_functions, "iracing-sync-dev")
    # When it is started on the stack
    code = main(["sync", "season", "5935", "--stack", "iracing-sync-dev"])
    # Then the CLI followed it to its real end (no local TIMED_OUT) and printed its summary
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out.splitlines()[-1])["status"] == "SUCCEEDED"
