"""Sync use cases, one function per state machine task; handlers call exactly one of these.

Each task records its outcome under its run (``outcomes.record``) and returns only what the next state needs.
"""

from __future__ import annotations

import time
import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from iracing_sync import archive, outcomes
from iracing_sync.client import IracingClient
from iracing_sync.errors import IracingSyncError, MalformedPayload, PermanentError
from iracing_sync.forecast_sync import forecast_clock, forecasts_due, sync_forecasts
from iracing_sync.models.base import validation_summary
from iracing_sync.models.catalog import Car, Series, TrackConfig
from iracing_sync.models.iracing import IracingModel
from iracing_sync.models.iracing_bodies import CarClass
from iracing_sync.models.records import ListingState, SeasonRecord
from iracing_sync.models.tasks import (
    GuideReport,
    ListCurrentSeasonsEvent,
    ListPastSeasonsEvent,
    ListSeriesEvent,
    ReconcileGuideEvent,
    RecordFailureEvent,
    RecordRunEvent,
    RunOutcome,
    SeasonDrift,
    SyncReferenceEvent,
    SyncSeasonEvent,
    SyncSeriesEvent,
    run_id_of,
)
from iracing_sync.observability import logger
from iracing_sync.outcomes import record, record_failure
from iracing_sync.recurrence import expand
from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body
from iracing_sync.settings import get_settings
from iracing_sync.sources import archived, fetch, new_client, shared_archive
from iracing_sync.store import catalog, guide, listing, schema, season_writes, seasons, slot_sources
from iracing_sync.store.season_writes import Stored, stored_versions
from iracing_sync.weather import forecast_object

# The scope of the race guide's check of its re-synced seasons (sync.verify_guide), recorded under the run.
VERIFY_SCOPE = "GUIDE#VERIFY"


def list_current_seasons(event: ListCurrentSeasonsEvent) -> dict[str, Any]:
    """Fetch every active season with its schedule in one request and list the seasons that changed.

    Change detection before the fan-out: each season's raw body is hashed and compared with the hash its last
    sync stored (one BatchGetItem per 100 seasons); only new or changed seasons become Map items, and seasons with a
    week's forecast due that their sync has not fetched (a week entering the horizon, or a new forecast). A listing
    equal to the last one but for the re-signed weather_url links, that sends no season on, is not archived again.
    Seasons that left the listing are marked inactive.
    """
    client = new_client()
    body = client.get("series/seasons")
    if not isinstance(body, list):
        raise MalformedPayload(f"series/seasons: expected an array, got {type(body).__name__}")
    raws = {i: raw for raw in body if isinstance(raw, dict) and isinstance(i := _season_id(raw), int)}
    ids = sorted(raws)
    last = listing.get_listing()
    whole = archive.unsigned_digest(body)
    stored = stored_versions(ids)
    processor = ScheduleProcessor(catalog.cached_car_catalog())
    now = forecast_clock()  # (what a season's sync depends on the time for: which forecasts are due)
    changed = [i for i in ids if event.force or _needs_sync(raws[i], stored[i], processor, now)]
    if last is not None and last.digest == whole and not changed:
        key = last.archive_key  # (an unchanged hour: iRacing re-signed its weather links, nothing else moved)
    else:  # the Map items read it: their forecasts need the links as iRacing signed them now
        key = shared_archive().put("series/seasons", {}, body)
    left = sorted(set(last.season_ids) - set(ids)) if last is not None else []
    inactive = season_writes.mark_inactive(left)
    if last is None or last.digest != whole or last.archive_key != key:
        listing.put_listing(ListingState(digest=whole, archive_key=key, season_ids=ids))
    logger.info(
        "active seasons listed",
        extra={"seasons": len(ids), "changed": len(changed), "inactive": inactive, "archive_key": key},
    )
    outcome = RunOutcome(
        scope="LISTING",
        api_requests=client.api_requests,
        seasons_unchanged=len(ids) - len(changed),
        expects=[f"SEASON#{i}" for i in changed],
    )
    record(event.execution_id, outcome)
    return {"archive_key": key, "season_ids": changed}


def record_hash(record: SeasonRecord, processor: ScheduleProcessor) -> str:
    """What a season's stored items derive from: the record its body yields, and the processor that built it.

    Only what is stored counts: fields iRacing changes by itself every week or hour (race_week, reg_user_count...)
    never reach the record, so they never make a season look changed. A new car catalog (a car renamed) or
    processor format changes every hash once, and every season is rewritten once.
    """
    return archive.digest({"record": record.model_dump(mode="json"), "processor": processor.version})


