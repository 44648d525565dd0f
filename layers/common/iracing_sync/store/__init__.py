"""DynamoDB persistence: the only package that imports PynamoDB. It takes and returns records, never items.

One table, natural deterministic keys, so a retried or concurrent sync can never duplicate. Rooms:

- ``schema``:        the table, its indexes (by_parent, by_time), the Item base class and the keys.
- ``seasons``:       a season partition: SEASON#<id> / META, WEEK#<nn>, SLOT#<nn>#<start>, as records.
- ``season_writes``: how a partition is written (VERSION): atomic or claimed, never backwards, crash-completed.
- ``slot_sources``:  what the slot engine reads for a window (by_time month buckets) or a season, filtered.
- ``listing``:       the last current-seasons listing (LISTING#current / STATE), for change detection.
- ``catalog``:       series, car classes, cars, tracks: <KIND>#<id> / META under by_parent SERIES, CARCLASSES...
- ``runs``:          sync runs: each task's outcome (RUN#<run_id> / OUTCOME#<scope>) and the run record (META,
                     under by_parent RUNS, newest first), both expiring (TTL).
- ``iracing_state``: the iRacing account's shared OAuth tokens and rate budget: IRACING#<account> / TOKEN, RATE.

Access patterns (none scans):
- GET /series: Query by_parent SERIES.                 - GET /series/{id}: GetItem SERIES#id/META.
- GET /series/{id}/seasons: Query by_parent SERIES#id. - GET /seasons/{id}[/slots]: Query pk=SEASON#id.
- GET /slots?from&to: Query by_time per month bucket of [from - MAX_WEEK_SPAN, to) (1-2 queries for a day).
- Sync of one season: Query pk=SEASON#id (keys + hashes), then write only what changed, delete what vanished.
- Recent sync runs: Query by_parent RUNS, newest first.
Repeating patterns live once on the week item; only fixed session_times become slot items.

The names below are the store's interface; every room is imported here, so each item class is registered
with PynamoDB's discriminator before any query reads one.
"""

from iracing_sync.store.catalog import (
    car_classes_with_car,
    get_series,
    is_stored,
    list_car_classes,
    list_cars,
    list_series,
    list_tracks,
    put_car_classes,
    put_cars,
    put_series,
    put_tracks,
)
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
from iracing_sync.store.schema import WriteCounts, ensure_table, season_key, series_key
from iracing_sync.store.season_writes import body_hashes, mark_inactive, put_season
from iracing_sync.store.seasons import get_season, get_season_facts, list_seasons_of_series
from iracing_sync.store.slot_sources import ANY, SlotFilter, season_slot_sources, slot_sources_between

__all__ = [
    "ANY",
    "Reservation",
    "SlotFilter",
    "TokenState",
    "WriteCounts",
    "body_hashes",
    "car_classes_with_car",
    "ensure_table",
    "get_listing",
    "get_season",
    "get_season_facts",
    "get_series",
    "iracing_account_key",
    "is_stored",
    "list_car_classes",
    "list_cars",
    "list_seasons_of_series",
    "list_series",
    "list_outcomes",
    "list_sync_runs",
    "list_tracks",
    "load_token",
    "lock_token",
    "mark_inactive",
    "observe_rate",
    "put_car_classes",
    "put_cars",
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
    "series_key",
    "slot_sources_between",
    "unlock_token",
]
