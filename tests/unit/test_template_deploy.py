"""Parameters, outputs and deploy configuration; operations and security (alarms, logs, throttling, secrets)."""

from __future__ import annotations

import tomllib

from tests.support.template import (
    REPO_ROOT,
    function_env,
    functions,
    props,
    ref_target,
    resources,
    state_machines,
    template,
)


def test_parameters_stage_and_credentials_parameter() -> None:
    parameters = template()["Parameters"]

    assert parameters["Stage"]["AllowedValues"] == ["dev", "prod"]
    assert parameters["IracingCredentialsParameter"]["Default"] == "/iracing-sync/credentials"
    assert "LogRetentionDays" in parameters


def test_outputs_name_what_clients_and_e2e_tests_need() -> None:
    outputs = template()["Outputs"]
    expected = {"ApiUrl", "TableName", "RawArchiveBucketName", "CommonLayerArn"}
    expected |= {f"{name}Arn" for name in state_machines()}

    assert expected <= set(outputs)
    for name in state_machines():
        assert outputs[f"{name}Arn"]["Value"] == {"Ref": name}


def test_samconfig_dev_and_prod_deploy_their_own_stage() -> None:
    config = tomllib.loads((REPO_ROOT / "samconfig.toml").read_text())

    assert config["version"] == 0.1
    for env in ("default", "dev", "prod"):
        deploy = config[env]["deploy"]["parameters"]
        stage = "prod" if env == "prod" else "dev"
        assert deploy["stack_name"] == f"iracing-sync-{stage}"
        assert f"Stage={stage}" in deploy["parameter_overrides"].split()
        assert deploy["resolve_s3"] is True and deploy["capabilities"] == "CAPABILITY_IAM"
        assert config[env]["build"]["parameters"] == {"cached": True, "parallel": True}
    assert config["prod"]["deploy"]["parameters"]["confirm_changeset"] is True


# --- operations and security (issue: deploy readiness) ------------------------------------------------


def test_the_api_has_an_alarm_to_the_alarm_topic() -> None:
    # (every machine's failure routes: tests/unit/test_notices.py)
    alarms = resources("AWS::CloudWatch::Alarm").values()
    api_alarms = [a for a in alarms if a["Properties"].get("Namespace") == "AWS/ApiGateway"]
    assert [a["Properties"]["MetricName"] for a in api_alarms] == ["5xx"]
    assert all(ref_target(a["Properties"]["AlarmActions"][0]) == "AlarmTopic" for a in alarms)


def test_every_log_group_has_retention_and_every_function_and_machine_logs_to_its_own() -> None:
    groups = resources("AWS::Logs::LogGroup")
    assert all(g["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"} for g in groups.values())
    for name in [*functions(), *state_machines()]:
        assert f"{name}LogGroup" in groups, name


def test_api_is_throttled() -> None:
    settings = props("SlotsHttpApi")["DefaultRouteSettings"]
    assert settings["ThrottlingBurstLimit"] > 0 and settings["ThrottlingRateLimit"] > 0


def test_api_function_concurrency_is_capped_only_when_a_parameter_asks() -> None:
    parameter = template()["Parameters"]["ApiReservedConcurrency"]

    # A new account's quota (about 10) can reserve none (Lambda keeps 100 unreserved): no reservation by default.
    assert parameter["Default"] == 0 and parameter["MinValue"] == 0
    assert props("SlotsApiFunction")["ReservedConcurrentExecutions"] == {
        "Fn::If": ["CapApiConcurrency", {"Ref": "ApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert template()["Conditions"]["CapApiConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ApiReservedConcurrency"}, 0]}]
    }


def test_credentials_reach_functions_only_as_a_parameter_name() -> None:
    # No function is handed a credential value; only the Parameter Store name, read at run time.
    for name in functions():
        env = function_env(name)
        assert not {"IRACING_PASSWORD", "IRACING_CLIENT_SECRET", "IRACING_USERNAME", "IRACING_CREDENTIALS_FILE"} & set(
            env
        ), name
    secret_users = [name for name in functions() if "IRACING_PARAMETER_NAME" in function_env(name)]
    assert set(secret_users) == {"SeriesFunction", "SeasonFunction", "PastSeasonsFunction"}
