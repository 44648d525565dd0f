"""The iRacing client's OAuth over real sockets (fake iRacing) with its token state in DynamoDB Local.

Each client stands for one Lambda invocation; several in threads stand for concurrent invocations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from iracing_sync.client import Credentials, IracingClient, TokenSeal, mask
from iracing_sync.errors import AuthError, RateLimited, RetryableError
from iracing_sync.settings import Settings
from iracing_sync.store import iracing_state
from iracing_sync.store.iracing_state import TokenStateItem
from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.support.clock import FakeClock

pytestmark = pytest.mark.integration

SERIES = load_sample("series_get.json")


@pytest.fixture
def fake(clock: FakeClock, table: None) -> Iterator[FakeIracing]:
    with FakeIracing(clock=clock) as server:
        yield server


def credentials(fake: FakeIracing, **overrides: str) -> Credentials:
    values = {
        "username": fake.username,
        "password": fake.password,
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
    }
    return Credentials(**{**values, **overrides})


def new_client(fake: FakeIracing, clock: Callable[[], float], **settings: Any) -> IracingClient:
    """A fresh client, as one Lambda invocation makes it."""
    config = Settings(iracing_api_url=fake.api_url, iracing_oauth_url=fake.oauth_url, **settings)
    return IracingClient(config, credentials(fake), clock=clock)


def oauth_statuses(fake: FakeIracing) -> list[int]:
    return [r.status for r in fake.requests_to("/oauth2/token")]


def get_until_done(client_factory: Callable[[], IracingClient], endpoint: str, attempts: int = 2000) -> Any:
    """What Step Functions does for a task: retry on RetryableError (the client itself never waits)."""
    for _ in range(attempts):
        try:
            return client_factory().get(endpoint)
        except RetryableError:
            threading.Event().wait(0.005)  # the test loop may wait; the client may not
    raise AssertionError(f"{endpoint} never succeeded")


def run_concurrently(workers: int, work: Callable[[], Any]) -> list[Any]:
    """Start `workers` threads at the same instant; return their results (re-raising any failure)."""
    barrier = threading.Barrier(workers)
    results: list[Any] = [None] * workers
    errors: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work()
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_client_password_grant_once_then_shared_by_concurrent_clients(fake: FakeIracing, clock: FakeClock) -> None:
    # Given an account that has never logged in, and eight invocations starting at the same instant
    # When each fetches series/get (retrying as Step Functions would while another one logs in)
    results = run_concurrently(8, lambda: get_until_done(lambda: new_client(fake, clock), "series/get"))
    # Then all got the data, and the account logged in exactly once
    assert results == [SERIES] * 8
    assert dict(fake.grants) == {"password_limited": 1}
    # And later cold starts reuse the stored token: no request to the token endpoint at all
    before = len(fake.requests_to("/oauth2/token"))
    for _ in range(3):
        client = new_client(fake, clock)
        assert client.get("series/get") == SERIES
        assert client.api_requests == 2  # the /data call and its link, no token request
    assert len(fake.requests_to("/oauth2/token")) == before == 1


def test_client_refresh_under_lock_spends_each_refresh_token_once(fake: FakeIracing, clock: FakeClock) -> None:
    # Given a stored token pair
    assert new_client(fake, clock).get("series/get") == SERIES
    for round_ in (1, 2, 3):
        # When the access token has expired and eight invocations need it at the same instant
        clock.advance(fake.access_token_ttl + 1)
        results = run_concurrently(8, lambda: get_until_done(lambda: new_client(fake, clock), "series/get"))
        # Then one of them refreshed it, once, and everyone used the new token
        assert results == [SERIES] * 8
        assert dict(fake.grants) == {"password_limited": 1, "refresh_token": round_}
    # And the fake never saw a refresh token twice (it answers a reuse with 400 invalid_grant)
    assert oauth_statuses(fake) == [200] * 4


def test_client_401_refreshes_once_and_retries(fake: FakeIracing, clock: FakeClock) -> None:
    client = new_client(fake, clock)
    assert client.get("series/get") == SERIES
    # Given iRacing drops every access token early (refresh tokens stay valid)
    fake.expire_tokens()
    # When the same client fetches again
    assert client.get("series/get") == SERIES
    # Then it saw one 401, refreshed once and retried once
    assert [r.status for r in fake.requests_to("/data/")] == [200, 401, 200]
    assert dict(fake.grants) == {"password_limited": 1, "refresh_token": 1}
    # And the renewed token is shared: a new invocation uses it without any token request
    fake.clear_requests()
    assert new_client(fake, clock).get("series/get") == SERIES
    assert fake.requests_to("/oauth2/token") == []


def test_client_second_401_is_an_auth_error(fake: FakeIracing, clock: FakeClock) -> None:
    # Given iRacing refuses the next two data calls with 401
    fake.fail_next("/data/", 401, times=2)
    # When a client fetches
    with pytest.raises(AuthError, match="series/get"):
        new_client(fake, clock).get("series/get")
    # Then it refreshed once, retried once, and gave up: no loop
    assert len(fake.requests_to("/data/")) == 2
    assert fake.grants["refresh_token"] == 1


def test_client_refused_refresh_token_falls_back_to_the_password_grant(fake: FakeIracing, clock: FakeClock) -> None:
    # Given a stored token pair whose refresh token was spent behind the service's back
    client = new_client(fake, clock)
    client.get("series/get")
    state = iracing_state.load_token(client._account)
    refresh_token = TokenSeal(credentials(fake)).open(state.refresh_token if state else None)
    assert refresh_token
    form = {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": mask(fake.client_secret, fake.client_id),
        "refresh_token": refresh_token,
    }
    assert requests.post(fake.oauth_url, data=form, timeout=5).status_code == 200
    # When the access token expires and an invocation needs a new one
    clock.advance(fake.access_token_ttl + 1)
    assert new_client(fake, clock).get("series/get") == SERIES
    # Then its refresh was refused (invalid_grant) and only then did it log in with the password
    assert oauth_statuses(fake) == [200, 200, 400, 200]
    assert dict(fake.grants) == {"password_limited": 2, "refresh_token": 1}


def test_client_stores_tokens_sealed(fake: FakeIracing, clock: FakeClock) -> None:
    client = new_client(fake, clock)
    client.get("series/get")
    item = TokenStateItem.get(client._account, "TOKEN")
    stored = f"{item.access_token} {item.refresh_token}"
    # Then no token handed out appears in the table; the client secret opens them
    assert not any(token in stored for token in fake.issued_secrets())
    assert TokenSeal(credentials(fake)).open(item.access_token) in fake.issued_secrets()
    # And a client with another client secret cannot use them (it would have to log in itself)
    assert TokenSeal(credentials(fake, client_secret="another-secret")).open(item.access_token) is None


def test_client_expired_refresh_token_goes_straight_to_the_password_grant(fake: FakeIracing, clock: FakeClock) -> None:
    new_client(fake, clock).get("series/get")
    # When both tokens have expired (a week without a sync)
    clock.advance(fake.refresh_token_ttl + 1)
    assert new_client(fake, clock).get("series/get") == SERIES
    # Then no refresh was attempted with the dead refresh token
    assert dict(fake.grants) == {"password_limited": 2}
    assert oauth_statuses(fake) == [200, 200]


def test_client_lock_held_elsewhere_is_retryable_without_sending(fake: FakeIracing, clock: FakeClock) -> None:
    client = new_client(fake, clock)
    # Given another invocation is renewing the token (it holds the lock)
    assert iracing_state.lock_token(client._account, "someone-else", 0, clock(), clock() + 30)
    # When this one needs a token, it does not wait: it raises, and sends nothing
    with pytest.raises(RetryableError, match="another invocation"):
        client.get("series/get")
    assert fake.requests == []
    # And once that lock has expired (its holder died), the next invocation takes over
    clock.advance(31)
    assert new_client(fake, clock).get("series/get") == SERIES
    assert dict(fake.grants) == {"password_limited": 1}


def test_client_wrong_password_is_an_auth_error_and_releases_the_lock(fake: FakeIracing, clock: FakeClock) -> None:
    config = Settings(iracing_api_url=fake.api_url, iracing_oauth_url=fake.oauth_url)
    client = IracingClient(config, credentials(fake, password="wrong-password"), clock=clock)
    with pytest.raises(AuthError, match="password grant") as failure:
        client.get("series/get")
    assert "wrong-password" not in str(failure.value)
    assert mask("wrong-password", fake.username) not in str(failure.value)
    # The lock is released at once: the next invocation (with the right password) is not told to wait
    assert new_client(fake, clock).get("series/get") == SERIES


def test_client_password_grant_rate_limited_is_rate_limited(clock: FakeClock, table: None) -> None:
    with FakeIracing(clock=clock, password_grants_per_hour=0) as fake:
        with pytest.raises(RateLimited, match="password grant"):
            new_client(fake, clock).get("series/get")
        assert fake.requests_to("/data/") == []
        account = iracing_state.iracing_account_key(fake.username)
        state = iracing_state.load_token(account)
        assert state is not None and not state.locked(clock())
