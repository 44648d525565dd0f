"""Sync use cases, one function per state machine task; handlers call exactly one of these."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from iracing_sync import store
from iracing_sync.archive import Archive
from iracing_sync.client import Credentials, IracingClient, parse_credentials
from iracing_sync.errors import MalformedPayload, PermanentError
from iracing_sync.models import (
    ListCurrentSeasonsEvent,
    RecordRunEvent,
    RunSummary,
    SeasonOutcome,
    Series,
    SyncSeasonEvent,
)
from iracing_sync.observability import logger, metrics
from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body
from iracing_sync.settings import Settings, get_settings


def load_credentials(settings: Settings) -> Credentials:
    """iRacing credentials: Secrets Manager in AWS, else a local file, else the environment."""
    if settings.iracing_secret_name:
        from aws_lambda_powertools.utilities import parameters

        secret = parameters.get_secret(settings.iracing_secret_name, transform="json", max_age=300)
        return parse_credentials(secret)
    if settings.iracing_credentials_file:
        try:
            return parse_credentials(json.loads(settings.iracing_credentials_file.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise PermanentError(f"cannot read credentials file {settings.iracing_credentials_file}") from exc
    env = {
        "username": settings.iracing_username,
        "password": settings.iracing_password,
        "client_id": settings.iracing_client_id,
        "client_secret": settings.iracing_client_secret,
    }
    if not all(env.values()):
        raise PermanentError("no iRacing credentials: set IRACING_SECRET_NAME, IRACING_CREDENTIALS_FILE or IRACING_*")
    return parse_credentials(env)


def new_client() -> IracingClient:
    """A client for one invocation (its request counter starts at 0)."""
    settings = get_settings()
    return IracingClient(settings, load_credentials(settings))


@lru_cache(maxsize=1)
def _archive() -> Archive:
    return Archive(get_settings())


def _fetch(client: IracingClient, endpoint: str, **params: Any) -> tuple[Any, str]:
    body = client.get(endpoint, **params)
    return body, _archive().put(endpoint, params, body)


def list_current_seasons(event: ListCurrentSeasonsEvent) -> dict[str, Any]:
    """Fetch every active season with its schedule in one request; archive it; list the season IDs."""
    client = new_client()
    body, key = _fetch(client, "series/seasons")
    if not isinstance(body, list):
        raise MalformedPayload(f"series/seasons: expected an array, got {type(body).__name__}")
    ids = sorted({s["season_id"] for s in body if isinstance(s, dict) and isinstance(s.get("season_id"), int)})
    metrics.add_metric(name="ActiveSeasonsListed", unit="Count", value=len(ids))
    logger.info("active seasons listed", extra={"seasons": len(ids), "archive_key": key})
    return {"archive_key": key, "season_ids": ids, "api_requests": client.api_requests}


def _raw_season(body: Any, season_id: int) -> Any:
    """The one season of a raw body, so a malformed neighbour cannot sink this season."""
    if isinstance(body, list):
        for raw in body:
            if isinstance(raw, dict) and raw.get("season_id", raw.get("seasonId")) == season_id:
                return raw
        raise PermanentError(f"season {season_id} is not in the archived series/seasons body")
    return body


def sync_season(event: SyncSeasonEvent) -> SeasonOutcome:
    """Store one season exactly as iRacing has it (from the archive, or fetched by ID)."""
    logger.append_keys(season_id=event.season_id)
    client: IracingClient | None = None
    if event.archive_key:
        body = _archive().get(event.archive_key)
    else:
        client = new_client()
        body, _ = _fetch(client, "series/season_schedule", season_id=event.season_id)
    seasons = parse_schedule_body(_raw_season(body, event.season_id))
    season = next((s for s in seasons if s.season_id == event.season_id), None)
    if season is None:
        raise PermanentError(f"season {event.season_id}: not in the schedule body")
    logger.append_keys(series_id=season.series_id)
    counts = store.put_season(ScheduleProcessor().process(season))
    metrics.add_metric(name="SeasonsSynced", unit="Count", value=1)
    logger.info("season synced", extra={"written": counts.written, "deleted": counts.deleted})
    return SeasonOutcome(
        season_id=event.season_id,
        api_requests=client.api_requests if client else 0,
        items_written=counts.written,
        items_unchanged=counts.unchanged,
        items_deleted=counts.deleted,
    )


def sync_series() -> dict[str, Any]:
    """Store every series with its logo (series/get + series/assets: 2 requests)."""
    client = new_client()
    body, _ = _fetch(client, "series/get")
    assets, _ = _fetch(client, "series/assets")
    if not isinstance(body, list) or not isinstance(assets, dict):
        raise MalformedPayload("series/get must be an array and series/assets an object")
    series = []
    for raw in body:
        asset = assets.get(str(raw.get("series_id"))) if isinstance(raw, dict) else None
        merged = {**raw, "logo": asset.get("logo")} if isinstance(asset, dict) else raw
        series.append(Series.model_validate(merged))
    counts = store.put_series(series)
    metrics.add_metric(name="SeriesSynced", unit="Count", value=len(series))
    return {
        "api_requests": client.api_requests,
        "items_written": counts.written,
        "items_unchanged": counts.unchanged,
        "items_deleted": counts.deleted,
        "failed": [],
    }


def record_run(event: RecordRunEvent) -> dict[str, Any]:
    """Total a run's season outcomes, record the run, return its summary."""
    started = datetime.now(UTC)
    outcomes = [o for o in event.outcomes if o is not None]
    failed = [{"season_id": o.season_id, **(o.error or {})} for o in outcomes if not o.ok]
    ok = [o for o in outcomes if o.ok]
    run_id = (event.execution_id or "").rsplit(":", 1)[-1] or uuid.uuid4().hex
    summary = RunSummary(
        run_id=run_id,
        kind=event.kind,
        status="SUCCEEDED" if not failed else "PARTIAL" if ok else "FAILED",
        api_requests=event.api_requests + sum(o.api_requests for o in outcomes),
        items_written=sum(o.items_written for o in ok),
        items_unchanged=sum(o.items_unchanged for o in ok),
        items_deleted=sum(o.items_deleted for o in ok),
        seasons_synced=len(ok),
        failed=failed,
    )
    store.put_sync_run(summary, started_at=started, finished_at=datetime.now(UTC))
    metrics.add_metric(name="SeasonsFailed", unit="Count", value=len(failed))
    return summary.model_dump()
