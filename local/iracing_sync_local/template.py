"""template.yaml as the local stack reads it: CloudFormation's short tags, the functions and state machines it
declares, the HTTP API's routes and CORS.

The local HTTP adapter builds what API Gateway builds from the same template: the routes declared as
``HttpApi`` events of a function, and the ``CorsConfiguration`` of the API those events name, with
parameter references resolved to their defaults (or to overrides, as ``sam deploy --parameter-overrides``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from iracing_sync_local import REPO_ROOT

TEMPLATE = REPO_ROOT / "template.yaml"
DEFAULT_ROUTE = "$default"


class CloudFormationLoader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader):  # type: ignore[misc]
    """A SafeLoader that reads CloudFormation short tags (!Ref, !GetAtt, !Sub, !If...) as their long form.

    (libyaml's when PyYAML has it: it parses template.yaml about six times faster, and the local runner reads the
    template on import.)
    """


def _construct_short_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data (short tags in their long form: ``{"Ref": ...}``, ``{"Fn::Sub": ...}``)."""
    loaded: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=CloudFormationLoader)
    return loaded


def function_folders(template: Mapping[str, Any]) -> dict[str, str]:
    """Each function's logical ID -> its folder under functions/ (its CodeUri), in template order."""
    return {
        name: Path(r["Properties"]["CodeUri"]).name for name, r in _resources(template, "AWS::Serverless::Function")
    }


def state_machine_files(template: Mapping[str, Any]) -> dict[str, str]:
    """Each state machine's ASL file under statemachine/ (without .asl.json) -> its logical ID, in template order."""
    return {
        Path(r["Properties"]["DefinitionUri"]).name.removesuffix(".asl.json"): name
        for name, r in _resources(template, "AWS::Serverless::StateMachine")
    }


def _resources(template: Mapping[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [(name, r) for name, r in template["Resources"].items() if r["Type"] == kind]


@dataclass(frozen=True)
class Route:
    """One declared route: ``method`` upper-cased (ANY included), ``path`` as declared (or ``$default``)."""

    method: str
    path: str

    @property
    def key(self) -> str:
        """The routeKey API Gateway puts in the event: ``GET /series/{id}``, or ``$default``."""
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class CorsConfiguration:
    """An HTTP API's CorsConfiguration (AllowOrigins, AllowMethods, ... as API Gateway applies them)."""

    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


def _http_api_events(template: Mapping[str, Any], function: str) -> list[dict[str, Any]]:
    resource = template["Resources"][function]
    events = resource.get("Properties", {}).get("Events", {}) or {}
    return [e.get("Properties", {}) for e in events.values() if e.get("Type") == "HttpApi"]


def http_api_routes(template: Mapping[str, Any], function: str = "SlotsApiFunction") -> list[Route]:
    """Every route the function's ``HttpApi`` events declare (SAM's default method is ANY)."""
    return [
        Route(str(p.get("Method", "ANY")).upper(), str(p.get("Path", DEFAULT_ROUTE)))
        for p in _http_api_events(template, function)
    ]


def cors_configuration(
    template: Mapping[str, Any], function: str = "SlotsApiFunction", *, origins: Sequence[str] | None = None
) -> CorsConfiguration | None:
    """The CorsConfiguration of the API the function's routes belong to, or None if it has none.

    ``origins`` replaces AllowOrigins (a deploy's parameter override); a ``!Ref`` to a parameter otherwise
    resolves to the parameter's Default (a CommaDelimitedList splits on commas).
    """
    events = _http_api_events(template, function)
    api_ids = {_ref(p["ApiId"]) for p in events if "ApiId" in p}
    config: Any = None
    if api_ids:
        (api_id,) = api_ids  # one function serves one API here
        config = template["Resources"][api_id].get("Properties", {}).get("CorsConfiguration")
    else:  # the implicit API takes its configuration from Globals
        config = template.get("Globals", {}).get("HttpApi", {}).get("CorsConfiguration")
    if not config:
        return None
    parameters = template.get("Parameters", {})
    allowed = tuple(origins) if origins is not None else _strings(config.get("AllowOrigins", []), parameters)
    max_age = config.get("MaxAge")
    return CorsConfiguration(
        allow_origins=allowed,
        allow_methods=tuple(m.upper() for m in _strings(config.get("AllowMethods", []), parameters)),
        allow_headers=_strings(config.get("AllowHeaders", []), parameters),
        expose_headers=_strings(config.get("ExposeHeaders", []), parameters),
        max_age=None if max_age is None else int(max_age),
        allow_credentials=bool(config.get("AllowCredentials", False)),
    )


def _ref(value: Any) -> str:
    if isinstance(value, dict) and "Ref" in value:
        return str(value["Ref"])
    raise ValueError(f"expected a !Ref, got {value!r}")


def _strings(value: Any, parameters: Mapping[str, Any]) -> tuple[str, ...]:
    """A list of strings, a !Ref to a (CommaDelimitedList) parameter, or a list holding such references."""
    if isinstance(value, dict) and "Ref" in value:
        parameter = parameters[value["Ref"]]
        default = parameter.get("Default", "")
        if isinstance(default, list):
            items = default
        elif parameter.get("Type") == "CommaDelimitedList":
            items = str(default).split(",")
        else:
            items = [default]
        return tuple(str(v).strip() for v in items)
    if isinstance(value, list):
        return tuple(s for item in value for s in _strings(item, parameters))
    return (str(value),)
