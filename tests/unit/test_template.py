"""Infrastructure and code can't drift: template.yaml and statemachine/*.asl.json against the code.

Static checks only (no sockets, no AWS): the table against the PynamoDB model, the ASL error names
against iracing_sync.errors, placeholders against DefinitionSubstitutions, functions against their
folders, env vars against settings, IAM against least privilege, routes against the API contract.
"""

from __future__ import annotations

import ast
import fnmatch
import json
import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

# PynamoDB reads the table name and region when iracing_sync.store is imported (tests/conftest.py
# normally sets these first; setdefault keeps this module runnable on its own).
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")

import pytest  # noqa: E402

from iracing_sync import errors  # noqa: E402
from iracing_sync.settings import _ENV  # noqa: E402
from iracing_sync.store.schema import Item  # noqa: E402
from iracing_sync_local.template import load_template  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
STATEMACHINE_DIR = REPO_ROOT / "statemachine"

LAMBDA_TRANSIENT_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
]
# Every predefined Step Functions error name; a misspelling (States.TaskFailedId) silently never matches.
STATES_ERRORS = {
    "States.ALL",
    "States.DataLimitExceeded",
    "States.ExceedToleratedFailureThreshold",
    "States.HeartbeatTimeout",
    "States.Http.Socket",
    "States.IntrinsicFailure",
    "States.ItemReaderFailed",
    "States.NoChoiceMatched",
    "States.ParameterPathFailure",
    "States.Permissions",
    "States.QueryEvaluationError",
    "States.ResultPathMatchFailure",
    "States.ResultWriterFailed",
    "States.Runtime",
    "States.TaskFailed",
    "States.Timeout",
}
API_ROUTES = {
    ("GET", "/slots"),
    ("GET", "/series"),
    ("GET", "/series/{id}"),
    ("GET", "/series/{id}/seasons"),
    ("GET", "/seasons/{id}"),
    ("GET", "/seasons/{id}/slots"),
    ("GET", "/series/{id}/next"),
    ("GET", "/series/{id}/calendar.ics"),
    ("GET", "/seasons/{id}/next"),
    ("GET", "/seasons/{id}/calendar.ics"),
    ("GET", "/openapi.json"),
    ("GET", "/docs"),
    ("GET", "/"),
    ("GET", "/cars"),
    ("GET", "/cars/{id}"),
    ("GET", "/tracks"),
    ("GET", "/tracks/{id}"),
    ("GET", "/car-classes"),
    ("GET", "/car-classes/{id}"),
    ("GET", "/calendar.ics"),
    ("GET", "/changes"),
    ("GET", "/changes.atom"),
    ("GET", "/seasons"),
    ("GET", "/purchase-guide"),
    ("GET", "/seasons/{id}/weeks/{week}/forecast"),
}
# CloudWatch Logs' vended-log delivery API (Step Functions logging) takes no resource-level permissions.
RESOURCE_STAR_ACTIONS = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
}
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


# --- loading ---------------------------------------------------------------------------------------


@cache
def template() -> dict[str, Any]:
    return load_template(TEMPLATE)


def resources(kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template()["Resources"].items() if r["Type"] == kind}


def props(logical_id: str) -> dict[str, Any]:
    return template()["Resources"][logical_id].get("Properties", {})


def functions() -> dict[str, dict[str, Any]]:
    return resources("AWS::Serverless::Function")


def state_machines() -> dict[str, dict[str, Any]]:
    return resources("AWS::Serverless::StateMachine")


def asl_files() -> list[Path]:
    return sorted(STATEMACHINE_DIR.glob("*.asl.json"))


