"""Typed, cached configuration: the only module that reads the environment.

Each setting is declared once, as a field of ``Settings``: its type, environment variables, default and bounds.
(No ``from __future__ import annotations``: the field types are read when the module loads, and every function
loads it on its cold start.)
"""

import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from types import UnionType
from typing import Any, NamedTuple, Self

from iracing_sync.errors import ConfigurationError


class _Declared:
    """Where a setting comes from (its environment variables: the first one set wins) and the values it may take."""

    __slots__ = ("above", "at_least", "names", "not_empty")

    def __init__(self, names: tuple[str, ...], above: float | None, at_least: float | None, not_empty: bool) -> None:
        self.names = names
        self.above = above  # the least value, not allowed itself
        self.at_least = at_least  # the least value allowed
        self.not_empty = not_empty


_DECLARATIONS: list[_Declared] = []


def setting[T](
    *names: str, default: T, above: float | None = None, at_least: float | None = None, not_empty: bool = False
) -> T:
    """Declare the next field of Settings: its environment variables and bounds; gives back its default."""
    _DECLARATIONS.append(_Declared(names, above, at_least, not_empty))
    return default


# Each field is one declaration: its type, then setting(its environment variables, its default, its bounds).
class _Values(NamedTuple):
    table_name: str = setting("TABLE_NAME", default="iracing-sync", not_empty=True)
    region: str = setting("AWS_REGION", "AWS_DEFAULT_REGION", default="us-east-1", not_empty=True)
    # Set locally (DynamoDB Local); unset in AWS.
    dynamodb_endpoint: str | None = setting("DYNAMODB_ENDPOINT", default=None)
    iracing_api_url: str = setting("IRACING_API_URL", default="https://members-ng.iracing.com")
    iracing_oauth_url: str = setting("IRACING_OAUTH_URL", default="https://oauth.iracing.com/oauth2/token")
    # SSM Parameter Store SecureString holding {"username","password","client_id","client_secret"} (AWS).
    iracing_parameter_name: str | None = setting("IRACING_PARAMETER_NAME", default=None)
    # Local alternative: a JSON file outside the repo with the same keys.
    iracing_credentials_file: Path | None = setting("IRACING_CREDENTIALS_FILE", default=None)
    iracing_username: str | None = setting("IRACING_USERNAME", default=None)
    iracing_password: str | None = setting("IRACING_PASSWORD", default=None)
    iracing_client_id: str | None = setting("IRACING_CLIENT_ID", default=None)
    iracing_client_secret: str | None = setting("IRACING_CLIENT_SECRET", default=None)
    connect_timeout: float = setting("IRACING_CONNECT_TIMEOUT", default=3.05, above=0)
    read_timeout: float = setting("IRACING_READ_TIMEOUT", default=20.0, above=0)
    # How long a token refresh may hold the shared lock; must outlast one token request (connect + read
    # timeout), or a slow refresh could lose the lock and its single-use refresh token be spent twice.
    token_lock_seconds: float = setting("IRACING_TOKEN_LOCK_SECONDS", default=30.0, above=0)
    # Requests of the shared rate window left unused: at least the number of iRacing calls that can be in
    # flight at once (Map concurrency), since a window change can find that many not yet counted.
    rate_reserve: int = setting("IRACING_RATE_RESERVE", default=10, at_least=0)
    # Length of iRacing's rate window, used only until its x-ratelimit-reset headers are seen.
    rate_window_seconds: float = setting("IRACING_RATE_WINDOW_SECONDS", default=60.0, above=0)
    # Answer iRacing calls from a raw archive instead (a directory holding raw/, or s3://bucket): replay.
    iracing_replay: str | None = setting("IRACING_REPLAY", default=None)
    # Raw payload archive: an S3 bucket in AWS, a directory locally.
    archive_bucket: str | None = setting("ARCHIVE_BUCKET", default=None)
    archive_dir: Path | None = setting("ARCHIVE_DIR", default=None)
    # How long a large season write may hold the partition's claim (store.season_writes): longer than the season
    # function's timeout, so a live writer never loses it, and short enough that the next run completes a crash.
    season_write_lock_seconds: float = setting("SEASON_WRITE_LOCK_SECONDS", default=120.0, above=0)
    # How long a sync run's record and its tasks' outcomes are kept (DynamoDB TTL), in days.
    run_retention_days: int = setting("RUN_RETENTION_DAYS", default=90, above=0)
    # The least time between two fetches of iRacing's race guide, in seconds: its link expires after 60 s, and a
    # poll within that of the last would fetch the same guide again (store.guide.claim_poll).
    race_guide_min_seconds: float = setting("RACE_GUIDE_MIN_SECONDS", default=60.0, at_least=0)
    # The EventBridge bus schedule changes are announced on (iracing_sync.announce).
    event_bus_name: str = setting("EVENT_BUS_NAME", default="default", not_empty=True)
    # Upper bound for one /slots window, in days.
    max_window_days: int = setting("MAX_WINDOW_DAYS", default=31, above=0)
    # How long a client or CDN may reuse an API answer about stored schedules (Cache-Control max-age, seconds):
    # they change only when a sync runs (hourly at most), and an ETag makes revalidation cheap.
    api_cache_seconds: int = setting("API_CACHE_SECONDS", default=300, at_least=0)
    # Local only: the instant a season sync takes as now when it picks the weeks whose forecasts are due (an ISO 8601
    # instant with its offset). Unset in AWS (the clock); `iracing-sync demo` sets it to its capture's time.
    forecast_now: datetime | None = setting("FORECAST_NOW", default=None)


