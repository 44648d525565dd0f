"""Typed, cached configuration: the only module that reads the environment.

(No ``from __future__ import annotations`` here: a named tuple's string annotations cost its class more to build,
and every function builds this one on its cold start.)
"""

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, Self

from iracing_sync.errors import ConfigurationError


class _Values(NamedTuple):
    table_name: str = "iracing-sync"
    region: str = "us-east-1"
    # Set locally (DynamoDB Local); unset in AWS.
    dynamodb_endpoint: str | None = None
    iracing_api_url: str = "https://members-ng.iracing.com"
    iracing_oauth_url: str = "https://oauth.iracing.com/oauth2/token"
    # SSM Parameter Store SecureString holding {"username","password","client_id","client_secret"} (AWS).
    iracing_parameter_name: str | None = None
    # Local alternative: a JSON file outside the repo with the same keys.
    iracing_credentials_file: Path | None = None
    iracing_username: str | None = None
    iracing_password: str | None = None
    iracing_client_id: str | None = None
    iracing_client_secret: str | None = None
    connect_timeout: float = 3.05
    read_timeout: float = 20.0
    # How long a token refresh may hold the shared lock; must outlast one token request (connect + read
    # timeout), or a slow refresh could lose the lock and its single-use refresh token be spent twice.
    token_lock_seconds: float = 30.0
    # Requests of the shared rate window left unused: at least the number of iRacing calls that can be in
    # flight at once (Map concurrency), since a window change can find that many not yet counted.
    rate_reserve: int = 10
    # Length of iRacing's rate window, used only until its x-ratelimit-reset headers are seen.
    rate_window_seconds: float = 60.0
    # Answer iRacing calls from a raw archive instead (a directory holding raw/, or s3://bucket): replay.
    iracing_replay: str | None = None
    # Raw payload archive: an S3 bucket in AWS, a directory locally.
    archive_bucket: str | None = None
    archive_dir: Path | None = None
    # How long a large season write may hold the partition's claim (store.season_writes): longer than the season
    # function's timeout, so a live writer never loses it, and short enough that the next run completes a crash.
    season_write_lock_seconds: float = 120.0
    # How long a sync run's record and its tasks' outcomes are kept (DynamoDB TTL), in days.
    run_retention_days: int = 90
    # The least time between two fetches of iRacing's race guide, in seconds: its link expires after 60 s, and a
    # poll within that of the last would fetch the same guide again (store.guide.claim_poll).
    race_guide_min_seconds: float = 60.0
    # The EventBridge bus schedule changes are announced on (iracing_sync.announce).
    event_bus_name: str = "default"
    # Upper bound for one /slots window, in days.
    max_window_days: int = 31
    # How long a client or CDN may reuse an API answer about stored schedules (Cache-Control max-age, seconds):
    # they change only when a sync runs (hourly at most), and an ETag makes revalidation cheap.
    api_cache_seconds: int = 300


class Settings(_Values):
    """Every environment variable the service reads, with its default; immutable, and checked when built.

    A typed tuple rather than a pydantic model: every function builds it on its cold start, where a model of these
    24 fields cost about three times what this tuple does (callgrind: 12.6 against 3.5 million instructions).
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        """Build and check the settings; a value out of its range is a ConfigurationError naming its variable."""
        self = super().__new__(cls, *args, **kwargs)
        for field, (low, inclusive) in _LIMITS.items():
            value = getattr(self, field)
            if not (value >= low if inclusive else value > low):
                raise ConfigurationError(f"{_ENV[field]} must be {'>=' if inclusive else '>'} {low:g}, got {value!r}")
        for field in ("table_name", "region", "event_bus_name"):
            if not getattr(self, field):
                raise ConfigurationError(f"{field} must not be empty")
        if self.token_lock_seconds <= self.connect_timeout + self.read_timeout:
            raise ConfigurationError(
                "IRACING_TOKEN_LOCK_SECONDS must exceed IRACING_CONNECT_TIMEOUT + IRACING_READ_TIMEOUT "
                f"({self.connect_timeout + self.read_timeout:g} s)"
            )
        return self


# The lower bound of each number, and whether it is allowed itself.
_LIMITS = {
    "connect_timeout": (0, False),
    "read_timeout": (0, False),
    "token_lock_seconds": (0, False),
    "rate_reserve": (0, True),
    "rate_window_seconds": (0, False),
    "season_write_lock_seconds": (0, False),
    "run_retention_days": (0, False),
    "race_guide_min_seconds": (0, True),
    "max_window_days": (0, False),
    "api_cache_seconds": (0, True),
}
# How an environment value of a field that is no string becomes its type.
_PARSE: dict[str, Callable[[str], object]] = {
    **{field: float for field, default in _Values._field_defaults.items() if isinstance(default, float)},
    **{field: int for field, default in _Values._field_defaults.items() if isinstance(default, int)},
    "iracing_credentials_file": Path,
    "archive_dir": Path,
}

_ENV = {
    "table_name": "TABLE_NAME",
    "dynamodb_endpoint": "DYNAMODB_ENDPOINT",
    "iracing_api_url": "IRACING_API_URL",
    "iracing_oauth_url": "IRACING_OAUTH_URL",
    "iracing_parameter_name": "IRACING_PARAMETER_NAME",
    "iracing_credentials_file": "IRACING_CREDENTIALS_FILE",
    "iracing_username": "IRACING_USERNAME",
    "iracing_password": "IRACING_PASSWORD",
    "iracing_client_id": "IRACING_CLIENT_ID",
    "iracing_client_secret": "IRACING_CLIENT_SECRET",
    "connect_timeout": "IRACING_CONNECT_TIMEOUT",
    "read_timeout": "IRACING_READ_TIMEOUT",
    "token_lock_seconds": "IRACING_TOKEN_LOCK_SECONDS",
    "rate_reserve": "IRACING_RATE_RESERVE",
    "rate_window_seconds": "IRACING_RATE_WINDOW_SECONDS",
    "iracing_replay": "IRACING_REPLAY",
    "archive_bucket": "ARCHIVE_BUCKET",
    "archive_dir": "ARCHIVE_DIR",
    "season_write_lock_seconds": "SEASON_WRITE_LOCK_SECONDS",
    "run_retention_days": "RUN_RETENTION_DAYS",
    "race_guide_min_seconds": "RACE_GUIDE_MIN_SECONDS",
    "event_bus_name": "EVENT_BUS_NAME",
    "max_window_days": "MAX_WINDOW_DAYS",
    "api_cache_seconds": "API_CACHE_SECONDS",
}


def settings_from_env(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping (defaults to os.environ)."""
    env = os.environ if environ is None else environ
    # An empty value is an unset one (SAM passes unset parameters as ""): the field keeps its default.
    values: dict[str, object] = {}
    for field, var in _ENV.items():
        if text := env.get(var):
            values[field] = _parsed(field, var, text)
    if region := env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION"):
        values["region"] = region
    return Settings(**values)


def _parsed(field: str, var: str, text: str) -> object:
    parse = _PARSE.get(field)
    if parse is None:
        return text
    try:
        return parse(text)
    except ValueError:
        raise ConfigurationError(
            f"{var} must be {'an integer' if parse is int else 'a number'}, got {text!r}"
        ) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (tests call ``get_settings.cache_clear()``)."""
    return settings_from_env()
