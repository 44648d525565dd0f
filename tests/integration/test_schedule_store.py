"""ScheduleProcessor + store against DynamoDB Local: idempotent, reconciling, shape-independent, safe under
concurrency."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest

from iracing_sync.api.answers import week_out
from iracing_sync.errors import ConcurrentUpdate
from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body
from iracing_sync.store.schema import Item
from iracing_sync.store.season_writes import SeasonVersionItem
from tests.conftest import load_sample

pytestmark = pytest.mark.integration


def season_body(season_id: int = 5376) -> dict[str, Any]:
    """One season object of the real series/seasons capture (a deep copy to change freely)."""
    return copy.deepcopy(next(s for s in load_sample("series_seasons.json") if s["season_id"] == season_id))


def sync(body: Any) -> Any:
    from iracing_sync.store import season_writes

    (season,) = parse_schedule_body(body)
    return season_writes.put_season(ScheduleProcessor().process(season))


def partition(season_id: int) -> dict[str, str | None]:
    from iracing_sync.store import schema

    return {
        i.sk: i.content_hash for i in Item.query(schema.season_key(season_id)) if not isinstance(i, SeasonVersionItem)
    }


def test_syncing_the_same_snapshot_twice_writes_nothing_the_second_time(table: None) -> None:
    first = sync(season_body())
    second = sync(season_body())
    assert first.written == len(partition(5376)) and first.deleted == 0
    assert (second.written, second.deleted, second.unchanged) == (0, 0, first.written)


def test_changing_one_weeks_track_updates_that_week_only(table: None) -> None:
    # Given a stored season
    body = season_body()
    sync(body)
    before = partition(5376)
    # When week 3's track changes in a copy of the real sample
    body["schedules"][3]["track"] = {"track_id": 999, "track_name": "Somewhere Else", "config_name": "Oval"}
    counts = sync(body)
    # Then exactly that week's item is rewritten, in place (same key, no duplicate)
    after = partition(5376)
    assert (counts.written, counts.deleted) == (1, 0)
    assert after.keys() == before.keys()
    assert [k for k in after if after[k] != before[k]] == ["WEEK#003"]
    from iracing_sync.store import seasons

    assert seasons.get_season(5376).weeks[3].pattern.track_name == "Somewhere Else"  # type: ignore[union-attr]


def test_weeks_and_fixed_slots_that_vanish_are_deleted(table: None) -> None:
    # Given a stored season with fixed session times (an annual NASCAR season)
    body = next(
        copy.deepcopy(s)
        for s in load_sample("series_seasons.json")
        if any(not d["repeating"] for w in s["schedules"] for d in w.get("race_time_descriptors") or [])
    )
    sid = body["season_id"]
    sync(body)
    stored = partition(sid)
    # When the last week disappears and another week loses one fixed session time
    dropped_week = body["schedules"].pop()
    fixed_week = next(
        w for w in body["schedules"] if any(not d["repeating"] for d in w.get("race_time_descriptors") or [])
    )
    descriptor = next(d for d in fixed_week["race_time_descriptors"] if not d["repeating"])
    removed_time = descriptor["session_times"].pop()
    counts = sync(body)
    # Then the week and the slots are gone from the store, and nothing else changed
    after = partition(sid)
    gone = stored.keys() - after.keys()
    assert f"WEEK#{dropped_week['race_week_num']:03d}" in gone
    assert any(k.startswith(f"SLOT#{fixed_week['race_week_num']:03d}#{removed_time}") for k in gone)
    assert counts.deleted == len(gone) and not after.keys() - stored.keys()


def test_the_same_season_gives_the_same_items_from_either_endpoint(table: None) -> None:
    # Given a season stored from series/seasons
    body = season_body()
    sync(body)
    before = partition(5376)
    # When the same season arrives in the season_schedule shape (weeks only, as that endpoint answers)
    from iracing_sync.store import seasons

    schedule_shape = {"success": True, "season_id": 5376, "schedules": body["schedules"]}
    facts = seasons.get_season_facts(5376)
    assert facts is not None
    merged = {**facts.model_dump(mode="json", exclude_none=True), **schedule_shape}
    counts = sync(merged)
    # Then nothing changes: every item is identical
    assert counts.written == 0 and partition(5376) == before


def test_two_concurrent_syncs_leave_exactly_the_items_of_one(table: None) -> None:
    # Given two different versions of the same season
    a, b = season_body(), season_body()
    for week in b["schedules"][:6]:
        week["track"] = {"track_id": 1, "track_name": "Variant B", "config_name": None}
    b["schedules"].pop()
    expected = {}
    for name, body in (("a", a), ("b", b)):
        from iracing_sync.store import schema

        sync(body)
        expected[name] = partition(5376)
        Item(pk=schema.season_key(5376), sk="VERSION").delete()
        for sk in list(partition(5376)):
            Item(pk=schema.season_key(5376), sk=sk).delete()
    assert expected["a"] != expected["b"]

    # When both are synced at the same time, each retried on ConcurrentUpdate as Step Functions would
    errors: list[BaseException] = []

    def worker(body: dict[str, Any]) -> None:
        for _ in range(10):
            try:
                sync(body)
                return
            except ConcurrentUpdate:
                continue
            except BaseException as exc:  # surfaced below: a thread cannot fail the test itself
                errors.append(exc)
                return

    for _ in range(5):
        threads = [threading.Thread(target=worker, args=(copy.deepcopy(x),)) for x in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # Then the partition is exactly one version's items, never a mix
        assert not errors
        assert partition(5376) in (expected["a"], expected["b"])


def test_a_week_keeps_track_bop_weather_and_cars_as_iracing_sent_them(table: None) -> None:
    from iracing_sync.store import seasons

    # Given the real IMSA season_schedule (BOP car_restrictions with fractional values, weather)
    body = load_sample("series_season_schedule.json")
    sync(body)
    # When its weeks are read back as the API shows them
    stored = seasons.get_season(5935)
    assert stored is not None
    for raw, item in zip(body["schedules"], stored.weeks, strict=True):
        week = week_out(item).model_dump(mode="json")
        # Then track, config, dates, BOP, weather summary and limits are iRacing's values
        assert week["track_id"] == raw["track"]["track_id"] and week["config_name"] == raw["track"].get("config_name")
        assert week["start_date"] == raw["start_date"] and week["week_end_time"] == raw["week_end_time"]
        assert week["weather_summary"] == raw["weather"]["weather_summary"]
        assert [r["car_id"] for r in week["car_restrictions"]] == [r["car_id"] for r in raw["car_restrictions"]]
        for ours, theirs in zip(week["car_restrictions"], raw["car_restrictions"], strict=True):
            assert ours["max_pct_fuel_fill"] == theirs["max_pct_fuel_fill"]
            assert ours["power_adjust_pct"] == theirs["power_adjust_pct"]
        assert week.get("race_lap_limit") == raw["race_lap_limit"]
        assert week.get("race_time_limit") == raw["race_time_limit"]


def test_repeated_and_two_concurrent_syncs_of_the_snapshot_leave_the_identical_item_set(table: None) -> None:
    from iracing_sync.store import schema, season_writes

    seasons = load_sample("series_seasons.json")
    # Processing is pure and deterministic; what must hold across repeats is the store's reconciliation.
    records = [ScheduleProcessor().process(season) for season in parse_schedule_body(seasons)]

    def sync_all() -> None:
        for record in records:
            for _ in range(10):  # a concurrent twin may win a season's version race: retry as Step Functions would
                try:
                    season_writes.put_season(record)
                    break
                except ConcurrentUpdate:
                    continue

    def item_set() -> dict[tuple[str, str], str | None]:
        return {
            (i.pk, i.sk): i.content_hash
            for s in seasons
            for i in Item.query(schema.season_key(s["season_id"]))
            if not isinstance(i, SeasonVersionItem)
        }

    # Given the snapshot synced once
    sync_all()
    first = item_set()
    # When it is synced 3 more times (the code is deterministic: more repeats would only take longer), then
    # twice at the same time
    for _ in range(3):
        sync_all()
    assert item_set() == first
    threads = [threading.Thread(target=sync_all) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then the item set is identical to the first sync's
    assert item_set() == first
