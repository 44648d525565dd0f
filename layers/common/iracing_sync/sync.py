"""Sync use cases, one function per state machine task; handlers call exactly one of these.

Each task records its outcome under its run (``outcomes.record``) and returns only what the next state needs.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from iracing_sync import archive, store
from iracing_sync.archive import Archive
from iracing_sync.client import FORECAST_ENDPOINT, Credentials, IracingClient, ReplayClient, parse_credentials
from iracing_sync.errors import MalformedPayload, PermanentError, RetryableError
from iracing_sync.models.base import validation_summary
from iracing_sync.models.iracing import Car, CarClass, IracingModel, Series, TrackConfig
from iracing_sync.models.iracing_bodies import Season
from iracing_sync.models.records import ListingState, SeasonRecord
from iracing_sync.models.tasks import (
    GuideReport,
    ListCurrentSeasonsEvent,
    ListPastSeasonsEvent,
    ListSeriesEvent,
    ReconcileGuideEvent,
    RunOutcome,
    SeasonDrift,
    SyncReferenceEvent,
    SyncSeasonEvent,
    SyncSeriesEvent,
    VerifyGuideEvent,
    run_id_of,
)
from iracing_sync.observability import logger, metrics
from iracing_sync.outcomes import record
from iracing_sync.recurrence import expand
from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body
from iracing_sync.settings import Settings, get_settings
from iracing_sync.store import forecasts
from iracing_sync.store.season_writes import Stored, stored_versions
from iracing_sync.weather import forecast_due, forecast_hours, forecast_object, week_bounds

# A week's stored forecast is kept this long after its week ends (then DynamoDB's TTL deletes it).
FORECAST_KEPT_FOR = timedelta(days=7)


def load_credentials(settings: Settings) -> Credentials:
    """iRacing credentials: Secrets Manager in AWS, else a local file (outside the repo), else the environment.

    Errors name where the credentials were looked for, never a value.
    """
    if settings.iracing_secret_name:
        from aws_lambda_powertools.utilities import parameters
        from botocore.exceptions import ClientError

        try:
            # Cached for 5 minutes across warm invocations: a sync's many Lambdas cost few Secrets Manager calls.
            secret = parameters.get_secret(settings.iracing_secret_name, transform="json", max_age=300)
        except parameters.exceptions.TransformParameterError as exc:
            raise MalformedPayload(f"secret {settings.iracing_secret_name} is not JSON") from exc
        except parameters.exceptions.GetParameterError as exc:
            # Powertools wraps the AWS error (implicitly chained): a missing or forbidden secret stays so.
            cause = exc.__cause__ or exc.__context__
            code = cause.response.get("Error", {}).get("Code") if isinstance(cause, ClientError) else None
            if code in ("ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure"):
                raise PermanentError(f"cannot read secret {settings.iracing_secret_name}: {code}") from exc
            raise RetryableError(f"cannot read secret {settings.iracing_secret_name} now; retry") from exc
        return parse_credentials(secret)
    if settings.iracing_credentials_file:
        path = settings.iracing_credentials_file.expanduser().resolve()
        if any((folder / ".git").exists() for folder in path.parents):
            # One `git add .` away from publishing the password: refuse instead of warning.
            raise PermanentError(f"credentials file {path} is inside a git repository; keep it outside the repo")
        try:
            return parse_credentials(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise PermanentError(f"cannot read credentials file {path}") from exc
    env = {
        "username": settings.iracing_username,
        "password": settings.iracing_password,
        "client_id": settings.iracing_client_id,
        "client_secret": settings.iracing_client_secret,
    }
    missing = [f"IRACING_{key.upper()}" for key, value in env.items() if not value]
    if len(missing) == len(env):
        raise PermanentError("no iRacing credentials: set IRACING_SECRET_NAME, IRACING_CREDENTIALS_FILE or IRACING_*")
    if missing:
        raise PermanentError(f"incomplete iRacing credentials: {', '.join(missing)} not set")
    return parse_credentials(env)


def new_client() -> IracingClient:
    """A client for one invocation (its request counter starts at 0).

    Tokens and the rate budget are shared through DynamoDB, so a new client per invocation costs no login.
    With IRACING_REPLAY set, the client answers from that archive and sends nothing to iRacing.
    """
    settings = get_settings()
    if settings.iracing_replay:
        return ReplayClient(Archive(settings, location=settings.iracing_replay))
    return IracingClient(settings, load_credentials(settings))


@lru_cache(maxsize=1)
def _archive() -> Archive:
    return Archive(get_settings())


@lru_cache(maxsize=2)
def _archived(location: str, key: str) -> Any:
    """An archived body, parsed once per process. Shared between calls: read it, never change it."""
    # Archived bodies are written once under keys carrying their fetch time, so keeping one is safe; a warm
    # Lambda serving many Map items of a run (a season each, all from one series/seasons body of several MB)
    # then fetches and parses it once instead of once per season. Two: a season reads a body and a listing.
    return Archive(get_settings(), location=location).get(key)


def _fetch(client: IracingClient, endpoint: str, **params: Any) -> tuple[Any, str]:
    body = client.get(endpoint, **params)
    return body, _archive().put(endpoint, params, body)


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
    last = store.get_listing()
    whole = archive.unsigned_digest(body)
    stored = stored_versions(ids)
    processor = ScheduleProcessor(store.cached_car_catalog())
    now = datetime.now(UTC)
    changed = [i for i in ids if event.force or _needs_sync(raws[i], stored[i], processor, now)]
    if last is not None and last.digest == whole and not changed:
        key = last.archive_key  # (an unchanged hour: iRacing re-signed its weather links, nothing else moved)
    else:  # the Map items read it: their forecasts need the links as iRacing signed them now
        key = _archive().put("series/seasons", {}, body)
    left = sorted(set(last.season_ids) - set(ids)) if last is not None else []
    inactive = store.mark_inactive(left)
    if last is None or last.digest != whole or last.archive_key != key:
        store.put_listing(ListingState(digest=whole, archive_key=key, season_ids=ids))
    metrics.add_metric(name="ActiveSeasonsListed", unit="Count", value=len(ids))
    metrics.add_metric(name="SeasonsChanged", unit="Count", value=len(changed))
    logger.info(
        "active seasons listed",
        extra={"seasons": len(ids), "changed": len(changed), "inactive": inactive, "archive_key": key},
    )
    listing = RunOutcome(
        scope="LISTING",
        api_requests=client.api_requests,
        seasons_unchanged=len(ids) - len(changed),
        expects=[f"SEASON#{i}" for i in changed],
    )
    record(event.execution_id, listing)
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


def forecasts_due(season: Season, now: datetime) -> dict[int, tuple[str, datetime]]:
    """The weeks whose forecast is fetched at ``now`` (running or starting within the horizon, with a weather_url):
    race_week_num -> (its weather_url, when its week ends)."""
    due = {}
    for week in season.schedules:
        url = week.weather.weather_url if week.weather else None
        bounds = week_bounds(week.start_date, week.week_end_time)
        if url and bounds is not None and forecast_due(bounds, now):
            due[week.race_week_num] = (url, bounds[1])
    return due


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
        body = _raw_season(_archived(_archive().location, key), event.season_id)
    else:
        client = new_client()
        body, key = _fetch(client, "series/season_schedule", season_id=event.season_id)
        if isinstance(body, dict):
            # season_schedule carries weeks only: take the season's facts from past_seasons or from
            # what is stored, so the same season gives the same items whichever endpoint it came from.
            facts = (
                _past_season_meta(_archived(_archive().location, event.meta_key), event.season_id)
                if event.meta_key
                else {}
            )
            stored = store.get_season_facts(event.season_id)
            known = stored.model_dump(mode="json", exclude_none=True) if stored is not None else {}
            body = {**known, **facts, **body}
    seasons = parse_schedule_body(body)
    season = next((s for s in seasons if s.season_id == event.season_id), None)
    if season is None:
        raise PermanentError(f"season {event.season_id}: not in the schedule body")
    logger.append_keys(series_id=season.series_id)
    # The week items name their cars from the stored catalog (cached by the warm function), so answers read no catalog.
    processor = ScheduleProcessor(store.cached_car_catalog())
    processed = processor.process(season)
    # Ordered by fetch time: a retry of an older archived body never overwrites what a newer fetch stored. The hash
    # is what the next listing compares this season with.
    counts = store.put_season(
        processed, fetched_at=archive.fetched_at(key), body_hash=record_hash(processed, processor)
    )
    client, fetched, failed = _sync_forecasts(season, client)
    metrics.add_metric(name="SeasonsSynced", unit="Count", value=1)
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


def _sync_forecasts(season: Season, client: IracingClient | None) -> tuple[IracingClient | None, int, int]:
    """Fetch the forecasts due of a stored season (running or starting within the horizon) that are not stored yet
    for the object its weather_url names: once per week and object, whatever the link's signature. One that cannot
    be fetched or parsed is stored as such and never fails the season (a transient failure is tried again by the
    next run). Returns the client (made on the first fetch), and how many were fetched and failed."""
    due = forecasts_due(season, datetime.now(UTC))
    if not due:
        return client, 0, 0
    handled = forecasts.handled_forecasts(season.season_id)
    fetched = failed = 0
    for week, (url, ends) in sorted(due.items()):
        target = forecast_object(url)
        if handled.get(week) == target:
            continue
        client = client or new_client()
        at = datetime.now(UTC)
        where = {"season_id": season.season_id, "race_week_num": week}
        purge = ends + FORECAST_KEPT_FOR
        try:
            body = client.forecast(url, **where)
            _archive().put(FORECAST_ENDPOINT, where, body, fetched_at=at)
            hours = forecast_hours(body)
        except RetryableError as exc:  # an expired link, a timeout, S3 down: the next run tries again
            forecasts.put_forecast(season.season_id, week, target, at, purge, error=str(exc), transient=True)
            failed += 1
            logger.warning("forecast not fetched", extra={"race_week_num": week, "reason": str(exc)})
            continue
        except PermanentError as exc:  # refused, or not a forecast: recorded, not fetched again for this object
            forecasts.put_forecast(season.season_id, week, target, at, purge, error=str(exc))
            handled[week] = target
            failed += 1
            logger.warning("forecast unusable", extra={"race_week_num": week, "reason": str(exc)})
            continue
        forecasts.put_forecast(season.season_id, week, target, at, purge, hours=hours)
        handled[week] = target
        fetched += 1
    forecasts.note_forecasts(season.season_id, {week: handled[week] for week in due if week in handled})
    return client, fetched, failed


def _task_outcome(name: str, client: IracingClient, *counts: store.WriteCounts) -> RunOutcome:
    total = store.WriteCounts()
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
    body, _ = _fetch(client, "series/get")
    assets = _by_id(_fetch(client, "series/assets")[0], "series/assets")
    series = _validated(Series, body, "series/get", assets, "series_id")
    counts = store.put_series(series)
    metrics.add_metric(name="SeriesSynced", unit="Count", value=len(series))
    return record(event.execution_id, _task_outcome("series", client, counts))


def sync_reference(event: SyncReferenceEvent) -> dict[str, Any]:
    """Store car classes (with car IDs), cars (with assets) and tracks (with SVG map layers): 5 requests."""
    client = new_client()
    classes = _validated(CarClass, _fetch(client, "carclass/get")[0], "carclass/get", {}, "car_class_id")
    car_assets = _by_id(_fetch(client, "car/assets")[0], "car/assets")
    cars = _validated(Car, _fetch(client, "car/get")[0], "car/get", car_assets, "car_id")
    track_assets = _by_id(_fetch(client, "track/assets")[0], "track/assets")
    tracks = _validated(TrackConfig, _fetch(client, "track/get")[0], "track/get", track_assets, "track_id")
    # Cars and tracks before classes: a class names its cars, and the catalog digest it records (names and packages)
    # must match the stored cars and tracks.
    counts = (store.put_cars(cars), store.put_tracks(tracks), store.put_car_classes(classes, cars, tracks))
    metrics.add_metric(name="ReferenceItemsSynced", unit="Count", value=len(classes) + len(cars) + len(tracks))
    return record(event.execution_id, _task_outcome("reference", client, *counts))


def list_series_ids(event: ListSeriesEvent) -> dict[str, Any]:
    """Every series ID (series/get: 1 request), to fan a backfill out over."""
    client = new_client()
    body, _ = _fetch(client, "series/get")
    if not isinstance(body, list):
        raise MalformedPayload(f"series/get: expected an array, got {type(body).__name__}")
    ids = sorted({s["series_id"] for s in body if isinstance(s, dict) and isinstance(s.get("series_id"), int)})
    metrics.add_metric(name="SeriesListed", unit="Count", value=len(ids))
    listing = RunOutcome(scope="LISTING", api_requests=client.api_requests, expects=[f"SERIES#{i}" for i in ids])
    record(event.execution_id, listing)
    return {"series_ids": ids}


def list_past_seasons(event: ListPastSeasonsEvent) -> dict[str, Any]:
    """The past season IDs of one series (series/past_seasons: 1 request), with the archived body's key."""
    logger.append_keys(series_id=event.series_id)
    client = new_client()
    body, key = _fetch(client, "series/past_seasons", series_id=event.series_id)
    seasons = body.get("series", {}).get("seasons") if isinstance(body, dict) else None
    if not isinstance(seasons, list):
        raise MalformedPayload(f"series/past_seasons series_id={event.series_id}: no series.seasons array")
    ids = sorted({s["season_id"] for s in seasons if isinstance(s, dict) and isinstance(s.get("season_id"), int)})
    metrics.add_metric(name="PastSeasonsListed", unit="Count", value=len(ids))
    listing = RunOutcome(
        scope=f"SERIES#{event.series_id}",
        series_id=event.series_id,
        api_requests=client.api_requests,
        expects=[f"SEASON#{i}" for i in ids],
    )
    record(event.execution_id, listing)
    return {"series_id": event.series_id, "season_ids": ids, "meta_key": key}


