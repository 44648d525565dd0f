"""Keyset pages of slots: an opaque cursor bound to its query, and the page body around the slots.

A cursor holds the sort key (start_time, season_id, race_week_num) of the page's last slot and a fingerprint of
the query's window and filters, so the next page reads only from that start on (every page costs the same few
Queries, wherever it is) and a cursor reused with other filters is refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from iracing_sync.api.encoding import MAX_BODY_BYTES, SlotEncoder, with_slots
from iracing_sync.api.guide import guided
from iracing_sync.errors import InvalidCursorError
from iracing_sync.models.records import Slot, SlotSources
from iracing_sync.recurrence import expand


class After(NamedTuple):
    """Where a page starts: after the slot (start, season_id, race_week_num) that ended the previous one.

    (Named tuples, not dataclasses, for the small value types the API imports: a dataclass costs a cold start
    about five times as much to create.)
    """

    start: datetime
    season_id: int
    race_week_num: int

    @property
    def key(self) -> tuple[datetime, int, int]:
        return (self.start, self.season_id, self.race_week_num)


def fingerprint(*parts: object) -> str:
    """What a cursor is bound to: the window and filters of the query that issued it."""
    return hashlib.blake2b(json.dumps(parts, default=str).encode(), digest_size=8).hexdigest()


def encode_cursor(last: Slot, bound: str) -> str:
    """An opaque cursor: the last slot's sort key plus the query's fingerprint (keyset pagination, no state)."""
    raw = f"{int(last.start_time.timestamp())}.{last.season_id}.{last.race_week_num}.{bound}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, bound: str, lo: datetime, hi: datetime) -> After:
    """The position a cursor stands for; InvalidCursorError if it is malformed, foreign or outside [lo, hi)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        start, season_id, week, issued_for = raw.split(".")
        after = After(datetime.fromtimestamp(int(start), UTC), int(season_id), int(week))
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError):
        raise InvalidCursorError("cursor: not a cursor this API issued") from None
    if issued_for != bound:
        raise InvalidCursorError("cursor: it belongs to a query with other from, to or filters")
    if not lo <= after.start < hi:
        raise InvalidCursorError("cursor: outside the window")
    return after


def slots_from(sources: SlotSources, lo: datetime, hi: datetime, *, guide: bool = True) -> list[Slot]:
    """The slots of the stored patterns inside [lo, hi) (fixed session times included), deduplicated and sorted,
    with the race guide's sessions on them (``guide=False``: without, e.g. before cutting a page)."""
    slots = expand(sources.patterns, lo, hi)
    return guided(slots, sources) if guide else slots


def page(
    sources: Callable[[datetime], SlotSources | None],
    lo: datetime,
    hi: datetime,
    limit: int,
    cursor: str | None,
    bound: str,
) -> tuple[list[Slot], bool] | None:
    """Up to ``limit`` slots of [lo, hi) after the ``cursor`` issued for ``bound``, and whether more follow.

    ``sources(start)`` reads what can race from ``start`` on: the next page reads only from the cursor's start.
    None if the sources are unknown; InvalidCursorError if the cursor is not one of this query's.
    """
    after = decode_cursor(cursor, bound, lo, hi) if cursor else None
    start = after.start if after is not None else lo
    found = sources(start)
    if found is None:
        return None
    slots = slots_from(found, start, hi, guide=False)
    if after is not None:
        slots = slots[bisect_right(slots, after.key, key=lambda s: s.key) :]
    return guided(slots[:limit], found), len(slots) > limit


def page_body(
    head: dict[str, Any], slots: list[Slot], more: bool, limit: int, bound: str, zone: ZoneInfo | None
) -> str:
    """A page's answer as JSON text: ``head`` (the query's echo), count, limit, next_cursor, tz and the slots.

    The page ends early where its body would pass MAX_BODY_BYTES (a week of every season's slots with all their
    names is more than Lambda may answer): next_cursor then continues after its last slot.
    """
    encoder = SlotEncoder(zone)
    parts: list[str] = []
    size = 0
    for slot in slots:
        text = encoder.encode(slot)
        size += len(text) + 1
        if size > MAX_BODY_BYTES - 1000 and parts:  # (room for the head)
            more = True
            break
        parts.append(text)
    body = {**head, "count": len(parts), "limit": limit}
    body["next_cursor"] = encode_cursor(slots[len(parts) - 1], bound) if more else None
    if zone is not None:
        body["tz"] = zone.key
    return with_slots(body, parts)