def _needs_sync(raw: Any, stored: Stored, processor: ScheduleProcessor, now: datetime) -> bool:
    """Whether a listed season goes on: what its body yields differs from what is stored, or a week's forecast is
    due that its last sync did not fetch (its object differs from the one noted on VERSION)."""
    try:
        season = parse_schedule_body(raw)[0]
        digest = record_hash(processor.process(season), processor)
    except MalformedPayload:
        return True  # (its sync task then reports why)
    if stored.body_hash != digest:
        return True
    due = forecasts_due(season, now)
    return any(stored.forecasts.get(week) != forecast_object(url) for week, (url, _) in due.items())


def _season_id(raw: dict[str, Any]) -> Any:
    """A raw season's ID, in iRacing's snake case or a community dump's camel case."""
    return raw.get("season_id", raw.get("seasonId"))


def _raw_season(body: Any, season_id: int) -> Any:
    """The one season of a raw body, so a malformed neighbour cannot sink this season."""
    if isinstance(body, list):
        for raw in body:
            if isinstance(raw, dict) and _season_id(raw) == season_id:
                return raw
        raise PermanentError(f"season {season_id} is not in the archived series/seasons body")
    return body


def _past_season_meta(body: Any, season_id: int) -> dict[str, Any]:
    """A season's own facts from a series/past_seasons body (without its race_weeks)."""
    seasons = body.get("series", {}).get("seasons") if isinstance(body, dict) else None
    for raw in seasons or []:
        if isinstance(raw, dict) and raw.get("season_id") == season_id:
            return {k: v for k, v in raw.items() if k not in ("race_weeks", "schedules")}
    raise PermanentError(f"season {season_id} is not in the archived series/past_seasons body")


def sync_season(event: SyncSeasonEvent) -> dict[str, Any]:
    """Store one season exactly as iRacing has it (from the archive, or fetched by ID)."""
    logger.append_keys(season_id=event.season_id)
    client: IracingClient | None = None
    if event.archive_key:
        key = event.archive_key
        body = _raw_season(archived(shared_archive().location, key), event.season_id)
    else:
        client = new_client()
        body, key = fetch(client, "series/season_schedule", season_id=event.season_id)
        if isinstance(body, dict):
            # season_schedule carries weeks only: take the season's facts from past_seasons or from
            # what is stored, so the same season gives the same items whichever endpoint it came from.
            facts = (
                _past_season_meta(archived(shared_archive().location, event.meta_key), event.season_id)
                if event.meta_key
                else {}
            )
            stored = seasons.get_season_facts(event.season_id)
            known = stored.model_dump(mode="json", exclude_none=True) if stored is not None else {}
            body = {**known, **facts, **body}
    parsed = parse_schedule_body(body)
    season = next((s for s in parsed if s.season_id == event.season_id), None)
    if season is None:
        raise PermanentError(f"season {event.season_id}: not in the schedule body")
    logger.append_keys(series_id=season.series_id)
    # The week items name their cars from the stored catalog (cached by the warm function), so answers read no catalog.
    processor = ScheduleProcessor(catalog.cached_car_catalog())
    processed = processor.process(season)
    # Ordered by fetch time: a retry of an older archived body never overwrites what a newer fetch stored. The hash
    # is what the next listing compares this season with.
    counts = season_writes.put_season(
        processed, fetched_at=archive.fetched_at(key), body_hash=record_hash(processed, processor)
    )
    client, fetched, failed = sync_forecasts(season, client)
    logger.info(
        "season synced",
        extra={"written": counts.written, "deleted": counts.deleted, "forecasts": fetched, "forecasts_failed": failed},
    )
    return record(
        event.execution_id,
        RunOutcome(
            scope=f"SEASON#{event.season_id}",
            season_id=event.season_id,
            series_id=season.series_id,
            api_requests=client.api_requests if client else 0,
            items_written=counts.written,
            items_unchanged=counts.unchanged,
            items_deleted=counts.deleted,
            stale=counts.stale,
        ),
    )


def _task_outcome(name: str, client: IracingClient, *counts: schema.WriteCounts) -> RunOutcome:
    total = schema.WriteCounts()
    for c in counts:
        total += c
    return RunOutcome(
        scope=f"TASK#{name}",
        api_requests=client.api_requests,
        items_written=total.written,
        items_unchanged=total.unchanged,
        items_deleted=total.deleted,
    )


