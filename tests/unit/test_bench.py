"""The benchmark framework (bench/run.py) and the slot benchmark's baselines; nothing here times anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import ModuleType

import pytest

from bench import Row
from bench.bench_slots import EVER, load_weeks, rrule_expand, rrule_next, v0_expand
from bench.run import HEADER, collect, discover, main, number, table
from iracing_sync.recurrence import expand, next_slots


def test_row_ratio_is_times_better_than_baseline_both_ways() -> None:
    assert Row("rate", 300.0, "slots/s", "b", 100.0, target=3.0).ratio == 3.0
    assert Row("rate", 300.0, "slots/s", "b", 100.0, target=3.0).met is True
    assert Row("time", 2.0, "s", "b", 10.0, higher_is_better=False).ratio == 5.0
    assert Row("rate", 200.0, "slots/s", "b", 100.0, target=3.0).met is False
    assert Row("rate", 1.0, "x", "b", 1.0).met is None


def test_table_has_the_documented_columns_and_one_line_per_row() -> None:
    rows = [
        Row("slots: week", 123456.7, "slots/s", "dateutil.rrule", 40000.0, target=3.0),
        Row("slots: all", 1.5, "slots/s", "dateutil.rrule", 1.0, target=3.0),
    ]
    lines = table(rows).splitlines()
    assert [c.strip() for c in lines[0].split("|")] == list(HEADER)
    assert len(lines) == 2 + len(rows)
    assert [c.strip() for c in lines[2].split("|")] == [
        "slots: week",
        "123,457",
        "slots/s",
        "dateutil.rrule",
        "40,000",
        "3.09x",
        ">= 3x ok",
    ]
    assert lines[3].rstrip().endswith(">= 3x MISSED")


@pytest.mark.parametrize(("value", "text"), [(1234567.8, "1,234,568"), (12.345, "12.35"), (0.01234, "0.0123")])
def test_number_formats_about_three_significant_digits(value: float, text: str) -> None:
    assert number(value) == text


def test_discover_finds_bench_modules_and_filters_by_name() -> None:
    assert "bench.bench_slots" in discover()
    assert discover(["slots"]) == ["bench.bench_slots"]
    assert discover(["no-such-benchmark"]) == []


def test_collect_reports_a_failing_module_and_keeps_the_others() -> None:
    good = ModuleType("good")
    good.run = lambda: [Row("x", 2.0, "u", "b", 1.0)]  # type: ignore[attr-defined]
    bad = ModuleType("bad")
    bad.run = lambda: 1 / 0  # type: ignore[attr-defined]
    modules = {"bad": bad, "good": good}
    rows, failures = collect(["bad", "good"], importer=modules.__getitem__)
    assert [r.benchmark for r in rows] == ["x"]
    assert failures == ["bad"]


def test_main_without_matching_module_fails() -> None:
    assert main(["no-such-benchmark"]) == 1


# --- the baselines compute the same slots as the engine (else their speed would mean nothing) ---------


@pytest.mark.parametrize("file", ["series_seasons.json", "extract_series_seasons_2023s4_dallara_fir_8day_week.json"])
def test_rrule_and_v0_baselines_equal_the_engine(file: str) -> None:
    weeks = load_weeks(file)
    week = (datetime(2025, 9, 9, tzinfo=UTC), datetime(2025, 9, 16, tzinfo=UTC))
    for lo, hi in (week, EVER):
        ours = expand(weeks, lo, hi)
        assert rrule_expand(weeks, lo, hi) == ours
        assert v0_expand(weeks, lo, hi) == ours
    assert expand(weeks, *EVER), "the sample should hold slots"


def test_rrule_next_equals_engine_next() -> None:
    weeks = load_weeks("series_seasons.json")
    at = datetime(2025, 9, 9, 7, 31, tzinfo=UTC)
    for series_id in {w.series_id for w in weeks}:
        series_weeks = [w for w in weeks if w.series_id == series_id]
        for instant in (at, at + timedelta(days=40), EVER[1]):
            assert rrule_next(series_weeks, instant) == next_slots(series_weeks, instant)