def _parser(kind: Any) -> Callable[[str], Any] | None:
    """How an environment value becomes a field of type ``kind`` (None: it stays the string)."""
    if isinstance(kind, UnionType):  # X | None
        kind = next(arg for arg in kind.__args__ if arg is not type(None))
    if kind is datetime:
        return _instant
    return None if kind is str else kind


def _instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset, in UTC (ValueError without one: a local time means no instant)."""
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError(text)
    return value.astimezone(UTC)


# What a value that does not parse should have been, by parser.
_EXPECTED: dict[Callable[[str], object], str] = {
    int: "an integer",
    float: "a number",
    _instant: "an ISO 8601 instant with its offset (2025-09-09T11:54:00Z)",
}


# (field, its declaration, its parser): the declarations were made in field order, one per field (strict: a field
# without one fails the import).
_DECLARED = tuple(
    (field, declared, _parser(_Values.__annotations__[field]))
    for field, declared in zip(_Values._fields, _DECLARATIONS, strict=True)
)
_BOUNDED = tuple((field, d) for field, d, _ in _DECLARED if d.above is not None or d.at_least is not None)
_NOT_EMPTY = tuple((field, d) for field, d, _ in _DECLARED if d.not_empty)


class Settings(_Values):
    """Every environment variable the service reads, with its default; immutable, and checked when built.

    A typed tuple rather than a pydantic model: every function builds it on its cold start, where a model of these
    25 fields cost about three times what this tuple does (callgrind: 12.6 against 3.5 million instructions).
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """Build and check the settings; a value out of its range is a ConfigurationError naming its variable."""
        self = super().__new__(cls, *args, **kwargs)
        for field, declared in _BOUNDED:
            value = getattr(self, field)
            if declared.above is not None and not value > declared.above:
                raise ConfigurationError(f"{declared.names[0]} must be > {declared.above:g}, got {value!r}")
            if declared.at_least is not None and not value >= declared.at_least:
                raise ConfigurationError(f"{declared.names[0]} must be >= {declared.at_least:g}, got {value!r}")
        for field, declared in _NOT_EMPTY:
            if not getattr(self, field):
                raise ConfigurationError(f"{declared.names[0]} ({field}) must not be empty")
        if self.token_lock_seconds <= self.connect_timeout + self.read_timeout:
            raise ConfigurationError(
                "IRACING_TOKEN_LOCK_SECONDS must exceed IRACING_CONNECT_TIMEOUT + IRACING_READ_TIMEOUT "
                f"({self.connect_timeout + self.read_timeout:g} s)"
            )
        return self


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping (defaults to os.environ)."""
    env = os.environ if environ is None else environ
    # An empty value is an unset one (SAM passes unset parameters as ""): the field keeps its default.
    values: dict[str, object] = {}
    for field, declared, parse in _DECLARED:
        for var in declared.names:
            if text := env.get(var):
                values[field] = text if parse is None else _parsed(parse, var, text)
                break
    return Settings(**values)


def _parsed(parse: Callable[[str], object], var: str, text: str) -> object:
    try:
        return parse(text)
    except ValueError:
        raise ConfigurationError(f"{var} must be {_EXPECTED.get(parse, 'valid')}, got {text!r}") from None


def environment_names() -> set[str]:
    """Every environment variable a setting is read from."""
    return {name for _, declared, _ in _DECLARED for name in declared.names}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (tests call ``get_settings.cache_clear()``)."""
    return settings_from_env()
