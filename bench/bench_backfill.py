"""Full backfill (SyncAllPastSeasons: every series, every past season) against the fake iRacing server's real
240 requests / 60 s budget, in real time: iRacing data requests per minute against that budget.

The fake serves the 2023 S2 quarter's seasons as past seasons (real schedules), so the run makes ~300 data
requests: more than one window's budget, so pacing (RateLimited, retried by the state machine) is exercised.
"""

from __future__ import annotations

import time

from bench import Row
from bench.engines import engines

BUDGET_PER_MINUTE = 240


def run() -> list[Row]:
    """One row: data requests per minute during the backfill, against the account's budget."""
    from iracing_sync_local.stepfunctions import local_step_functions

    with engines("2025-09-09", rate_limit=BUDGET_PER_MINUTE, rate_window=60.0) as fake, local_step_functions() as sfn:
        start = time.monotonic()
        summary = sfn.run("sync_all_past_seasons", progress=False, timeout=900)
        elapsed = time.monotonic() - start
        served = [r for r in fake.requests_to("/data/") if r.status == 200]
        refused = [r for r in fake.requests_to("/data/") if r.status == 429]
    if summary["failed"] or refused:
        raise RuntimeError(f"backfill: {len(summary['failed'])} failed seasons, {len(refused)} requests refused (429)")
    per_minute = len(served) / (elapsed / 60)
    return [
        Row(
            f"full backfill: {summary['seasons_synced']} past seasons, {len(served)} data requests, 0 refused",
            per_minute,
            "requests/min",
            "iRacing budget",
            BUDGET_PER_MINUTE,
            target=0.9,
        )
    ]
