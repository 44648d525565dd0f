"""State machines in template.yaml: their ASL files, placeholders and substitutions, logs, types and schedules."""

from __future__ import annotations

from pathlib import Path

from tests.support.template import (
    PLACEHOLDER,
    REPO_ROOT,
    as_list,
    asl_files,
    functions,
    iam_statements,
    load_asl,
    policy_template,
    props,
    ref_target,
    state_machines,
    sub_string,
    template,
    walk_states,
)


def test_state_machines_definition_files_exist() -> None:
    for name, machine in state_machines().items():
        assert (REPO_ROOT / machine["Properties"]["DefinitionUri"]).is_file(), name


def test_state_machines_every_asl_file_is_declared_once() -> None:
    declared = [machine["Properties"]["DefinitionUri"] for machine in state_machines().values()]

    assert len(declared) == len(set(declared))
    assert sorted(declared) == [str(p.relative_to(REPO_ROOT)) for p in asl_files()]


def test_state_machines_placeholders_equal_definition_substitutions() -> None:
    for name, machine in state_machines().items():
        text = (REPO_ROOT / machine["Properties"]["DefinitionUri"]).read_text()
        placeholders = set(PLACEHOLDER.findall(text))
        substitutions = set(machine["Properties"].get("DefinitionSubstitutions", {}))
        assert placeholders - substitutions == set(), f"{name}: placeholders without a substitution"
        assert substitutions - placeholders == set(), f"{name}: substitutions its ASL never uses"


def test_state_machines_substitutions_are_function_arns_with_invoke_policy() -> None:
    for name, machine in state_machines().items():
        invoked = set()
        for key, value in machine["Properties"]["DefinitionSubstitutions"].items():
            # Given a `<Name>FunctionArn` key, its value is that function's ARN
            assert value == {"Fn::GetAtt": [key.removesuffix("Arn"), "Arn"]}, f"{name}: {key}"
            assert key.removesuffix("Arn") in functions(), f"{name}: {key}"
            invoked.add(key.removesuffix("Arn"))
        # Then the machine may invoke exactly the functions its ASL names
        allowed = {ref_target(p["FunctionName"]) for p in policy_template(name, "LambdaInvokePolicy")}
        assert allowed == invoked, name


def test_state_machines_match_local_runner_names() -> None:
    from iracing_sync_local import asl

    # The local runner (moto + in-process handlers) must run the same files under the same names as AWS.
    by_file = {Path(props(n)["DefinitionUri"]).name.removesuffix(".asl.json"): n for n in state_machines()}
    folders = {n: Path(props(n)["CodeUri"]).name for n in functions()}

    assert by_file == asl.STATE_MACHINES
    assert folders == asl.FUNCTIONS


def test_state_machines_log_to_own_group_and_trace() -> None:
    for name, machine in state_machines().items():
        p = machine["Properties"]
        destinations = p["Logging"]["Destinations"]
        group = ref_target(destinations[0]["CloudWatchLogsLogGroup"]["LogGroupArn"])
        assert len(destinations) == 1 and group == f"{name}LogGroup", name
        assert template()["Resources"][group]["Type"] == "AWS::Logs::LogGroup"
        assert {"Ref": "StateMachineLogDeliveryPolicy"} in p["Policies"], name
        assert p["Tracing"] == {"Enabled": True}, name


# An EXPRESS execution (or a Distributed Map's express child) ends at 5 minutes whatever its definition says.
EXPRESS_LIMIT_SECONDS = 300


def test_state_machines_express_ones_time_out_inside_express_limit() -> None:
    express = {n: m for n, m in state_machines().items() if m["Properties"].get("Type") == "EXPRESS"}
    assert "SyncRaceGuideStateMachine" in express
    for name, machine in express.items():
        definition = load_asl(REPO_ROOT / machine["Properties"]["DefinitionUri"])
        # (a longer timeout would promise what AWS cuts off; a Wait longer than the run could never end)
        assert 0 < definition["TimeoutSeconds"] < EXPRESS_LIMIT_SECONDS, name
        waits = [s for _, s in walk_states(definition) if s["Type"] == "Wait" and "Seconds" in s]
        assert all(w["Seconds"] < definition["TimeoutSeconds"] for w in waits), name


def test_state_machines_with_distributed_map_may_run_their_own_children() -> None:
    for name, machine in state_machines().items():
        definition = load_asl(REPO_ROOT / machine["Properties"]["DefinitionUri"])
        distributed = any(
            s.get("ItemProcessor", {}).get("ProcessorConfig", {}).get("Mode") == "DISTRIBUTED"
            for _, s in walk_states(definition)
        )
        if not distributed:
            continue
        # Given a Distributed Map (child executions of this machine), the machine is named from the stack
        machine_name = sub_string(machine["Properties"]["Name"])
        assert machine_name.startswith("${AWS::StackName}-"), name
        statements = [s for n, s in iam_statements() if n == name]
        grants = {(a, sub_string(r)) for s in statements for a in as_list(s["Action"]) for r in as_list(s["Resource"])}
        # Then it may start, describe and stop its own executions, and nothing else's
        assert ("states:StartExecution", f"{_states_arn('stateMachine')}:{machine_name}") in grants, name
        for action in ("states:DescribeExecution", "states:StopExecution"):
            assert (action, f"{_states_arn('execution')}:{machine_name}/*") in grants, name


def _states_arn(kind: str) -> str:
    return f"arn:${{AWS::Partition}}:states:${{AWS::Region}}:${{AWS::AccountId}}:{kind}"


def test_schedules_current_hourly_reference_daily_guide_by_parameter_backfill_manual_enabled_only_in_prod() -> None:
    schedules = {
        (name, event_name): event["Properties"]
        for name, machine in state_machines().items()
        for event_name, event in machine["Properties"].get("Events", {}).items()
        if event["Type"] == "ScheduleV2"
    }

    # The backfill has no schedule: it is started by hand.
    assert sorted(schedules) == [
        ("SyncCurrentSeasonsStateMachine", "Hourly"),
        ("SyncRaceGuideStateMachine", "Poll"),
        ("SyncReferenceDataStateMachine", "Daily"),
    ]
    assert schedules["SyncCurrentSeasonsStateMachine", "Hourly"]["ScheduleExpression"] == "rate(1 hour)"
    assert schedules["SyncReferenceDataStateMachine", "Daily"]["ScheduleExpression"].startswith("cron(")
    # The race guide every 5 minutes by default, a parameter (a run within a minute of the last fetches nothing)
    assert schedules["SyncRaceGuideStateMachine", "Poll"]["ScheduleExpression"] == {"Ref": "RaceGuideSchedule"}
    assert template()["Parameters"]["RaceGuideSchedule"]["Default"] == "rate(5 minutes)"
    for schedule in schedules.values():
        assert schedule["State"] == {"Fn::If": ["IsProd", "ENABLED", "DISABLED"]}
        assert sub_string(schedule["Name"]).startswith("${AWS::StackName}-")
    assert template()["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}
