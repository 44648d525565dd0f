"""How a season partition is written (store.season_writes), against DynamoDB Local behind the fault proxy:
two syncs with different data interleaved at every write step end as exactly one of them, an older fetch never
overwrites a newer one, and a writer killed mid-batch is completed by the next sync."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iracing_sync.errors import ConcurrentUpdate, RetryableError
from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body
from iracing_sync.store import season_writes
from iracing_sync.store.schema import WriteCounts
from tests.integration.test_schedule_store import partition, season_body
from tests.support.dynamodb_proxy import WRITES, DynamoDBProxy

pytestmark = pytest.mark.integration

T0 = datetime(2025, 9, 9, 12, tzinfo=UTC)


def put(body: dict[str, Any], fetched_at: datetime = T0) -> WriteCounts:
    (season,) = parse_schedule_body(body)
    return season_writes.put_season(ScheduleProcessor().process(season), fetched_at=fetched_at)


def put_retrying(body: dict[str, Any], fetched_at: datetime = T0, attempts: int = 20) -> WriteCounts:
    """A put as the state machine runs it: ConcurrentUpdate is retried (here at once, there with backoff)."""
    for _ in range(attempts - 1):
        try:
            return put(body, fetched_at)
        except ConcurrentUpdate:
            continue
    return put(body, fetched_at)


def variants() -> tuple[dict[str, Any], dict[str, Any]]:
    """Two versions of season 5376: B has other tracks on six weeks and one week fewer."""
    a, b = season_body(), season_body()
    for week in b["schedules"][:6]:
        week["track"] = {"track_id": 1, "track_name": "Variant B", "config_name": None}
    b["schedules"].pop()
    return a, b


def empty_partition() -> None:
    from iracing_sync.store.schema import Item, season_key

    for item in list(Item.query(season_key(5376))):
        item.delete()


def expected_partitions() -> dict[str, dict[str, str | None]]:
    """The partition each variant alone leaves (written into an empty partition, then removed again)."""
    out = {}
    for name, body in zip("ab", variants(), strict=True):
        put(body)
        out[name] = partition(5376)
        empty_partition()
    return out


@pytest.fixture(params=["transaction", "claimed batches"])
def write_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Both ways a partition is written: one transaction (season 5376's ~40 items fit), or claimed batches."""
    if request.param == "claimed batches":
        monkeypatch.setattr(season_writes, "TRANSACT_LIMIT", 10)
    yield request.param


def test_every_write_step_interleaving_ends_as_exactly_one_sync(
    table: None, dynamodb_proxy: DynamoDBProxy, write_path: str
) -> None:
    expected = expected_partitions()
    assert expected["a"] != expected["b"]
    a, b = variants()
    # Given how many write requests sync A makes alone into an empty partition
    dynamodb_proxy.reset_counts()
    put(a)
    steps = sum(dynamodb_proxy.operations[op] for op in WRITES)
    assert steps == (1 if write_path == "transaction" else 4)  # claim, two batches, release
    for step in range(steps):
        empty_partition()  # both syncs have the whole partition to write
        # When sync A is held at its write `step` and sync B runs meanwhile
        hold = dynamodb_proxy.hold_write(skip=step)
        outcome: dict[str, Any] = {}
        writer = threading.Thread(target=lambda result=outcome: result.update(a=_attempt(a)))
        writer.start()
        assert hold.reached.wait(30), f"sync A never reached write step {step}"
        outcome["b_while_held"] = _attempt(b)
        hold.release()
        writer.join(60)
        # And each loser retries, as Step Functions would
        if outcome["a"] is ConcurrentUpdate:
            put_retrying(a)
            last = "a"
        elif outcome["b_while_held"] is ConcurrentUpdate:
            put_retrying(b)
            last = "b"
        else:
            last = "a"  # both went through: A's held write landed after B
        # Then the partition is exactly the items of the sync that finished last, never a mix
        assert partition(5376) == expected[last], (write_path, step, outcome)


def _attempt(body: dict[str, Any]) -> Any:
    try:
        return put(body)
    except ConcurrentUpdate:
        return ConcurrentUpdate


def test_an_older_fetch_never_overwrites_a_newer_one(table: None, write_path: str) -> None:
    expected = expected_partitions()
    a, b = variants()
    # Given B fetched at T0 + 1 h and stored
    assert put(b, T0 + timedelta(hours=1)).written > 0
    # When A, fetched earlier (a late retry of an older archived body), is synced
    late = put(a, T0)
    # Then nothing is written and B stays
    assert late.stale and late.written == 0 and late.deleted == 0
    assert partition(5376) == expected["b"]
    # And a newer fetch of A does replace it
    assert not put(a, T0 + timedelta(hours=2)).stale
    assert partition(5376) == expected["a"]


# (transaction limit, write requests that get through): one transaction dropped; claimed batches killed after
# the claim, after one batch, after both batches (before the release).
@pytest.mark.parametrize(("limit", "survived"), [(99, 0), (10, 0), (10, 1), (10, 2), (10, 3)])
def test_a_sync_killed_mid_write_is_completed_by_the_next_one(
    table: None,
    dynamodb_proxy: DynamoDBProxy,
    settings_env: pytest.MonkeyPatch,
    limit: int,
    survived: int,
) -> None:
    from iracing_sync.settings import get_settings

    settings_env.setattr(season_writes, "TRANSACT_LIMIT", limit)
    settings_env.setenv("SEASON_WRITE_LOCK_SECONDS", "1")
    get_settings.cache_clear()
    expected = expected_partitions()
    a, _ = variants()
    # Given sync A, writing a whole partition, dies after `survived` write requests (the proxy drops every later one)
    dynamodb_proxy.drop_writes(after=survived)
    with pytest.raises((RetryableError, ConcurrentUpdate)):
        put(a)
    dynamodb_proxy.heal()
    # When the next sync of the same body runs (after a dead writer's claim has expired)
    deadline = datetime.now(UTC) + timedelta(seconds=10)
    while True:
        try:
            put(a)
            break
        except ConcurrentUpdate:
            assert datetime.now(UTC) < deadline, "the dead writer's claim never expired"
            threading.Event().wait(0.2)
    # Then the partition is exactly A's, and one more sync finds nothing left to write
    assert partition(5376) == expected["a"]
    again = put(a)
    assert again.written == 0 and again.deleted == 0
