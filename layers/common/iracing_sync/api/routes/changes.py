"""GET /changes and /changes.atom: the schedule changes the syncs recorded (kept 30 days), as JSON or an Atom feed.

One Query of the CHANGES partition from ``since`` (store.changes.list_changes); a series filter is applied to what
it reads, and a series named that shows no change is looked up, so an unknown series is a 404 as everywhere else.
"""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools.event_handler import Response

from iracing_sync.api.answers import json_answer
from iracing_sync.api.encoding import MAX_BODY_BYTES
from iracing_sync.api.params import FilterIds, Since, changes_since
from iracing_sync.api.resolver import app, ok
from iracing_sync.api.schedules import check_known
from iracing_sync.errors import UnprocessableError
from iracing_sync.instants import iso_z
from iracing_sync.models.records import ChangeRecord
from iracing_sync.store import slot_sources

# The most changes one answer holds (a quarter's start is a few hundred: one season_added per new season).
MAX_CHANGES = 10_000


def _changes(since: str | None, series_id: list[int] | None) -> tuple[list[ChangeRecord], datetime]:
    from iracing_sync.store import changes

    lo = changes_since(since)
    series = frozenset(series_id) if series_id else None
    found = changes.list_changes(lo, series, limit=MAX_CHANGES + 1)
    if len(found) > MAX_CHANGES:
        raise UnprocessableError(
            f"more than {MAX_CHANGES} changes since {iso_z(lo)}: ask for a later since or a series"
        )
    if series:
        check_known(slot_sources.SlotFilter(series_ids=series - {c.series_id for c in found}))
    return found, lo


@app.get("/changes", responses=ok("ChangesList", "the schedule changes recorded since `since`, oldest first"))
def get_changes(since: Since = None, series_id: FilterIds = None) -> Response[str]:
    """Schedule changes recorded at or after ``since`` (default: the start of the hour 24 hours ago; kept 30 days),
    oldest first: new seasons, weeks added or removed, a week's track, race times or cars changed, fixed sessions
    added or removed. ``series_id`` (repeatable) keeps those of these series."""
    from iracing_sync.models.http import ChangeOut, ChangesList

    changes, lo = _changes(since, series_id)
    out = [ChangeOut(**{**c.model_dump(), "at": iso_z(c.at)}) for c in changes]
    return json_answer(ChangesList(since=iso_z(lo), changes=out))


@app.get("/changes.atom")
def get_changes_feed(since: Since = None, series_id: FilterIds = None) -> Response[str]:
    """The same changes as an Atom feed (RFC 4287): one entry per change, each with a stable ID."""
    from iracing_sync.atom import ATOM, TAG, changes_feed

    changes, lo = _changes(since, series_id)
    series = sorted(set(series_id or ()))
    scope = f"?series_id={','.join(map(str, series))}" if series else ""
    title = "iRacing schedule changes" + (f" — series {', '.join(map(str, series))}" if series else "")
    event = app.current_event
    query = event.raw_query_string
    document = changes_feed(
        changes,
        feed_id=f"{TAG}:changes{scope}",
        title=title,
        since=lo,
        self_link=event.path + (f"?{query}" if query else ""),
    )
    if len(document) > MAX_BODY_BYTES:
        raise UnprocessableError("the feed would be too large to serve: ask for a later since or a series")
    return Response(200, ATOM, document)
