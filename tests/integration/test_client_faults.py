"""What each fault of the real API becomes in the iRacing client, over real sockets against the fake iRacing.

Class names are the Step Functions contract, so the tests check the exact class, not just the family.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from iracing_sync.client import Credentials, IracingClient
from iracing_sync.errors import PermanentError, RateLimited, RetryableError
from iracing_sync.settings import Settings
from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.support.clock import T0, FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
def fake(clock: FakeClock, table: None) -> Iterator[FakeIracing]:
    with FakeIracing(clock=clock) as server:
        yield server


def client_for(fake: FakeIracing, clock: FakeClock, **settings: object) -> IracingClient:
    config = Settings(iracing_api_url=fake.api_url, iracing_oauth_url=fake.oauth_url, **settings)
    creds = Credentials(fake.username, fake.password, fake.client_id, fake.client_secret)
    return IracingClient(config, creds, clock=clock)


@pytest.fixture
def client(fake: FakeIracing, clock: FakeClock) -> IracingClient:
    """A client that already holds a token, so each test's fault hits the data call."""
    c = client_for(fake, clock)
    c.get("constants/categories")
    fake.clear_requests()
    return c


def raised(client: IracingClient, endpoint: str = "series/get", **params: object) -> BaseException:
    with pytest.raises(Exception) as failure:  # noqa: PT011 - the exact class is asserted by the caller
        client.get(endpoint, **params)
    return failure.value


def test_client_429_is_rate_limited_until_the_reset_header(client: IracingClient, fake: FakeIracing) -> None:
    fake.fail_next("/data/series/get", 429)
    error = raised(client)
    assert type(error) is RateLimited
    # The fake's window started at T0 (first request): it resets 60 s later
    assert error.reset_at == T0 + 60
    assert [r.status for r in fake.requests] == [429]


@pytest.mark.parametrize("html", [False, True])
def test_client_503_site_maintenance_is_retryable(client: IracingClient, fake: FakeIracing, html: bool) -> None:
    fake.maintenance(html=html)
    error = raised(client)
    assert type(error) is RetryableError
    assert "Maintenance" in str(error) and "503" in str(error)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_client_other_5xx_are_retryable(client: IracingClient, fake: FakeIracing, status: int) -> None:
    fake.fail_next("/data/", status)
    error = raised(client)
    assert type(error) is RetryableError and str(status) in str(error)


@pytest.mark.parametrize("prefix", ["/data/series/get", "/links/"])
def test_client_read_timeout_is_retryable(fake: FakeIracing, clock: FakeClock, prefix: str) -> None:
    client = client_for(fake, clock, read_timeout=0.2)
    client.get("constants/categories")
    fake.slow(prefix, 2.0)
    error = raised(client)
    assert type(error) is RetryableError and "timed out" in str(error)


@pytest.mark.parametrize("short_read", [False, True])
@pytest.mark.parametrize("prefix", ["/data/series/get", "/links/"])
def test_client_truncated_body_is_retryable(
    client: IracingClient, fake: FakeIracing, prefix: str, short_read: bool
) -> None:
    fake.truncate(prefix, short_read=short_read)
    error = raised(client)
    assert type(error) is RetryableError


def test_client_connection_refused_is_retryable(clock: FakeClock, table: None) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # bound, never listening: connection refused
        config = Settings(iracing_api_url=dead, iracing_oauth_url=dead + "/oauth2/token")
        client = IracingClient(config, Credentials("u@example.com", "pw", "cid", "cs"), clock=clock)
        error = raised(client)
    assert type(error) is RetryableError and "connection failed" in str(error)


def test_client_400_is_permanent_naming_endpoint_and_parameters(client: IracingClient) -> None:
    # season/list without season_quarter: the real API answers 400 Bad Request
    error = raised(client, "season/list", season_year=2025)
    assert type(error) is PermanentError
    assert "season/list season_year=2025" in str(error) and "400" in str(error)


def test_client_404_is_permanent_naming_endpoint_and_parameters(client: IracingClient) -> None:
    error = raised(client, "series/past_seasons", series_id=999999)
    assert type(error) is PermanentError
    assert "series/past_seasons series_id=999999" in str(error) and "404" in str(error)


def test_client_expired_link_is_retryable(client: IracingClient, fake: FakeIracing) -> None:
    # The link answers S3's 403 AccessDenied (expired); a retry asks /data for a fresh link
    fake.fail_next("/links/", 403)
    error = raised(client)
    assert type(error) is RetryableError and "link" in str(error)
    assert "/links/" not in str(error)  # a pre-signed URL is a credential: never in a message
    assert client.get("series/get") == load_sample("series_get.json")


def test_client_link_past_its_expiry_is_retryable(clock: FakeClock, table: None) -> None:
    with FakeIracing(clock=clock, link_expiry=-1) as stale:  # every link is born expired
        error = raised(client_for(stale, clock))
    assert type(error) is RetryableError
