"""`iracing-sync sync ... --stack NAME`: the state machine is found from the stack's outputs, started and
followed to the end; the summary is the last stdout line (moto plays the deployed stack)."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import boto3
import pytest

from iracing_sync_local.cli import main
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import STATE_MACHINES, LocalStepFunctions

pytestmark = pytest.mark.integration


def deploy_outputs(sfn: LocalStepFunctions, stack_name: str) -> None:
    """A stack whose outputs name the state machines, as template.yaml's Outputs do."""
    outputs = {f"{logical}Arn": {"Value": sfn.arn(name)} for name, logical in STATE_MACHINES.items()}
    template = {"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}, "Outputs": outputs}
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName=stack_name, TemplateBody=json.dumps(template)
    )


def run_cli(*argv: str) -> tuple[int, list[str]]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(list(argv))
    return code, out.getvalue().splitlines()


def test_sync_on_a_stack_runs_its_state_machine_and_prints_the_summary(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing
) -> None:
    from iracing_sync import store

    # Given a deployed stack
    deploy_outputs(step_functions, "iracing-sync-dev")
    # When a season is synced on it from the CLI
    code, lines = run_cli("sync", "season", "5935", "--stack", "iracing-sync-dev")
    # Then its execution ran to the end and the last stdout line is the JSON summary
    assert code == 0
    summary = json.loads(lines[-1])
    assert summary["kind"] == "season" and summary["seasons_synced"] == 1 and summary["run_id"].startswith("cli-")
    assert store.get_season(5935) is not None


def test_sync_on_an_unknown_stack_is_one_clear_error(
    step_functions: LocalStepFunctions, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["sync", "current", "--stack", "no-such-stack"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no-such-stack" in err


def test_a_failed_run_on_a_stack_exits_1_with_the_reason(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, capsys: pytest.CaptureFixture[str]
) -> None:
    from iracing_sync import store

    # Given a stack and an iRacing that refuses the only season asked for
    deploy_outputs(step_functions, "iracing-sync-dev")
    fake_iracing.fail_season(5935, 404)
    # When it is synced
    code = main(["sync", "season", "5935", "--stack", "iracing-sync-dev"])
    # Then the command fails with one error line (after the progress lines) naming the failure
    out, err = capsys.readouterr()
    assert code == 1 and out == ""
    errors = [line for line in err.splitlines() if line.startswith("iracing-sync: error:")]
    assert len(errors) == 1 and "SyncFailed" in errors[0]
    (run,) = (r.model_dump() for r in store.list_sync_runs(limit=1))
    assert run["status"] == "FAILED" and run["failed"][0]["season_id"] == 5935
