"""How a season partition is written: never a mix of two syncs, never backwards, completed after a crash.

- VERSION: pk SEASON#<id>, sk VERSION: ``version`` (bumped by every sync that changes the partition),
  ``fetched_at`` (when the body that last changed it was fetched from iRacing), ``body_hash`` (that body's
  digest, for change detection before a sync), ``grid_hash`` (the content hash of the season's grid item, which
  lives in its own partition, GRID#<id>), ``forecasts`` (the weeks' forecasts fetched: store.forecasts), and while
  a large write runs ``writer``/``writer_until``.

A sync reads the partition's keys and content hashes once, then writes only what differs:

- Small change sets (at most ``TRANSACT_LIMIT`` puts and deletes) go in ONE TransactWriteItems together with
  the VERSION update, conditioned on the version read: all of it lands or none does. A sync that lost the race
  raises ConcurrentUpdate (retryable) and its retry reconciles against the winner's items.
- Larger change sets (annual seasons with many fixed session times) cannot be one transaction (100 items at
  most). The writer first claims VERSION (same condition, plus no live writer), then batch-writes, then bumps
  the version and releases the claim. Another sync meanwhile cannot claim: ConcurrentUpdate, retried later, so
  the partition ends as exactly one sync's items. A writer that dies mid-batch leaves its claim; once it expires
  (``season_write_lock_seconds``, longer than the function's timeout, so never while the writer lives) the next
  sync claims it and, reconciling by content hash, writes exactly what the dead one did not.
- A body fetched before the one that last changed the partition (``fetched_at``) is stale: nothing is written.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from iracing_sync.errors import ConcurrentUpdate, RetryableError
from iracing_sync.instants import iso_z
from iracing_sync.models.records import SeasonRecord
from iracing_sync.observability import logger
from iracing_sync.settings import get_settings
from iracing_sync.store.changes import change_items
from iracing_sync.store.schema import Item, WriteCounts, error_code, lost_race, read, season_key
from iracing_sync.store.season_changes import season_changes
from iracing_sync.store.seasons import (
    AFTER_FORECASTS,
    GuideSessionItem,
    desired_items,
    get_season_facts,
    grid_item,
    meta_item,
)

VERSION = "VERSION"
# TransactWriteItems takes at most 100 actions; one of them is the VERSION update.
TRANSACT_LIMIT = 99


class SeasonVersionItem(Item, discriminator="season_version"):
    """The partition's write state (see the module docstring)."""

    version = NumberAttribute(default=0)
    fetched_at = UnicodeAttribute(null=True)
    body_hash = UnicodeAttribute(null=True)
    grid_hash = UnicodeAttribute(null=True)
    # JSON {"<race_week_num>": "<forecast object>"}: the forecasts the season's sync fetched (store.forecasts).
    forecasts = UnicodeAttribute(null=True)
    writer = UnicodeAttribute(null=True)
    writer_until = NumberAttribute(null=True)


def put_season(
    season: SeasonRecord, *, fetched_at: datetime | None = None, body_hash: str | None = None
) -> WriteCounts:
    """Make the season's partition exactly this record: write what changed, delete what vanished.

    ``fetched_at`` is when the body was fetched (None: now); ``body_hash`` the raw body's digest, kept on VERSION.
    Returns the counts; ``stale`` if a later fetch already changed the partition (then nothing is written).
    Raises ConcurrentUpdate when another sync of this season won a race, RetryableError when DynamoDB fails.
    """
    pk = season_key(season.season_id)
    at = fetched_at or datetime.now(UTC)
    fetched = iso_z(at)
    wanted = ["pk", "sk", "item_type", "content_hash", *SeasonVersionItem.get_attributes()]
    # (a week's forecast is not the schedule's: store.forecasts keeps it, and the range skips it)
    items = read(Item.query(pk, Item.sk > AFTER_FORECASTS, attributes_to_get=sorted(set(wanted))), pk)
    state = next((i for i in items if isinstance(i, SeasonVersionItem)), None)
    # The partition's race-guide sessions are not the schedule's: store.guide owns them (and they expire).
    existing = {i.sk: i.content_hash for i in items if not isinstance(i, SeasonVersionItem | GuideSessionItem)}
    desired = desired_items(season)
    if state is not None and state.fetched_at and state.fetched_at > fetched:
        logger.info("stale body skipped", extra={"fetched_at": fetched, "stored_fetched_at": state.fetched_at})
        return WriteCounts(unchanged=len(desired), stale=True)
    puts = [item for item in desired if existing.get(item.sk) != item.content_hash]
    deletes = sorted(existing.keys() - {item.sk for item in desired})
    counts = WriteCounts(written=len(puts), unchanged=len(desired) - len(puts), deleted=len(deletes))
    # The grid item is derived from the weeks, like an index entry: written with them when it changed (its hash is
    # kept on VERSION, read above), not counted as a schedule item.
    grid = grid_item(season)
    if state is None or state.grid_hash != grid.content_hash:
        puts.append(grid)
    if not puts and not deletes:
        if body_hash and state is not None and state.body_hash != body_hash:
            _note_body(pk, state, fetched, body_hash)
        return counts
    what = f"season {season.season_id}"
    # The change records go with the partition's own writes (same transaction, or under the same claim).
    existed = state is not None or bool(existing)
    replaced = [sk for sk in [*(i.sk for i in puts if i.sk in existing), *deletes] if sk.startswith(("WEEK#", "SLOT#"))]
    old = _items(pk, replaced) if existed and replaced else []
    changes = change_items(season_changes(season.season_id, season.series_id, at, old, puts, existed))
    counts.changes = len(changes)
    write = _Write(pk, state, [*puts, *changes], deletes, fetched, body_hash, what, grid.content_hash)
    if len(write.puts) + len(deletes) <= TRANSACT_LIMIT:
        _transact(write)
    else:
        _locked(write)
    return counts


