"""Where the iRacing credentials come from: Parameter Store (a SecureString; moto, in-process), a file outside the
repo, or the environment; every failure names the place looked at, never a value."""

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
from iracing_sync.settings import Settings, settings_from_env
from iracing_sync.sources import load_credentials

SECRET = {"username": "driver@example.com", "password": "pw-value", "client_id": "cid", "client_secret": "cs-value"}


@pytest.fixture
def parameter_store() -> Iterator[Any]:
    from aws_lambda_powertools.utilities.parameters import base

    with mock_aws():
        base.DEFAULT_PROVIDERS.clear()  # Powertools keeps its boto3 client: make it one of moto's
        yield boto3.client("ssm", region_name="us-east-1")
    base.DEFAULT_PROVIDERS.clear()


def test_load_credentials_from_a_secure_string_parameter(parameter_store: Any) -> None:
    # Given the credentials as a SecureString, named as the stack's IRACING_PARAMETER_NAME names it
    name = f"/iracing-{uuid.uuid4().hex}/credentials"
    parameter_store.put_parameter(Name=name, Value=json.dumps(SECRET), Type="SecureString")
    settings = settings_from_env({"IRACING_PARAMETER_NAME": name, "AWS_DEFAULT_REGION": "us-east-1"})
    # When they are loaded, then they are the decrypted value
    credentials = load_credentials(settings)
    assert (credentials.username, credentials.client_id) == ("driver@example.com", "cid")
    assert credentials.password == "pw-value" and credentials.client_secret == "cs-value"


def test_load_credentials_missing_parameter_is_permanent(parameter_store: Any) -> None:
    with pytest.raises(PermanentError, match="ParameterNotFound"):
        load_credentials(Settings(iracing_parameter_name=f"/missing-{uuid.uuid4().hex}"))


def test_load_credentials_parameter_that_is_not_json_is_malformed(parameter_store: Any) -> None:
    name = f"/iracing-{uuid.uuid4().hex}"
    parameter_store.put_parameter(Name=name, Value="pw-value but no JSON", Type="SecureString")
    with pytest.raises(MalformedPayload) as failure:
        load_credentials(Settings(iracing_parameter_name=name))
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
