"""RFC 5545 calendars of race slots (used by the CLI's ``--format ics`` and the calendar.ics routes).

Written as text directly: a feed is thousands of events of a few hundred weeks, and all but an event's times are
its week's, so each week's lines are escaped and folded once (a generic iCalendar object model costs ten times as
much per event). Every feed holds a VTIMEZONE for UTC besides its events: RFC 5545 (3.6) wants at least one
component in a calendar, an empty feed (a quiet week, a filter matching nothing) included, and an unreferenced
VTIMEZONE is the one component every client already knows and shows nothing for (an X- component would do for the
grammar, but some clients drop or flag calendars with unknown components).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from iracing_sync.instants import Memo
from iracing_sync.models.records import Slot, license_letter

PRODID = "-//iracing-sync//race slots//EN"
UID_DOMAIN = "iracing-sync"
# How often a subscribed calendar should be fetched again (schedules change rarely within a day).
REFRESH = timedelta(hours=6)
_UTC_TIMEZONE = (
    "BEGIN:VTIMEZONE",
    "TZID:UTC",
    "BEGIN:STANDARD",
    "DTSTART:19700101T000000",
    "TZOFFSETFROM:+0000",
    "TZOFFSETTO:+0000",
    "TZNAME:UTC",
    "END:STANDARD",
    "END:VTIMEZONE",
)


def slot_uid(slot: Slot) -> str:
    """A UID that stays the same across exports, so calendar clients update events instead of duplicating them."""
    return f"{slot.season_id}-{slot.race_week_num}-{slot.start_time.astimezone(UTC):%Y%m%dT%H%M%SZ}@{UID_DOMAIN}"


def _track(slot: Slot) -> str | None:
    track = slot.track_name or (f"Track {slot.track_id}" if slot.track_id is not None else None)
    return f"{track} ({slot.config_name})" if track and slot.config_name else track


def slot_summary(slot: Slot) -> str:
    """``<series_name> — <track_name> (week N)``, N being the 1-based week iRacing's UI shows."""
    series = slot.series_name or (f"Series {slot.series_id}" if slot.series_id is not None else None)
    series = series or f"Season {slot.season_id}"
    track = _track(slot)
    head = f"{series} — {track}" if track else series
    return f"{head} (week {slot.race_week_num + 1})"


def race_length(slot: Slot) -> str:
    """The race length in words: laps, minutes, or both (the race ends at whichever comes first)."""
    laps = f"{slot.race_laps} laps" if slot.race_laps else None
    minutes = f"{slot.race_minutes} min" if slot.race_minutes else None
    if laps and minutes:
        return f"{laps} or {minutes}, whichever comes first"
    return laps or minutes or "not published"


def slot_description(slot: Slot) -> str:
    """An event's DESCRIPTION: track, cars and race length first, then the series, season and week it is of."""
    cars = ", ".join(c.car_name or f"Car {c.car_id}" for c in slot.cars) or "not published"
    lines = [f"Track: {_track(slot) or 'not published'}", f"Cars: {cars}", f"Race length: {race_length(slot)}"]
    letter = license_letter(slot.license_group)
    if letter:
        lines.append(f"License: {letter}")
    if slot.season_name:
        lines.append(f"Season: {slot.season_name}")
    ids = [f"season_id {slot.season_id}", f"race_week_num {slot.race_week_num}"]
    if slot.series_id is not None:
        ids.insert(0, f"series_id {slot.series_id}")
    lines.append(", ".join(ids))
    if slot.super_session:
        lines.append("super session")
    guide = race_guide_line(slot)
    if guide:
        lines.append(guide)
    return "\n".join(lines)


def race_guide_line(slot: Slot) -> str | None:
    """What iRacing's race guide published of the session (its entries, its ID), or None before it has."""
    parts = []
    if slot.entry_count is not None:
        parts.append(f"{slot.entry_count} {'entry' if slot.entry_count == 1 else 'entries'}")
    if slot.session_id is not None:
        parts.append(f"session_id {slot.session_id}")
    return f"Race guide: {', '.join(parts)}" if parts else None


