"""Step Functions task payloads: each Lambda's input events, a season's outcome, and what a run adds up to.

Events are validated with ``parse_event``; a bad one raises InvalidEvent, a PermanentError the state
machines never retry.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    TypeAdapter,
    ValidationError,
    computed_field,
    model_serializer,
)

from iracing_sync.errors import InvalidEvent
from iracing_sync.models.base import DEFERRED, DeferredModel, validation_summary


class TaskEvent(DeferredModel):
    """Common fields of every state machine task payload."""

    model_config = ConfigDict(extra="forbid")

    execution_id: str | None = None


class ListCurrentSeasonsEvent(TaskEvent):
    action: Literal["list_current"]
    # Every listed season becomes a Map item, changed or not (a full reconcile, e.g. after a restore).
    force: bool = False


class SyncSeasonEvent(TaskEvent):
    action: Literal["sync"]
    season_id: int = Field(gt=0)
    # Pointer to an archived series/seasons body holding this season; absent = fetch season_schedule.
    archive_key: str | None = None
    # Pointer to an archived series/past_seasons body with this season's facts (name, year, quarter...),
    # which a season_schedule body lacks.
    meta_key: str | None = None


class ReconcileGuideEvent(TaskEvent):
    """Fetch iRacing's race guide (at most once a minute), store its sessions, and compare it with the schedules."""

    action: Literal["race_guide"]


class SeasonDrift(DeferredModel):
    """How one stored season disagrees with the race guide: sessions no stored week predicts (``unexpected``) and
    predicted starts inside the guide's block that the guide lacks (``missing``); ``healed`` once its re-sync was
    checked (None: not re-synced in this run)."""

    season_id: int
    unexpected: int = 0
    missing: int = 0
    healed: bool | None = None


