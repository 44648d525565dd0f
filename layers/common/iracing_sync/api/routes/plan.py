"""GET /calendar.ics: one plan feed across several series, their future seasons included, filtered.

The feed reads the time index for its window (the weeks of every stored season racing then, the series' next
seasons included once synced), so it follows a series into its next season without being asked again.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from iracing_sync import store
from iracing_sync.api.answers import feed
from iracing_sync.api.paging import slots_from
from iracing_sync.api.params import (
    Alarm,
    CalendarFrom,
    CalendarTo,
    Categories,
    Content,
    FilterIds,
    Licenses,
    OwnedIds,
    SeriesIds,
    calendar_window,
    ownership,
    slot_filter,
)
from iracing_sync.api.resolver import app
from iracing_sync.api.schedules import check_known
from iracing_sync.ical import plan_calendar_name


@app.get("/calendar.ics")
def get_plan_calendar(
    series_id: SeriesIds,
    car_id: FilterIds = None,
    track_id: FilterIds = None,
    category: Categories = None,
    license_group: Licenses = None,
    start: CalendarFrom = None,
    end: CalendarTo = None,
    alarm: Alarm = None,
    owned_car_id: OwnedIds = None,
    owned_track_id: OwnedIds = None,
    content: Content = None,
) -> Response[str]:
    """An iCalendar plan feed: every race of these series in [from, to) passing the filters, times in UTC.

    Same window defaults as the series feeds (from the start of today, UTC, for 28 days); each event names its
    track, cars and race length, and with ``alarm`` reminds that many minutes before. UIDs are the slots' own,
    so an event keeps its UID in every feed it is in. With ownership parameters (owned_car_id, owned_track_id or
    content=free), only the races the racer can enter.
    """
    lo, hi = calendar_window(start, end)
    owned = ownership(owned_car_id, owned_track_id, content)
    where = slot_filter(series_id, None, category, license_group, car_id, track_id, owned)
    slots = slots_from(store.slot_sources_between(lo, hi, where), lo, hi)
    check_known(where, slots)
    names = {s.series_id: s.series_name for s in slots if s.series_name}
    name = plan_calendar_name([names.get(i) or f"Series {i}" for i in sorted(set(series_id))])
    return feed(slots, name, lo, hi, "iracing-plan.ics", alarm)
