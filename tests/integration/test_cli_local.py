"""`iracing-sync sync current` on the local stack, run as a user runs it: a process per command, data kept in .local.

Each run is a fresh process (its own DynamoDB Local on the checkout's port, its own fake iRacing server), with
the checkout's data directory pointed at a temporary one (IRACING_SYNC_LOCAL_DIR), so nothing of the
developer's .local is touched and the run sees exactly what the previous run left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

# What the test session set for its own engines must not leak into the CLI's process.
_SESSION_ONLY = ("IRACING_", "DYNAMODB_ENDPOINT", "ARCHIVE_", "TABLE_NAME", "PYTEST_")


def cli(local_dir: Path, *argv: str) -> dict[str, Any]:
    """Run ``iracing-sync ARGV`` in its own process on ``local_dir``; its last stdout line, parsed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SESSION_ONLY)}
    env["IRACING_SYNC_LOCAL_DIR"] = str(local_dir)
    done = subprocess.run(
        [sys.executable, "-m", "iracing_sync_local.cli", *argv], env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return summary


def token_state(local_dir: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((local_dir / "fake-iracing" / "tokens.json").read_text())
    return state


def test_unchanged_resync_through_the_cli_spends_two_requests_and_no_grant(tmp_path: Path) -> None:
    local = tmp_path / "checkout" / ".local"
    # Given a first sync: it logs in once (password grant), then lists the seasons (request + link)
    first = cli(local, "sync", "current")
    assert first["status"] == "SUCCEEDED" and first["api_requests"] == 3
    issued = token_state(local)
    assert len(issued["password_attempts"]) == 1
    # When the same sync runs again in a new process (a new fake iRacing that remembers what it issued)
    second = cli(local, "sync", "current")
    # Then it uses the token it stored: no 401, no refresh, no password grant; just the listing and its link
    assert second["status"] == "SUCCEEDED" and second["items_written"] == 0
    assert second["api_requests"] == 2
    after = token_state(local)
    assert after["password_attempts"] == issued["password_attempts"]
    assert set(after["refresh"]) == set(issued["refresh"])
    # And each run stopped the engine it started (no record of a running engine is left behind)
    assert not (local / "dynamodb" / "engine.json").exists()


def test_sync_race_guide_through_the_cli_prints_the_design_summary_and_replays_from_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = tmp_path / "checkout" / ".local"
    monkeypatch.setenv("RACE_GUIDE_MIN_SECONDS", "0")  # the replay follows at once (in AWS: 5 minutes later)
    # Given the bundled day's seasons synced through the CLI
    assert cli(local, "sync", "current")["status"] == "SUCCEEDED"
    # When the race guide is reconciled, as a user runs it
    summary = cli(local, "sync", "race-guide")
    # Then its last line is the summary docs/architecture.md names, for that day's guide against that day's schedules
    assert summary["kind"] == "race-guide" and summary["status"] == "SUCCEEDED"
    assert (summary["sessions"], summary["matched"], summary["unexpected"], summary["missing"]) == (133, 133, 0, 0)
    assert summary["drifting"] == []
    # When it runs again from the archive the first poll left (laid out as .local/archive)
    replayed = cli(local, "sync", "race-guide", "--replay", str(local / "archive"))
    # Then iRacing is not asked and the same guide reconciles the same way, writing nothing new
    assert replayed["api_requests"] == 0
    assert (replayed["sessions"], replayed["matched"], replayed["items_written"]) == (133, 133, 0)
