"""Every events/*.json (the files `sam local invoke` uses) fed to its real handler, against DynamoDB Local
and the fake iRacing server; and invalid events rejected with a clear, permanent error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from iracing_sync.errors import InvalidEvent
from iracing_sync_local.asl import FUNCTIONS
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LambdaContext, handler_for
from tests.conftest import EVENTS, load_event

pytestmark = pytest.mark.integration

# Event file prefix (the function's folder) -> function (logical ID), as in template.yaml.
PREFIXES = {folder: function for function, folder in FUNCTIONS.items()}


def function_of(path: Path) -> str:
    prefix = max((p for p in PREFIXES if path.stem.startswith(p + "_")), key=len)
    return PREFIXES[prefix]


def invoke(function: str, event: dict[str, Any]) -> Any:
    return handler_for(function)(event, LambdaContext(function_name=function))


def test_every_function_has_a_sample_event() -> None:
    covered = {function_of(p) for p in EVENTS.glob("*.json")}
    assert covered == set(FUNCTIONS)


@pytest.fixture(scope="module")
def seeded(module_table: None, module_fake_iracing: FakeIracing) -> None:
    """Given the season and series the events refer to are stored (the API events read them)."""
    for name in ("series_sync.json", "season_sync.json"):
        invoke(function_of(Path(name)), load_event(name))
    invoke("SeasonFunction", {"action": "sync", "season_id": 5376, "archive_key": None})


@pytest.mark.parametrize("path", sorted(EVENTS.glob("*.json")), ids=lambda p: p.name)
def test_sample_event_runs_through_its_handler(path: Path, seeded: None) -> None:
    result = invoke(function_of(path), load_event(path.name))
    if function_of(path) == "SlotsApiFunction":
        assert result["statusCode"] == 200, result["body"]
    else:
        assert isinstance(result, dict) and "errorType" not in result


@pytest.mark.parametrize(
    ("function", "event", "field"),
    [
        ("SeasonFunction", {"action": "sync"}, "season_id"),
        ("SeasonFunction", {"action": "sync", "season_id": "abc"}, "season_id"),
        ("SeasonFunction", {"action": "explode"}, "action"),
        ("SeriesFunction", {"action": "list_current", "surprise": 1}, "surprise"),
        ("SeasonFunction", {"action": "record_run", "kind": "race-guide", "caught": [{"surprise": 1}]}, "surprise"),
        ("SeriesFunction", {"action": "teleport"}, "action"),
        ("PastSeasonsFunction", {"action": "list_past", "series_id": -3}, "series_id"),
    ],
)
def test_an_invalid_event_is_a_permanent_error_naming_the_field(
    function: str, event: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidEvent) as raised:
        invoke(function, event)
    assert field in str(raised.value)
