"""The slots HTTP API: routes, input validation and the one place errors become HTTP responses."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from iracing_sync import store
from iracing_sync.errors import AppError, InvalidInputError, NotFoundError, RetryableError, UnprocessableError
from iracing_sync.models import Slot, iso_z
from iracing_sync.observability import logger
from iracing_sync.recurrence import collate, expand_week
from iracing_sync.settings import get_settings

app = APIGatewayHttpResolver(enable_validation=True)
app.enable_swagger(path="/docs", title="iracing-sync", description="iRacing series, seasons and race time slots")

Id = Annotated[int, Path(gt=0, description="iRacing ID")]


def parse_instant(name: str, value: str) -> datetime:
    """An ISO 8601 date or date-time; naive means UTC."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            d = date.fromisoformat(value)
        except ValueError:
            raise InvalidInputError(f"{name}: {value!r} is not an ISO 8601 date/time") from None
        parsed = datetime(d.year, d.month, d.day)
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _window(start: str, end: str) -> tuple[datetime, datetime]:
    lo, hi = parse_instant("from", start), parse_instant("to", end)
    if lo >= hi:
        raise UnprocessableError("from must be before to")
    limit = timedelta(days=get_settings().max_window_days)
    if hi - lo > limit:
        raise UnprocessableError(f"the window may span at most {limit.days} days")
    return lo, hi


def slots_from(sources: store.SlotSources, lo: datetime, hi: datetime) -> list[Slot]:
    """Expand stored patterns and keep fixed slots inside [lo, hi), deduplicated and sorted."""
    repeating = (s for p in sources.patterns for s in expand_week(p, lo, hi, repeating=True))
    fixed = (s for s in sources.fixed_slots if lo <= s.start_time < hi)
    return collate([*repeating, *fixed])


@app.get("/slots")
def get_slots(
    start: Annotated[str, Query(alias="from", description="window start, ISO 8601 (UTC if no offset)")],
    end: Annotated[str, Query(alias="to", description="window end (exclusive), ISO 8601")],
    series_id: Annotated[int | None, Query(gt=0)] = None,
    season_id: Annotated[int | None, Query(gt=0)] = None,
) -> dict[str, Any]:
    """Race slots starting in [from, to), optionally for one series or season."""
    lo, hi = _window(start, end)
    slots = slots_from(store.slot_sources_between(lo, hi), lo, hi)
    if series_id is not None:
        slots = [s for s in slots if s.series_id == series_id]
    if season_id is not None:
        slots = [s for s in slots if s.season_id == season_id]
    return {"from": iso_z(lo), "to": iso_z(hi), "count": len(slots), "slots": [s.to_json() for s in slots]}


@app.get("/series")
def get_series_list() -> dict[str, Any]:
    """Every series."""
    return {"series": [store.item_to_dict(s) for s in store.list_series()]}


@app.get("/series/<series_id>")
def get_series(series_id: Id) -> dict[str, Any]:
    """One series."""
    item = store.get_series(series_id)
    if item is None:
        raise NotFoundError(f"series {series_id} not found")
    return store.item_to_dict(item)


@app.get("/series/<series_id>/seasons")
def get_series_seasons(series_id: Id) -> dict[str, Any]:
    """The stored seasons of one series."""
    seasons = store.list_seasons_of_series(series_id)
    if not seasons and store.get_series(series_id) is None:
        raise NotFoundError(f"series {series_id} not found")
    return {"series_id": series_id, "seasons": [store.item_to_dict(s) for s in seasons]}


def _season(season_id: int) -> store.StoredSeason:
    stored = store.get_season(season_id)
    if stored is None:
        raise NotFoundError(f"season {season_id} not found")
    return stored


@app.get("/seasons/<season_id>")
def get_season(season_id: Id) -> dict[str, Any]:
    """One season with its weeks."""
    stored = _season(season_id)
    return {**store.item_to_dict(stored.season), "weeks": [store.item_to_dict(w) for w in stored.weeks]}


@app.get("/seasons/<season_id>/slots")
def get_season_slots(
    season_id: Id,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """The slots of one season, within [from, to) if given."""
    stored = _season(season_id)
    lo = parse_instant("from", start) if start else datetime(1970, 1, 1, tzinfo=UTC)
    hi = parse_instant("to", end) if end else datetime(9999, 1, 1, tzinfo=UTC)
    if lo >= hi:
        raise UnprocessableError("from must be before to")
    slots = slots_from(stored.sources, lo, hi)
    return {"season_id": season_id, "count": len(slots), "slots": [s.to_json() for s in slots]}


@app.get("/openapi.json")
def get_openapi() -> Response[str]:
    """This API's OpenAPI document."""
    return Response(200, content_types.APPLICATION_JSON, app.get_openapi_json_schema(title="iracing-sync"))


# --- the one place errors become HTTP responses ------------------------------------------------------


def _error(status: int, code: str, message: str) -> Response[dict[str, Any]]:
    return Response(status, content_types.APPLICATION_JSON, {"error": {"code": code, "message": message}})


@app.exception_handler(AppError)
def _app_error(exc: AppError) -> Response[dict[str, Any]]:
    logger.info("request refused", extra={"status": exc.status, "reason": exc.message})
    return _error(exc.status, exc.code, exc.message)


@app.exception_handler(RequestValidationError)
def _validation_error(exc: RequestValidationError) -> Response[dict[str, Any]]:
    details = "; ".join(
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'request'}: {e.get('msg')}" for e in exc.errors()
    )
    return _error(400, "invalid_input", details or "invalid request")


@app.not_found
def _not_found(exc: Exception) -> Response[dict[str, Any]]:
    return _error(404, "not_found", f"no route {app.current_event.path}")


@app.exception_handler(RetryableError)
def _unavailable(exc: RetryableError) -> Response[dict[str, Any]]:
    logger.exception("backend unavailable")
    return _error(503, "unavailable", "the data store is unavailable, try again")
