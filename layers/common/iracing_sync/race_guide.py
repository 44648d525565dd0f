"""iRacing's race guide against the stored schedules: which guide sessions are the slots our weeks predict, which
sessions no stored week predicts (``unexpected``), which predicted starts inside the guide's block the guide lacks
(``missing``), and which seasons to sync at once.

The race guide lists every official session starting in [block_begin_time, block_end_time) (about three hours
from now); a session and a slot are the same when their (season_id, race_week_num, start_time) are. A season the
guide lists that is not stored at all is counted apart: a new season began, or one was missed. Pure functions:
the race-guide tasks (``sync``) call them with what they read from iRacing and the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from iracing_sync.errors import MalformedPayload
from iracing_sync.models.base import validation_summary
from iracing_sync.models.iracing_bodies import RaceGuide
from iracing_sync.models.records import GuideSession, Slot, SlotKey
from iracing_sync.models.tasks import GuideReport, SeasonDrift

# Seasons one run syncs at once (drifting ones first, then seasons not stored): each is a series/season_schedule
# request, and a run every 5 minutes must stay a small share of the account's rate budget even when seasons keep
# failing (a season iRacing refuses is tried again by a later run, in turn with the others). No more than the
# machine's Resync MaxConcurrency: all in one round, which its express budget counts on (tests/unit/test_worst_case).
MAX_RESYNCS = 4


@dataclass(frozen=True)
class Guide:
    """A race guide as read: its block [begin, end) and its sessions (one per slot key)."""

    block_begin: datetime
    block_end: datetime
    sessions: list[GuideSession]

    def keys_by_season(self) -> dict[int, set[SlotKey]]:
        """Each season's session keys."""
        return _by_season(s.key for s in self.sessions)


def parse_guide(body: Any) -> Guide:
    """A season/race_guide body as a Guide; MalformedPayload (one line) if it is not one."""
    try:
        guide = RaceGuide.model_validate(body)
    except ValidationError as exc:
        raise MalformedPayload(f"season/race_guide: {validation_summary(exc)}") from exc
    sessions: dict[SlotKey, GuideSession] = {}
    for s in guide.sessions:
        session = GuideSession(
            season_id=s.season_id,
            series_id=s.series_id,
            race_week_num=s.race_week_num,
            start_time=s.start_time,
            end_time=s.end_time,
            super_session=s.super_session,
            session_id=s.session_id,
            entry_count=s.entry_count,
        )
        sessions.setdefault(session.key, session)
    return Guide(guide.block_begin_time, guide.block_end_time, list(sessions.values()))


def _by_season(keys: Iterable[SlotKey]) -> dict[int, set[SlotKey]]:
    found: dict[int, set[SlotKey]] = defaultdict(set)
    for key in keys:
        found[key[1]].add(key)
    return found


def predicted_keys(guide: Guide, slots: Iterable[Slot]) -> dict[int, set[SlotKey]]:
    """Each season's keys of the slots that start inside the guide's block."""
    return _by_season(s.key for s in slots if guide.block_begin <= s.start_time < guide.block_end)


def drift_of(season_id: int, listed: set[SlotKey], predicted: set[SlotKey]) -> SeasonDrift | None:
    """How a stored season's predicted starts differ from the guide's sessions of it (None: they are the same)."""
    unexpected, missing = len(listed - predicted), len(predicted - listed)
    return SeasonDrift(season_id=season_id, unexpected=unexpected, missing=missing) if unexpected or missing else None


def compare(guide: Guide, slots: Iterable[Slot], unknown_of: Callable[[list[int]], Collection[int]]) -> GuideReport:
    """The guide against the slots the stored weeks predict for its block. ``unknown_of`` names, of the guide's
    seasons no slot predicts, those not stored at all (counted apart); it is asked only if there are any."""
    listed, predicted = guide.keys_by_season(), predicted_keys(guide, slots)
    unpredicted = sorted(listed.keys() - predicted.keys())
    unknown = set(unknown_of(unpredicted)) if unpredicted else set()
    report = GuideReport(sessions=len(guide.sessions))
    for season_id in sorted(listed.keys() | predicted.keys()):
        mine, ours = listed.get(season_id, set()), predicted.get(season_id, set())
        if season_id in unknown and not ours:
            report.unknown_sessions += len(mine)
            report.unknown_seasons.append(season_id)
            continue
        report.matched += len(mine & ours)
        drift = drift_of(season_id, mine, ours)
        if drift is not None:
            report.unexpected += drift.unexpected
            report.missing += drift.missing
            report.drifting.append(season_id)
            report.drift.append(drift)
    return report


def seasons_to_resync(report: GuideReport, turn: int, limit: int = MAX_RESYNCS) -> list[int]:
    """The seasons to sync at once: every drifting one first (by ID), then seasons not stored, at most ``limit``.

    Seasons not stored take turns (``turn``, e.g. the poll's minute, rotates them), so one iRacing keeps refusing
    never holds the others back.
    """
    chosen = report.drifting[:limit]
    unknown = report.unknown_seasons
    if unknown and len(chosen) < limit:
        start = turn % len(unknown)
        chosen += (unknown[start:] + unknown[:start])[: limit - len(chosen)]
    return chosen
