"""RFC 4287 Atom feeds of schedule changes (GET /changes.atom): one entry per change, oldest first.

An entry's ID is a digest of its change record (``tag:`` URI, RFC 4151), which never changes once recorded, so a
feed reader shows each change once however often it polls. The feed's ``updated`` is its newest change's time (or,
without any, the start of its window), never the clock: the same query over the same changes gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from iracing_sync.instants import iso_z
from iracing_sync.models.records import ChangeRecord

ATOM = "application/atom+xml"
TAG = "tag:iracing-sync,2025"
TITLES = {
    "season_added": "New season",
    "week_added": "Week added",
    "week_removed": "Week removed",
    "track_changed": "Track changed",
    "times_changed": "Race times changed",
    "cars_changed": "Cars changed",
    "slot_added": "Session added",
    "slot_removed": "Session removed",
}


def entry_id(change: ChangeRecord) -> str:
    """The change's stable entry ID: a digest of its record."""
    canonical = json.dumps(change.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return f"{TAG}:change:{hashlib.blake2b(canonical.encode(), digest_size=12).hexdigest()}"


def _track(part: dict[str, Any] | None) -> str | None:
    if not part or not (part.get("track_name") or part.get("track_id")):
        return None
    name = part.get("track_name") or f"Track {part.get('track_id')}"
    return f"{name} ({part['config_name']})" if part.get("config_name") else str(name)


def change_title(change: ChangeRecord) -> str:
    """One line: what changed, where (season, 1-based week as iRacing shows it) and, where short, to what."""
    where = f"season {change.season_id}"
    if change.series_id is not None:
        where += f" (series {change.series_id})"
    if change.race_week_num is not None:
        where += f", week {change.race_week_num + 1}"
    before, after = change.before or {}, change.after or {}
    detail = None
    if change.kind == "season_added":
        detail = after.get("season_name")
    elif change.kind == "track_changed":
        detail = f"{_track(before) or '?'} → {_track(after) or '?'}"
    elif change.kind in ("week_added", "week_removed"):
        detail = _track(after or before)
    elif change.kind in ("slot_added", "slot_removed"):
        detail = (after or before).get("start_time")
    return f"{TITLES[change.kind]}: {where}" + (f": {detail}" if detail else "")


def _content(change: ChangeRecord) -> str:
    """The entry's text: its title, then before and after as JSON (what a bot reading the feed needs)."""
    data = {"before": change.before, "after": change.after}
    return f"{change_title(change)}\n{json.dumps(data, sort_keys=True, ensure_ascii=False)}"


def changes_feed(changes: Iterable[ChangeRecord], *, feed_id: str, title: str, since: datetime, self_link: str) -> str:
    """The Atom document of ``changes`` (oldest first), a window starting at ``since``; ``self_link`` is its URL."""
    entries = list(changes)
    updated = max((c.at for c in entries), default=since)
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <id>{escape(feed_id)}</id>",
        f"  <title>{escape(title)}</title>",
        f"  <subtitle>{escape(f'Changes to iRacing schedules recorded since {iso_z(since)}')}</subtitle>",
        f"  <updated>{iso_z(updated)}</updated>",
        f'  <link rel="self" type="{ATOM}" href={quoteattr(self_link)}/>',
        "  <author><name>iracing-sync</name></author>",
        "  <generator>iracing-sync</generator>",
    ]
    for change in entries:
        lines += [
            "  <entry>",
            f"    <id>{entry_id(change)}</id>",
            f"    <title>{escape(change_title(change))}</title>",
            f"    <updated>{iso_z(change.at)}</updated>",
            f"    <category term={quoteattr(change.kind)}/>",
            f'    <content type="text">{escape(_content(change))}</content>',
            "  </entry>",
        ]
    lines.append("</feed>")
    return "\n".join(lines) + "\n"
