"""parse_schedule_body / week_patterns: raw iRacing bodies in, validated seasons out, one-line errors."""

from __future__ import annotations

import copy
import json
from datetime import date, time
from typing import Any

import pytest
from pydantic import ValidationError

from iracing_sync.errors import MalformedPayload, PermanentError
from iracing_sync.schedule import parse_schedule_body, week_patterns
from iracing_sync_local import SAMPLES_DIR


def _raw(name: str) -> Any:
    return json.loads((SAMPLES_DIR / name).read_text(encoding="utf-8"))


def _get(d: dict[str, Any], snake: str) -> Any:
    """A raw field in either spelling (the camelCase extracts were camelized by a client library)."""
    head, *rest = snake.split("_")
    return d.get(snake, d.get(head + "".join(p.title() for p in rest)))


# --- accepted bodies ---------------------------------------------------------------------------


def test_parse_schedule_body_season_schedule_object_returns_one_season_with_all_weeks() -> None:
    # Given a real series/season_schedule body (season 5935)
    body = _raw("series_season_schedule.json")
    # When parsed
    seasons = parse_schedule_body(body)
    # Then it is one season with every week, and series_id is taken from the weeks (the body lacks it)
    assert [s.season_id for s in seasons] == [body["season_id"]]
    (season,) = seasons
    assert [w.race_week_num for w in season.schedules] == [w["race_week_num"] for w in body["schedules"]]
    assert season.series_id == body["schedules"][0]["series_id"]
    assert "series_id" not in body


def test_parse_schedule_body_series_seasons_array_returns_every_season_in_order() -> None:
    body = _raw("series_seasons.json")
    seasons = parse_schedule_body(body)
    assert [s.season_id for s in seasons] == [s["season_id"] for s in body]
    assert [len(s.schedules) for s in seasons] == [len(s["schedules"]) for s in body]


def test_parse_schedule_body_full_2023s2_quarter_parses_without_week_end_time() -> None:
    # Given the older-format full quarter (no week_end_time anywhere)
    body = _raw("series_seasons_2023s2_full.json")
    assert not any("week_end_time" in w for s in body for w in s["schedules"])
    # When parsed
    seasons = parse_schedule_body(body)
    # Then every season and week is there and week_end_time is simply absent
    assert len(seasons) == len(body)
    assert sum(len(s.schedules) for s in seasons) == sum(len(s["schedules"]) for s in body)
    assert all(w.week_end_time is None for s in seasons for w in s.schedules)


@pytest.mark.parametrize(
    "sample",
    [
        "extract_series_seasons_2024s1_weekly_race_challenge_camelcase.json",
        "extract_series_seasons_2023_chili_bowl_camelcase.json",
        "extract_series_seasons_2023s3_lotus_split_descriptors_camelcase.json",
        "extract_series_seasons_2023s4_dallara_fir_8day_week.json",
    ],
)
def test_parse_schedule_body_single_season_extract_keeps_descriptor_fields(sample: str) -> None:
    # Given one season object (camelCase or snake_case), which has the season_schedule shape
    body = _raw(sample)
    # When parsed
    (season,) = parse_schedule_body(body)
    # Then every descriptor field matches the raw value in either spelling
    assert season.season_id == _get(body, "season_id")
    assert season.series_id == _get(body, "series_id")
    for week, raw_week in zip(season.schedules, body["schedules"], strict=True):
        raw_descs = _get(raw_week, "race_time_descriptors") or []
        assert len(week.race_time_descriptors or []) == len(raw_descs)
        for desc, raw in zip(week.race_time_descriptors or [], raw_descs, strict=True):
            assert desc.repeating == raw["repeating"]
            assert desc.super_session == _get(raw, "super_session")
            assert desc.session_minutes == _get(raw, "session_minutes")
            if desc.repeating:
                assert desc.start_date == date.fromisoformat(_get(raw, "start_date"))
                assert desc.day_offset == _get(raw, "day_offset")
                assert desc.first_session_time == time.fromisoformat(_get(raw, "first_session_time"))
                assert desc.repeat_minutes == _get(raw, "repeat_minutes")
            else:
                assert [t.isoformat().replace("+00:00", "Z") for t in desc.session_times] == _get(raw, "session_times")


def test_parse_schedule_body_empty_series_seasons_array_returns_no_seasons() -> None:
    assert parse_schedule_body([]) == []


def test_parse_schedule_body_does_not_mutate_the_body() -> None:
    body = _raw("series_season_schedule.json")
    before = copy.deepcopy(body)
    parse_schedule_body(body)
    assert body == before


# --- rejected bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [None, "text", 42, 4.2, True],
    ids=["null", "string", "int", "float", "bool"],
)
def test_parse_schedule_body_scalar_raises_malformed_payload(body: object) -> None:
    with pytest.raises(MalformedPayload, match="expected a series/season_schedule object or a series/seasons array"):
        parse_schedule_body(body)


