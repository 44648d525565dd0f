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
