"""Step Functions task payloads: each Lambda's input events, a season's outcome, and what a run adds up to.

Events are validated with ``parse_event``; a bad one raises InvalidEvent, a PermanentError the state
machines never retry.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError

from iracing_sync.errors import InvalidEvent
from iracing_sync.models.base import DEFERRED, DeferredModel, validation_summary


class TaskEvent(DeferredModel):
    """Common fields of every state machine task payload."""

    model_config = ConfigDict(extra="forbid")

    execution_id: str | None = None


class ListCurrentSeasonsEvent(TaskEvent):
    action: Literal["list_current"]


class SyncSeasonEvent(TaskEvent):
    action: Literal["sync"]
    season_id: int = Field(gt=0)
    # Pointer to an archived series/seasons body holding this season; absent = fetch season_schedule.
    archive_key: str | None = None
    # Pointer to an archived series/past_seasons body with this season's facts (name, year, quarter...),
    # which a season_schedule body lacks.
    meta_key: str | None = None


class SeasonOutcome(DeferredModel):
    """One season's result inside a run: counts on success, the error on failure."""

    season_id: int | None = None
    series_id: int | None = None
    ok: bool = True
    api_requests: int = 0
    items_written: int = 0
    items_unchanged: int = 0
    items_deleted: int = 0
    # Skipped: a body fetched later already changed this season (store.season_writes).
    stale: bool = False
    error: dict[str, Any] | None = None


class Tally(DeferredModel):
    """Totals over many outcomes; what a run records and what a backfill's child summarizes to."""

    api_requests: int = 0
    items_written: int = 0
    items_unchanged: int = 0
    items_deleted: int = 0
    seasons_synced: int = 0
    failed: list[dict[str, Any]] = Field(default_factory=list)

    def add(self, entry: Any) -> None:
        """Add a SeasonOutcome, a Tally, their dict forms, or (nested) lists of them."""
        if entry is None:
            # A Map iteration without a result: never expected (every failure is caught), so never hidden.
            self.failed.append({"error": "MissingResult", "cause": "a Map iteration returned no result"})
        elif isinstance(entry, list):
            for item in entry:
                self.add(item)
        elif isinstance(entry, dict) and "failed" in entry:
            self.add(Tally.model_validate(entry))
        elif isinstance(entry, Tally):
            for field in ("api_requests", "items_written", "items_unchanged", "items_deleted", "seasons_synced"):
                setattr(self, field, getattr(self, field) + getattr(entry, field))
            self.failed.extend(entry.failed)
        else:
            outcome = entry if isinstance(entry, SeasonOutcome) else SeasonOutcome.model_validate(entry)
            self.api_requests += outcome.api_requests
            if not outcome.ok:
                where = {k: v for k, v in (("season_id", outcome.season_id), ("series_id", outcome.series_id)) if v}
                self.failed.append({**where, **_error_summary(outcome.error)})
                return
            self.items_written += outcome.items_written
            self.items_unchanged += outcome.items_unchanged
            self.items_deleted += outcome.items_deleted
            self.seasons_synced += 1 if outcome.season_id is not None else 0


def _error_summary(error: dict[str, Any] | None) -> dict[str, Any]:
    """Error name and message of a Step Functions Catch result ({"Error", "Cause"})."""
    if not error:
        return {"error": "Unknown"}
    cause: Any = error.get("Cause", "")
    try:
        parsed = json.loads(cause) if isinstance(cause, str) else cause
    except json.JSONDecodeError:
        parsed = None
    message = parsed.get("errorMessage", cause) if isinstance(parsed, dict) else cause
    return {"error": error.get("Error", "Unknown"), "reason": " ".join(str(message).split())[:500]}


class RecordRunEvent(TaskEvent):
    action: Literal["record_run"]
    kind: str = Field(min_length=1)
    api_requests: int = 0
    outcomes: list[Any] = Field(default_factory=list)


class SummarizeEvent(TaskEvent):
    """Sum outcomes into a Tally without recording a run (a backfill child's compact result)."""

    action: Literal["summarize"]
    api_requests: int = 0
    outcomes: list[Any] = Field(default_factory=list)


SeasonTask = Annotated[
    ListCurrentSeasonsEvent | SyncSeasonEvent | RecordRunEvent | SummarizeEvent, Field(discriminator="action")
]
SEASON_TASK: TypeAdapter[SeasonTask] = TypeAdapter(SeasonTask, config=DEFERRED)


class SyncSeriesEvent(TaskEvent):
    """Sync every series with its assets."""

    action: Literal["series"] = "series"


class SyncReferenceEvent(TaskEvent):
    """Sync the reference data: car classes (with car IDs), cars, tracks (with map layers)."""

    action: Literal["reference"]


SeriesTask = Annotated[SyncSeriesEvent | SyncReferenceEvent, Field(discriminator="action")]
SERIES_TASK: TypeAdapter[SeriesTask] = TypeAdapter(SeriesTask, config=DEFERRED)


class ListPastSeasonsEvent(TaskEvent):
    """List the past season IDs of one series (series/past_seasons)."""

    action: Literal["list_past"] = "list_past"
    series_id: int = Field(gt=0)


class ListSeriesEvent(TaskEvent):
    """List every series ID (series/get), the start of a full backfill."""

    action: Literal["list_series"]


PastSeasonsTask = Annotated[ListPastSeasonsEvent | ListSeriesEvent, Field(discriminator="action")]
PAST_SEASONS_TASK: TypeAdapter[PastSeasonsTask] = TypeAdapter(PastSeasonsTask, config=DEFERRED)


class RunSummary(Tally):
    """The JSON summary a sync prints as its last line and records as a sync run."""

    run_id: str
    kind: str
    status: str


class SyncRun(RunSummary):
    """A recorded sync run: its summary and when it ran (ISO 8601 UTC)."""

    started_at: str
    finished_at: str | None = None


def parse_event[T](adapter: TypeAdapter[T], event: Any) -> T:
    """Validate a Lambda event; InvalidEvent (a PermanentError: never retried) names the first bad field."""
    try:
        return adapter.validate_python(event)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid event: {validation_summary(exc)}") from exc
