"""Typed, cached configuration: the only module that reads the environment."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class Settings(BaseModel):
    """Every environment variable the service reads, with its default."""

    model_config = ConfigDict(frozen=True)

    table_name: str = Field(default="iracing-sync", min_length=1)
    region: str = Field(default="us-east-1", min_length=1)
    # Set locally (DynamoDB Local); unset in AWS.
    dynamodb_endpoint: str | None = None
    iracing_api_url: str = "https://members-ng.iracing.com"
    iracing_oauth_url: str = "https://oauth.iracing.com/oauth2/token"
    # Secrets Manager secret holding {"username","password","client_id","client_secret"} (AWS).
    iracing_secret_name: str | None = None
    # Local alternative: a JSON file outside the repo with the same keys.
    iracing_credentials_file: Path | None = None
    iracing_username: str | None = None
    iracing_password: str | None = None
    iracing_client_id: str | None = None
    iracing_client_secret: str | None = None
    connect_timeout: float = Field(default=3.05, gt=0)
    read_timeout: float = Field(default=20.0, gt=0)
    # How long a token refresh may hold the shared lock; must outlast one token request (connect + read
    # timeout), or a slow refresh could lose the lock and its single-use refresh token be spent twice.
    token_lock_seconds: float = Field(default=30.0, gt=0)
    # Requests of the shared rate window left unused: at least the number of iRacing calls that can be in
    # flight at once (Map concurrency), since a window change can find that many not yet counted.
    rate_reserve: int = Field(default=10, ge=0)
    # Length of iRacing's rate window, used only until its x-ratelimit-reset headers are seen.
    rate_window_seconds: float = Field(default=60.0, gt=0)
    # Answer iRacing calls from a raw archive instead (a directory holding raw/, or s3://bucket): replay.
    iracing_replay: str | None = None
    # Raw payload archive: an S3 bucket in AWS, a directory locally.
    archive_bucket: str | None = None
    archive_dir: Path | None = None
    # How long a large season write may hold the partition's claim (store.season_writes): longer than the season
    # function's timeout, so a live writer never loses it, and short enough that the next run completes a crash.
    season_write_lock_seconds: float = Field(default=120.0, gt=0)
    # How long a sync run's record and its tasks' outcomes are kept (DynamoDB TTL), in days.
    run_retention_days: int = Field(default=90, gt=0)
    # The least time between two fetches of iRacing's race guide, in seconds: its link expires after 60 s, and a
    # poll within that of the last would fetch the same guide again (store.guide.claim_poll).
    race_guide_min_seconds: float = Field(default=60.0, ge=0)
    # The EventBridge bus schedule changes are announced on (iracing_sync.announce).
    event_bus_name: str = Field(default="default", min_length=1)
    # Upper bound for one /slots window, in days.
    max_window_days: int = Field(default=31, gt=0)
    # How long a client or CDN may reuse an API answer about stored schedules (Cache-Control max-age, seconds):
    # they change only when a sync runs (hourly at most), and an ETag makes revalidation cheap.
    api_cache_seconds: int = Field(default=300, ge=0)

    @field_validator("*", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # SAM passes unset parameters as "" — treat them as absent, not as a value.
        return None if value == "" else value

    @model_validator(mode="after")
    def _lock_outlasts_a_token_request(self) -> Settings:
        if self.token_lock_seconds <= self.connect_timeout + self.read_timeout:
            raise ValueError(
                "IRACING_TOKEN_LOCK_SECONDS must exceed IRACING_CONNECT_TIMEOUT + IRACING_READ_TIMEOUT "
                f"({self.connect_timeout + self.read_timeout:g} s)"
            )
        return self


_ENV = {
    "table_name": "TABLE_NAME",
    "dynamodb_endpoint": "DYNAMODB_ENDPOINT",
    "iracing_api_url": "IRACING_API_URL",
    "iracing_oauth_url": "IRACING_OAUTH_URL",
    "iracing_secret_name": "IRACING_SECRET_NAME",
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
    values: dict[str, object] = {field: env[var] for field, var in _ENV.items() if env.get(var)}
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if region:
        values["region"] = region
    return Settings.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once (tests call ``get_settings.cache_clear()``)."""
    return settings_from_env()
