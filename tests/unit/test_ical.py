"""calendar_for: RFC 5545 calendars of slots (shared by the CLI and the calendar.ics route)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from icalendar import Calendar

from iracing_sync.ical import calendar_for, slot_summary, slot_uid
from iracing_sync.models.records import Slot
from iracing_sync.recurrence import expand
from iracing_sync.schedule import parse_schedule_body, week_patterns
from iracing_sync_local import SAMPLES_DIR

STAMP = datetime(2025, 9, 9, 12, 0, tzinfo=UTC)


def _slot(**overrides: object) -> Slot:
    start = datetime(2025, 9, 9, 12, 45, tzinfo=UTC)
    fields: dict[str, Any] = {
        "season_id": 5935,
        "series_id": 447,
        "race_week_num": 2,
        "start_time": start,
        "end_time": start + timedelta(minutes=59),
        "super_session": False,
        "series_name": "IMSA iRacing Series",
        "track_id": 268,
        "track_name": "Circuit des 24 Heures du Mans",
        "config_name": None,
    }
    fields.update(overrides)
    return Slot(**fields)


def _real_slots() -> list[Slot]:
    body = json.loads((SAMPLES_DIR / "series_seasons.json").read_text(encoding="utf-8"))
    guide = json.loads((SAMPLES_DIR / "season_race_guide_2025-09-09.json").read_text(encoding="utf-8"))
    start = datetime.fromisoformat(guide["block_begin_time"])
    end = datetime.fromisoformat(guide["block_end_time"])
    return expand(week_patterns(parse_schedule_body(body)), start, end)


def test_calendar_for_real_slots_one_vevent_each_with_utc_times_and_stable_uid() -> None:
    # Given the real slots of the 2025-09-09 race guide block
    slots = _real_slots()
    # When rendered as a calendar
    cal = Calendar.from_ical(calendar_for(slots, "iRacing", stamp=STAMP))
    events = cal.walk("VEVENT")
    # Then there is one event per slot, in order, with its UTC start/end and the documented UID
    assert len(events) == len(slots) > 0
    for event, slot in zip(events, slots, strict=True):
        assert event.decoded("dtstart") == slot.start_time
        assert event.decoded("dtend") == slot.end_time
        assert event.decoded("dtstart").utcoffset() == timedelta(0)
        assert (
            str(event["uid"]) == f"{slot.season_id}-{slot.race_week_num}-{slot.start_time:%Y%m%dT%H%M%SZ}@iracing-sync"
        )
        assert event.decoded("dtstamp") == STAMP
    assert len({str(e["uid"]) for e in events}) == len(events)


def test_calendar_for_serialization_follows_rfc5545_framing() -> None:
    # Given a calendar with a long, non-ASCII summary
    data = calendar_for([_slot(series_name="Série " * 20)], "name", stamp=STAMP)
    lines = data.split(b"\r\n")
    # Then lines end in CRLF, are folded to at most 75 octets, and the required properties are present
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in lines)
    assert lines[0] == b"BEGIN:VCALENDAR"
    assert b"VERSION:2.0" in lines
    assert any(line.startswith(b"PRODID:") for line in lines)
    assert b"DTSTART:20250909T124500Z" in lines
    assert b"DTEND:20250909T134400Z" in lines


def test_calendar_for_uid_and_body_stable_across_exports() -> None:
    slots = [_slot(), _slot(race_week_num=3)]
    assert calendar_for(slots, "x", stamp=STAMP) == calendar_for(slots, "x", stamp=STAMP)
    assert [slot_uid(s) for s in slots] == [slot_uid(s) for s in reversed(slots)][::-1]


def test_calendar_for_non_utc_slot_times_are_written_in_utc() -> None:
    # Given a slot whose times carry a +02:00 offset
    plus2 = timezone(timedelta(hours=2))
    start = datetime(2025, 9, 9, 14, 45, tzinfo=plus2)
    slot = _slot(start_time=start, end_time=start + timedelta(minutes=30))
    # Then DTSTART/DTEND and the UID use the UTC instant
    (event,) = Calendar.from_ical(calendar_for([slot], "x", stamp=STAMP)).walk("VEVENT")
    assert event.to_ical().count(b"DTSTART:20250909T124500Z") == 1
    assert str(event["uid"]).startswith("5935-2-20250909T124500Z")


def test_calendar_for_no_slots_is_a_valid_empty_calendar() -> None:
    cal = Calendar.from_ical(calendar_for([], "empty", stamp=STAMP))
    assert cal.walk("VEVENT") == []
    assert str(cal["X-WR-CALNAME"]) == "empty"


def test_calendar_for_default_stamp_is_now_in_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    (event,) = Calendar.from_ical(calendar_for([_slot()], "x")).walk("VEVENT")
    assert before <= event.decoded("dtstamp") <= datetime.now(UTC)


def test_calendar_for_super_session_is_described() -> None:
    (event,) = Calendar.from_ical(calendar_for([_slot(super_session=True)], "x", stamp=STAMP)).walk("VEVENT")
    assert "super session" in str(event["description"])


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, "IMSA iRacing Series — Circuit des 24 Heures du Mans (week 3)"),
        ({"config_name": "Full"}, "IMSA iRacing Series — Circuit des 24 Heures du Mans (Full) (week 3)"),
        ({"series_name": None}, "Series 447 — Circuit des 24 Heures du Mans (week 3)"),
        ({"series_name": None, "series_id": None}, "Season 5935 — Circuit des 24 Heures du Mans (week 3)"),
        ({"track_name": None}, "IMSA iRacing Series — Track 268 (week 3)"),
        ({"track_name": None, "track_id": None}, "IMSA iRacing Series (week 3)"),
        ({"race_week_num": 0}, "IMSA iRacing Series — Circuit des 24 Heures du Mans (week 1)"),
    ],
    ids=["full", "config", "no-series-name", "no-series", "no-track-name", "no-track", "first-week"],
)
def test_slot_summary_fallbacks_and_one_based_week(overrides: dict[str, object], expected: str) -> None:
    # race_week_num is 0-based; the summary shows the week number iRacing's UI shows (1-based)
    assert slot_summary(_slot(**overrides)) == expected


def test_calendar_for_summary_round_trips_non_ascii() -> None:
    slot = _slot(track_name="Autódromo José Carlos Pace")
    (event,) = Calendar.from_ical(calendar_for([slot], "x", stamp=STAMP)).walk("VEVENT")
    assert str(event["summary"]) == slot_summary(slot)


# --- feeds of a series or season (the calendar.ics routes) ---------------------------------------------


def _processed_slots(body: object, season_id: int, start: datetime, end: datetime) -> list[Slot]:
    """What the calendar route serves for a season: the processor's stored record, expanded like the API."""
    from iracing_sync.schedule import ScheduleProcessor

    (season,) = [s for s in parse_schedule_body(body) if s.season_id == season_id]
    record = ScheduleProcessor().process(season)
    return expand([w.pattern for w in record.weeks], start, end, repeating=True, fixed=record.fixed_slots)


