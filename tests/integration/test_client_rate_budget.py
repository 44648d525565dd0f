"""The shared rate budget over real sockets: clients of one account reserve each /data request in DynamoDB
Local before sending it, fold the fake iRacing's x-ratelimit-* headers back in, and raise RateLimited instead
of sending once the window is nearly spent. A clock shared by server and clients stands for time, so waiting
for a window to reset is moving the clock, never sleeping."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests

from iracing_sync.client import Credentials, IracingClient
from iracing_sync.errors import RateLimited, RetryableError
from iracing_sync.settings import Settings
from iracing_sync.store import iracing_state
from iracing_sync.store.iracing_state import RateBudgetItem
from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.support.clock import T0, FakeClock
from tests.support.weather_links import unsigned

pytestmark = pytest.mark.integration

CATEGORIES = load_sample("constants_categories.json")
SEASONS = {s["season_id"]: s for s in load_sample("series_seasons.json")}


def client_for(fake: FakeIracing, clock: FakeClock, reserve: int) -> IracingClient:
    config = Settings(iracing_api_url=fake.api_url, iracing_oauth_url=fake.oauth_url, rate_reserve=reserve)
    creds = Credentials(fake.username, fake.password, fake.client_id, fake.client_secret)
    return IracingClient(config, creds, clock=clock)


def refused_for_the_limit(fake: FakeIracing) -> list[str]:
    return [r.path for r in fake.requests if r.status == 429]


def test_client_budget_nearly_spent_raises_rate_limited_without_sending(clock: FakeClock, table: None) -> None:
    with FakeIracing(clock=clock, rate_limit=10) as fake:
        client = client_for(fake, clock, reserve=3)
        # When one client keeps fetching in one window
        sent = 0
        with pytest.raises(RateLimited) as failure:
            for _ in range(20):
                assert client.get("constants/categories") == CATEGORIES
                sent += 1
        # Then it stopped with the reserve left, before iRacing refused anything
        assert sent == 10 - 3
        assert len(fake.requests_to("/data/")) == sent  # the refused call was never sent
        assert refused_for_the_limit(fake) == []
        # And it says when to come back: the reset iRacing announced
        assert failure.value.reset_at == T0 + 60
        # When that time has come, the next window is open again
        clock.advance_to(failure.value.reset_at)
        assert client.get("constants/categories") == CATEGORIES
        assert refused_for_the_limit(fake) == []


def test_client_budget_is_shared_by_every_client_of_the_account(clock: FakeClock, table: None) -> None:
    with FakeIracing(clock=clock, rate_limit=10) as fake:
        # Given one invocation spent the window down to the reserve
        first = client_for(fake, clock, reserve=3)
        with pytest.raises(RateLimited):
            while True:
                first.get("constants/categories")
        sent = len(fake.requests_to("/data/"))
        # When a new invocation (fresh client, nothing in memory) asks
        with pytest.raises(RateLimited):
            client_for(fake, clock, reserve=3).get("constants/categories")
        # Then it was refused from the shared budget, without a request
        assert len(fake.requests_to("/data/")) == sent


def test_client_budget_follows_requests_it_did_not_make(clock: FakeClock, table: None) -> None:
    with FakeIracing(clock=clock, rate_limit=10) as fake:
        client = client_for(fake, clock, reserve=3)
        client.get("constants/categories")
        # Given something else spent most of the window (another tool on the same account)
        token = fake.issue_token()
        for _ in range(5):
            requests.get(
                f"{fake.api_url}/data/constants/categories", headers={"Authorization": f"Bearer {token}"}, timeout=5
            )
        # When the client fetches again, the headers tell it what is left, and it stops in time
        sent = 0
        with pytest.raises(RateLimited):
            for _ in range(10):
                client.get("constants/categories")
                sent += 1
        assert sent <= 2 and refused_for_the_limit(fake) == []


def _jobs(worker: int, count: int) -> list[tuple[str, dict[str, Any]]]:
    """A worker's share of work: season schedules of its own seasons, and a constant now and then."""
    ids = sorted(SEASONS)
    jobs: list[tuple[str, dict[str, Any]]] = []
    for n in range(count):
        if n % 5 == 4:
            jobs.append(("constants/categories", {}))
        else:
            jobs.append(("series/season_schedule", {"season_id": ids[(worker * count + n) % len(ids)]}))
    return jobs


def _expected(endpoint: str, params: dict[str, Any]) -> Any:
    if endpoint == "constants/categories":
        return CATEGORIES
    season = SEASONS[params["season_id"]]
    return {"success": True, "season_id": season["season_id"], "schedules": season["schedules"]}


def test_client_concurrent_workers_share_one_budget_and_are_never_refused(clock: FakeClock, table: None) -> None:
    workers, per_worker, limit = 6, 20, 30
    # Given one account, iRacing allowing 30 requests per 60 s window, and 6 workers with 20 calls each
    with FakeIracing(clock=clock, rate_limit=limit, access_token_ttl=7200) as fake:
        barrier = threading.Barrier(workers)
        results: dict[int, list[Any]] = {}
        waits: list[float] = []
        errors: list[BaseException] = []

        def work(worker: int) -> None:
            barrier.wait()
            done = []
            for endpoint, params in _jobs(worker, per_worker):
                for _ in range(1000):
                    client = client_for(fake, clock, reserve=workers)  # one invocation per attempt
                    try:
                        done.append(client.get(endpoint, **params))
                        break
                    except RateLimited as exc:
                        # As Step Functions would: come back after the reset (here: move the clock there)
                        assert exc.reset_at is not None
                        waits.append(exc.reset_at)
                        clock.advance_to(exc.reset_at)
                    except RetryableError:
                        threading.Event().wait(0.005)  # e.g. the token being obtained by another worker
            results[worker] = done

        def run(worker: int) -> None:
            try:
                work(worker)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        # Then all work completed, with the right bodies
        for worker in range(workers):
            # (schedules as iRacing's: their weather links are re-signed on every fetch)
            expected = [unsigned(_expected(e, p)) for e, p in _jobs(worker, per_worker)]
            assert [unsigned(body) for body in results[worker]] == expected
        # And iRacing never refused a request for the limit, though the work needed several windows
        assert refused_for_the_limit(fake) == []
        assert len(fake.requests_to("/data/")) == workers * per_worker
        assert len(waits) > 0 and clock() >= T0 + 60 * (workers * per_worker // limit)
        # And the whole run logged in once
        assert dict(fake.grants) == {"password_limited": 1}
    budget = RateBudgetItem.get(iracing_state.iracing_account_key(fake.username), "RATE")
    assert int(budget.limit) == limit and not budget.provisional
