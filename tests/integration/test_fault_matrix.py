"""The fault matrix (docs/architecture.md): each row injects one fault into a sync flow over real sockets and checks the
outcome, then that the data is intact and holds no duplicate (a re-sync writes and deletes nothing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions

pytestmark = pytest.mark.integration

Inject = Callable[[FakeIracing, str], None]


@dataclass(frozen=True)
class Flow:
    """A sync flow, its input, and the path of the iRacing request a fault is aimed at."""

    machine: str
    execution_input: dict[str, object]
    target: str


FLOWS = {
    "current": Flow("sync_current_seasons", {"force": True}, "/data/series/seasons"),
    "season": Flow("sync_season", {"season_ids": [5935, 5376]}, "/data/series/season_schedule"),
    "reference": Flow("sync_reference_data", {}, "/data/track/get"),
}


def _expire_tokens_after_first_call(fake: FakeIracing, target: str) -> None:
    # The token the run obtains first dies before its data call: iRacing answers 401 mid-run.
    fake.fail_next(target, 401)


FAULTS: dict[str, Inject] = {
    "429 rate limited": lambda fake, target: fake.fail_next(target, 429),
    "503 maintenance JSON": lambda fake, target: fake.maintenance(path_prefix=target),
    "503 maintenance HTML": lambda fake, target: fake.maintenance(path_prefix=target, html=True),
    "500 server error": lambda fake, target: fake.fail_next(target, 500),
    "401 mid-run": _expire_tokens_after_first_call,
    "expired link": lambda fake, target: fake.fail_next("/links/", 403),
    "read timeout": lambda fake, target: fake.slow(target, 3.0),
    "truncated JSON": lambda fake, target: fake.truncate(target),
}


@pytest.fixture
def short_timeouts(settings_env: pytest.MonkeyPatch) -> None:
    """A 1 s read timeout, so the injected 3 s stall is a timeout."""
    settings_env.setenv("IRACING_READ_TIMEOUT", "1")


# Every fault on the per-season flow; the listing and reference flows share the same client and retries,
# so they get a representative subset (the full cross product would triple CI time and prove nothing more).
CASES = [(fault, "season") for fault in sorted(FAULTS)] + [
    ("503 maintenance HTML", "current"),
    ("read timeout", "current"),
    ("401 mid-run", "current"),
    ("429 rate limited", "reference"),
    ("truncated JSON", "reference"),
]


@pytest.mark.parametrize(("fault", "flow_name"), CASES)
def test_a_transient_fault_is_retried_and_the_run_completes_intact(
    fault: str,
    flow_name: str,
    fake_iracing: FakeIracing,
    step_functions: LocalStepFunctions,
    short_timeouts: None,
) -> None:
    flow = FLOWS[flow_name]
    # Given the fault on the flow's iRacing request
    FAULTS[fault](fake_iracing, flow.target)
    # When the flow runs
    summary = step_functions.run(flow.machine, flow.execution_input, progress=False)
    # Then it completes with nothing failed: the fault was retried
    assert summary["status"] == "SUCCEEDED" and summary["failed"] == []
    assert summary["items_written"] > 0
    # And the data is whole and unduplicated: the same flow again writes and deletes nothing
    again = step_functions.run(flow.machine, flow.execution_input, progress=False)
    assert (again["items_written"], again["items_deleted"]) == (0, 0)
    assert again["items_unchanged"] == summary["items_written"]
