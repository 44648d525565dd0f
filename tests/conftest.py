"""Test environment: fake AWS credentials and local engine addresses, set before any AWS or app import.

PynamoDB reads the table name and endpoint when the store module is imported (the one documented
exception to "only settings reads the environment"), so this module sets them first.
"""

from __future__ import annotations

import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# The caller's own AWS settings, before the fake ones below replace them: the e2e tier (a deployed stack) needs them.
USER_AWS_ENV = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
_ARCHIVE = tempfile.mkdtemp(prefix="iracing-sync-archive-")
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "TABLE_NAME": "iracing-sync-test",
        "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{_free_port()}",
        "ARCHIVE_DIR": _ARCHIVE,
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "POWERTOOLS_SERVICE_NAME": "iracing-sync-test",
    }
)
for _var in ("IRACING_PARAMETER_NAME", "IRACING_CREDENTIALS_FILE", "IRACING_USERNAME", "ARCHIVE_BUCKET"):
    os.environ.pop(_var, None)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT / "data" / "iracing-samples"
EVENTS = REPO_ROOT / "events"


def load_sample(name: str) -> Any:
    """A bundled real iRacing body."""
    return json.loads((SAMPLES / name).read_text())


def load_event(name: str) -> dict[str, Any]:
    """A sample Lambda event from events/ (the same files `sam local invoke` uses)."""
    return json.loads((EVENTS / name).read_text())  # type: ignore[no-any-return]


@pytest.fixture
def settings_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Change service env vars for one test; settings are re-read before and after."""
    from iracing_sync.settings import get_settings

    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


# --- In CI, a skip is a failure -----------------------------------------------------------------------------------
# The README claims what the suite proves (the race finder works in a real browser, the builds run...): a test
# that skips because a tool is missing proves none of it, yet leaves the run green. With CI=true such a skip fails
# the run, naming the test and its reason. Only the e2e tier may skip: it needs a deployed stack, which CI has not.

IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
E2E_DIR = REPO_ROOT / "tests" / "e2e"
SKIPPED_IN_CI = "skipped in CI"


def _in_e2e(rootpath: Path, nodeid: str) -> bool:
    return (rootpath / nodeid.split("::")[0]).resolve().is_relative_to(E2E_DIR)


def _skip_reason(longrepr: Any) -> str:
    # A skip's longrepr is (file, line, "Skipped: reason")
    message = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return str(message).removeprefix("Skipped: ")


def _failed_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    reason = _skip_reason(report.longrepr)
    report.outcome = "failed"
    report.longrepr = f"{SKIPPED_IN_CI}: {reason} (with CI=true only tests/e2e, which needs a deployed stack, may skip)"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail") and not _in_e2e(item.config.rootpath, item.nodeid):
        _failed_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Any:
    report = yield
    if IN_CI and report.skipped and not _in_e2e(collector.config.rootpath, report.nodeid):
        _failed_in_ci(report)  # a module that skips itself whole (pytest.importorskip, allow_module_level)
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Say which e2e tests skipped and why; in CI, how many skips elsewhere failed the run."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _in_e2e(config.rootpath, r.nodeid)]
    if skipped:
        reasons: dict[str, int] = {}
        for report in skipped:
            reason = _skip_reason(report.longrepr)
            reasons[reason] = reasons.get(reason, 0) + 1
        terminalreporter.write_sep("-", "e2e tier")
        for reason, count in reasons.items():
            terminalreporter.write_line(f"{count} e2e test{'s' * (count != 1)} skipped: {reason}")
    if IN_CI:
        failed = terminalreporter.stats.get("failed", []) + terminalreporter.stats.get("error", [])
        refused = [r for r in failed if SKIPPED_IN_CI in str(r.longrepr)]
        terminalreporter.write_sep("-", "CI=true: skips outside tests/e2e fail the run")
        terminalreporter.write_line(f"{len(refused)} test{'s' * (len(refused) != 1)} skipped and failed the run")
