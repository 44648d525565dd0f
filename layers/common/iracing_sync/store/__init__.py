"""DynamoDB persistence: the only package that imports PynamoDB. It takes and returns records, never items.

One table, natural deterministic keys, so a retried or concurrent sync can never duplicate. Rooms:

- ``schema``:        the table, its indexes (by_parent, by_time), the Item base class and the keys.
- ``seasons``:       a season partition: SEASON#<id> / META, WEEK#<nn>, SLOT#<nn>#<start>, GUIDE#<start>#<nn> (its
                     race-guide sessions, expiring), as records.
- ``season_writes``: how a partition is written (VERSION): atomic or claimed, never backwards, crash-completed.
- ``season_changes``: what a write changes, as change records (kept by ``changes``: CHANGES / <at>#...).
- ``slot_sources``:  what the slot engine reads for a window (by_time: short weeks by month, long weeks) or a season.
- ``guide``:         the stored race guide: its sessions' writes (only what moved) and its state (GUIDE / STATE:
                     the last poll's claim, and the span of starts it holds, in by_time's long partition).
- ``listing``:       the last current-seasons listing (LISTING#current / STATE), for change detection.
- ``catalog``:       series, car classes, cars, tracks: <KIND>#<id> / META under by_parent SERIES, CARCLASSES...
- ``runs``:          sync runs: each task's outcome (RUN#<run_id> / OUTCOME#<scope>) and the run record (META,
                     under by_parent RUNS, newest first), both expiring (TTL).
- ``iracing_state``: the iRacing account's shared OAuth tokens and rate budget: IRACING#<account> / TOKEN, RATE.

Access patterns (none scans):
- GET /series: Query by_parent SERIES.                 - GET /series/{id}: GetItem SERIES#id/META.
- GET /series/{id}/seasons: Query by_parent SERIES#id. - GET /seasons/{id}[/slots]: Query pk=SEASON#id.
- GET /cars, /tracks, /car-classes: Query by_parent CARS, TRACKS, CARCLASSES; one of them: GetItem <KIND>#id/META.
- GET /slots?from&to, /calendar.ics: Query by_time per month of [from - 7 days, to), plus the long weeks' partition
  (2-3 queries for a day); the week items carry every name a slot shows, so nothing else is read.
- An ID filter naming what no slot of the answer shows: BatchGetItem of those IDs' META keys (404 if not stored).
- GET /changes?since: Query CHANGES, sk >= since.
- The race guide on a window's slots: the long weeks' Query returns its state when the window overlaps the span it
  holds; only then one Query of by_parent GUIDE (the span shown). A season's answer: its partition holds its own.
- A race-guide poll: UpdateItem GUIDE/STATE (the claim; returns the span held), one Query of by_parent GUIDE for the
  guide's block, BatchWriteItem of the sessions that moved; the time index for the block (what is predicted).
- Sync of one season: Query pk=SEASON#id (keys + hashes), then write only what changed, delete what vanished;
  naming its cars: GetItem CATALOG#CARS/VERSION (a warm function's catalog still current?), else the two catalogs.
- Listing the current seasons: BatchGetItem of their VERSION items (the stored body hashes), 100 a request.
- Recent sync runs: Query by_parent RUNS, newest first; a run's outcomes: Query RUN#<run_id>, OUTCOME#...
A week's pattern lives once on its week item (its fixed session_times also become slot items).

The names below are the store's interface. The rooms the HTTP API reads are imported here; the sync's own rooms
(season writes, listing, runs, iracing_state) on first use of one of their names, so the API function's cold start
never loads them (nor the task models they store). A room's item classes register with PynamoDB's discriminator
when it is imported, which is always before a query can read one of its items: only that room reads them.
"""

import importlib
from typing import TYPE_CHECKING, Any

from iracing_sync.store.catalog import (
    cached_car_catalog,
    car_catalog,
    get_car,
    get_car_class,
    get_series,
    get_track,
    list_car_classes,
    list_cars,
    list_series,
    list_tracks,
    put_car_classes,
    put_cars,
    put_series,
    put_tracks,
    unknown,
)
from iracing_sync.store.schema import WriteCounts, ensure_table, season_key, series_key
from iracing_sync.store.seasons import get_season, get_season_facts, list_seasons_of_series
from iracing_sync.store.slot_sources import (
    ANY,
    SlotFilter,
    guide_sessions,
    season_slot_sources,
    season_sources,
    slot_sources_between,
)

if TYPE_CHECKING:
    from iracing_sync.store.changes import list_changes
    from iracing_sync.store.guide import claim_poll, put_guide
    from iracing_sync.store.iracing_state import (
        Reservation,
        TokenState,
        iracing_account_key,
        load_token,
        lock_token,
        observe_rate,
        reserve_request,
        save_token,
        unlock_token,
    )
    from iracing_sync.store.listing import get_listing, put_listing
    from iracing_sync.store.runs import list_outcomes, list_sync_runs, put_outcome, put_sync_run
    from iracing_sync.store.season_writes import body_hashes, mark_inactive, put_season

_LAZY = {
    **dict.fromkeys(
        (
            "Reservation",
            "TokenState",
            "iracing_account_key",
            "load_token",
            "lock_token",
            "observe_rate",
            "reserve_request",
            "save_token",
            "unlock_token",
        ),
        "iracing_state",
    ),
    **dict.fromkeys(("list_outcomes", "list_sync_runs", "put_outcome", "put_sync_run"), "runs"),
    **dict.fromkeys(("body_hashes", "mark_inactive", "put_season"), "season_writes"),
    **dict.fromkeys(("get_listing", "put_listing"), "listing"),
    "list_changes": "changes",
    "claim_poll": "guide",
    "put_guide": "guide",
}


def __getattr__(name: str) -> Any:
    """A name of a room imported on first use (see the module docstring)."""
    room = _LAZY.get(name)
    if room is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{room}"), name)


__all__ = [
    "ANY",
    "Reservation",
    "SlotFilter",
    "TokenState",
    "WriteCounts",
    "body_hashes",
    "cached_car_catalog",
    "car_catalog",
    "claim_poll",
    "ensure_table",
    "get_car",
    "get_car_class",
    "get_listing",
    "get_season",
    "get_season_facts",
    "get_series",
    "get_track",
    "guide_sessions",
    "iracing_account_key",
    "list_car_classes",
    "list_cars",
    "list_changes",
    "list_outcomes",
    "list_seasons_of_series",
    "list_series",
    "list_sync_runs",
    "list_tracks",
    "load_token",
    "lock_token",
    "mark_inactive",
    "observe_rate",
    "put_car_classes",
    "put_cars",
    "put_guide",
    "put_listing",
    "put_outcome",
    "put_season",
    "put_series",
    "put_sync_run",
    "put_tracks",
    "reserve_request",
    "save_token",
    "season_key",
    "season_slot_sources",
    "season_sources",
    "series_key",
    "slot_sources_between",
    "unknown",
    "unlock_token",
]