def test_calendar_uids_stable_across_two_processor_runs_and_both_body_shapes() -> None:
    # Given season 5376 from the series/seasons array, and the same season object alone (season_schedule shape)
    body = json.loads((SAMPLES_DIR / "series_seasons.json").read_text(encoding="utf-8"))
    alone = next(s for s in body if s["season_id"] == 5376)
    start, end = datetime(2025, 9, 9, tzinfo=UTC), datetime(2025, 10, 7, tzinfo=UTC)
    # When each is processed (two independent runs, as two syncs would) and rendered as a calendar
    first = Calendar.from_ical(calendar_for(_processed_slots(body, 5376, start, end), "a"))
    second = Calendar.from_ical(calendar_for(_processed_slots(alone, 5376, start, end), "b"))
    # Then every slot has the same UID in both, derived only from season, week and start
    uids = [str(e["uid"]) for e in first.walk("VEVENT")]
    assert uids == [str(e["uid"]) for e in second.walk("VEVENT")]
    assert len(uids) == len(set(uids)) > 50
    assert all(uid.startswith("5376-") and uid.endswith("Z@iracing-sync") for uid in uids)


def test_calendar_uids_of_shared_slots_equal_in_overlapping_windows() -> None:
    body = json.loads((SAMPLES_DIR / "series_seasons.json").read_text(encoding="utf-8"))
    t0 = datetime(2025, 9, 9, tzinfo=UTC)
    early = {slot_uid(s) for s in _processed_slots(body, 5376, t0, t0 + timedelta(days=10))}
    late = {slot_uid(s) for s in _processed_slots(body, 5376, t0 + timedelta(days=5), t0 + timedelta(days=15))}
    both = {slot_uid(s) for s in _processed_slots(body, 5376, t0 + timedelta(days=5), t0 + timedelta(days=10))}
    assert early & late == both != set()


def test_calendar_for_feed_properties_for_subscribers() -> None:
    # Given a feed with a description
    data = calendar_for([_slot()], "iRacing — IMSA", stamp=STAMP, description="window")
    cal = Calendar.from_ical(data)
    # Then it is published, names itself, asks to be refreshed every 6 hours, and events are transparent
    lines = data.split(b"\r\n")
    assert b"METHOD:PUBLISH" in lines
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT6H" in lines
    assert b"X-PUBLISHED-TTL:PT6H" in lines
    assert str(cal["X-WR-CALNAME"]) == "iRacing — IMSA"
    assert str(cal["X-WR-CALDESC"]) == "window"
    (event,) = cal.walk("VEVENT")
    assert str(event["TRANSP"]) == "TRANSPARENT"


