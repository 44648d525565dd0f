"""Golden check: our expansion of a real schedule reproduces iRacing's own race guide of the same day.

Both pairs are real captures (data/iracing-samples/SOURCES.md):
- series_seasons.json + season_race_guide_2025-09-09.json (same capture day, 35 seasons, 133 sessions);
- series_season_schedule.json (season 5935) + season_race_guide.json (filtered to season 5935).

The race guide lists every session that starts in [block_begin_time, block_end_time). A session that
already started carries a ``session_id`` and its ``end_time`` is iRacing's live estimate (races end early,
e.g. ``12:09:34``), so ends are compared exactly for every session not yet started and only bounded
(start < guide end <= scheduled end) for started ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from iracing_sync.recurrence import expand
from iracing_sync.schedule import parse_schedule_body, week_patterns
from iracing_sync_local import SAMPLES_DIR
from iracing_sync_local.cli import main

Key = tuple[int, int, datetime]


@dataclass(frozen=True)
class GoldenPair:
    schedule: str
    guide: str
    season_id: int | None  # filter the guide to this season (its schedule holds only that season)


PAIRS = {
    "2025-09-09": GoldenPair("series_seasons.json", "season_race_guide_2025-09-09.json", None),
    "5935": GoldenPair("series_season_schedule.json", "season_race_guide.json", 5935),
}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _load(name: str) -> Any:
    return json.loads((SAMPLES_DIR / name).read_text(encoding="utf-8"))


def _guide(pair: GoldenPair) -> tuple[datetime, datetime, dict[Key, dict[str, Any]]]:
    guide = _load(pair.guide)
    sessions = [s for s in guide["sessions"] if pair.season_id is None or s["season_id"] == pair.season_id]
    by_key = {(s["season_id"], s["race_week_num"], _instant(s["start_time"])): s for s in sessions}
    assert len(by_key) == len(sessions), "the race guide itself has duplicate keys"
    return _instant(guide["block_begin_time"]), _instant(guide["block_end_time"]), by_key


def _ours_via_api(pair: GoldenPair, start: datetime, end: datetime) -> list[dict[str, Any]]:
    seasons = parse_schedule_body(_load(pair.schedule))
    return [slot.to_json() for slot in expand(week_patterns(seasons), start, end)]


def _ours_via_cli(pair: GoldenPair, start: datetime, end: datetime, capsys: pytest.CaptureFixture[str]) -> Any:
    argv = ["slots", "expand", "--schedule", str(Path(SAMPLES_DIR, pair.schedule))]
    argv += ["--from", start.isoformat(), "--to", end.isoformat()]
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert err == ""
    return json.loads(out)


def _assert_reproduces_guide(ours: list[dict[str, Any]], guide: dict[Key, dict[str, Any]]) -> int:
    """Assert ours == the guide (keys, series_id, super_session, ends); return how many ends were compared exactly."""
    by_key = {(s["season_id"], s["race_week_num"], _instant(s["start_time"])): s for s in ours}
    assert len(by_key) == len(ours), "expansion produced duplicate keys"
    missing = sorted(set(guide) - set(by_key))
    extra = sorted(set(by_key) - set(guide))
    assert not missing, f"race guide sessions we did not produce: {missing[:5]}"
    assert not extra, f"slots the race guide does not have: {extra[:5]}"

    exact_ends = 0
    for key, session in guide.items():
        slot = by_key[key]
        assert slot["series_id"] == session["series_id"], key
        assert slot["super_session"] == session["super_session"], key
        assert slot["start_time"] == session["start_time"], key  # same text form, not only the same instant
        guide_end, our_end = _instant(session["end_time"]), _instant(slot["end_time"])
        if "session_id" in session:
            # Started: the guide shows the live/actual end, never later than the scheduled one.
            assert key[2] < guide_end <= our_end, (key, session["end_time"], slot["end_time"])
        else:
            assert slot["end_time"] == session["end_time"], key
            exact_ends += 1
    return exact_ends


def test_golden_series_seasons_2025_09_09_api_reproduces_every_race_guide_session() -> None:
    # Given the 2025-09-09 capture of series/seasons and that day's race guide
    pair = PAIRS["2025-09-09"]
    start, end, guide = _guide(pair)
    # When the schedule is expanded over the guide's block through the Python API
    ours = _ours_via_api(pair, start, end)
    # Then every guide session is produced with the same key, series, super flag and end, and nothing else
    assert len(guide) == 133  # the capture's session count (SOURCES.md), so a truncated file fails loudly
    exact = _assert_reproduces_guide(ours, guide)
    assert exact > 100
    assert [(_instant(s["start_time"]), s["season_id"], s["race_week_num"]) for s in ours] == sorted(
        (_instant(s["start_time"]), s["season_id"], s["race_week_num"]) for s in ours
    )


def test_golden_series_seasons_2025_09_09_cli_reproduces_every_race_guide_session(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the same pair, When expanded through `iracing-sync slots expand`
    pair = PAIRS["2025-09-09"]
    start, end, guide = _guide(pair)
    ours = _ours_via_cli(pair, start, end, capsys)
    # Then the CLI's JSON equals the guide just as the API's does
    exact = _assert_reproduces_guide(ours, guide)
    assert exact > 100
    assert ours == _ours_via_api(pair, start, end)


@pytest.mark.parametrize("via", ["api", "cli"])
def test_golden_season_schedule_5935_reproduces_its_race_guide_sessions(
    via: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the series/season_schedule body of season 5935 and the 2026-01-01 race guide filtered to it
    pair = PAIRS["5935"]
    start, end, guide = _guide(pair)
    assert guide, "the guide must contain season 5935"
    # When expanded over the guide's block
    ours = _ours_via_api(pair, start, end) if via == "api" else _ours_via_cli(pair, start, end, capsys)
    # Then exactly the guide's sessions of that season come out
    exact = _assert_reproduces_guide(ours, guide)
    assert exact == sum(1 for s in guide.values() if "session_id" not in s)


def test_golden_guide_block_edges_are_half_open() -> None:
    # Given the 2025-09-09 pair, When the window is shrunk to start at the guide's first session start
    pair = PAIRS["2025-09-09"]
    _, end, guide = _guide(pair)
    first = min(k[2] for k in guide)
    last = max(k[2] for k in guide)
    ours = _ours_via_api(pair, first, last)
    # Then sessions at `first` are included (inclusive start) and those at `last` are not (exclusive end)
    starts = {_instant(s["start_time"]) for s in ours}
    assert first in starts
    assert last not in starts
    assert len(ours) == sum(1 for k in guide if first <= k[2] < last)
    assert end > last
