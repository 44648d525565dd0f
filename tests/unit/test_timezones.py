"""Local times of slots (iracing_sync.timezones) across DST changes.

Expected offsets are the published rules, written here by hand, never read back from zoneinfo:
- Europe/London 2025: BST (+01:00) from 2025-03-30 01:00 UTC to 2025-10-26 01:00 UTC, else GMT (+00:00).
- America/New_York 2025: EDT (-04:00) from 2025-03-09 07:00 UTC to 2025-11-02 06:00 UTC, else EST (-05:00).
- Australia/Sydney 2025: AEDT (+11:00) until 2025-04-05 16:00 UTC and from 2025-10-04 16:00 UTC, else AEST (+10:00).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest

from iracing_sync.errors import InvalidInputError, UnknownTimeZoneError
from iracing_sync.models.iracing import RaceTimeDescriptor
from iracing_sync.models.records import Slot, WeekPattern
from iracing_sync.recurrence import expand
from iracing_sync.timezones import get_zone, local_fields, local_iso, slot_json

H = timedelta(hours=1)


def _utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _offset(zone: str, instant: datetime) -> timedelta:
    """The published offset of ``zone`` at ``instant`` (see the module docstring)."""
    if zone == "Europe/London":
        return H if _utc(2025, 3, 30, 1) <= instant < _utc(2025, 10, 26, 1) else timedelta(0)
    if zone == "America/New_York":
        return -4 * H if _utc(2025, 3, 9, 7) <= instant < _utc(2025, 11, 2, 6) else -5 * H
    if zone == "Australia/Sydney":
        return 10 * H if _utc(2025, 4, 5, 16) <= instant < _utc(2025, 10, 4, 16) else 11 * H
    raise AssertionError(zone)


def _iso(instant: datetime, offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    local = (instant + offset).replace(tzinfo=None)
    return f"{local:%Y-%m-%dT%H:%M:%S}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _half_hourly(day: date, days: int = 2, minutes: int = 45) -> WeekPattern:
    """Sessions every 30 minutes from 00:15 UTC for ``days`` days from ``day``, lasting ``minutes``."""
    descriptor = RaceTimeDescriptor(
        repeating=True,
        session_minutes=minutes,
        start_date=day,
        day_offset=list(range(days)),
        first_session_time=time(0, 15),
        repeat_minutes=30,
    )
    return WeekPattern(season_id=1, series_id=2, race_week_num=0, descriptors=[descriptor])


CHANGES = [
    ("Europe/London", date(2025, 3, 29)),
    ("Europe/London", date(2025, 10, 25)),
    ("America/New_York", date(2025, 3, 8)),
    ("America/New_York", date(2025, 11, 1)),
    ("Australia/Sydney", date(2025, 4, 5)),
    ("Australia/Sydney", date(2025, 10, 4)),
]


@pytest.mark.parametrize(("zone", "day"), CHANGES, ids=[f"{z}-{d:%b}" for z, d in CHANGES])
def test_local_fields_offsets_follow_each_instant_across_the_dst_change(zone: str, day: date) -> None:
    # Given two days of half-hourly slots around a DST change of the zone
    slots = expand([_half_hourly(day)], _utc(day.year, day.month, day.day), _utc(2030, 1, 1))
    offsets = {_offset(zone, s.start_time) for s in slots}
    assert len(offsets) == 2, "the window must straddle the change"
    # When their local fields are computed
    tz = get_zone(zone)
    for slot in slots:
        fields = local_fields(slot, tz)
        # Then start and end each carry the offset in force at that instant, and the zone's name
        assert fields == {
            "tz": zone,
            "start_local": _iso(slot.start_time, _offset(zone, slot.start_time)),
            "end_local": _iso(slot.end_time, _offset(zone, slot.end_time)),
        }


def test_local_fields_session_across_the_change_has_two_offsets() -> None:
    # Given a London session from 00:30 to 01:30 UTC on 2025-03-30 (BST starts at 01:00 UTC)
    start = _utc(2025, 3, 30, 0, 30)
    slot = Slot(season_id=1, series_id=2, race_week_num=0, start_time=start, end_time=start + H)
    # Then the local start is GMT and the local end BST: wall clock 00:30 -> 02:30 for one hour
    assert local_fields(slot, get_zone("Europe/London")) == {
        "tz": "Europe/London",
        "start_local": "2025-03-30T00:30:00+00:00",
        "end_local": "2025-03-30T02:30:00+01:00",
    }


def test_local_iso_repeated_wall_clock_hour_is_told_apart_by_offset() -> None:
    # Given the two instants London shows as 01:30 on 2025-10-26 (the hour repeats when BST ends)
    zone = get_zone("Europe/London")
    # Then both read 01:30 and only the offset differs
    assert local_iso(_utc(2025, 10, 26, 0, 30), zone) == "2025-10-26T01:30:00+01:00"
    assert local_iso(_utc(2025, 10, 26, 1, 30), zone) == "2025-10-26T01:30:00+00:00"


def test_local_iso_non_hour_offsets() -> None:
    assert local_iso(_utc(2025, 1, 1), get_zone("Asia/Kolkata")) == "2025-01-01T05:30:00+05:30"
    assert local_iso(_utc(2025, 1, 1), get_zone("Asia/Kathmandu")) == "2025-01-01T05:45:00+05:45"
    assert local_iso(_utc(2025, 1, 1), get_zone("UTC")) == "2025-01-01T00:00:00+00:00"


def test_slot_json_keeps_every_to_json_key_and_adds_local_fields_only_with_a_zone() -> None:
    start = _utc(2025, 7, 1, 18)
    slot = Slot(season_id=1, series_id=2, race_week_num=3, start_time=start, end_time=start + H)
    assert slot_json(slot) == slot.to_json()
    with_tz = slot_json(slot, get_zone("America/New_York"))
    assert {k: with_tz[k] for k in slot.to_json()} == slot.to_json()
    assert set(with_tz) - set(slot.to_json()) == {"tz", "start_local", "end_local"}
    assert with_tz["start_local"] == "2025-07-01T14:00:00-04:00"


@pytest.mark.parametrize(
    "name",
    ["Mars/Olympus_Mons", "utc", "Europe", "../../etc/passwd", "/etc/localtime", "", "Europe/London\x00", "zone.tab"]
    + ["A" * 65],
)
def test_get_zone_unknown_name_is_a_clear_400_error(name: str) -> None:
    with pytest.raises(UnknownTimeZoneError) as caught:
        get_zone(name)
    error = caught.value
    assert isinstance(error, InvalidInputError)
    assert (error.status, error.code) == (400, "unknown_time_zone")
    assert "not an IANA time zone name" in error.message
    assert "/usr/" not in error.message and "site-packages" not in error.message  # no server paths leak


@pytest.fixture
def tzdata_only() -> Iterator[None]:
    """Like AWS Lambda: no system tz database, only the tzdata package."""
    keys = ["Australia/Sydney"]
    zoneinfo.reset_tzpath(to=[])
    zoneinfo.ZoneInfo.clear_cache(only_keys=keys)
    yield
    zoneinfo.reset_tzpath()
    zoneinfo.ZoneInfo.clear_cache(only_keys=keys)


@pytest.mark.usefixtures("tzdata_only")
def test_get_zone_works_from_the_tzdata_package_alone() -> None:
    assert zoneinfo.TZPATH == ()
    zone = get_zone("Australia/Sydney")
    assert local_iso(_utc(2025, 1, 1), zone) == "2025-01-01T11:00:00+11:00"
    assert local_iso(_utc(2025, 7, 1), zone) == "2025-07-01T10:00:00+10:00"