def test_calendar_names_and_window_description() -> None:
    from iracing_sync.ical import season_calendar_name, series_calendar_name, window_description

    assert series_calendar_name(47, "NASCAR iRacing Class C Series") == "iRacing — NASCAR iRacing Class C Series"
    assert series_calendar_name(47, None) == "iRacing — Series 47"
    assert season_calendar_name(5376, None) == "iRacing — Season 5376"
    plus2 = timezone(timedelta(hours=2))
    assert (
        window_description(datetime(2025, 9, 9, 2, tzinfo=plus2), datetime(2025, 10, 7, tzinfo=UTC))
        == "Race sessions starting from 2025-09-09 00:00 to 2025-10-07 00:00 UTC"
    )


# --- what a planner's feed says: track, cars, race length, reminders ------------------------------------


def _planned(**overrides: object) -> Slot:
    from iracing_sync.models.records import CarRef

    base = {
        "cars": (CarRef(car_id=1, car_name="Porsche 911 GT3 R, 992"), CarRef(car_id=2, car_name=None)),
        "race_laps": 30,
        "race_minutes": 45,
        "license_group": 4,
        "season_name": "IMSA; 2026 Season 1",
        "config_name": "Grand Prix",
    }
    return _slot(**{**base, **overrides})


def test_calendar_for_description_names_track_cars_and_race_length() -> None:
    (event,) = Calendar.from_ical(calendar_for([_planned()], "x", stamp=STAMP)).walk("VEVENT")
    lines = str(event["description"]).split("\n")
    assert lines[:4] == [
        "Track: Circuit des 24 Heures du Mans (Grand Prix)",
        "Cars: Porsche 911 GT3 R, 992, Car 2",
        "Race length: 30 laps or 45 min, whichever comes first",
        "License: B",
    ]
    assert "Season: IMSA; 2026 Season 1" in lines
    assert str(event["location"]) == "Circuit des 24 Heures du Mans (Grand Prix)"


@pytest.mark.parametrize(
    ("laps", "minutes", "said"),
    [(30, None, "30 laps"), (None, 45, "45 min"), (None, None, "not published")],
)
def test_race_length_in_words(laps: int | None, minutes: int | None, said: str) -> None:
    from iracing_sync.ical import race_length

    assert race_length(_planned(race_laps=laps, race_minutes=minutes)) == said


def test_calendar_for_alarm_adds_a_display_reminder_to_every_event() -> None:
    # Given a feed with a 15-minute reminder
    data = calendar_for([_planned(), _planned(race_week_num=3)], "x", stamp=STAMP, alarm=15)
    # Then every event holds one VALARM: DISPLAY, 15 minutes before its start, saying what races
    for event in Calendar.from_ical(data).walk("VEVENT"):
        (alarm,) = event.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY"
        assert alarm.decoded("TRIGGER") == -timedelta(minutes=15)
        assert str(alarm["DESCRIPTION"]) == str(event["SUMMARY"])
    assert b"TRIGGER:-PT15M" in data.split(b"\r\n")
    # And without alarm there is none
    assert b"VALARM" not in calendar_for([_planned()], "x", stamp=STAMP)


def test_calendar_for_empty_feed_still_holds_a_component() -> None:
    # RFC 5545 3.6: a calendar holds at least one component; an empty feed holds the UTC VTIMEZONE
    data = calendar_for([], "empty", stamp=STAMP)
    cal = Calendar.from_ical(data)
    assert cal.walk("VEVENT") == []
    (zone,) = cal.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "UTC"


def test_calendar_for_text_is_escaped_and_folded_for_an_independent_parser() -> None:
    # Given text with every character RFC 5545 escapes, and long non-ASCII lines
    import vobject

    slot = _planned(series_name="A, B; C \\ D " + "Série " * 15, track_name="Autódromo José Carlos Pace")
    data = calendar_for([slot], "Plan; A, B", stamp=STAMP, alarm=0).decode("utf-8")
    # When another library (vobject) reads it
    parsed = vobject.readOne(data)
    (event,) = parsed.vevent_list
    # Then every value reads back exactly
    from iracing_sync.ical import slot_description, slot_summary

    assert event.summary.value == slot_summary(slot)
    assert event.description.value == slot_description(slot)
    assert event.dtstart.value == slot.start_time and event.uid.value.endswith("@iracing-sync")
    assert parsed.contents["x-wr-calname"][0].value == "Plan; A, B"
    assert event.valarm.trigger.value == timedelta(0)
