"""Where the iRacing credentials come from: Secrets Manager (moto, in-process), a file outside the repo, or
the environment; every failure names the place looked at, never a value."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from iracing_sync.errors import MalformedPayload, PermanentError
from iracing_sync.settings import Settings
from iracing_sync.sync import load_credentials

SECRET = {"username": "driver@example.com", "password": "pw-value", "client_id": "cid", "client_secret": "cs-value"}


@pytest.fixture
def secrets_manager() -> Iterator[Any]:
    from aws_lambda_powertools.utilities.parameters import base

    with mock_aws():
        base.DEFAULT_PROVIDERS.clear()  # Powertools keeps its boto3 client: make it one of moto's
        yield boto3.client("secretsmanager", region_name="us-east-1")
    base.DEFAULT_PROVIDERS.clear()


def test_load_credentials_from_secrets_manager(secrets_manager: Any) -> None:
    name = f"iracing-{uuid.uuid4().hex}"
    secrets_manager.create_secret(Name=name, SecretString=json.dumps(SECRET))
    credentials = load_credentials(Settings(iracing_secret_name=name))
    assert (credentials.username, credentials.client_id) == ("driver@example.com", "cid")
    assert credentials.password == "pw-value" and credentials.client_secret == "cs-value"


def test_load_credentials_missing_secret_is_permanent(secrets_manager: Any) -> None:
    with pytest.raises(PermanentError, match="ResourceNotFoundException"):
        load_credentials(Settings(iracing_secret_name=f"missing-{uuid.uuid4().hex}"))


def test_load_credentials_secret_that_is_not_json_is_malformed(secrets_manager: Any) -> None:
    name = f"iracing-{uuid.uuid4().hex}"
    secrets_manager.create_secret(Name=name, SecretString="pw-value but no JSON")
    with pytest.raises(MalformedPayload) as failure:
        load_credentials(Settings(iracing_secret_name=name))
    assert "pw-value" not in str(failure.value)


def test_load_credentials_from_a_file_outside_the_repo(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(SECRET))
    assert load_credentials(Settings(iracing_credentials_file=path)).username == "driver@example.com"


def test_load_credentials_refuses_a_file_inside_a_git_repository(tmp_path: Path) -> None:
    (tmp_path / "repo" / ".git").mkdir(parents=True)
    path = tmp_path / "repo" / ".local" / "credentials.json"
    path.parent.mkdir()
    path.write_text(json.dumps(SECRET))
    with pytest.raises(PermanentError, match="inside a git repository") as failure:
        load_credentials(Settings(iracing_credentials_file=path))
    assert "pw-value" not in str(failure.value)


def test_load_credentials_unreadable_file_names_the_file_not_its_content(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text("pw-value, not JSON")
    with pytest.raises(PermanentError, match="credentials.json") as failure:
        load_credentials(Settings(iracing_credentials_file=path))
    assert "pw-value" not in str(failure.value)
    with pytest.raises(PermanentError, match="cannot read"):
        load_credentials(Settings(iracing_credentials_file=tmp_path / "absent.json"))


def test_load_credentials_from_the_environment() -> None:
    settings = Settings(
        iracing_username="driver@example.com",
        iracing_password="pw-value",
        iracing_client_id="cid",
        iracing_client_secret="cs-value",
    )
    assert load_credentials(settings).client_secret == "cs-value"


def test_load_credentials_incomplete_environment_names_what_is_missing() -> None:
    with pytest.raises(PermanentError, match="IRACING_PASSWORD, IRACING_CLIENT_SECRET not set"):
        load_credentials(Settings(iracing_username="driver@example.com", iracing_client_id="cid"))
    with pytest.raises(PermanentError, match="no iRacing credentials"):
        load_credentials(Settings())
