"""The slot encoder and pages: the same JSON as slot_json, and a page that ends before Lambda's answer limit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from iracing_sync.api import encoding, paging
from iracing_sync.api.encoding import SlotEncoder
from iracing_sync.models.records import SLOT_KEYS, CarRef, Slot
from iracing_sync.recurrence import expand
from iracing_sync.schedule import ScheduleProcessor, parse_schedule_body
from iracing_sync.timezones import slot_json
from iracing_sync_local import SAMPLES_DIR

DAY = (datetime(2025, 9, 9, tzinfo=UTC), datetime(2025, 9, 10, tzinfo=UTC))


def _slots() -> list[Slot]:
    seasons = parse_schedule_body(json.loads((SAMPLES_DIR / "series_seasons.json").read_text(encoding="utf-8")))
    return expand([w.pattern for s in seasons for w in ScheduleProcessor().process(s).weeks], *DAY)


ODD = Slot(
    season_id=1,
    series_id=None,
    race_week_num=0,
    start_time=DAY[0],
    end_time=DAY[1],
    super_session=True,
    series_name='Série "quoted" \\ back',
    track_name="Autódromo José Carlos Pace",
    license_group=6,
    cars=(CarRef(car_id=1, car_name=None), CarRef(car_id=2, car_name="Ferrari 296 GT3")),
    race_minutes=45,
    session_id=123,
    entry_count=17,
)


@pytest.mark.parametrize("zone", [None, ZoneInfo("Europe/London"), ZoneInfo("America/Argentina/ComodRivadavia")])
def test_slot_encoder_gives_slot_json_with_its_keys_in_order(zone: ZoneInfo | None) -> None:
    # Given a real day's slots and one with every odd value (non-ASCII, quotes, nulls, a Pro license)
    slots = [*_slots(), ODD]
    encoder = SlotEncoder(zone)
    for slot in slots:
        # When encoded
        text = encoder.encode(slot)
        # Then it is the slot's JSON form, key for key and in order, and plain ASCII
        assert json.loads(text) == slot_json(slot, zone)
        assert list(json.loads(text)) == [*SLOT_KEYS, *(("tz", "start_local", "end_local") if zone else ())]
        assert text.isascii()


def test_page_body_ends_before_the_answer_limit_with_a_cursor(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a day's slots and an answer limit a tenth of their JSON
    slots = _slots()
    whole = json.loads(paging.page_body({"from": "x"}, slots, False, 10_000, "b", None))
    size = sum(len(SlotEncoder().encode(s)) + 1 for s in slots)
    monkeypatch.setattr(paging, "MAX_BODY_BYTES", size // 10 + 1000)
    # When the page is written
    body = paging.page_body({"from": "x"}, slots, False, 10_000, "b", None)
    page = json.loads(body)
    # Then it holds the first slots only, fits the limit, and its cursor continues after its last slot
    assert 0 < page["count"] == len(page["slots"]) < len(slots)
    assert len(body) <= size // 10 + 1000
    assert page["slots"] == whole["slots"][: page["count"]]
    after = paging.decode_cursor(page["next_cursor"], "b", DAY[0], DAY[1])
    assert after.key == slots[page["count"] - 1].key
    assert encoding.MAX_BODY_BYTES < 6_000_000  # Lambda's limit, with room for the envelope's escaping