def reconcile_guide(event: ReconcileGuideEvent) -> dict[str, Any]:
    """Fetch iRacing's race guide (one request, never within a minute of the last), store its sessions (only what
    moved), match each to the slot the stored weeks predict, and name the seasons to sync at once.

    Returns ``skipped`` (another poll ran under a minute ago: nothing fetched), the guide's archive key and the
    seasons to re-sync (drifting ones, then ones not stored at all; at most race_guide.MAX_RESYNCS).
    """
    from iracing_sync import race_guide

    poller = run_id_of(event.execution_id) or f"manual-{uuid.uuid4().hex}"
    claim = store.claim_poll(poller, time.time(), get_settings().race_guide_min_seconds)
    if not claim.granted:
        logger.info("race guide polled under a minute ago: nothing fetched")
        return {"skipped": True, "archive_key": None, "resync": [], "resync_needed": False}
    client = new_client()
    body, key = _fetch(client, "season/race_guide")
    guide = race_guide.parse_guide(body)
    fetched = archive.fetched_at(key)
    counts = store.put_guide(guide.sessions, guide.block_begin, guide.block_end, fetched, claim.held)
    slots = expand(
        store.slot_sources_between(guide.block_begin, guide.block_end).patterns, guide.block_begin, guide.block_end
    )
    report = race_guide.compare(guide, slots, lambda season_ids: store.unknown("season", season_ids))
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


def verify_guide(event: VerifyGuideEvent) -> dict[str, Any]:
    """After the re-sync of ``season_ids``, predict their starts again and compare them with the same race guide:
    a season that matches it now is healed; one that still does not stays drifting (and alarms)."""
    from iracing_sync import race_guide

    guide = race_guide.parse_guide(_archived(_archive().location, event.archive_key))
    listed = guide.keys_by_season()
    report = GuideReport()
    for season_id in sorted(set(event.season_ids)):
        sources = store.season_slot_sources(season_id)
        if sources is None:  # still not stored: its sync failed, and the run reports why
            continue
        predicted = race_guide.predicted_keys(guide, expand(sources.patterns, guide.block_begin, guide.block_end))
        drift = race_guide.drift_of(season_id, listed.get(season_id, set()), predicted.get(season_id, set()))
        if drift is None:
            report.healed.append(season_id)
            report.drift.append(SeasonDrift(season_id=season_id, healed=True))
        else:
            report.drifting.append(season_id)
            report.drift.append(drift.model_copy(update={"healed": False}))
    logger.info("race guide verified", extra={"healed": report.healed, "still_drifting": report.drifting})
    return record(event.execution_id, RunOutcome(scope="GUIDE#VERIFY", guide=report))