def _items(pk: str, sks: list[str]) -> list[Item]:
    """The stored items of these keys (BatchGetItem: 100 keys a request), as they are before the write."""
    try:
        return list(Item.batch_get([(pk, sk) for sk in sks]))
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of {pk} failed: {exc.msg}") from exc


def _unchanged_since_read(state: SeasonVersionItem | None, now: float) -> Condition:
    """VERSION is as read (or still absent) and no live writer holds it."""
    if state is None:
        return SeasonVersionItem.pk.does_not_exist()
    free = SeasonVersionItem.writer.does_not_exist() | (SeasonVersionItem.writer_until < now)
    return (SeasonVersionItem.version == int(state.version)) & free


@dataclass(frozen=True)
class _Write:
    """One reconcile's writes: the items to put (changes included), the keys to delete, and what VERSION becomes."""

    pk: str
    state: SeasonVersionItem | None  # as read
    puts: list[Item]
    deletes: list[str]
    fetched: str
    body_hash: str | None
    what: str
    grid_hash: str | None = None


def _transact(write: _Write) -> None:
    pk, state, fetched, body_hash, what = write.pk, write.state, write.fetched, write.body_hash, write.what
    puts, deletes = write.puts, write.deletes
    version = int(state.version) + 1 if state is not None else 1
    bumped = SeasonVersionItem(
        pk=pk,
        sk=VERSION,
        version=version,
        fetched_at=fetched,
        body_hash=body_hash,
        grid_hash=write.grid_hash,
        forecasts=state.forecasts if state is not None else None,
    )
    try:
        with TransactWrite(connection=Item._get_connection().connection) as transaction:
            for item in puts:
                transaction.save(item)
            for sk in deletes:
                transaction.delete(Item(pk=pk, sk=sk))
            transaction.save(bumped, condition=_unchanged_since_read(state, time.time()))
    except TransactWriteError as exc:
        if error_code(exc) == "TransactionCanceledException":
            raise ConcurrentUpdate(f"{what} was synced concurrently; retry") from exc
        raise RetryableError(f"DynamoDB write of {what} failed: {exc.msg}") from exc


def _locked(write: _Write) -> None:
    pk, state, fetched, body_hash, what = write.pk, write.state, write.fetched, write.body_hash, write.what
    puts, deletes = write.puts, write.deletes
    writer = uuid.uuid4().hex
    now = time.time()
    claim = SeasonVersionItem(pk=pk, sk=VERSION)
    try:
        claim.update(
            actions=[
                SeasonVersionItem.item_type.set(SeasonVersionItem),
                SeasonVersionItem.version.set(int(state.version) if state is not None else 0),
                SeasonVersionItem.writer.set(writer),
                SeasonVersionItem.writer_until.set(now + get_settings().season_write_lock_seconds),
            ],
            condition=_unchanged_since_read(state, now),
        )
    except UpdateError as exc:
        if lost_race(exc):
            raise ConcurrentUpdate(f"{what} is being written by another sync; retry") from exc
        raise RetryableError(f"DynamoDB write of {what} failed: {exc.msg}") from exc
    try:
        _batch(pk, puts, deletes)
    except PynamoDBException as exc:
        _release(claim, writer, what)  # so a retry need not wait for the claim to expire
        raise RetryableError(f"DynamoDB write of {what} failed: {exc.msg}") from exc
    try:
        claim.update(
            actions=[
                SeasonVersionItem.version.add(1),
                SeasonVersionItem.fetched_at.set(fetched),
                SeasonVersionItem.body_hash.set(body_hash) if body_hash else SeasonVersionItem.body_hash.remove(),
                SeasonVersionItem.grid_hash.set(write.grid_hash)
                if write.grid_hash
                else SeasonVersionItem.grid_hash.remove(),
                SeasonVersionItem.writer.remove(),
                SeasonVersionItem.writer_until.remove(),
            ],
            condition=SeasonVersionItem.writer == writer,
        )
    except UpdateError as exc:
        if lost_race(exc):
            # Our claim expired and another sync took it over: it reconciles the partition to its own body.
            raise ConcurrentUpdate(f"{what}: the write claim expired and was taken over; retry") from exc
        raise RetryableError(f"DynamoDB write of {what} failed: {exc.msg}") from exc


