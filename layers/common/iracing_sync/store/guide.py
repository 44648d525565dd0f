"""The stored race guide: its sessions (in their seasons' partitions, store.seasons) and its state.

- state:   pk GUIDE, sk STATE; by_time W#LONG / <last start>#GUIDE (first_start, last_start: the span of session
           starts held, rounded out to the hour), ``polled_at``/``poller``: the last poll's claim.

A poll claims the state first (``claim_poll``): iRacing's race guide changes at most once a minute (its link expires
after 60 s), so a poll within ``min_seconds`` of the last one fetches nothing. Then ``put_guide`` writes only the
sessions whose ID, entries or end moved (one Query reads what is stored for the guide's block), deletes the stored
sessions of the block the guide no longer lists, and moves the state's span only when its hour changes: a poll
whose entry counts did not move writes no session. Each session expires KEEP after it started (or after it was
written, for an old guide replayed now), so nothing accumulates.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import NamedTuple

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException, UpdateError

from iracing_sync.errors import RetryableError
from iracing_sync.instants import iso_z
from iracing_sync.models.records import GuideSession, SlotKey
from iracing_sync.store.schema import LONG_WEEKS, Item, WriteCounts, lost_race, season_key
from iracing_sync.store.seasons import GUIDE, GuideSessionItem, guide_item, guide_item_key
from iracing_sync.store.slot_sources import GUIDE_STATE, guide_sessions

STATE = "STATE"
# How long after its start a session keeps what iRacing published (its ID, entries, actual end): while it runs and
# a while after (the longest official races run a few hours).
KEEP = timedelta(hours=6)
HOUR = timedelta(hours=1)


class GuideStateItem(Item, discriminator=GUIDE_STATE):
    """The stored race guide's state (see the module docstring)."""

    first_start = UnicodeAttribute(null=True)
    last_start = UnicodeAttribute(null=True)
    polled_at = NumberAttribute(null=True)
    poller = UnicodeAttribute(null=True)


Span = tuple[str, str]  # the state's (first_start, last_start), as stored


class Claim(NamedTuple):
    """A poll's claim: whether it was granted, and the span the state held (None before the first guide)."""

    granted: bool
    held: Span | None = None


def claim_poll(poller: str, now: float, min_seconds: float) -> Claim:
    """Claim this poll of the race guide for ``poller`` (a run): refused if another run claimed a poll under
    ``min_seconds`` ago. A retry of the same run claims again (its first try may have failed after claiming)."""
    state = GuideStateItem(pk=GUIDE, sk=STATE)
    free = (
        GuideStateItem.polled_at.does_not_exist()
        | (GuideStateItem.polled_at <= now - min_seconds)
        | (GuideStateItem.poller == poller)
    )
    try:
        state.update(
            actions=[
                GuideStateItem.item_type.set(GuideStateItem),
                GuideStateItem.polled_at.set(now),
                GuideStateItem.poller.set(poller),
            ],
            condition=free,
        )
    except UpdateError as exc:
        if lost_race(exc):
            return Claim(granted=False)
        raise RetryableError(f"DynamoDB write of the race guide's state failed: {exc.msg}") from exc
    # (update() read the item back: the span as stored, so moving it costs a write only when it changes)
    if state.first_start is None or state.last_start is None:
        return Claim(granted=True)
    return Claim(granted=True, held=(state.first_start, state.last_start))


def _floor_hour(instant: datetime) -> datetime:
    return instant.replace(minute=0, second=0, microsecond=0)


def horizon_of(block_begin: datetime, block_end: datetime) -> tuple[datetime, datetime]:
    """The span of session starts a guide of this block leaves stored, rounded out to whole hours: from KEEP before
    its block (earlier polls' sessions, not yet expired) to its block's end."""
    last = _floor_hour(block_end)
    return _floor_hour(block_begin - KEEP), last if last == block_end else last + HOUR


def purge_at(session: GuideSession, fetched_at: datetime) -> datetime:
    """When a stored session expires: KEEP after it starts, or after it was fetched if that is later."""
    return max(session.start_time, fetched_at) + KEEP


def put_guide(
    sessions: Iterable[GuideSession],
    block_begin: datetime,
    block_end: datetime,
    fetched_at: datetime,
    held: Span | None = None,
) -> WriteCounts:
    """Make the stored sessions of [block_begin, block_end) exactly the guide's; write only what moved.

    One Query reads what is stored for the block; sessions whose ID, entries or end changed (or are new) are written,
    those the guide no longer lists deleted (BatchWriteItem); the state's span is written only when it differs
    from ``held`` (what ``claim_poll`` read).
    """
    wanted: dict[SlotKey, GuideSession] = {s.key: s for s in sessions}
    stored = guide_sessions(block_begin, block_end - timedelta(seconds=1)) if block_end > block_begin else {}
    puts = [s for key, s in wanted.items() if stored.get(key) != s]
    deletes = [s for key, s in stored.items() if key not in wanted]
    try:
        with Item.batch_write() as batch:
            for session in puts:
                batch.save(guide_item(session, purge_at(session, fetched_at)))
            for session in deletes:
                batch.delete(GuideSessionItem(pk=season_key(session.season_id), sk=guide_item_key(session)))
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of the race guide failed: {exc.msg}") from exc
    first, last = (iso_z(t) for t in horizon_of(block_begin, block_end))
    if held != (first, last):  # most polls: the span moves once an hour
        _move_horizon(first, last)
    return WriteCounts(written=len(puts), unchanged=len(wanted) - len(puts), deleted=len(deletes))


def _move_horizon(first: str, last: str) -> None:
    """Set the state's span and its time-index keys (sorted by its last start, as a long week is)."""
    try:
        GuideStateItem(pk=GUIDE, sk=STATE).update(
            actions=[
                GuideStateItem.item_type.set(GuideStateItem),
                GuideStateItem.first_start.set(first),
                GuideStateItem.last_start.set(last),
                GuideStateItem.tpk.set(LONG_WEEKS),
                GuideStateItem.tsk.set(f"{last}#{GUIDE}"),
            ]
        )
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB write of the race guide's state failed: {exc.msg}") from exc
