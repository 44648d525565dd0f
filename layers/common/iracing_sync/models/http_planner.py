"""The HTTP API's answers for planning with owned content: the season grid, the purchase guide, a week's weather
and forecast (named through ``models.http`` too, where the OpenAPI document's builder finds every shape)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from iracing_sync.models.base import OMITTED_UNLESS_ASKED, DeferredModel, UtcInstant
from iracing_sync.models.iracing import WeatherSummary
from iracing_sync.models.planning import ContentPackage
from iracing_sync.models.records import CarRef

License = Literal["R", "D", "C", "B", "A"]


class WeatherOut(DeferredModel):
    """A week's weather as a racer reads it, from iRacing's weather summary (``summary``, as iRacing sent it).

    Temperatures in both Celsius and Fahrenheit (the summary's ``temp_units``: 1 Celsius, 0 Fahrenheit); wind in
    km/h and mph, reading the summary's ``wind_units`` 1 as km/h and 0 as mph (see docs/api.md: that code is read
    from the data, not documented by iRacing); the wind's compass direction (``wind_dir`` 0-7: N, NE ... NW) and the
    skies (0-3: clear, partly cloudy, mostly cloudy, overcast). A value whose unit code is unknown is null; the
    summary keeps the raw values.
    """

    rain_chance: int | None = Field(description="chance of rain in percent (the summary's precip_chance)")
    temp_low_c: float | None
    temp_high_c: float | None
    temp_low_f: float | None
    temp_high_f: float | None
    wind_low_kph: float | None
    wind_high_kph: float | None
    wind_low_mph: float | None
    wind_high_mph: float | None
    wind_dir: str | None = Field(description="where the wind comes from: N, NE, E, SE, S, SW, W or NW")
    skies_low: str | None = Field(description="the clearest skies: clear, partly cloudy, mostly cloudy or overcast")
    skies_high: str | None = Field(description="the cloudiest skies")
    max_precip_rate_desc: str | None = Field(description="iRacing's words for the heaviest rain (None, Light...)")
    summary: WeatherSummary = Field(description="iRacing's weather summary as it sent it")


def _asked(description: str) -> Any:
    return Field(None, description=description, json_schema_extra=OMITTED_UNLESS_ASKED)


class MissingOut(DeferredModel):
    """What a racer lacks to enter a week: its track's package (null when owned or free) and, when no car of the
    week is theirs or free, its cars' packages (cheapest first; any one of them will do)."""

    track_package: ContentPackage | None
    car_packages: list[ContentPackage]


class GridWeek(DeferredModel):
    """One week of a season in the grid: dates, track and its package, cars, race length, weather; with ownership
    parameters, whether the racer can enter it and what they lack."""

    race_week_num: int = Field(description="0-based week of the season")
    start_date: str | None = Field(description="the week's first day (ISO 8601 date)")
    week_end_time: UtcInstant | None = Field(description="when the week ends, as iRacing gives it (older data: null)")
    first_start: UtcInstant | None = Field(description="the week's first session start")
    last_start: UtcInstant | None = Field(description="the week's last session start")
    track_id: int | None
    track_name: str | None
    config_name: str | None
    category: str | None
    track_package: ContentPackage | None
    cars: list[CarRef]
    car_packages: list[ContentPackage]
    race_laps: int | None
    race_minutes: int | None
    rain_chance: int | None = Field(description="chance of rain in percent (null when unknown)")
    weather: WeatherOut | None
    enterable: bool | None = _asked("with ownership parameters: whether the racer can enter this week")
    missing: MissingOut | None = _asked("with ownership parameters: what the racer lacks (nothing when enterable)")


class GridSeason(DeferredModel):
    """A season running at ``at``, with all its weeks."""

    season_id: int
    series_id: int | None
    series_name: str | None
    season_name: str | None
    category: str | None
    license: License | None
    license_group: int | None
    first_start: UtcInstant | None = Field(description="the season's first session start")
    end: UtcInstant | None = Field(description="the end of the season's last racing day")
    weeks: list[GridWeek]
    enterable_weeks: int | None = _asked("with ownership parameters: how many of its weeks the racer can enter")


