"""UTC instants: the one ISO 8601 formatter, and the parsers for stored values and for what a person typed.

Every instant the service writes (DynamoDB attributes, keys, JSON answers, messages) is
``YYYY-MM-DDTHH:MM:SSZ`` from :func:`iso_z`; iRacing's own ``expires`` style adds milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

from iracing_sync.errors import InvalidInputError

ISO_Z = "%Y-%m-%dT%H:%M:%SZ"
# Instants outside these years are bad input: no iRacing schedule is there, and date arithmetic near
# datetime's limits (a window's lookback, a season's) would overflow.
FIRST_YEAR, LAST_YEAR = 1970, 2199


class Memo[K, V](dict[K, V]):
    """A dict that makes a missing value once with ``make``: e.g. each instant of an answer formatted once."""

    def __init__(self, make: Callable[[K], V]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: K) -> V:
        value = self[key] = self.make(key)
        return value


def iso_z(value: datetime | float, *, millis: bool = False) -> str:
    """An aware datetime, or epoch seconds, as ``YYYY-MM-DDTHH:MM:SSZ`` (``.mmmZ`` with ``millis``)."""
    when = datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value.astimezone(UTC)
    if millis:
        return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return when.strftime(ISO_Z)


def parse_iso_z(text: str) -> datetime:
    """The aware datetime of a value :func:`iso_z` wrote."""
    return datetime.strptime(text, ISO_Z).replace(tzinfo=UTC)


def parse_instant(name: str, value: str) -> datetime:
    """An ISO 8601 date or date-time given as ``name`` (naive means UTC, a bare date midnight UTC), as aware UTC.

    InvalidInputError (one line naming ``name`` and the value) if it is none, or outside FIRST_YEAR..LAST_YEAR.
    """
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InvalidInputError(f"{name}: {value!r} is not an ISO 8601 date/time") from None
        parsed = datetime(day.year, day.month, day.day)
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        raise InvalidInputError(f"{name}: {value!r} is outside the years {FIRST_YEAR}-{LAST_YEAR}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