class GuideReport(DeferredModel):
    """What a race-guide reconciliation found (``RunOutcome.guide``), and, summed, what a race-guide run reports.

    ``drifting`` are the stored seasons with unexpected or missing sessions (``drift`` has their counts); seasons
    the guide lists that are not stored at all are counted apart (``unknown_seasons``, ``unknown_sessions``).
    ``resynced`` were synced at once from series/season_schedule; after that, ``healed`` match the guide and
    ``still_drifting`` do not (or were not re-synced this run).
    """

    sessions: int = 0
    matched: int = 0
    unexpected: int = 0
    missing: int = 0
    drifting: list[int] = Field(default_factory=list)
    drift: list[SeasonDrift] = Field(default_factory=list)
    unknown_sessions: int = 0
    unknown_seasons: list[int] = Field(default_factory=list)
    resynced: list[int] = Field(default_factory=list)
    healed: list[int] = Field(default_factory=list)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def still_drifting(self) -> list[int]:
        """The drifting seasons a re-sync did not heal (all of them before one was checked)."""
        return sorted(set(self.drifting) - set(self.healed))

    def merge(self, other: GuideReport) -> None:
        """Fold a later task's report in: counts add up, lists join, a season's drift takes the later verdict."""
        for name in ("sessions", "matched", "unexpected", "missing", "unknown_sessions"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("drifting", "unknown_seasons", "resynced", "healed"):
            setattr(self, name, sorted({*getattr(self, name), *getattr(other, name)}))
        drift = {d.season_id: d for d in self.drift}
        for d in other.drift:
            known = drift.get(d.season_id)
            if known is not None:  # the verdict on a drifting season after its re-sync
                drift[d.season_id] = known.model_copy(update={"healed": d.healed})
            elif d.healed is not True:  # newly found (a season stored by its re-sync that drifts)
                drift[d.season_id] = d
        self.drift = [drift[s] for s in sorted(drift)]


class RunOutcome(DeferredModel):
    """What one task of a run did, recorded under the run (store.runs): counts on success, the error on failure.

    ``scope`` names the task's subject: ``SEASON#<id>``, ``SERIES#<id>`` (a series' past-season listing),
    ``LISTING`` (a listing of the run's seasons or series) or ``TASK#<name>`` (a catalog sync). ``expects`` lists
    the scopes a listing fanned out to: the run reports each one that recorded no outcome.
    """

    scope: str
    season_id: int | None = None
    series_id: int | None = None
    ok: bool = True
    api_requests: int = 0
    items_written: int = 0
    items_unchanged: int = 0
    items_deleted: int = 0
    # Skipped: a body fetched later already changed this season (store.season_writes).
    stale: bool = False
    # A listing: seasons whose raw body is the one their last sync stored (no task started for them).
    seasons_unchanged: int = 0
    error: str | None = None  # the exception class name (what Retry/Catch matched)
    reason: str | None = None  # its message, one line
    expects: list[str] = Field(default_factory=list)
    # A race-guide task: what it found (the reconciliation) or what the re-sync healed (the verification).
    guide: GuideReport | None = None


# At most this many failures travel in a run's summary and record (the rest are counted; every failure stays
# recorded under the run): a summary is a state's output (256 KiB) and a run record an item (400 KB).
MAX_FAILURES_LISTED = 100


class Tally(DeferredModel):
    """Totals over a run's outcomes."""

    api_requests: int = 0
    items_written: int = 0
    items_unchanged: int = 0
    items_deleted: int = 0
    seasons_synced: int = 0
    seasons_unchanged: int = 0
    seasons_stale: int = 0
    failed_count: int = 0
    failed: list[dict[str, Any]] = Field(default_factory=list)
    # A race-guide run's findings; its fields join the summary's top level (``RunSummary``), other runs have none.
    guide: GuideReport | None = None

    def add(self, outcome: RunOutcome) -> None:
        """Count one outcome in."""
        self.api_requests += outcome.api_requests
        self.seasons_unchanged += outcome.seasons_unchanged
        if outcome.guide is not None:
            if self.guide is None:
                self.guide = GuideReport()
            self.guide.merge(outcome.guide)
        if not outcome.ok:
            self.fail(outcome.scope, outcome.error or "Unknown", outcome.reason, outcome.season_id, outcome.series_id)
            return
        self.items_written += outcome.items_written
        self.items_unchanged += outcome.items_unchanged
        self.items_deleted += outcome.items_deleted
        if outcome.scope.startswith("SEASON#"):
            self.seasons_synced += 1
            self.seasons_stale += int(outcome.stale)

    def fail(
        self, scope: str, error: str, reason: str | None, season_id: int | None = None, series_id: int | None = None
    ) -> None:
        """Count one failure; listed (season or series, else scope; error; reason) while under MAX_FAILURES_LISTED."""
        self.failed_count += 1
        if len(self.failed) >= MAX_FAILURES_LISTED:
            return
        where = {k: v for k, v in (("season_id", season_id), ("series_id", series_id)) if v is not None}
        self.failed.append({**(where or {"scope": scope}), "error": error, **({"reason": reason} if reason else {})})


class RecordFailureEvent(TaskEvent):
    """A task failed after its retries: record its error under the run (the Catch result: Error and Cause)."""

    action: Literal["record_failure"]
    scope: str | None = None  # default: SEASON#<season_id> or SERIES#<series_id>
    season_id: int | None = None
    series_id: int | None = None
    error: dict[str, Any] = Field(default_factory=dict)


class CaughtTask(DeferredModel):
    """A task of this execution whose failure its Catch kept in the state instead of a recording task (an EXPRESS
    machine's budget has no room for one): recorded by the run's own record (``RecordRunEvent.caught``). A Map
    item that succeeded arrives here too, without an error, and is not recorded."""

    model_config = ConfigDict(extra="forbid")

    scope: str | None = None  # default: SEASON#<season_id>
    season_id: int | None = None
    error: dict[str, Any] | None = None


class RecordRunEvent(TaskEvent):
    """Total the outcomes recorded under the run and record the run.

    ``expects`` names scopes the run started for (e.g. a SyncSeason input's seasons) besides those its listings
    recorded; ``started_at`` is the execution's start ($$.Execution.StartTime). ``caught`` are failures to record
    first; a race-guide run names the guide it fetched (``guide_key``) and the seasons it re-synced, which are
    checked against that guide again before the run is totalled (``sync.record_run``).
    """

    action: Literal["record_run"]
    kind: str = Field(min_length=1)
    started_at: datetime | None = None
    season_ids: list[int] = Field(default_factory=list)
    series_ids: list[int] = Field(default_factory=list)
    caught: list[CaughtTask] = Field(default_factory=list)
    guide_key: str | None = None
    resynced: list[int] = Field(default_factory=list)


SeasonTask = Annotated[
    SyncSeasonEvent | RecordFailureEvent | RecordRunEvent | ReconcileGuideEvent,
    Field(discriminator="action"),
]
SEASON_TASK: TypeAdapter[SeasonTask] = TypeAdapter(SeasonTask, config=DEFERRED)


class SyncSeriesEvent(TaskEvent):
    """Sync every series with its assets."""

    action: Literal["series"] = "series"


class SyncReferenceEvent(TaskEvent):
    """Sync the reference data: car classes (with car IDs), cars, tracks (with map layers)."""

    action: Literal["reference"]


SeriesTask = Annotated[SyncSeriesEvent | SyncReferenceEvent | ListCurrentSeasonsEvent, Field(discriminator="action")]
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
    """The JSON summary a sync prints as its last line and records as a sync run.

    A race-guide run's findings (``guide``) are dumped at the top level (``sessions``, ``matched``, ``unexpected``,
    ``missing``, ``drifting``...); other runs dump no such key.
    """

    run_id: str
    kind: str
    status: str

    @model_serializer(mode="wrap")
    def _guide_at_top_level(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        guide = data.pop("guide", None)
        return {**data, **(guide or {})}


class SyncRun(RunSummary):
    """A recorded sync run: its summary and when it ran (ISO 8601 UTC)."""

    started_at: str
    finished_at: str | None = None


def run_id_of(execution_id: str | None) -> str | None:
    """The run a task belongs to: its state machine execution's name (the last part of the execution ARN)."""
    return execution_id.rsplit(":", 1)[-1] if execution_id else None


def parse_event[T](adapter: TypeAdapter[T], event: Any) -> T:
    """Validate a Lambda event; InvalidEvent (a PermanentError: never retried) names the first bad field."""
    try:
        return adapter.validate_python(event)
    except ValidationError as exc:
        raise InvalidEvent(f"invalid event: {validation_summary(exc)}") from exc
