"""Settings the iRacing client reads: defaults, environment names, and the combinations refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from iracing_sync.errors import ConfigurationError
from iracing_sync.settings import Settings, settings_from_env


def test_client_settings_defaults_are_safe_for_lambda() -> None:
    settings = settings_from_env({})
    assert settings.token_lock_seconds > settings.connect_timeout + settings.read_timeout
    assert settings.rate_reserve == 10 and settings.rate_window_seconds == 60.0
    assert settings.iracing_replay is None


def test_client_settings_are_read_from_their_environment_variables() -> None:
    settings = settings_from_env(
        {
            "IRACING_TOKEN_LOCK_SECONDS": "45",
            "IRACING_RATE_RESERVE": "4",
            "IRACING_RATE_WINDOW_SECONDS": "30",
            "IRACING_REPLAY": "s3://raw-bucket",
            "IRACING_READ_TIMEOUT": "5",
        }
    )
    assert (settings.token_lock_seconds, settings.rate_reserve, settings.rate_window_seconds) == (45.0, 4, 30.0)
    assert settings.iracing_replay == "s3://raw-bucket" and settings.read_timeout == 5.0


def test_client_settings_empty_values_mean_unset() -> None:
    # SAM passes an unset parameter as ""
    settings = settings_from_env({"IRACING_REPLAY": "", "IRACING_RATE_RESERVE": ""})
    assert settings.iracing_replay is None and settings.rate_reserve == 10


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"IRACING_RATE_RESERVE": "-1"}, "IRACING_RATE_RESERVE must be >= 0, got -1"),
        ({"IRACING_RATE_RESERVE": "many"}, "IRACING_RATE_RESERVE must be an integer, got 'many'"),
        ({"IRACING_RATE_WINDOW_SECONDS": "0"}, "IRACING_RATE_WINDOW_SECONDS must be > 0, got 0.0"),
        ({"IRACING_TOKEN_LOCK_SECONDS": "0"}, "IRACING_TOKEN_LOCK_SECONDS must be > 0"),
        ({"IRACING_CONNECT_TIMEOUT": "0"}, "IRACING_CONNECT_TIMEOUT must be > 0"),
        ({"IRACING_READ_TIMEOUT": "-3"}, "IRACING_READ_TIMEOUT must be > 0, got -3.0"),
        ({"IRACING_READ_TIMEOUT": "soon"}, "IRACING_READ_TIMEOUT must be a number, got 'soon'"),
        ({"MAX_WINDOW_DAYS": "0"}, "MAX_WINDOW_DAYS must be > 0"),
    ],
)
def test_client_settings_reject_nonsense_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        settings_from_env(env)
    assert str(refused.value).startswith(message)


def test_client_settings_are_immutable_and_typed() -> None:
    settings = settings_from_env({"ARCHIVE_DIR": "/tmp/raw", "API_CACHE_SECONDS": "60", "TABLE_NAME": "t"})
    assert settings.archive_dir == Path("/tmp/raw") and settings.api_cache_seconds == 60
    assert settings.table_name == "t" and settings.region
    with pytest.raises(AttributeError):
        settings.table_name = "other"  # type: ignore[misc]


def test_client_settings_refuse_a_lock_shorter_than_one_token_request() -> None:
    # A refresh that outlives its lock could let a second invocation spend the same single-use refresh token
    with pytest.raises(ConfigurationError, match="IRACING_TOKEN_LOCK_SECONDS"):
        settings_from_env({"IRACING_TOKEN_LOCK_SECONDS": "20", "IRACING_READ_TIMEOUT": "20"})
    assert Settings(token_lock_seconds=24, connect_timeout=3, read_timeout=20).token_lock_seconds == 24
