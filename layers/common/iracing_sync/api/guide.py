"""iRacing's race guide on the slots an answer shows: each slot iRacing's guide lists carries its session ID, its
entry count and iRacing's end (the scheduled one until the session starts, then its live estimate or actual end).

A season's sources hold its own guide sessions (read with its partition); a window's sources hold the span of
starts the stored guide covers, when the window overlaps it, and only then are the sessions read: one Query, for
the span the answer's slots show. Outside the guide's horizon nothing is read and every slot keeps null.
"""

from __future__ import annotations

from iracing_sync.models.records import Slot, SlotSources
from iracing_sync.store import slot_sources


def guided(slots: list[Slot], sources: SlotSources) -> list[Slot]:
    """``slots`` (sorted by start, as the slot engine gives them) with the race guide's session_id, entry_count and
    end laid on those it lists."""
    if not slots:
        return slots
    sessions = sources.sessions
    if sources.horizon is not None:
        first = max(sources.horizon[0], slots[0].start_time)
        last = min(sources.horizon[1], slots[-1].start_time)
        if first <= last:
            sessions = {**slot_sources.guide_sessions(first, last), **sessions}
    if not sessions:
        return slots
    out = []
    for slot in slots:
        session = sessions.get(slot.key)
        if session is not None:
            slot = slot._replace(
                session_id=session.session_id, entry_count=session.entry_count, end_time=session.end_time
            )
        out.append(slot)
    return out
