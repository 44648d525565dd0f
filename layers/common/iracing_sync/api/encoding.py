"""Slots as JSON text, encoded once: a week's part of a slot is encoded once per week, not once per slot.

A window's answer is thousands of slots of a few hundred weeks, and all but a slot's times are its week's. So an
answer is written as text directly (no dict per slot, no second pass to validate or serialize it): the same keys,
in the same order, with the same values as ``timezones.slot_json`` (a unit test holds them equal).
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from iracing_sync.instants import Memo, iso_z
from iracing_sync.models.records import Slot, license_letter
from iracing_sync.timezones import local_iso

# An answer's body stays under this many bytes (its JSON is ASCII: non-ASCII is escaped): Lambda answers at most
# 6 MB, and the body is sent inside a JSON envelope that escapes its quotes (about a tenth more).
MAX_BODY_BYTES = 5_000_000

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def _number(value: int | None) -> str:
    return "null" if value is None else str(int(value))


class SlotEncoder:
    """Encodes the slots of one answer (one zone): each week's fixed part and each instant once."""

    def __init__(self, zone: ZoneInfo | None = None) -> None:
        self.zone = zone
        self._tz = f',"tz":{_dumps(zone.key)}' if zone is not None else ""
        self._weeks: dict[tuple[int, int], tuple[str, str]] = {}
        self._instants: Memo[datetime, str] = Memo(iso_z)
        self._locals: Memo[datetime, str] = Memo(lambda instant: local_iso(instant, zone)) if zone else Memo(iso_z)

    def _week(self, slot: Slot) -> tuple[str, str]:
        """A week's head (its identity, up to the times) and facts (after super_session), as JSON fragments."""
        head = _dumps({"season_id": slot.season_id, "series_id": slot.series_id, "race_week_num": slot.race_week_num})
        facts = {
            "series_name": slot.series_name,
            "track_id": slot.track_id,
            "track_name": slot.track_name,
            "config_name": slot.config_name,
            "season_name": slot.season_name,
            "category": slot.category,
            "license": license_letter(slot.license_group),
            "license_group": slot.license_group,
            "cars": [{"car_id": c.car_id, "car_name": c.car_name} for c in slot.cars],
            "race_laps": slot.race_laps,
            "race_minutes": slot.race_minutes,
            "rain_chance": slot.rain_chance,
        }
        return head[:-1] + ',"start_time":"', "," + _dumps(facts)[1:-1]

    def encode(self, slot: Slot) -> str:
        """One slot's JSON object."""
        week = self._weeks.get((slot.season_id, slot.race_week_num))
        if week is None:
            week = self._weeks[(slot.season_id, slot.race_week_num)] = self._week(slot)
        head, facts = week
        text = (
            f'{head}{self._instants[slot.start_time]}","end_time":"{self._instants[slot.end_time]}",'
            f'"super_session":{"true" if slot.super_session else "false"}{facts},'
            f'"session_id":{_number(slot.session_id)},"entry_count":{_number(slot.entry_count)}'
        )
        if self.zone is not None:
            start, end = self._locals[slot.start_time], self._locals[slot.end_time]
            text += f'{self._tz},"start_local":"{start}","end_local":"{end}"'
        return text + "}"


def with_slots(head: dict[str, object], parts: list[str]) -> str:
    """An answer's JSON: the ``head`` object's keys, then ``"slots"``: the encoded slots ``parts``."""
    opening = _dumps(head)[:-1] + "," if head else "{"
    return opening + '"slots":[' + ",".join(parts) + "]}"