class SeasonGrid(DeferredModel):
    """GET /seasons: every season running at ``at`` (its first session at or before, its last racing day not
    over), filtered, sorted by series name then season ID."""

    at: UtcInstant
    count: int = Field(ge=0)
    seasons: list[GridSeason]


class GuideWeek(DeferredModel):
    """A week a package would unlock."""

    season_id: int
    series_id: int | None
    race_week_num: int
    start_date: str | None
    track_id: int | None
    track_name: str | None
    config_name: str | None


class GuidePackage(DeferredModel):
    """A track package the racer lacks, with the weeks of the asked series' seasons it unlocks."""

    package_id: int | None = Field(description="null for a track the catalog does not list")
    name: str | None
    price: float | None = Field(description="iRacing's price in US dollars")
    purchasable: bool = Field(description="for sale (iRacing's is_ps_purchasable): a retired track is not")
    content_ids: list[int] = Field(description="the track (configuration) IDs it holds")
    weeks_unlocked: int = Field(ge=1)
    weeks: list[GuideWeek]


class CreditPurchase(DeferredModel):
    """The cheapest purchase that reaches participation credit: track packages and at most one car package."""

    packages: list[ContentPackage]
    price: float = Field(description="their total price in US dollars (0 when credit is reachable now)")
    weeks_raceable: int = Field(description="weeks the racer could enter after buying them")


class GuideSeries(DeferredModel):
    """One asked series' season running at ``at``: the weeks the racer can enter now, the participation credit's
    threshold and the cheapest way to it, and the cars they lack."""

    series_id: int | None
    series_name: str | None
    season_id: int
    season_name: str | None
    weeks: int = Field(description="the season's weeks")
    weeks_raceable: int = Field(description="weeks the racer can enter now")
    raceable_weeks: list[int] = Field(description="their race_week_num")
    min_weeks: int = Field(description="weeks to race for participation credit: 8 of 12, two thirds rounded up")
    credit_reachable: bool = Field(description="whether the racer can race min_weeks weeks with what they own")
    credit_purchase: CreditPurchase | None = Field(
        description="the cheapest set of packages that reaches min_weeks (empty when reachable now; null when no "
        "set of track packages and one car reaches it)"
    )
    cars_missing: list[ContentPackage] = Field(
        description="the packages of the cars of the weeks no owned or free car can race, cheapest first"
    )


class PurchaseGuide(DeferredModel):
    """GET /purchase-guide: what to buy next for the asked series' seasons running at ``at``."""

    at: UtcInstant
    series_ids: list[int]
    not_running: list[int] = Field(description="asked series with no season running at at")
    packages: list[GuidePackage] = Field(
        description="track packages lacking, most weeks unlocked first (ties: cheaper)"
    )
    series: list[GuideSeries]


class ForecastHour(DeferredModel):
    """One keyframe of iRacing's forecast, in units: deg C (and F), hPa, m/s, percent, mm/h."""

    index: int | None
    time_offset: int | None = Field(description="minutes from the session's start (negative: before it)")
    timestamp: str | None = Field(description="the simulated clock at the track (no zone), as iRacing gives it")
    air_temp_c: float | None
    air_temp_f: float | None
    raw_air_temp_c: float | None
    pressure_hpa: float | None
    wind_speed_ms: float | None
    wind_dir_deg: int | None = Field(description="where the wind comes from, in degrees")
    rel_humidity_pct: float | None
    precip_chance_pct: float | None
    cloud_cover_pct: float | None
    precip_amount_mmh: float | None
    affects_session: bool | None
    allow_precip: bool | None
    is_sun_up: bool | None
    valid_stats: bool | None


class WeekForecast(DeferredModel):
    """The forecast behind a week's weather_url, as the season sync fetched it."""

    season_id: int
    race_week_num: int
    object: str = Field(description="the forecast's address without its (re-signed) query string")
    fetched_at: UtcInstant
    hours: list[ForecastHour]