def escape_text(value: str) -> str:
    """An RFC 5545 TEXT value (3.3.11): backslash, semicolon, comma and newline escaped."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\n").replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """An RFC 5545 content line folded at 75 octets (3.1): CRLF and a space, never inside a UTF-8 character."""
    if len(line) <= 75 and line.isascii():
        return line
    out: list[str] = []
    current: list[str] = []
    size = 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > 75:
            out.append("".join(current))
            current, size = [" "], 1
        current.append(char)
        size += width
    out.append("".join(current))
    return "\r\n".join(out)


def _stamp(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"PT{seconds // 3600}H" if seconds % 3600 == 0 else f"PT{seconds // 60}M"


class _EventWriter:
    """Writes the VEVENTs of one calendar; the lines a week's events share are escaped and folded once."""

    def __init__(self, dtstamp: str, alarm: int | None) -> None:
        self.dtstamp = f"DTSTAMP:{dtstamp}"
        self.alarm = alarm
        self._weeks: dict[tuple[int, int, bool], str] = {}
        self._times: Memo[datetime, str] = Memo(_stamp)

    def _week(self, slot: Slot) -> str:
        """The lines a week's events share (and, for a session the race guide published, its own)."""
        summary = escape_text(slot_summary(slot))
        lines = [fold(f"SUMMARY:{summary}"), fold(f"DESCRIPTION:{escape_text(slot_description(slot))}")]
        location = _track(slot)
        if location:
            lines.append(fold(f"LOCATION:{escape_text(location)}"))
        lines.append("TRANSP:TRANSPARENT")
        if self.alarm is not None:
            lines += ["BEGIN:VALARM", "ACTION:DISPLAY", fold(f"DESCRIPTION:{summary}")]
            lines += [f"TRIGGER:-PT{self.alarm}M", "END:VALARM"]
        return "\r\n".join(lines)

    def event(self, slot: Slot) -> str:
        key = (slot.season_id, slot.race_week_num, slot.super_session)
        shared = self._weeks.get(key)
        if slot.session_id is not None or slot.entry_count is not None:
            shared = self._week(slot)  # its description names its entries: its own (a few slots of a feed)
        elif shared is None:
            shared = self._weeks[key] = self._week(slot)
        return (
            f"BEGIN:VEVENT\r\nUID:{slot_uid(slot)}\r\n{self.dtstamp}\r\nDTSTART:{self._times[slot.start_time]}\r\n"
            f"DTEND:{self._times[slot.end_time]}\r\n{shared}\r\nEND:VEVENT"
        )


def calendar_for(
    slots: Iterable[Slot],
    name: str,
    *,
    stamp: datetime | None = None,
    description: str | None = None,
    alarm: int | None = None,
) -> bytes:
    """An iCalendar (RFC 5545) document with one VEVENT per slot, all times in UTC.

    ``stamp`` is the DTSTAMP of every event (default: now); pass a fixed value for reproducible output.
    UIDs depend only on the slot's identity, so a client that subscribes sees the same event again
    on every fetch, not a duplicate. Events are transparent: a race one could join is not busy time.
    ``alarm`` adds a display reminder that many minutes before every race.
    """
    writer = _EventWriter(_stamp((stamp or datetime.now(UTC)).replace(microsecond=0)), alarm)
    head = ["BEGIN:VCALENDAR", f"PRODID:{PRODID}", "VERSION:2.0", "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    head.append(fold(f"X-WR-CALNAME:{escape_text(name)}"))
    if description:
        head.append(fold(f"X-WR-CALDESC:{escape_text(description)}"))
    # RFC 7986 REFRESH-INTERVAL plus the older X-PUBLISHED-TTL that Outlook and others read.
    head += [f"REFRESH-INTERVAL;VALUE=DURATION:{_duration(REFRESH)}", f"X-PUBLISHED-TTL:{_duration(REFRESH)}"]
    lines = [*head, *_UTC_TIMEZONE, *map(writer.event, slots), "END:VCALENDAR"]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def series_calendar_name(series_id: int, series_name: str | None) -> str:
    """The calendar name of a series' feed: ``iRacing — <series name>``."""
    return f"iRacing — {series_name or f'Series {series_id}'}"


def season_calendar_name(season_id: int, season_name: str | None) -> str:
    """The calendar name of a season's feed: ``iRacing — <season name>``."""
    return f"iRacing — {season_name or f'Season {season_id}'}"


def plan_calendar_name(series_names: list[str]) -> str:
    """The calendar name of a plan feed: ``iRacing plan — <series>, <series>...`` (three named, then a count)."""
    shown = ", ".join(series_names[:3])
    more = f" and {len(series_names) - 3} more" if len(series_names) > 3 else ""
    return f"iRacing plan — {shown}{more}"


def window_description(start: datetime, end: datetime) -> str:
    """The X-WR-CALDESC of a windowed feed: which starts it holds, in UTC."""
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    return f"Race sessions starting from {lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M} UTC"