def _by_id(body: Any, endpoint: str) -> dict[str, Any]:
    """An assets body ({"<id>": {...}}) checked for shape."""
    if not isinstance(body, dict):
        raise MalformedPayload(f"{endpoint}: expected an object keyed by ID, got {type(body).__name__}")
    return body


def _validated[M: IracingModel](model: type[M], raws: Any, endpoint: str, assets: dict[str, Any], key: str) -> list[M]:
    """Validate each element of a list body merged with its asset entry; one bad element fails loudly."""
    if not isinstance(raws, list):
        raise MalformedPayload(f"{endpoint}: expected an array, got {type(raws).__name__}")
    out = []
    for raw in raws:
        if not isinstance(raw, dict):
            raise MalformedPayload(f"{endpoint}: expected objects, got {type(raw).__name__}")
        asset = assets.get(str(raw.get(key)))
        # Asset fields fill gaps only: the data endpoint wins where both have a field.
        merged = {**{k: v for k, v in asset.items() if v is not None}, **raw} if isinstance(asset, dict) else raw
        try:
            out.append(model.model_validate(merged))
        except ValidationError as exc:
            raise MalformedPayload(f"{endpoint} {key}={raw.get(key)!r}: {validation_summary(exc)}") from exc
    return out


def sync_series(event: SyncSeriesEvent) -> dict[str, Any]:
    """Store every series with its logos (series/get + series/assets: 2 requests)."""
    client = new_client()
    body, _ = fetch(client, "series/get")
    assets = _by_id(fetch(client, "series/assets")[0], "series/assets")
    series = _validated(Series, body, "series/get", assets, "series_id")
    counts = catalog.put_series(series)
    return record(event.execution_id, _task_outcome("series", client, counts))


def sync_reference(event: SyncReferenceEvent) -> dict[str, Any]:
    """Store car classes (with car IDs), cars (with assets) and tracks (with SVG map layers): 5 requests."""
    client = new_client()
    classes = _validated(CarClass, fetch(client, "carclass/get")[0], "carclass/get", {}, "car_class_id")
    car_assets = _by_id(fetch(client, "car/assets")[0], "car/assets")
    cars = _validated(Car, fetch(client, "car/get")[0], "car/get", car_assets, "car_id")
    track_assets = _by_id(fetch(client, "track/assets")[0], "track/assets")
    tracks = _validated(TrackConfig, fetch(client, "track/get")[0], "track/get", track_assets, "track_id")
    # Cars and tracks before classes: a class names its cars, and the catalog digest it records (names and packages)
    # must match the stored cars and tracks.
    counts = (catalog.put_cars(cars), catalog.put_tracks(tracks), catalog.put_car_classes(classes, cars, tracks))
    return record(event.execution_id, _task_outcome("reference", client, *counts))


def list_series_ids(event: ListSeriesEvent) -> dict[str, Any]:
    """Every series ID (series/get: 1 request), to fan a backfill out over."""
    client = new_client()
    body, _ = fetch(client, "series/get")
    if not isinstance(body, list):
        raise MalformedPayload(f"series/get: expected an array, got {type(body).__name__}")
    ids = sorted({s["series_id"] for s in body if isinstance(s, dict) and isinstance(s.get("series_id"), int)})
    outcome = RunOutcome(scope="LISTING", api_requests=client.api_requests, expects=[f"SERIES#{i}" for i in ids])
    record(event.execution_id, outcome)
    return {"series_ids": ids}


def list_past_seasons(event: ListPastSeasonsEvent) -> dict[str, Any]:
    """The past season IDs of one series (series/past_seasons: 1 request), with the archived body's key."""
    logger.append_keys(series_id=event.series_id)
    client = new_client()
    body, key = fetch(client, "series/past_seasons", series_id=event.series_id)
    seasons = body.get("series", {}).get("seasons") if isinstance(body, dict) else None
    if not isinstance(seasons, list):
        raise MalformedPayload(f"series/past_seasons series_id={event.series_id}: no series.seasons array")
    ids = sorted({s["season_id"] for s in seasons if isinstance(s, dict) and isinstance(s.get("season_id"), int)})
    outcome = RunOutcome(
        scope=f"SERIES#{event.series_id}",
        series_id=event.series_id,
        api_requests=client.api_requests,
        expects=[f"SEASON#{i}" for i in ids],
    )
    record(event.execution_id, outcome)
    return {"series_id": event.series_id, "season_ids": ids, "meta_key": key}


