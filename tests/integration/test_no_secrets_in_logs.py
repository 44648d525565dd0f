"""A full sync at DEBUG log level (ours and the HTTP stack's) leaks no token, password or client secret
(masked or not) into the logs."""

from __future__ import annotations

import logging

import pytest

from iracing_sync.observability import logger
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions

pytestmark = pytest.mark.integration


def test_full_sync_logs_contain_no_secret(
    step_functions: LocalStepFunctions,
    fake_iracing: FakeIracing,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given our logger and the HTTP stack at DEBUG, every other library at INFO (what a Lambda could be set to)
    logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.INFO)
    for name in ("urllib3", "requests"):
        caplog.set_level(logging.DEBUG, logger=name)
    try:
        # When the reference data, the series and every current season are synced
        for name in ("sync_reference_data", "sync_series", "sync_current_seasons"):
            step_functions.run(name, progress=True)
    finally:
        logger.setLevel(logging.WARNING)
    out, err = capfd.readouterr()
    logs = out + err + caplog.text
    # Then the logs say something, and none of the secrets in play appears in them
    assert "season synced" in logs
    secrets = fake_iracing.issued_secrets()
    assert len(secrets) >= 5
    leaked = [s for s in secrets if s in logs]
    assert leaked == []
