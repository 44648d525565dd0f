"""Judge a deployed stack (AWS_SAM_STACK_NAME) as the local tiers judge the local stack.

The syncs run there through the CLI's own path (run_on_stack); the API's /slots for a window must be exactly
what `iracing-sync slots expand` gives over the series/seasons body that sync archived in the stack's bucket;
the alarm topic must admit CloudWatch and EventBridge; the schedules must exist with dead-letter queues. The
judging itself lives in tests/support/deployed.py and is unit-tested there, so only the AWS calls are left untested
where no account is at hand.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from iracing_sync_local.template import load_template
from tests.e2e.conftest import STACK_NAME, needs_stack
from tests.support.deployed import (
    compare_slots,
    dead_letter_arn,
    expand_body,
    judged_window,
    key_policy_admits,
    schedule_names,
)

pytestmark = [pytest.mark.e2e, needs_stack]

SYNCS = ("sync_series", "sync_reference_data", "sync_current_seasons")


@pytest.fixture(scope="module")
def synced() -> dict[str, dict[str, Any]]:
    """Given the series, reference and current-seasons syncs run on the stack (followed to their end)."""
    from iracing_sync_local.stack import run_on_stack

    return {name: run_on_stack(STACK_NAME, name, {}) for name in SYNCS}


def served_slots(api_url: str, window: tuple[str, str]) -> list[dict[str, Any]]:
    """Every slot /slots serves for the window, following next_cursor."""
    slots: list[dict[str, Any]] = []
    params: dict[str, str] = {"from": window[0], "to": window[1]}
    while True:
        response = requests.get(f"{api_url.rstrip('/')}/slots", params=params, timeout=30)
        assert response.status_code == 200, response.text
        page = response.json()
        slots += page["slots"]
        if not page["next_cursor"]:
            return slots
        params["cursor"] = page["next_cursor"]


def test_deployed_syncs_succeed_with_nothing_failed(synced: dict[str, dict[str, Any]]) -> None:
    for name, summary in synced.items():
        assert summary["status"] == "SUCCEEDED" and summary["failed"] == [], (name, summary)


def test_deployed_slots_equal_expand_of_the_archived_listing(
    synced: dict[str, dict[str, Any]], stack_outputs: dict[str, str], tmp_path: Path
) -> None:
    from iracing_sync.archive import Archive
    from iracing_sync.settings import get_settings

    # Given the series/seasons body the current sync archived (the newest under raw/series/seasons/_/)
    body = Archive(get_settings(), location=f"s3://{stack_outputs['RawArchiveBucketName']}").latest(
        "series/seasons", {}
    )
    # When the API is asked for the next hours, and the same body is expanded offline for them
    window = judged_window(datetime.now(UTC))
    served = served_slots(stack_outputs["ApiUrl"], window)
    expanded = expand_body(body, window, tmp_path)
    # Then both are the same slots
    assert expanded, f"the archived listing has no slot in {window}: pick another window"
    difference = compare_slots(served, expanded)
    assert not difference, difference.describe()


def test_deployed_race_guide_reconciles_with_nothing_left_drifting(synced: dict[str, dict[str, Any]]) -> None:
    from iracing_sync_local.stack import run_on_stack

    # When the race guide is reconciled on the stack (an EXPRESS machine: StartSyncExecution) after the syncs
    summary = run_on_stack(STACK_NAME, "sync_race_guide", {})
    # Then it ran (or the scheduled poll ran under a minute ago) and every drift it found was healed
    assert summary["status"] in ("SUCCEEDED", "SKIPPED"), summary
    if summary["status"] == "SUCCEEDED":
        assert summary["still_drifting"] == [] and summary["matched"] + summary["unknown_sessions"] > 0, summary


def test_deployed_alarm_topic_admits_cloudwatch_and_eventbridge(stack_outputs: dict[str, str]) -> None:
    attributes = boto3.client("sns").get_topic_attributes(TopicArn=stack_outputs["AlarmTopicArn"])["Attributes"]
    # Unencrypted: the AWS-managed SNS key admits neither service, so alarms and rules would deliver nothing
    assert not attributes.get("KmsMasterKeyId"), attributes.get("KmsMasterKeyId")
    for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
        assert key_policy_admits(attributes["Policy"], service, ("sns:Publish",)), (service, attributes["Policy"])


@pytest.mark.parametrize("name", schedule_names(load_template(), STACK_NAME or "STACK"))
def test_deployed_schedule_exists_with_a_dead_letter_queue(name: str) -> None:
    schedule = boto3.client("scheduler").get_schedule(Name=name)
    assert dead_letter_arn(schedule), f"schedule {name} has no dead-letter queue: a failed start would be lost"
