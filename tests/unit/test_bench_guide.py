"""The race-guide bench's arithmetic (bench/bench_guide.py): which sessions a moved guide changes, what a poll bills."""

from __future__ import annotations

import pytest

from bench.bench_guide import DRIFTING_SEASON, NEVER_RACED, POLLS_PER_DAY, Measured, Poll, _moved, _partial
from bench.cost.prices import billed_gb_seconds, express_gb_seconds
from bench.cost.usage import PLATFORM_LOG_BYTES, Deployment
from tests.conftest import load_sample

GUIDE_METRICS = frozenset(
    {(name, ("service=iracing-sync", "kind=race-guide")) for name in ("RunsPartial", "SeasonsStillDrifting")}
)


def _deployment(credentials: str = "ssm", customer_key: bool = False) -> Deployment:
    return Deployment({"SeasonFunction": 512}, 90, 30, 4, credentials, customer_key)


def test_moved_guide_bumps_exactly_the_sessions_registering_or_under_way() -> None:
    # Given the 2025-09-09 capture (13 sessions with entries, 20 with a session ID)
    guide = load_sample("season_race_guide_2025-09-09.json")
    # When its registering sessions move
    moved, n = _moved(guide)
    # Then those gained one entry and no other session changed
    changed = [(a, b) for a, b in zip(guide["sessions"], moved["sessions"], strict=True) if a != b]
    assert n == len(changed) == sum(1 for s in guide["sessions"] if s.get("entry_count", 0) or "session_id" in s)
    assert all(b["entry_count"] == a.get("entry_count", 0) + 1 for a, b in changed)
    assert guide["sessions"][0] is not moved["sessions"][0]  # the capture itself is left as it was


def test_partial_guide_adds_one_session_the_drifting_season_never_races() -> None:
    guide = load_sample("season_race_guide_2025-09-09.json")
    bad = _partial(guide)
    (extra,) = bad["sessions"][len(guide["sessions"]) :]
    assert bad["sessions"][: len(guide["sessions"])] == guide["sessions"]
    assert extra["season_id"] == DRIFTING_SEASON and (extra["start_time"], extra["end_time"]) == NEVER_RACED
    assert "session_id" not in extra
    listed = {s["start_time"] for s in guide["sessions"] if s["season_id"] == DRIFTING_SEASON}
    assert listed and NEVER_RACED[0] not in listed


def _poll(metrics: frozenset[tuple[str, tuple[str, ...]]] = frozenset()) -> Poll:
    return Poll(
        data_requests=1,
        invocations=(("SeasonFunction", 0.2501), ("SeasonFunction", 0.01)),
        execution_seconds=0.31,
        read_units=3.0,
        write_units=5.0,
        s3_puts=1,
        log_bytes=1000,
        summary={},
        metrics=metrics,
    )


def test_poll_usage_bills_each_invocation_at_its_memory_and_a_cold_start_once() -> None:
    poll = _poll()
    warm = poll.usage(_deployment())
    assert warm.lambda_request == 2
    assert warm.lambda_gb_second == billed_gb_seconds(0.2501, 512) + billed_gb_seconds(0.01, 512)
    assert warm.sfn_express_request == 1 and warm.sfn_express_gb_second == express_gb_seconds(0.31)
    assert warm.logs_ingest_gb * 1024**3 == 1000 + 2 * PLATFORM_LOG_BYTES
    assert warm.xray_trace == 1 and warm.custom_metric_hour == 0
    cold = poll.usage(_deployment(), init_seconds=0.5)
    assert cold.lambda_gb_second - warm.lambda_gb_second == billed_gb_seconds(0.5, 512)


def test_a_poll_reads_the_credentials_once_from_the_designs_store() -> None:
    ours = _poll().usage(_deployment())
    assert (ours.parameter_api_call, ours.secret_api_call, ours.kms_request) == (1, 0, 1)
    before = _poll().usage(_deployment("secretsmanager", customer_key=True))
    assert (before.parameter_api_call, before.secret_api_call, before.kms_request) == (0, 1, 2)


def test_a_day_of_partial_polls_sends_two_metrics_for_24_hours_and_the_alarms_notices() -> None:
    # Given healthy polls that send nothing and PARTIAL ones that send the race guide's two metrics
    measured = Measured({"moved": _poll(), "partial": _poll(GUIDE_METRICS)}, sessions=133, moved=20)
    # When a month has one day of PARTIAL polls, whose two alarms each fire and recover
    bad = measured.month(_deployment(), notices=4, bad_days=1)
    # Then the metrics are billed for that day's 24 hours each, and four notices are published and mailed
    assert bad.custom_metric_hour == pytest.approx(2 * 24)
    assert bad.sns_publish == bad.sns_email == 4
    assert bad.sfn_express_request == POLLS_PER_DAY * 30
    # And a typical month sends no metric and no notice
    typical = measured.month(_deployment(), notices=4)
    assert typical.custom_metric_hour == typical.sns_publish == 0
