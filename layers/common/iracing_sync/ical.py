"""RFC 5545 calendars of race slots (used by the CLI's ``--format ics`` and the calendar.ics route)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from iracing_sync.models.records import Slot

PRODID = "-//iracing-sync//race slots//EN"
UID_DOMAIN = "iracing-sync"
# How often a subscribed calendar should be fetched again (schedules change rarely within a day).
REFRESH = timedelta(hours=6)


def slot_uid(slot: Slot) -> str:
    """A UID that stays the same across exports, so calendar clients update events instead of duplicating them."""
    return f"{slot.season_id}-{slot.race_week_num}-{slot.start_time.astimezone(UTC):%Y%m%dT%H%M%SZ}@{UID_DOMAIN}"


def slot_summary(slot: Slot) -> str:
    """``<series_name> — <track_name> (week N)``, N being the 1-based week iRacing's UI shows."""
    series = slot.series_name or (f"Series {slot.series_id}" if slot.series_id is not None else None)
    series = series or f"Season {slot.season_id}"
    track = slot.track_name or (f"Track {slot.track_id}" if slot.track_id is not None else None)
    if track and slot.config_name:
        track = f"{track} ({slot.config_name})"
    head = f"{series} — {track}" if track else series
    return f"{head} (week {slot.race_week_num + 1})"


def calendar_for(
    slots: Iterable[Slot], name: str, *, stamp: datetime | None = None, description: str | None = None
) -> bytes:
    """An iCalendar (RFC 5545) document with one VEVENT per slot, all times in UTC.

    ``stamp`` is the DTSTAMP of every event (default: now); pass a fixed value for reproducible output.
    UIDs depend only on the slot's identity, so a client that subscribes sees the same event again
    on every fetch, not a duplicate. Events are transparent: a race one could join is not busy time.
    """
    dtstamp = (stamp or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    # Imported here, not at module level: only the calendar routes need it, and it costs a cold start ~5%.
    from icalendar import Calendar, Event, vDuration

    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    if description:
        cal.add("x-wr-caldesc", description)
    # RFC 7986 REFRESH-INTERVAL plus the older X-PUBLISHED-TTL that Outlook and others read.
    cal.add("refresh-interval", vDuration(REFRESH), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", vDuration(REFRESH))
    for slot in slots:
        event = Event()
        event.add("uid", slot_uid(slot))
        event.add("dtstamp", dtstamp)
        event.add("dtstart", slot.start_time.astimezone(UTC))
        event.add("dtend", slot.end_time.astimezone(UTC))
        event.add("summary", slot_summary(slot))
        details = [f"season_id {slot.season_id}", f"race_week_num {slot.race_week_num}"]
        if slot.series_id is not None:
            details.insert(0, f"series_id {slot.series_id}")
        if slot.super_session:
            details.append("super session")
        event.add("description", ", ".join(details))
        if slot.track_name:
            event.add("location", slot.track_name)
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return bytes(cal.to_ical())


def series_calendar_name(series_id: int, series_name: str | None) -> str:
    """The calendar name of a series' feed: ``iRacing — <series name>``."""
    return f"iRacing — {series_name or f'Series {series_id}'}"


def season_calendar_name(season_id: int, season_name: str | None) -> str:
    """The calendar name of a season's feed: ``iRacing — <season name>``."""
    return f"iRacing — {season_name or f'Season {season_id}'}"


def window_description(start: datetime, end: datetime) -> str:
    """The X-WR-CALDESC of a windowed feed: which starts it holds, in UTC."""
    lo, hi = start.astimezone(UTC), end.astimezone(UTC)
    return f"Race sessions starting from {lo:%Y-%m-%d %H:%M} to {hi:%Y-%m-%d %H:%M} UTC"
