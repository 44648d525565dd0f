"""The race-guide bench's arithmetic (bench/bench_guide.py): which sessions a moved guide changes, what a poll bills."""

from __future__ import annotations

from bench.bench_guide import Poll, _moved
from bench.cost.prices import billed_gb_seconds, express_gb_seconds
from bench.cost.usage import PLATFORM_LOG_BYTES
from tests.conftest import load_sample


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


def test_poll_usage_bills_each_invocation_at_its_memory_and_a_cold_start_once() -> None:
    poll = Poll(
        data_requests=1,
        invocations=(("SeasonFunction", 0.2501), ("SeasonFunction", 0.01)),
        execution_seconds=0.31,
        read_units=3.0,
        write_units=5.0,
        s3_puts=1,
        log_bytes=1000,
        summary={},
    )
    warm = poll.usage({"SeasonFunction": 512})
    assert warm.lambda_request == 2
    assert warm.lambda_gb_second == billed_gb_seconds(0.2501, 512) + billed_gb_seconds(0.01, 512)
    assert warm.sfn_express_request == 1 and warm.sfn_express_gb_second == express_gb_seconds(0.31)
    assert warm.logs_ingest_gb * 1024**3 == 1000 + 2 * PLATFORM_LOG_BYTES
    cold = poll.usage({"SeasonFunction": 512}, init_seconds=0.5)
    assert cold.lambda_gb_second - warm.lambda_gb_second == billed_gb_seconds(0.5, 512)