def _batch(pk: str, puts: Iterable[Item], deletes: Iterable[str]) -> None:
    with Item.batch_write() as batch:  # (puts may hold the grid item, of its own partition)
        for item in puts:
            batch.save(item)
        for sk in deletes:
            batch.delete(Item(pk=pk, sk=sk))


def _release(claim: SeasonVersionItem, writer: str, what: str) -> None:
    """Give up our claim without bumping the version (the partition may be a mix until the retry reconciles)."""
    try:
        claim.update(
            actions=[SeasonVersionItem.writer.remove(), SeasonVersionItem.writer_until.remove()],
            condition=SeasonVersionItem.writer == writer,
        )
    except PynamoDBException as exc:
        # The claim then expires on its own; the failure being raised is the one that matters.
        logger.warning("could not release a season write claim", extra={"season": what, "error": exc.msg})


def _note_body(pk: str, state: SeasonVersionItem, fetched: str, body_hash: str) -> None:
    """Remember a new body that changed nothing we store, so change detection skips it next time."""
    try:
        SeasonVersionItem(pk=pk, sk=VERSION).update(
            actions=[SeasonVersionItem.body_hash.set(body_hash), SeasonVersionItem.fetched_at.set(fetched)],
            condition=SeasonVersionItem.version == int(state.version),
        )
    except UpdateError as exc:
        if not lost_race(exc):  # lost: another sync changed the partition meanwhile and noted its own body
            raise RetryableError(f"DynamoDB write of {pk} VERSION failed: {exc.msg}") from exc


class Stored(NamedTuple):
    """What a season's VERSION says to change detection: its last body's hash and the forecasts its sync handled."""

    body_hash: str | None = None
    forecasts: dict[int, str] = {}


def stored_versions(season_ids: list[int]) -> dict[int, Stored]:
    """Each season's body hash and handled forecasts (empty if never synced): one BatchGetItem per 100 seasons."""
    keys = [(season_key(s), VERSION) for s in season_ids]
    wanted = ["pk", "sk", "item_type", "body_hash", "forecasts"]
    try:
        found = {
            int(i.pk.split("#", 1)[1]): Stored(i.body_hash, {int(k): v for k, v in json.loads(i.forecasts).items()})
            if i.forecasts
            else Stored(i.body_hash)
            for i in SeasonVersionItem.batch_get(keys, attributes_to_get=wanted)
        }
    except PynamoDBException as exc:
        raise RetryableError(f"DynamoDB read of season versions failed: {exc.msg}") from exc
    return {s: found.get(s, Stored()) for s in season_ids}


def body_hashes(season_ids: list[int]) -> dict[int, str | None]:
    """The body hash stored for each season (None if never synced): one BatchGetItem per 100 seasons."""
    return {season: stored.body_hash for season, stored in stored_versions(season_ids).items()}


def mark_inactive(season_ids: Iterable[int]) -> int:
    """Mark seasons that left iRacing's active listing as inactive; how many changed.

    Their stored body hash is forgotten too, so a season listed again is synced again even if its body is the same.
    """
    changed = 0
    for season_id in season_ids:
        facts = get_season_facts(season_id)
        if facts is None or facts.active is False:
            continue
        pk = season_key(season_id)
        try:
            meta_item(facts.model_copy(update={"active": False})).save()
            SeasonVersionItem(pk=pk, sk=VERSION).update(
                actions=[SeasonVersionItem.body_hash.remove()], condition=SeasonVersionItem.pk.exists()
            )
        except UpdateError as exc:
            if not lost_race(exc):  # lost: no VERSION (the season was never synced whole), nothing to forget
                raise RetryableError(f"DynamoDB write of season {season_id} failed: {exc.msg}") from exc
        except PynamoDBException as exc:
            raise RetryableError(f"DynamoDB write of season {season_id} failed: {exc.msg}") from exc
        changed += 1
    return changed
