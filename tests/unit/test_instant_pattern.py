"""The instant pattern the OpenAPI document states (api.params.ISO_INSTANT) accepts exactly what the API reads.

A string the pattern accepts must parse (else a request the document calls valid would be refused), and a date
the API cannot read must not match (else the document would promise what the API refuses).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iracing_sync.api.params import ISO_INSTANT
from iracing_sync.instants import FIRST_YEAR, LAST_YEAR, parse_instant

PATTERN = re.compile(ISO_INSTANT)


@settings(max_examples=2000, deadline=None)  # (no timing here: a loaded machine is slow)
@given(st.from_regex(ISO_INSTANT, fullmatch=True))
def test_every_string_the_pattern_accepts_parses_as_an_instant(text: str) -> None:
    parse_instant("from", text)


def test_the_pattern_accepts_every_calendar_day_of_the_years_served_and_no_other() -> None:
    # Every real day of 1970-2199 matches; every impossible day-of-month (Feb 29 of a common year too) does not
    day = date(FIRST_YEAR, 1, 1)
    while day.year <= LAST_YEAR:
        assert PATTERN.match(day.isoformat()), day
        day += timedelta(days=1)
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        for month in range(1, 13):
            for dom in (29, 30, 31):
                text = f"{year}-{month:02d}-{dom:02d}"
                try:
                    date.fromisoformat(text)
                    real = True
                except ValueError:
                    real = False
                assert bool(PATTERN.match(text)) is real, text


@pytest.mark.parametrize(
    "text",
    [
        "1969-12-31",
        "2200-01-01",
        "2025-09-09Z",  # an offset needs a time
        "20250909",
        "2025-09-09T24:00",
        "2025-09-09T12:00:60",
        "2025-09-09T12:00+24:00",
        "2025-09-09T12:00:00.1234567",
        "2025-09-09T12",
        "٢٠٢٥-09-09",  # other scripts' digits (\\d would take them)
        "yesterday",
        "",
    ],
)
def test_the_pattern_refuses_what_is_no_instant_of_the_years_served(text: str) -> None:
    assert not PATTERN.match(text)
