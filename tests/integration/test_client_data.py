"""Data calls over real sockets: link indirection without the auth header, direct bodies, chunk_info chunks,
what ``api_requests`` counts, replaying a whole sync from the raw archive, and no secret in any log."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from iracing_sync.client import Credentials, IracingClient
from iracing_sync.errors import IracingSyncError, RetryableError
from iracing_sync.observability import logger
from iracing_sync.settings import Settings, get_settings
from iracing_sync.store import catalog, schema, seasons
from iracing_sync.store.schema import Item
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions
from tests.conftest import load_sample

pytestmark = pytest.mark.integration

SERIES = load_sample("series_get.json")


@pytest.fixture
def fake(table: None) -> Iterator[FakeIracing]:
    with FakeIracing() as server:
        yield server


def client_for(fake: FakeIracing, password: str | None = None) -> IracingClient:
    config = Settings(iracing_api_url=fake.api_url, iracing_oauth_url=fake.oauth_url)
    creds = Credentials(fake.username, password or fake.password, fake.client_id, fake.client_secret)
    return IracingClient(config, creds)


def test_client_link_is_fetched_without_the_authorization_header(fake: FakeIracing) -> None:
    client = client_for(fake)
    assert client.get("series/get") == SERIES
    (data,) = fake.requests_to("/data/")
    (link,) = fake.requests_to("/links/")
    assert data.had_authorization and not link.had_authorization
    # api_requests counts every request sent to iRacing: token, /data call, link
    assert client.api_requests == 3


def test_client_direct_body_needs_no_link(fake: FakeIracing) -> None:
    client = client_for(fake)
    assert client.get("constants/categories") == load_sample("constants_categories.json")
    assert fake.requests_to("/links/") == []
    assert client.api_requests == 2


def test_client_chunk_info_chunks_are_concatenated_in_order(fake: FakeIracing) -> None:
    # Given iRacing serves series/get as chunk_info with 40 rows per chunk file
    fake.chunk("series/get", chunk_size=40)
    client = client_for(fake)
    # When it is fetched
    body = client.get("series/get")
    # Then the rows of every chunk, in order, are the whole real body
    info = body["chunk_info"]
    assert info["num_chunks"] == 4 and info["rows"] == len(SERIES)
    assert body["chunk_data"] == SERIES
    # And the chunks were fetched in the order of chunk_file_names, without the auth header
    chunks = fake.requests_to("/chunks/")
    wanted = [urlsplit(info["base_download_url"] + name).path for name in info["chunk_file_names"]]
    assert [r.path for r in chunks] == wanted
    assert not any(r.had_authorization for r in chunks)
    assert client.api_requests == 1 + 1 + 1 + 4  # token, /data, link, chunks


def test_client_expired_chunk_is_retryable(fake: FakeIracing) -> None:
    fake.chunk("series/get", chunk_size=40)
    fake.fail_next("/chunks/", 403)
    with pytest.raises(RetryableError, match="chunk 1/4"):
        client_for(fake).get("series/get")


def test_client_replays_a_whole_sync_from_the_archive_without_iracing(
    step_functions: LocalStepFunctions, fake_iracing: FakeIracing, settings_env: pytest.MonkeyPatch
) -> None:
    # Given a sync of the series and the current seasons that archived every body it fetched
    first = [step_functions.run(m, progress=False) for m in ("sync_series", "sync_current_seasons")]
    assert all(s["status"] == "SUCCEEDED" for s in first)
    assert all(s["api_requests"] > 0 for s in first)
    # And an empty table, and an iRacing that cannot be reached
    Item.delete_table()
    schema.ensure_table()
    fake_iracing.stop()
    # When the same syncs run again replaying that archive
    settings_env.setenv("IRACING_REPLAY", os.environ["ARCHIVE_DIR"])
    get_settings.cache_clear()
    again = [step_functions.run(m, progress=False) for m in ("sync_series", "sync_current_seasons")]
    # Then they store the same items, without a single request to iRacing
    for before, after in zip(first, again, strict=True):
        assert after["status"] == "SUCCEEDED" and after["failed"] == []
        assert after["api_requests"] == 0
        assert after["items_written"] == before["items_written"] > 0
    assert len(catalog.list_series()) == len(SERIES)
    assert seasons.get_season(5376) is not None


def test_client_secrets_never_reach_logs_or_error_messages(
    fake: FakeIracing, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    # Given every logger at DEBUG (ours, the HTTP stack's, everybody's)
    caplog.set_level(logging.DEBUG)
    logger.setLevel(logging.DEBUG)
    messages: list[str] = []

    def attempt(call: Any) -> None:
        try:
            call()
        except IracingSyncError as exc:
            messages.append(f"{exc!r} {exc} {exc.__cause__!r}")

    try:
        # When the client goes through every path that handles a secret
        client = client_for(fake)
        attempt(lambda: client.get("series/get"))  # password grant, link
        fake.expire_tokens()
        attempt(lambda: client.get("series/get"))  # 401, refresh grant, retry
        fake.fail_next("/data/", 401, times=2)
        attempt(lambda: client.get("series/get"))  # refresh, then AuthError
        fake.fail_next("/links/", 403)
        attempt(lambda: client.get("series/get"))  # expired link
        attempt(lambda: client.get("season/list", season_year=2025))  # 400
        attempt(lambda: client_for(fake, password="not-the-password").get("series/get"))  # refused login
        fake.chunk("car/get", 50)
        attempt(lambda: client_for(fake).get("car/get"))  # chunks
    finally:
        logger.setLevel(logging.WARNING)
    out, err = capfd.readouterr()
    text = "\n".join([out, err, caplog.text, *messages])
    # Then the client logged and raised, but no token, password or client secret (plain or masked) appears
    assert len(messages) >= 3 and "iRacing token" in text
    secrets = fake.issued_secrets() | {"not-the-password"}
    assert len(secrets) >= 8
    assert [s for s in secrets if s in text] == []
    # Nor a pre-signed link (a credential for its object) in an error message
    assert not any("/links/" in m or "/chunks/" in m for m in messages)