def load_asl(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def walk_states(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, including those inside Map processors and Parallel branches."""
    for name, state in definition.get("States", {}).items():
        yield name, state
        for branch in state.get("Branches", []):
            yield from walk_states(branch)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield from walk_states(state[key])


def is_lambda_task(state: dict[str, Any]) -> bool:
    resource = str(state.get("Resource", ""))
    return state.get("Type") == "Task" and (":lambda:invoke" in resource or "FunctionArn}" in resource)


def function_env(logical_id: str) -> dict[str, Any]:
    return props(logical_id).get("Environment", {}).get("Variables", {})


def policy_template(logical_id: str, name: str) -> list[dict[str, Any]]:
    """The arguments of every use of one SAM policy template in a resource's Policies."""
    return [p[name] for p in props(logical_id).get("Policies", []) if isinstance(p, dict) and name in p]


def iam_statements() -> Iterator[tuple[str, dict[str, Any]]]:
    """Every IAM statement in the template: inline SAM Policies and IAM resources' documents."""
    for name, resource in template()["Resources"].items():
        p = resource.get("Properties", {})
        for policy in p.get("Policies", []) if resource["Type"].startswith("AWS::Serverless::") else []:
            if isinstance(policy, dict) and "Statement" in policy:
                for statement in policy["Statement"]:
                    yield name, statement
        documents = [p.get("PolicyDocument")] + [x.get("PolicyDocument") for x in p.get("Policies", [])]
        if resource["Type"].startswith("AWS::IAM::"):
            for document in filter(None, documents):
                for statement in document.get("Statement", []):
                    yield name, statement


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def sub_string(value: Any) -> str:
    """The format string of a !Sub (short or long form), or a plain string."""
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return str(sub[0] if isinstance(sub, list) else sub)
    return str(value)


def ref_target(value: Any) -> str | None:
    if isinstance(value, dict):
        if "Ref" in value:
            return str(value["Ref"])
        if "Fn::GetAtt" in value:
            return str(value["Fn::GetAtt"][0])
    return None


# --- (a) the table is the PynamoDB model ------------------------------------------------------------


def _keys(key_schema: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    return {k["KeyType"]: k["AttributeName"] for k in key_schema}


def _table() -> dict[str, Any]:
    tables = resources("AWS::DynamoDB::Table")
    assert list(tables) == ["IracingSyncTable"]
    return tables["IracingSyncTable"]["Properties"]


def test_table_key_schema_equals_item_model_keys() -> None:
    schema = Item._get_schema()

    assert _keys(_table()["KeySchema"]) == _keys(schema["key_schema"])
    assert _keys(_table()["KeySchema"]) == {"HASH": Item._hash_keyname, "RANGE": Item._range_keyname}
    assert _table()["KeySchema"][0]["KeyType"] == "HASH"


def test_table_attribute_definitions_equal_item_model_key_attributes() -> None:
    schema = Item._get_schema()
    declared = [d["AttributeName"] for d in _table()["AttributeDefinitions"]]

    assert len(declared) == len(set(declared)), "an attribute is defined twice"
    assert {d["AttributeName"]: d["AttributeType"] for d in _table()["AttributeDefinitions"]} == {
        d["AttributeName"]: d["AttributeType"] for d in schema["attribute_definitions"]
    }


def _index_shape(index: Mapping[str, Any], name_key: str, key_schema_key: str, projection_key: str) -> dict[str, Any]:
    projection = index[projection_key]
    return {
        "name": index[name_key],
        "keys": _keys(index[key_schema_key]),
        "projection": projection["ProjectionType"],
        "non_key_attributes": set(projection.get("NonKeyAttributes", [])),
    }


def test_table_global_secondary_indexes_equal_item_model_indexes() -> None:
    schema = Item._get_schema()
    declared = [
        _index_shape(i, "IndexName", "KeySchema", "Projection") for i in _table().get("GlobalSecondaryIndexes", [])
    ]
    modelled = [_index_shape(i, "index_name", "key_schema", "projection") for i in schema["global_secondary_indexes"]]

    assert sorted(declared, key=lambda i: i["name"]) == sorted(modelled, key=lambda i: i["name"])
    assert {i["name"] for i in modelled} == set(Item._indexes)
    assert not _table().get("LocalSecondaryIndexes") and not schema["local_secondary_indexes"]


def test_table_billing_mode_equals_item_model() -> None:
    assert _table()["BillingMode"] == Item.Meta.billing_mode == "PAY_PER_REQUEST"
    assert all("ProvisionedThroughput" not in i for i in _table()["GlobalSecondaryIndexes"])


def test_table_time_to_live_attribute_is_the_item_model_ttl_attribute() -> None:
    from pynamodb.attributes import TTLAttribute

    (ttl,) = (name for name, attribute in Item.get_attributes().items() if isinstance(attribute, TTLAttribute))
    assert _table()["TimeToLiveSpecification"] == {"AttributeName": ttl, "Enabled": True}


def test_table_has_point_in_time_recovery_and_encryption() -> None:
    assert _table()["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert _table()["SSESpecification"]["SSEEnabled"] is True
    assert "TableName" not in _table()


# --- (b) state machines: files, placeholders and substitutions ----------------------------------------


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
    from iracing_sync_local import stepfunctions

    # The local runner (moto + in-process handlers) must run the same files under the same names as AWS.
    by_file = {Path(props(n)["DefinitionUri"]).name.removesuffix(".asl.json"): n for n in state_machines()}
    folders = {n: Path(props(n)["CodeUri"]).name for n in functions()}

    assert by_file == stepfunctions.STATE_MACHINES
    assert folders == stepfunctions.FUNCTIONS


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


# --- (c) ASL: error names and Lambda task resilience --------------------------------------------------


def _error_classes() -> set[str]:
    return {
        name
        for name, obj in vars(errors).items()
        if isinstance(obj, type) and issubclass(obj, BaseException) and obj.__module__ == errors.__name__
    }


@pytest.mark.parametrize("path", asl_files(), ids=lambda p: p.name)
def test_asl_error_equals_names_are_known(path: Path) -> None:
    known = STATES_ERRORS | set(LAMBDA_TRANSIENT_ERRORS) | _error_classes()
    for state_name, state in walk_states(load_asl(path)):
        for handler in state.get("Retry", []) + state.get("Catch", []):
            unknown = set(handler["ErrorEquals"]) - known
            assert not unknown, f"{path.name} {state_name}: unknown error names {sorted(unknown)}"


@pytest.mark.parametrize("path", asl_files(), ids=lambda p: p.name)
def test_asl_lambda_tasks_retry_catch_and_time_out(path: Path) -> None:
    tasks = [(n, s) for n, s in walk_states(load_asl(path)) if is_lambda_task(s)]

    assert tasks, f"{path.name} has no Lambda task"
    for name, task in tasks:
        where = f"{path.name} {name}"
        assert PLACEHOLDER.fullmatch(task["Parameters"]["FunctionName"]), f"{where}: FunctionName is not a placeholder"
        assert isinstance(task.get("TimeoutSeconds"), int) and task["TimeoutSeconds"] > 0, f"{where}: no TimeoutSeconds"
        retries = task.get("Retry", [])
        assert retries and retries[0]["ErrorEquals"] == LAMBDA_TRANSIENT_ERRORS, f"{where}: transient Retry not first"
        assert any("RetryableError" in r["ErrorEquals"] for r in retries), f"{where}: no Retry on RetryableError"
        catch_all = [c for c in task.get("Catch", []) if c["ErrorEquals"] == ["States.ALL"]]
        assert catch_all and catch_all[0]["ResultPath"] == "$.error", f"{where}: no Catch States.ALL to $.error"


def test_asl_error_classes_exist_for_retry_contract() -> None:
    assert {"RetryableError", "RateLimited", "PermanentError"} <= _error_classes()


# --- (d) functions: folders, handlers, logs -------------------------------------------------------------


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


# --- (e) environment variables are the ones settings reads ---------------------------------------------


def test_function_env_vars_are_known_to_settings() -> None:
    known = set(_ENV.values())
    blocks = {"Globals": template()["Globals"]["Function"]["Environment"]["Variables"]}
    blocks |= {name: function_env(name) for name in functions()}
    for where, variables in blocks.items():
        for var in variables:
            # (POWERTOOLS_, AWS_ and PYDANTIC_ variables are read by those libraries themselves)
            libraries = ("POWERTOOLS_", "AWS_", "PYDANTIC_")
            assert var in known or var.startswith(libraries), f"{where}: {var} is read by nothing"


def test_functions_with_secret_env_have_secret_policy_and_only_they() -> None:
    # Secrets Manager appends "-" and 6 random characters to a secret's name in its ARN.
    secret_arn = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${IracingSecretName}"
    secret_arn += "-??????"
    for name in functions():
        policies = policy_template(name, "AWSSecretsManagerGetSecretValuePolicy")
        has_env = function_env(name).get("IRACING_SECRET_NAME") == {"Ref": "IracingSecretName"}
        assert has_env == bool(policies), name
        assert [sub_string(p["SecretArn"]) for p in policies] in ([], [secret_arn]), name


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


# --- (f) least privilege ----------------------------------------------------------------------------------


def test_iam_statements_name_explicit_actions() -> None:
    statements = list(iam_statements())

    assert statements
    for name, statement in statements:
        for action in as_list(statement["Action"]):
            assert action != "*" and not action.endswith(":*"), f"{name}: wildcard action {action}"


def test_iam_resource_star_only_for_actions_without_resource_permissions() -> None:
    for name, statement in iam_statements():
        if statement.get("Effect") == "Allow" and "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= RESOURCE_STAR_ACTIONS, name


def test_iam_uses_no_full_access_managed_policy() -> None:
    for name, resource in template()["Resources"].items():
        policies = resource.get("Properties", {}).get("Policies", [])
        for policy in policies if isinstance(policies, list) else [policies]:
            text = json.dumps(policy)
            assert "FullAccess" not in text, f"{name}: {text}"


def test_only_writers_get_table_write_access() -> None:
    assert policy_template("SlotsApiFunction", "DynamoDBReadPolicy") == [{"TableName": {"Ref": "IracingSyncTable"}}]
    assert not policy_template("SlotsApiFunction", "DynamoDBCrudPolicy")
    for name in ("SeriesFunction", "SeasonFunction"):
        assert policy_template(name, "DynamoDBCrudPolicy") == [{"TableName": {"Ref": "IracingSyncTable"}}], name
    # Lists iRacing's seasons and archives the body; it stores nothing in the table.
    assert not policy_template("PastSeasonsFunction", "DynamoDBCrudPolicy")
    # It only shares the iRacing token and rate budget: item-level access to IRACING# keys.
    (shared,) = [
        st
        for name, st in iam_statements()
        if name == "PastSeasonsFunction" and any(str(a).startswith("dynamodb:") for a in as_list(st["Action"]))
    ]
    assert shared["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["IRACING#*"]


def test_archive_bucket_is_private_encrypted_and_expires_raw_payloads() -> None:
    bucket = props("RawArchiveBucket")

    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireRawPayloads"]["Prefix"] == "raw/"
    assert rules["ExpireRawPayloads"]["ExpirationInDays"] == {"Ref": "RawArchiveRetentionDays"}


# --- (g) HTTP API: explicit routes --------------------------------------------------------------------------


def test_http_api_routes_are_explicit_and_cover_the_contract() -> None:
    routes = set()
    for name in functions():
        for event in props(name).get("Events", {}).values():
            if event["Type"] == "HttpApi":
                assert name == "SlotsApiFunction"
                assert event["Properties"]["ApiId"] == {"Ref": "SlotsHttpApi"}
                routes.add((event["Properties"]["Method"], event["Properties"]["Path"]))

    assert routes == API_ROUTES
    assert not any("proxy+" in path or method.upper() == "ANY" for method, path in routes)


def test_http_api_cors_lets_any_listed_origin_read_and_revalidate() -> None:
    parameter = template()["Parameters"]["CorsAllowedOrigins"]
    assert parameter["Type"] == "CommaDelimitedList" and parameter["Default"] == "*"
    assert props("SlotsHttpApi")["CorsConfiguration"] == {
        "AllowOrigins": {"Ref": "CorsAllowedOrigins"},
        "AllowMethods": ["GET", "HEAD", "OPTIONS"],
        "AllowHeaders": ["if-none-match"],
        "ExposeHeaders": ["etag", "cache-control"],
        "MaxAge": 3600,
    }


def test_http_api_has_default_throttling() -> None:
    api = resources("AWS::Serverless::HttpApi")

    assert list(api) == ["SlotsHttpApi"]
    throttling = api["SlotsHttpApi"]["Properties"]["DefaultRouteSettings"]
    assert throttling["ThrottlingBurstLimit"] > 0 and throttling["ThrottlingRateLimit"] > 0


# --- parameters, outputs and deploy configuration ---------------------------------------------------------


def test_parameters_stage_and_secret_name() -> None:
    parameters = template()["Parameters"]

    assert parameters["Stage"]["AllowedValues"] == ["dev", "prod"]
    assert parameters["IracingSecretName"]["Default"] == "iracing-sync/credentials"
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


def test_every_state_machine_and_the_api_have_an_alarm_to_the_alarm_topic() -> None:
    alarms = resources("AWS::CloudWatch::Alarm").values()
    watched_machines = {
        ref_target(d["Value"])
        for a in alarms
        if a["Properties"].get("MetricName") == "ExecutionsFailed"
        for d in a["Properties"]["Dimensions"]
    }
    assert watched_machines == set(state_machines())
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


def test_api_function_concurrency_is_capped_by_a_parameter_that_zero_turns_off() -> None:
    parameter = template()["Parameters"]["ApiReservedConcurrency"]

    # The cap bounds what a flood of requests can cost; an account whose quota is under 120 can reserve none.
    assert parameter["Default"] > 0 and parameter["MinValue"] == 0
    assert props("SlotsApiFunction")["ReservedConcurrentExecutions"] == {
        "Fn::If": ["CapApiConcurrency", {"Ref": "ApiReservedConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    assert template()["Conditions"]["CapApiConcurrency"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ApiReservedConcurrency"}, 0]}]
    }


def test_credentials_reach_functions_only_as_a_secrets_manager_name() -> None:
    # No function is handed a credential value; only the secret's name, read at run time.
    for name in functions():
        env = function_env(name)
        assert not {"IRACING_PASSWORD", "IRACING_CLIENT_SECRET", "IRACING_USERNAME", "IRACING_CREDENTIALS_FILE"} & set(
            env
        ), name
    secret_users = [name for name in functions() if "IRACING_SECRET_NAME" in function_env(name)]
    assert set(secret_users) == {"SeriesFunction", "SeasonFunction", "PastSeasonsFunction"}


# --- (h) encryption at rest: one customer-managed key the services that write with it may use -------------


def _key_of(value: Any) -> str:
    """The logical ID of the template's AWS::KMS::Key that a KmsKeyId-like property names (else fail)."""
    target = ref_target(value)
    assert target is not None, f"{value!r} is not this stack's key (an AWS-managed key's policy is not ours)"
    assert template()["Resources"][target]["Type"] == "AWS::KMS::Key", target
    return target


def _key_allows(key: str, service: str, actions: set[str]) -> list[dict[str, Any]]:
    """The key policy's Allow statements for a service principal that cover every one of ``actions``."""
    statements = props(key)["KeyPolicy"]["Statement"]
    return [
        s
        for s in statements
        if s["Effect"] == "Allow"
        and service in {sub_string(p) for p in as_list(s.get("Principal", {}).get("Service", []))}
        and all(any(fnmatch.fnmatchcase(a, p) for p in as_list(s["Action"])) for a in actions)
    ]


def test_alarm_topic_key_admits_cloudwatch_to_decrypt_and_generate_data_keys() -> None:
    (topic,) = resources("AWS::SNS::Topic")
    # Given the topic the alarms notify is encrypted with this stack's key (alias/aws/sns admits no service)
    key = _key_of(props(topic)["KmsMasterKeyId"])
    # Then CloudWatch may use that key for what publishing to an encrypted topic takes, from this account only
    allowed = _key_allows(key, "cloudwatch.amazonaws.com", {"kms:Decrypt", "kms:GenerateDataKey*"})
    assert allowed, f"{key}: CloudWatch cannot publish to {topic}"
    assert all(s["Condition"]["StringEquals"]["aws:SourceAccount"] == {"Ref": "AWS::AccountId"} for s in allowed)
    alarms = resources("AWS::CloudWatch::Alarm")
    assert alarms and all(ref_target(a) == topic for x in alarms.values() for a in x["Properties"]["AlarmActions"])


def test_stack_key_rotates_and_outlives_the_retained_table() -> None:
    (key,) = resources("AWS::KMS::Key")
    resource = template()["Resources"][key]

    assert props(key)["EnableKeyRotation"] is True
    # A deleted key would leave the retained table unreadable.
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"
    assert template()["Resources"]["IracingSyncTable"]["DeletionPolicy"] == "Retain"
    (alias,) = resources("AWS::KMS::Alias").values()
    assert alias["Properties"]["TargetKeyId"] == {"Ref": key}


def test_table_is_encrypted_with_the_stack_key() -> None:
    sse = _table()["SSESpecification"]

    assert sse["SSEEnabled"] is True and sse["SSEType"] == "KMS"
    assert _key_of(sse["KMSMasterKeyId"]) == "StackKey"


def test_log_groups_are_encrypted_with_the_stack_key_that_admits_their_names() -> None:
    # CloudWatch Logs' principal is regional (a !Sub in the template).
    (statement,) = _key_allows("StackKey", "logs.${AWS::Region}.amazonaws.com", {"kms:Encrypt", "kms:GenerateDataKey"})
    patterns = [sub_string(p) for p in statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]]
    arn = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
    for name in resources("AWS::Logs::LogGroup"):
        group = props(name)
        assert _key_of(group["KmsKeyId"]) == "StackKey", name
        # Given the key admits CloudWatch Logs only for the stack's log group names, each group's name is one of them
        assert any(fnmatch.fnmatchcase(arn + sub_string(group["LogGroupName"]), p) for p in patterns), name


def test_functions_with_table_access_may_use_the_table_key_only_through_dynamodb() -> None:
    for name in functions():
        kms = [s for n, s in iam_statements() if n == name and any(a.startswith("kms:") for a in as_list(s["Action"]))]
        item_writes = {"dynamodb:PutItem", "dynamodb:UpdateItem"}
        own = [a for n, s in iam_statements() if n == name for a in as_list(s["Action"])]
        writes = bool(policy_template(name, "DynamoDBCrudPolicy")) or bool(item_writes & set(own))
        # A table stream's records are encrypted with the table's key too.
        streams = any(e.get("Type") == "DynamoDB" for e in props(name).get("Events", {}).values())
        reads = writes or streams or bool(policy_template(name, "DynamoDBReadPolicy"))
        assert bool(kms) == reads, name
        for statement in kms:
            assert ref_target(statement["Resource"]) == "StackKey", name
            via = statement["Condition"]["StringEquals"]["kms:ViaService"]
            assert sub_string(via) == "dynamodb.${AWS::Region}.amazonaws.com", name
        actions = {a for s in kms for a in as_list(s["Action"])}
        # Reading decrypts the table key; only writers get more.
        assert actions == ({"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"} if writes else {"kms:Decrypt"}), name


# --- (i) alarms on the run metrics record_run publishes ------------------------------------------------------


def _alarm_metrics(alarm: Mapping[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """(namespace, metric name, dimensions) of every metric an alarm reads, plain or in metric math."""
    p = alarm["Properties"]
    stats = [p] if "MetricName" in p else [m["MetricStat"]["Metric"] for m in p["Metrics"] if "MetricStat" in m]
    return [(s["Namespace"], s["MetricName"], {d["Name"]: d["Value"] for d in s.get("Dimensions", [])}) for s in stats]


def _record_run_emf(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], kind: str) -> dict[str, Any]:
    """The EMF document record_run prints for a PARTIAL run of ``kind``, metrics on as in Lambda (no table)."""
    from iracing_sync import outcomes
    from iracing_sync.models.tasks import RecordRunEvent, RunOutcome
    from iracing_sync.observability import metrics
    from tests.conftest import load_event

    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    recorded = [
        RunOutcome(scope="SEASON#5376", season_id=5376, items_written=39),
        RunOutcome(scope="SEASON#5377", season_id=5377, ok=False, error="MalformedPayload", reason="no schedules"),
    ]
    monkeypatch.setattr(outcomes.store, "list_outcomes", lambda run_id: recorded)
    monkeypatch.setattr(outcomes.store, "put_sync_run", lambda *args, **kwargs: None)
    metrics.clear_metrics()
    event = RecordRunEvent.model_validate({**load_event("season_record_run.json"), "kind": kind})
    assert outcomes.record_run(event)["status"] == "PARTIAL"
    metrics.flush_metrics()
    (line,) = capsys.readouterr().out.splitlines()
    return json.loads(line)  # type: ignore[no-any-return]


def _run_metric_alarms() -> dict[str, list[tuple[str, str, dict[str, str]]]]:
    return {
        name: metrics
        for name, alarm in resources("AWS::CloudWatch::Alarm").items()
        if (metrics := _alarm_metrics(alarm)) and all(m[0] == "IracingSync" for m in metrics)
    }


def test_run_metric_alarms_read_the_metrics_and_dimensions_record_run_emits(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    alarms = _run_metric_alarms()
    assert alarms
    for name, watched in alarms.items():
        for namespace, metric, dimensions in watched:
            # Given the EMF record_run prints for a run of the kind the alarm watches
            emf = _record_run_emf(monkeypatch, capsys, dimensions.get("kind", "?"))
            (directive,) = emf["_aws"]["CloudWatchMetrics"]
            # Then the alarm reads a metric in it, under exactly its one dimension set and values
            assert namespace == directive["Namespace"], name
            assert metric in {m["Name"] for m in directive["Metrics"]}, name
            (dimension_set,) = directive["Dimensions"]
            assert dimensions == {d: emf[d] for d in dimension_set}, name
    # And the service dimension is the one the functions are configured with
    assert emf["service"] == template()["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]


def test_run_metrics_count_each_run_once_by_its_status(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    emf = _record_run_emf(monkeypatch, capsys, "current")

    assert (emf["RunsSucceeded"], emf["RunsPartial"], emf["RunsFailed"], emf["SeasonsFailed"]) == ([0], [1], [0], [1])


def test_race_guide_runs_publish_exactly_the_metrics_its_alarms_read(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # (a run every 5 minutes; each custom metric costs a metric-month whether an alarm reads it or not)
    emf = _record_run_emf(monkeypatch, capsys, "race-guide")
    (directive,) = emf["_aws"]["CloudWatchMetrics"]
    published = {m["Name"] for m in directive["Metrics"]}
    read = {
        metric
        for watched in _run_metric_alarms().values()
        for _, metric, dimensions in watched
        if dimensions.get("kind") == "race-guide"
    }
    assert published == read == {"RunsPartial", "SeasonsStillDrifting"}
    assert emf["RunsPartial"] == [1]


def _scheduled_run_kinds() -> set[str]:
    """The run kind each scheduled machine records (its record_run task's ``kind``)."""
    kinds = set()
    for machine in state_machines().values():
        if any(e["Type"] == "ScheduleV2" for e in machine["Properties"].get("Events", {}).values()):
            definition = load_asl(REPO_ROOT / machine["Properties"]["DefinitionUri"])
            payloads = [s["Parameters"]["Payload"] for _, s in walk_states(definition) if is_lambda_task(s)]
            kinds |= {p["kind"] for p in payloads if p.get("action") == "record_run"}
    return kinds


def test_every_scheduled_run_kind_alarms_on_its_first_partial_run() -> None:
    kinds = _scheduled_run_kinds()
    assert kinds == {"current", "reference", "race-guide"}
    for kind in kinds:
        alarms = [
            template()["Resources"][name]["Properties"]
            for name, watched in _run_metric_alarms().items()
            if watched == [("IracingSync", "RunsPartial", {"service": "iracing-sync", "kind": kind})]
        ]
        assert len(alarms) == 1, kind
        p = alarms[0]
        assert (p["Statistic"], p["Threshold"], p["ComparisonOperator"]) == ("Sum", 1, "GreaterThanOrEqualToThreshold")
        assert p["EvaluationPeriods"] == 1 and p["TreatMissingData"] == "notBreaching"


def test_stale_current_seasons_alarm_breaches_after_two_hours_without_a_run_that_stored_data_in_prod_only() -> None:
    (name,) = [
        n for n, metrics in _run_metric_alarms().items() if {m[1] for m in metrics} == {"RunsSucceeded", "RunsPartial"}
    ]
    alarm = template()["Resources"][name]
    p = alarm["Properties"]

    # The hourly schedule runs only in prod: elsewhere the alarm would breach for good.
    assert alarm["Condition"] == "IsProd"
    assert {m["MetricStat"]["Period"] for m in p["Metrics"] if "MetricStat" in m} == {3600}
    assert {m["MetricStat"]["Stat"] for m in p["Metrics"] if "MetricStat" in m} == {"Sum"}
    (expression,) = [m for m in p["Metrics"] if m.get("ReturnData", True)]
    assert expression["Expression"].replace(" ", "") in ("SUM([succeeded,partial])", "succeeded+partial")
    assert (p["EvaluationPeriods"], p["DatapointsToAlarm"], p["Threshold"]) == (2, 2, 1)
    assert p["ComparisonOperator"] == "LessThanThreshold" and p["TreatMissingData"] == "breaching"


def test_every_schedule_dead_letters_to_an_encrypted_queue_that_alarms() -> None:
    schedules = [
        (name, event["Properties"])
        for name, machine in state_machines().items()
        for event in machine["Properties"].get("Events", {}).values()
        if event["Type"] == "ScheduleV2"
    ]
    assert schedules
    alarms = resources("AWS::CloudWatch::Alarm").values()
    for name, schedule in schedules:
        # Given the schedule names its dead-letter queue by ARN (SAM then grants its role sqs:SendMessage on it)
        queue = ref_target(schedule["DeadLetterConfig"]["Arn"])
        assert queue is not None and template()["Resources"][queue]["Type"] == "AWS::SQS::Queue", name
        # Then the queue is encrypted, and a message in it alarms to the topic
        assert props(queue).get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props(queue), queue
        watching = [
            a["Properties"]
            for a in alarms
            if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
            and [ref_target(d["Value"]) for d in a["Properties"]["Dimensions"]] == [queue]
        ]
        assert len(watching) == 1, queue
        assert (watching[0]["Threshold"], watching[0]["ComparisonOperator"]) == (1, "GreaterThanOrEqualToThreshold")
        assert [ref_target(a) for a in watching[0]["AlarmActions"]] == ["AlarmTopic"]
