"""The e2e tier's judgement of a deployed stack, on known inputs (the parts that need no AWS)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from iracing_sync.archive import Archive
from iracing_sync.settings import get_settings
from iracing_sync_local.template import load_template
from tests.conftest import load_sample
from tests.support.deployed import (
    CLOUDWATCH_ON_ENCRYPTED_TOPIC,
    compare_slots,
    dead_letter_arn,
    expand_body,
    judged_window,
    key_policy_admits,
    schedule_names,
    slot_key,
)


def slot(season: int, week: int, start: str, end: str = "2025-09-09T12:20:00Z") -> dict[str, Any]:
    return {"season_id": season, "race_week_num": week, "start_time": start, "end_time": end, "extra": "ignored"}


def test_compare_slots_names_what_is_missing_and_what_is_unexpected() -> None:
    served = [slot(1, 0, "2025-09-09T12:00:00Z"), slot(2, 3, "2025-09-09T12:00:00Z")]
    expanded = [slot(1, 0, "2025-09-09T12:00:00Z"), slot(1, 0, "2025-09-09T12:00:00Z"), slot(3, 1, "x")]
    difference = compare_slots(served, expanded)
    assert difference.missing == [slot_key(slot(3, 1, "x"))]
    assert difference.unexpected == [slot_key(slot(2, 3, "2025-09-09T12:00:00Z"))]
    assert difference and "1 missing" in difference.describe()
    assert not compare_slots(served, list(reversed(served)))


def test_compare_slots_tells_a_different_end_apart() -> None:
    assert compare_slots([slot(1, 0, "s", end="e1")], [slot(1, 0, "s", end="e2")])


def test_judged_window_is_the_next_hours_from_the_current_hour() -> None:
    now = datetime(2025, 9, 9, 11, 54, 33, 120, tzinfo=UTC)
    assert judged_window(now) == ("2025-09-09T11:00:00Z", "2025-09-09T17:00:00Z")


def test_expand_body_of_the_bundled_listing_equals_the_cli(tmp_path: Path) -> None:
    # The race guide's block of 2025-09-09 (the golden test's window): 133 sessions
    slots = expand_body(load_sample("series_seasons.json"), ("2025-09-09T11:54:00Z", "2025-09-09T14:54:00Z"), tmp_path)
    assert len(slots) == 133 and {"season_id", "race_week_num", "start_time", "end_time"} <= set(slots[0])


def test_newest_archived_listing_is_the_latest_fetch_under_its_prefix(tmp_path: Path) -> None:
    # Given three fetches of series/seasons (and one of another endpoint), written out of order
    archive = Archive(get_settings(), location=tmp_path)
    for stamp, body in [(2, "newest"), (0, "oldest"), (1, "middle")]:
        archive.put("series/seasons", {}, body, datetime(2025, 9, 9, 10 + stamp, tzinfo=UTC))
    archive.put("series/season_schedule", {"season_id": 1}, "other", datetime(2030, 1, 1, tzinfo=UTC))
    # Then the e2e tier's pick (what replays use) is the newest object under raw/series/seasons/_/
    assert archive.latest_key("series/seasons", {}) == "raw/series/seasons/_/20250909T120000000000Z.json.gz"
    assert archive.latest("series/seasons", {}) == "newest"


# The policy of an AWS managed key (alias/aws/sns): any principal of the account, through SNS only.
MANAGED_SNS_KEY = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:Encrypt", "kms:ReEncrypt*", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": "123456789012", "kms:ViaService": "sns.x"}},
        }
    ]
}
CUSTOMER_KEY = {
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*"},
        {
            "Effect": "Allow",
            "Principal": {"Service": ["cloudwatch.amazonaws.com", "events.amazonaws.com"]},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
        },
    ]
}


@pytest.mark.parametrize(
    ("policy", "admits"),
    [
        (MANAGED_SNS_KEY, False),
        (CUSTOMER_KEY, True),
        (
            {
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "kms:*"}
                ]
            },
            True,
        ),
        (
            {
                "Statement": {
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": "kms:Decrypt",
                }
            },
            False,  # GenerateDataKey is missing
        ),
        (
            {
                "Statement": [
                    {"Effect": "Deny", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "kms:*"}
                ]
            },
            False,
        ),
    ],
)
def test_key_policy_admits_cloudwatch_only_by_its_own_principal(policy: dict[str, Any], admits: bool) -> None:
    assert key_policy_admits(policy, "cloudwatch.amazonaws.com", CLOUDWATCH_ON_ENCRYPTED_TOPIC) is admits
    assert key_policy_admits(json.dumps(policy), "cloudwatch.amazonaws.com", CLOUDWATCH_ON_ENCRYPTED_TOPIC) is admits


def test_schedule_names_are_the_templates_for_the_stack() -> None:
    assert schedule_names(load_template(), "iracing-sync-prod") == [
        "iracing-sync-prod-SyncCurrentSeasonsHourly",
        "iracing-sync-prod-SyncRaceGuidePoll",
        "iracing-sync-prod-SyncReferenceDataDaily",
    ]


def test_dead_letter_arn_of_a_get_schedule_answer() -> None:
    queue = "arn:aws:sqs:us-east-1:123456789012:iracing-sync-prod-schedules-dlq"
    assert dead_letter_arn({"Target": {"Arn": "x", "DeadLetterConfig": {"Arn": queue}}}) == queue
    assert dead_letter_arn({"Target": {"Arn": "x"}}) is None
