"""Sync cost on the bundled real snapshots, through the real state machines (moto) and handlers:
iRacing requests for a current-seasons sync against one request per season, DynamoDB items written on a
re-sync against the first sync, and items stored against one row per race slot."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bench import Row
from bench.engines import engines
from iracing_sync_local import SAMPLES_DIR

SNAPSHOTS = {"2025-09-09": "series_seasons.json", "2023s2": "series_seasons_2023s2_full.json"}


def _slot_rows(seasons_file: str) -> int:
    """How many rows a one-row-per-race design would store for the snapshot (every slot of every season)."""
    import json

    from iracing_sync.recurrence import expand
    from iracing_sync.schedule import parse_schedule_body, week_patterns

    seasons = parse_schedule_body(json.loads((SAMPLES_DIR / seasons_file).read_text()))
    return len(expand(week_patterns(seasons), datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC)))


def _stored_items(season_ids: list[int]) -> int:
    from iracing_sync.store.schema import Item, season_key
    from iracing_sync.store.season_writes import SeasonVersionItem

    return sum(
        1 for sid in season_ids for item in Item.query(season_key(sid)) if not isinstance(item, SeasonVersionItem)
    )


def _measure(snapshot: str) -> dict[str, Any]:
    from iracing_sync_local.stepfunctions import local_step_functions

    with engines(snapshot) as fake, local_step_functions(retry_interval_scale=0) as sfn:
        first = sfn.run("sync_current_seasons", progress=False)
        data_requests = len(fake.requests_to("/data/"))
        all_requests = len(fake.requests)
        second = sfn.run("sync_current_seasons", progress=False)
        season_ids = sorted({int(s["season_id"]) for s in _seasons(snapshot)})
        return {
            "seasons": len(season_ids),
            "data_requests": data_requests,
            "all_requests": all_requests,
            "first_written": first["items_written"],
            "second_written": second["items_written"] + second["items_deleted"],
            "stored": _stored_items(season_ids),
        }


def _seasons(snapshot: str) -> list[dict[str, Any]]:
    import json

    return list(json.loads((SAMPLES_DIR / SNAPSHOTS[snapshot]).read_text()))


def run() -> list[Row]:
    """Rows for both bundled snapshots."""
    rows = []
    for snapshot, seasons_file in SNAPSHOTS.items():
        m = _measure(snapshot)
        rows += [
            Row(
                f"current-seasons sync, iRacing data requests ({snapshot}, {m['seasons']} seasons)",
                m["data_requests"],
                "requests",
                "one request per season",
                m["seasons"],
                higher_is_better=False,
            ),
            Row(
                f"re-sync of unchanged data, items written ({snapshot})",
                m["second_written"],
                "items",
                "first sync",
                m["first_written"],
                higher_is_better=False,
            ),
            Row(
                f"items stored ({snapshot})",
                m["stored"],
                "items",
                "one row per race slot",
                _slot_rows(seasons_file),
                target=10,
                higher_is_better=False,
            ),
        ]
    return rows
