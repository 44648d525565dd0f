"""A partial run is announced on EventBridge once, by the real machine and handlers (the session's event sink).

The stack's SyncRunPartialRule sends it to the alarm topic (its pattern and fields: tests/unit/test_notices.py).
"""

from __future__ import annotations

import pytest

from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions
from tests.support.events_sink import EventsSink

pytestmark = pytest.mark.integration


def test_a_partial_run_is_one_event_and_a_healthy_one_none(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, events: EventsSink
) -> None:
    # Given a reference-data run whose series task iRacing refuses (the reference data itself is stored)
    fake_iracing.fail_next("/data/series/get", 404)
    partial = step_functions.run("sync_reference_data", progress=False)
    # And then one that succeeds
    healthy = step_functions.run("sync_reference_data", progress=False)
    # Then the partial run, and it alone, was announced, with what the notice names
    assert (partial["status"], healthy["status"]) == ("PARTIAL", "SUCCEEDED")
    (detail,) = events.details("Sync Run Partial")
    assert detail["run_id"] == partial["run_id"] and detail["kind"] == "reference"
    assert detail["failed_count"] == 1 and detail["first_failure"] == "scope TASK#series: PermanentError"
    assert detail["failed"] == partial["failed"]
