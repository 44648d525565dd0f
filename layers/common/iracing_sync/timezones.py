"""Local times of slots: IANA zone names resolved with zoneinfo, offsets right for each instant.

Slots stay UTC (docs/api.md, "Slots"); a ``tz`` adds their local start and end, each with the UTC offset in force
at that instant, so a session across a DST change shows two different offsets. zoneinfo reads the
system tz database and falls back to the ``tzdata`` package, which is what AWS Lambda has.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib.resources import files
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from iracing_sync.errors import UnknownTimeZoneError
from iracing_sync.models.records import Slot

# IANA names are short ("America/Argentina/ComodRivadavia" is among the longest); a cap keeps
# arbitrary query strings away from the file system.
MAX_ZONE_NAME = 64


@cache
def known_zones() -> frozenset[str]:
    """The IANA zone names served: the tzdata package's list (what the OpenAPI document enumerates for ``tz``).

    A system tz database may hold more files (``localtime``, ``posix/...``); only these names are zones here, so
    the document's list and what the API accepts are the same.
    """
    return frozenset(files("tzdata").joinpath("zones").read_text(encoding="utf-8").split())


def get_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (e.g. ``Europe/London``); UnknownTimeZoneError if there is none."""
    if not name or len(name) > MAX_ZONE_NAME or name not in known_zones():
        raise UnknownTimeZoneError(f"tz: {name[:MAX_ZONE_NAME]!r} is not an IANA time zone name")
    try:
        return ZoneInfo(name)
    # ValueError: a malformed key (absolute path, "..", NUL); OSError: a key naming a directory.
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise UnknownTimeZoneError(
            f"tz: {name!r} is not an IANA time zone name (e.g. Europe/London, America/New_York, UTC)"
        ) from None


def local_iso(instant: datetime, zone: ZoneInfo) -> str:
    """``instant`` in ``zone`` as ISO 8601 with its UTC offset, e.g. ``2025-03-30T02:30:00+01:00``."""
    return instant.astimezone(zone).isoformat(timespec="seconds")


def local_fields(slot: Slot, zone: ZoneInfo) -> dict[str, str]:
    """The local-time fields a ``tz`` adds to a slot's JSON form: ``tz``, ``start_local``, ``end_local``."""
    return {
        "tz": zone.key,
        "start_local": local_iso(slot.start_time, zone),
        "end_local": local_iso(slot.end_time, zone),
    }


def slot_json(slot: Slot, zone: ZoneInfo | None = None) -> dict[str, object]:
    """``slot.to_json()`` (keys unchanged) plus the local-time fields when a zone is given."""
    data: dict[str, object] = slot.to_json()
    if zone is not None:
        data.update(local_fields(slot, zone))
    return data
