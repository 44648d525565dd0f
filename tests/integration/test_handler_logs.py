"""A warm Lambda container runs many invocations in one process: each one's log lines carry only its own keys."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from iracing_sync.observability import logger
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import invoke
from tests.conftest import load_event

pytestmark = pytest.mark.integration


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The service's JSON log lines (what Lambda ships to CloudWatch from stderr), at INFO."""
    handler = logger.registered_handler
    captured = io.StringIO()
    stream = handler.setStream(captured)  # type: ignore[attr-defined]
    level = logger.log_level
    logger.setLevel("INFO")
    yield captured
    logger.setLevel(level)
    handler.setStream(stream)  # type: ignore[attr-defined]


def lines(log: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.getvalue().splitlines() if line.strip()]


def test_second_invocation_logs_none_of_the_first_seasons_keys(
    table: None, fake_iracing: FakeIracing, json_log: io.StringIO
) -> None:
    # Given the season function synced season 5376 in this process (its lines carry season_id and series_id)
    synced, _ = invoke("SeasonFunction", {"action": "sync", "season_id": 5376, "archive_key": None})
    assert isinstance(synced, dict) and "errorType" not in synced
    first = lines(json_log)
    assert any(line.get("season_id") == 5376 and line.get("series_id") for line in first), first
    # When the same warm function then records a run (a task about no one season)
    json_log.seek(0)
    json_log.truncate()
    result, error = invoke("SeasonFunction", load_event("season_record_run.json"))
    assert error is None, result
    # Then its log lines carry no key of the previous invocation
    second = lines(json_log)
    assert second, "the run record logs a line"
    assert all("season_id" not in line and "series_id" not in line for line in second), second
    assert {line["function_request_id"] for line in second}.isdisjoint(line["function_request_id"] for line in first)
