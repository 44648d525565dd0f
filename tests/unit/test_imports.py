"""The layer's imports: no cycle among its modules, and what each function's cold start must not load.

``MUST_NOT_LOAD`` is the one place the cold-start choices are written down (a function-level import, a type
imported for type checking only, a module kept apart): each function's app is imported in a fresh interpreter,
with the environment the template's Globals give it, and none of its listed modules may be in ``sys.modules``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Mapping, Set
from pathlib import Path

import pytest

from bench import cold_start_env, function_environment

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "common"

# The HTTP API's modules, kept off the Step Functions tasks and the relay.
_NOT_THE_API = {
    "aws_lambda_powertools.event_handler": "Powertools' HTTP resolver",
    "iracing_sync.api": "the HTTP API",
}
# The sync's own modules, kept off the slots API and the relay.
_NOT_THE_SYNC = {
    "iracing_sync.sync": "the sync tasks",
    "iracing_sync.sources": "the sync's iRacing client and archive",
    "iracing_sync.forecast_sync": "the season sync's forecasts",
    "iracing_sync.outcomes": "a run's outcomes",
    "iracing_sync.client": "the iRacing client",
    "iracing_sync.archive": "the raw payload archive",
    "requests": "HTTP to iRacing (the client)",
    "cryptography": "the token seal (the client)",
    "iracing_sync.models.iracing_bodies": "the iRacing bodies only the sync reads",
    "iracing_sync.models.tasks": "the Step Functions task payloads",
    **dict.fromkeys(
        (f"iracing_sync.store.{room}" for room in ("season_writes", "season_changes", "listing", "runs", "guide")),
        "the store rooms only the sync writes or reads",
    ),
    "iracing_sync.store.iracing_state": "the iRacing account's tokens and rate budget (the client)",
}
# Kept off every function.
_NOWHERE = {
    "aws_lambda_powertools.utilities.typing": "LambdaContext, a type only",
    "aws_lambda_powertools.event_handler.openapi.models": "the OpenAPI models, a tenth of the API's cold import: only "
    "/openapi.json and /docs build them",
    "aws_lambda_powertools.event_handler.openapi.swagger_ui": "the Swagger UI page: only /docs",
    "iracing_sync.models.http": "the HTTP answer shapes: imported by the routes that build one",
    "iracing_sync.atom": "the Atom feed: only /changes.atom",
}
_SYNC_TASK = {**_NOWHERE, **_NOT_THE_API}

# Per function folder (functions/<folder>/app.py): module -> why its cold import must not load it.
MUST_NOT_LOAD: dict[str, dict[str, str]] = {
    "slots_api": {
        **_NOWHERE,
        **_NOT_THE_SYNC,
        "aws_xray_sdk": "the Tracer (~0.4 s): an HTTP API has no trace context to join",
        "iracing_sync.tracing": "the Tracer (~0.4 s): an HTTP API has no trace context to join",
        "boto3": "PynamoDB reads the table with botocore alone",
        "iracing_sync.store.catalog": "the catalog's room (five PynamoDB item classes): "
        "imported by the routes that read series, cars, tracks or classes",
        "iracing_sync.store.changes": "the CHANGES room: imported by /changes and /changes.atom",
        "iracing_sync.models.catalog": "series, cars, tracks and classes as stored (five pydantic models): read "
        "only by the routes that import the catalog's room",
    },
    "series": _SYNC_TASK,
    "season": _SYNC_TASK,
    "past_seasons": _SYNC_TASK,
    "changes_relay": {
        **_NOWHERE,
        **_NOT_THE_API,
        **_NOT_THE_SYNC,
        "pynamodb": "the relay reads the table's stream, never the table",
        "iracing_sync.store": "the relay reads the table's stream, never the table",
    },
}

# Run in the child: import the function's app, then name which of the listed modules it loaded, and which of them
# no longer exist (a renamed module would otherwise pass unseen).
_CHILD = """
import importlib.util, json, sys
import app
names = json.loads(sys.argv[1])
loaded = sorted(name for name in names if name in sys.modules)
unknown = sorted(name for name in names if importlib.util.find_spec(name) is None)
print(json.dumps({"loaded": loaded, "unknown": unknown}))
"""


@pytest.fixture(scope="module")
def bytecode(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One bytecode cache for every child: the first compiles what they share."""
    return tmp_path_factory.mktemp("pycache")


def _function_env(folder: str, cache: Path) -> dict[str, str]:
    """The function's cold-start environment: the template's Globals, not this test process's POWERTOOLS_* ones."""
    globals_ = function_environment()
    env = cold_start_env(folder, cache=cache)
    return {k: v for k, v in env.items() if not k.startswith("POWERTOOLS_") or k in globals_} | {"TABLE_NAME": "t"}


def test_every_function_has_its_list() -> None:
    assert sorted(MUST_NOT_LOAD) == sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file())


@pytest.mark.parametrize("folder", sorted(MUST_NOT_LOAD))
def test_a_functions_cold_import_loads_none_of_its_listed_modules(folder: str, bytecode: Path) -> None:
    names = sorted(MUST_NOT_LOAD[folder])
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(names)],
        env=_function_env(folder, bytecode),
        cwd=ROOT / "functions" / folder,
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(out.stdout.splitlines()[-1])
    assert found["unknown"] == []
    assert {name: MUST_NOT_LOAD[folder][name] for name in found["loaded"]} == {}


# --- no import cycle in the layer ----------------------------------------------------------------------------------


def layer_modules(root: Path = LAYER) -> dict[str, Path]:
    """Every module under ``root`` by its dotted name (a package by its ``__init__.py``)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: Set[str]) -> set[str]:
    """The modules of ``modules`` that ``name`` imports, by any import statement anywhere in it (a function's, one
    for type checking only). ``from a import b`` imports ``a.b`` when that is a module, else ``a``. A package's
    ``__init__``, which Python runs before any of its modules, is not counted as imported by them."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            source = ".".join(part for part in (base, node.module) if part)
            found |= {f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names}
    return (found & modules) - {name}


def import_graph(root: Path = LAYER) -> dict[str, set[str]]:
    """Module -> the layer's modules it imports."""
    modules = layer_modules(root)
    return {name: imports_of(name, path, modules.keys()) for name, path in modules.items()}


def cycles(graph: Mapping[str, Set[str]]) -> list[list[str]]:
    """The graph's cycles: its strongly connected components of more than one module (Tarjan's), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = stack[stack.index(node) :]
            del stack[stack.index(node) :]
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_cycles_finds_a_cycle_through_several_modules_and_none_in_a_chain() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_imports_of_counts_deferred_type_only_and_relative_imports(tmp_path: Path) -> None:
    # Given a package whose module imports its neighbours in a function, for type checking only, and relatively
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in ("b", "c", "d"):
        (package / f"{name}.py").write_text("")
    (package / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from pkg.b import thing\n"
        "def f():\n    from pkg import c\n"
        "from . import d\nimport json\n"
    )
    # Then each counts, and nothing outside the package does
    assert import_graph(tmp_path)["pkg.a"] == {"pkg.b", "pkg.c", "pkg.d"}


def test_the_layer_has_no_import_cycle() -> None:
    graph = import_graph()
    assert len(graph) > 50 and graph["iracing_sync.sync"]  # the layer's modules were found, and their imports
    assert cycles(graph) == []