def test_parse_schedule_body_link_wrapper_object_raises_naming_its_keys() -> None:
    # Given the first-hop {link, expires} body instead of the data it points to
    body = _raw("link_wrapper_car_assets.json")
    # Then it is rejected with the keys it does have
    with pytest.raises(MalformedPayload, match=r"keys \[link, expires\]"):
        parse_schedule_body(body)


def test_parse_schedule_body_success_false_raises_malformed_payload() -> None:
    with pytest.raises(MalformedPayload, match="success=false"):
        parse_schedule_body({"success": False, "season_id": 5935, "schedules": []})


def test_parse_schedule_body_array_with_non_object_raises_naming_index() -> None:
    body = [_raw("series_seasons.json")[0], "oops"]
    with pytest.raises(MalformedPayload, match=r"series/seasons\[1\]: expected a season object, got str"):
        parse_schedule_body(body)


def test_parse_schedule_body_season_missing_season_id_raises_naming_index_and_field() -> None:
    # Given a real series/seasons array whose third season lost its season_id
    body = _raw("series_seasons.json")[:3]
    del body[2]["season_id"]
    # When parsed
    with pytest.raises(MalformedPayload) as info:
        parse_schedule_body(body)
    # Then the one-line message names the array index and the field, and chains the ValidationError
    message = info.value.message
    assert "\n" not in message
    assert message.startswith("series/seasons[2]")
    assert "season_id: Field required" in message
    assert isinstance(info.value.__cause__, ValidationError)
    assert isinstance(info.value, PermanentError)  # Step Functions must not retry it


def test_parse_schedule_body_bad_nested_field_raises_naming_season_and_path() -> None:
    # Given season 5935 whose week 3 has a non-integer session length
    body = _raw("series_season_schedule.json")
    body["schedules"][3]["race_time_descriptors"][0]["session_minutes"] = "long"
    # When parsed
    with pytest.raises(MalformedPayload) as info:
        parse_schedule_body(body)
    # Then the message names the season and the dotted path to the field
    message = info.value.message
    assert f"season_id {body['season_id']}" in message
    assert "schedules[3].race_time_descriptors[0].session_minutes" in message
    assert "\n" not in message


def test_parse_schedule_body_repeating_descriptor_without_start_date_raises() -> None:
    body = _raw("series_season_schedule.json")
    del body["schedules"][0]["race_time_descriptors"][0]["start_date"]
    with pytest.raises(MalformedPayload, match=r"schedules\[0\]\.race_time_descriptors\[0\]: .*start_date"):
        parse_schedule_body(body)


def test_parse_schedule_body_several_errors_reports_first_and_count() -> None:
    body = _raw("series_season_schedule.json")
    body["schedules"][0]["race_week_num"] = -1
    body["schedules"][1]["race_week_num"] = "x"
    with pytest.raises(MalformedPayload, match=r"schedules\[0\]\.race_week_num: .*\(and 1 more error\(s\)\)$"):
        parse_schedule_body(body)


# --- week_patterns -----------------------------------------------------------------------------


def test_week_patterns_one_per_week_with_descriptors_and_track() -> None:
    # Given the real series/seasons array
    body = _raw("series_seasons.json")
    seasons = parse_schedule_body(body)
    # When turned into week patterns
    patterns = week_patterns(seasons)
    # Then there is one per schedule week, in order, carrying its descriptors and track
    raw_weeks = [w for s in body for w in s["schedules"]]
    expected = [(w["season_id"], w["race_week_num"]) for w in raw_weeks]
    assert [(p.season_id, p.race_week_num) for p in patterns] == expected
    for p, w in zip(patterns, raw_weeks, strict=True):
        assert len(p.descriptors) == len(w.get("race_time_descriptors") or [])
        assert p.track_id == w["track"]["track_id"]
        assert p.series_id == w["series_id"]


def test_week_patterns_week_without_series_id_inherits_the_season_series_id() -> None:
    # Given a season whose weeks do not carry series_id (the season does)
    body = {
        "season_id": 7,
        "series_id": 99,
        "schedules": [{"season_id": 7, "race_week_num": n, "race_time_descriptors": []} for n in range(2)],
    }
    # Then every pattern has the season's series_id
    assert [p.series_id for p in week_patterns(parse_schedule_body(body))] == [99, 99]


def test_week_patterns_missing_descriptors_key_gives_empty_descriptors() -> None:
    body = {"season_id": 7, "schedules": [{"season_id": 7, "race_week_num": 0}]}
    (pattern,) = week_patterns(parse_schedule_body(body))
    assert pattern.descriptors == []