def reconcile_guide(event: ReconcileGuideEvent) -> dict[str, Any]:
    """Fetch iRacing's race guide (one request, never within a minute of the last), store its sessions (only what
    moved), match each to the slot the stored weeks predict, and name the seasons to sync at once.

    Returns ``skipped`` (another poll ran under a minute ago: nothing fetched), the guide's archive key and the
    seasons to re-sync (drifting ones, then ones not stored at all; at most race_guide.MAX_RESYNCS).
    """
    from iracing_sync import race_guide

    poller = run_id_of(event.execution_id) or f"manual-{uuid.uuid4().hex}"
    claim = guide.claim_poll(poller, time.time(), get_settings().race_guide_min_seconds)
    if not claim.granted:
        logger.info("race guide polled under a minute ago: nothing fetched")
        return {"skipped": True, "archive_key": None, "resync": [], "resync_needed": False}
    client = new_client()
    body, key = fetch(client, "season/race_guide")
    polled = race_guide.parse_guide(body)
    fetched = archive.fetched_at(key)
    counts = guide.put_guide(polled.sessions, polled.block_begin, polled.block_end, fetched, claim.held)
    slots = expand(
        slot_sources.slot_sources_between(polled.block_begin, polled.block_end).patterns,
        polled.block_begin,
        polled.block_end,
    )
    report = race_guide.compare(polled, slots, lambda season_ids: catalog.unknown("season", season_ids))
    report.resynced = race_guide.seasons_to_resync(report, turn=int(fetched.timestamp() // 60))
    logger.info(
        "race guide reconciled",
        extra={
            "sessions": report.sessions,
            "matched": report.matched,
            "drifting": report.drifting,
            "unknown_seasons": len(report.unknown_seasons),
            "written": counts.written,
        },
    )
    outcome = RunOutcome(
        scope="GUIDE",
        api_requests=client.api_requests,
        items_written=counts.written,
        items_unchanged=counts.unchanged,
        items_deleted=counts.deleted,
        guide=report,
        expects=[f"SEASON#{i}" for i in report.resynced],
    )
    record(event.execution_id, outcome)
    return {"skipped": False, "archive_key": key, "resync": report.resynced, "resync_needed": bool(report.resynced)}


def record_run(event: RecordRunEvent) -> dict[str, Any]:
    """Record the run (``outcomes.record_run``); a race-guide run that re-synced seasons first checks them against the
    guide it fetched (``verify_guide``). A check that fails is recorded as that task's failure: the run is still
    recorded."""
    if event.guide_key and event.resynced:
        try:
            verify_guide(event.execution_id, event.guide_key, event.resynced)
        except IracingSyncError as exc:
            caught = {"Error": type(exc).__name__, "Cause": str(exc)}
            record_failure(
                RecordFailureEvent(
                    action="record_failure", scope=VERIFY_SCOPE, error=caught, execution_id=event.execution_id
                )
            )
    return outcomes.record_run(event)


def verify_guide(execution_id: str | None, archive_key: str, season_ids: list[int]) -> dict[str, Any]:
    """After the re-sync of ``season_ids``, predict their starts again and compare them with the same race guide
    (archived under ``archive_key``): a season that matches it now is healed; one that still does not stays
    drifting (and alarms)."""
    from iracing_sync import race_guide

    polled = race_guide.parse_guide(archived(shared_archive().location, archive_key))
    listed = polled.keys_by_season()
    report = GuideReport()
    for season_id in sorted(set(season_ids)):
        sources = slot_sources.season_slot_sources(season_id)
        if sources is None:  # still not stored: its sync failed, and the run reports why
            continue
        predicted = race_guide.predicted_keys(polled, expand(sources.patterns, polled.block_begin, polled.block_end))
        drift = race_guide.drift_of(season_id, listed.get(season_id, set()), predicted.get(season_id, set()))
        if drift is None:
            report.healed.append(season_id)
            report.drift.append(SeasonDrift(season_id=season_id, healed=True))
        else:
            report.drifting.append(season_id)
            report.drift.append(drift.model_copy(update={"healed": False}))
    logger.info("race guide verified", extra={"healed": report.healed, "still_drifting": report.drifting})
    return record(execution_id, RunOutcome(scope=VERIFY_SCOPE, guide=report))
