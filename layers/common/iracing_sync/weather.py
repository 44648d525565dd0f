"""A week's weather in units a racer reads, and iRacing's hourly forecast behind its ``weather_url``.

iRacing's codes, and where each reading comes from (docs/api.md, "Weather"): the summary's ``temp_units`` 1 is
Celsius and the schedule's top-level 0 Fahrenheit (a week's ``temp_value`` 70 with ``temp_units`` 0 pairs with a
summary of 21.3-22.2 at 1); ``wind_units`` 1 is read as km/h (metric like ``temp_units`` 1; the 527 summaries of
the 2025-09-09 capture span 1.8-47.1, a median of 14.8: km/h, not m/s) and 0 as mph, the one uncertain code;
``wind_dir`` 0-7 is N, NE ... NW (aydsko-iracingdata's WindDirection); skies 0-3 are clear, partly cloudy, mostly
cloudy, overcast (iRacing's SDK ``Skies``); the summary's ``precip_chance`` is a percent (0-100), the forecast's
values are scaled integers (SOURCES.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError

from iracing_sync.errors import MalformedPayload
from iracing_sync.models.base import validation_summary
from iracing_sync.models.iracing import WeatherSummary
from iracing_sync.models.planning import rain_percent

WIND_DIRECTIONS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
SKIES = ("clear", "partly cloudy", "mostly cloudy", "overcast")
CELSIUS, FAHRENHEIT = 1, 0
KPH, MPH = 1, 0
MPH_IN_KPH = 1.609344
# A week's forecast is fetched while it runs and from this long before it starts.
FORECAST_HORIZON = timedelta(days=8)
# A week without week_end_time (older data) is taken to last this long from its start_date.
WEEK = timedelta(days=7)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _temps(value: float | None, units: int | None) -> tuple[float | None, float | None]:
    """(Celsius, Fahrenheit) of a summary temperature; (None, None) for an unknown unit code."""
    if value is None or units not in (CELSIUS, FAHRENHEIT):
        return None, None
    celsius = value if units == CELSIUS else (value - 32) / 1.8
    return _round(celsius), _round(celsius * 1.8 + 32)


def _winds(value: float | None, units: int | None) -> tuple[float | None, float | None]:
    """(km/h, mph) of a summary wind speed; (None, None) for an unknown unit code."""
    if value is None or units not in (KPH, MPH):
        return None, None
    kph = value if units == KPH else value * MPH_IN_KPH
    return _round(kph), _round(kph / MPH_IN_KPH)


def _code(names: tuple[str, ...], code: int | None) -> str | None:
    return names[code] if code is not None and 0 <= code < len(names) else None


def weather_out(summary: WeatherSummary | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A week's weather as GET /seasons and a season's weeks answer it (models.http_planner.WeatherOut), from
    iRacing's summary (a model, or its stored JSON: the grid reads that)."""
    if summary is None:
        return None
    raw = summary.model_dump(mode="json") if isinstance(summary, WeatherSummary) else summary
    full = {name: raw.get(name) for name in WeatherSummary.model_fields}
    temps = sorted(t for t in (full["temp_low"], full["temp_high"]) if t is not None)
    winds = sorted(w for w in (full["wind_low"], full["wind_high"]) if w is not None)
    low_c, low_f = _temps(temps[0] if temps else None, full["temp_units"])
    high_c, high_f = _temps(temps[-1] if temps else None, full["temp_units"])
    low_kph, low_mph = _winds(winds[0] if winds else None, full["wind_units"])
    high_kph, high_mph = _winds(winds[-1] if winds else None, full["wind_units"])
    skies = sorted(s for s in (full["skies_low"], full["skies_high"]) if s is not None)
    return {
        "rain_chance": rain_percent(full["precip_chance"]),
        "temp_low_c": low_c,
        "temp_high_c": high_c,
        "temp_low_f": low_f,
        "temp_high_f": high_f,
        "wind_low_kph": low_kph,
        "wind_high_kph": high_kph,
        "wind_low_mph": low_mph,
        "wind_high_mph": high_mph,
        "wind_dir": _code(WIND_DIRECTIONS, full["wind_dir"]),
        "skies_low": _code(SKIES, skies[0]) if skies else None,
        "skies_high": _code(SKIES, skies[-1]) if skies else None,
        "max_precip_rate_desc": full["max_precip_rate_desc"],
        "summary": full,
    }


def forecast_object(url: str) -> str:
    """The forecast a weather_url points to, without its query string: iRacing re-signs the link on every fetch of
    the schedule, so two fetches of one unchanged forecast differ only there."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def week_bounds(start_date: date | None, week_end_time: datetime | None) -> tuple[datetime, datetime] | None:
    """When a week starts (its start_date, UTC) and ends (its week_end_time, else a week later); None undated."""
    if start_date is None:
        return None
    start = datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC)
    return start, week_end_time or start + WEEK


def forecast_due(bounds: tuple[datetime, datetime] | None, now: datetime) -> bool:
    """Whether a week's forecast is fetched at ``now``: the week runs, or starts within FORECAST_HORIZON."""
    return bounds is not None and bounds[0] - FORECAST_HORIZON <= now < bounds[1]


def _scaled(value: Any, scale: float) -> float | None:
    return None if not isinstance(value, int | float) or isinstance(value, bool) else round(value / scale, 2)


def forecast_hours(body: Any) -> list[dict[str, Any]]:
    """iRacing's forecast body (an array of hourly keyframes) in units (models.http_planner.ForecastHour):
    temperatures deg C x 100, pressure hPa x 10, wind m/s x 100, humidity and rain chance % x 100, cloud cover
    % x 10, rain mm/h x 10. MalformedPayload if it is not such an array."""
    from iracing_sync.models.iracing_bodies import ForecastKeyframe

    if not isinstance(body, list):
        raise MalformedPayload(f"weather forecast: expected an array of keyframes, got {type(body).__name__}")
    hours = []
    for index, raw in enumerate(body):
        try:
            frame = ForecastKeyframe.model_validate(raw)
        except ValidationError as exc:
            raise MalformedPayload(f"weather forecast[{index}]: {validation_summary(exc)}") from exc
        air = _scaled(frame.air_temp, 100)
        hours.append(
            {
                "index": frame.index,
                "time_offset": frame.time_offset,
                "timestamp": frame.timestamp,
                "air_temp_c": air,
                "air_temp_f": None if air is None else round(air * 1.8 + 32, 2),
                "raw_air_temp_c": _scaled(frame.raw_air_temp, 100),
                "pressure_hpa": _scaled(frame.pressure, 10),
                "wind_speed_ms": _scaled(frame.wind_speed, 100),
                "wind_dir_deg": frame.wind_dir,
                "rel_humidity_pct": _scaled(frame.rel_humidity, 100),
                "precip_chance_pct": _scaled(frame.precip_chance, 100),
                "cloud_cover_pct": _scaled(frame.cloud_cover, 10),
                "precip_amount_mmh": _scaled(frame.precip_amount, 10),
                "affects_session": frame.affects_session,
                "allow_precip": frame.allow_precip,
                "is_sun_up": frame.is_sun_up,
                "valid_stats": frame.valid_stats,
            }
        )
    return hours
