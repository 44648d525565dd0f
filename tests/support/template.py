"""template.yaml and statemachine/*.asl.json as the static template tests read them: loaded once, with lookups.

Shared by tests/unit/test_template_*.py (the template against the code, one module per concern).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from iracing_sync_local.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
STATEMACHINE_DIR = REPO_ROOT / "statemachine"
PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


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


def walk_states(definition: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
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


def table_props() -> dict[str, Any]:
    """The Properties of the stack's one DynamoDB table."""
    tables = resources("AWS::DynamoDB::Table")
    assert list(tables) == ["IracingSyncTable"]
    return tables["IracingSyncTable"]["Properties"]
