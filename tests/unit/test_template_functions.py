"""Functions in template.yaml against their folders, handlers, logs and layer; their environment against settings."""

from __future__ import annotations

import ast
import json
import re

from iracing_sync.settings import environment_names, settings_from_env
from tests.support.template import (
    REPO_ROOT,
    as_list,
    function_env,
    functions,
    iam_statements,
    props,
    ref_target,
    resources,
    state_machines,
    sub_string,
    template,
)


def test_functions_code_uri_is_a_folder_with_lambda_handler() -> None:
    handler_default = template()["Globals"]["Function"].get("Handler")
    for name in functions():
        p = props(name)
        assert re.fullmatch(r"functions/[a-z_]+/", p["CodeUri"]), f"{name}: {p['CodeUri']}"
        assert p.get("Handler", handler_default) == "app.lambda_handler", name
        app = REPO_ROOT / p["CodeUri"] / "app.py"
        assert app.is_file(), f"{name}: {app} is missing"
        defined = {n.name for n in ast.parse(app.read_text()).body if isinstance(n, ast.FunctionDef)}
        assert "lambda_handler" in defined, f"{name}: {app} defines no lambda_handler"
        assert "FunctionName" not in p, f"{name}: hard-coded FunctionName"


def test_functions_every_function_folder_is_declared() -> None:
    folders = {f"functions/{p.parent.name}/" for p in (REPO_ROOT / "functions").glob("*/app.py")}
    assert folders == {props(name)["CodeUri"] for name in functions()}
    assert {
        "SeriesFunction",
        "SeasonFunction",
        "PastSeasonsFunction",
        "SlotsApiFunction",
        "ChangesRelayFunction",
    } == set(functions())


def test_functions_log_json_to_own_group_with_retention() -> None:
    assert template()["Globals"]["Function"]["LoggingConfig"] == {"LogFormat": "JSON"}
    for name in functions():
        group = ref_target(props(name)["LoggingConfig"]["LogGroup"])
        assert group == f"{name}LogGroup", name


def test_log_groups_keep_logs_for_log_retention_days() -> None:
    groups = resources("AWS::Logs::LogGroup")

    assert len(groups) == len(functions()) + len(state_machines()) + 1  # + the API access log
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_globals_runtime_architecture_tracing_and_layer() -> None:
    g = template()["Globals"]["Function"]

    assert g["Runtime"] == "python3.13"
    # One parameter for the functions and the layer's wheels; AWS gets its default, arm64.
    assert g["Architectures"] == [{"Ref": "Architecture"}]
    assert template()["Parameters"]["Architecture"]["Default"] == "arm64"
    assert template()["Parameters"]["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]
    assert g["Tracing"] == "Active"
    assert g["Layers"] == [{"Ref": "CommonLayer"}]
    assert {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL", "TABLE_NAME"} <= set(
        g["Environment"]["Variables"]
    )
    assert g["Environment"]["Variables"]["TABLE_NAME"] == {"Ref": "IracingSyncTable"}


def test_common_layer_builds_the_service_package_for_the_functions_architecture() -> None:
    layer = template()["Resources"]["CommonLayer"]

    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "layers/common/"
    assert (REPO_ROOT / "layers/common/iracing_sync/__init__.py").is_file()
    assert (REPO_ROOT / "layers/common/requirements.txt").is_file()
    # SAM CLI resolves the parameter in Metadata as well (tests/build checks the wheels it fetched).
    assert layer["Metadata"] == {"BuildMethod": "python3.13", "BuildArchitecture": {"Ref": "Architecture"}}
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    assert layer["Properties"]["CompatibleArchitectures"] == [{"Ref": "Architecture"}]


def test_function_env_vars_are_known_to_settings() -> None:
    known = environment_names()
    blocks = {"Globals": template()["Globals"]["Function"]["Environment"]["Variables"]}
    blocks |= {name: function_env(name) for name in functions()}
    for where, variables in blocks.items():
        for var in variables:
            # (POWERTOOLS_, AWS_ and PYDANTIC_ variables are read by those libraries themselves)
            libraries = ("POWERTOOLS_", "AWS_", "PYDANTIC_")
            assert var in known or var.startswith(libraries), f"{where}: {var} is read by nothing"


def test_functions_that_call_iracing_outlive_one_request_of_their_own() -> None:
    # A request's connect and read timeouts, as the function's environment sets them, end before Lambda would kill
    # the function: a slow answer is then a RetryableError its machine retries, not a task killed mid-write.
    default_timeout = template()["Globals"]["Function"]["Timeout"]
    callers = [name for name in functions() if "IRACING_PARAMETER_NAME" in function_env(name)]
    assert callers
    for name in callers:
        env = {k: str(v) for k, v in function_env(name).items() if isinstance(v, (str, int, float))}
        settings = settings_from_env(env)
        timeout = props(name).get("Timeout", default_timeout)
        assert settings.connect_timeout + settings.read_timeout < timeout, name


def test_functions_with_the_credentials_env_may_read_that_parameter_and_only_they() -> None:
    parameter = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${IracingCredentialsParameter}"
    for name in functions():
        reads = [
            sub_string(s["Resource"])
            for n, s in iam_statements()
            if n == name and any(str(a).startswith("ssm:") for a in as_list(s["Action"]))
        ]
        has_env = function_env(name).get("IRACING_PARAMETER_NAME") == {"Ref": "IracingCredentialsParameter"}
        assert reads == ([parameter] if has_env else []), name


def test_functions_with_archive_env_have_archive_access_and_only_they() -> None:
    for name in functions():
        archive_resources = [
            sub_string(r)
            for n, s in iam_statements()
            if n == name
            for r in as_list(s["Resource"])
            if "RawArchiveBucket" in json.dumps(r)
        ]
        has_env = function_env(name).get("ARCHIVE_BUCKET") == {"Ref": "RawArchiveBucket"}
        assert has_env == bool(archive_resources), name
