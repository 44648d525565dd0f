"""Real local engines for integration tests: DynamoDB Local and the fake iRacing server on 127.0.0.1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from iracing_sync_local.dynamodb_local import DynamoDBLocal
from iracing_sync_local.fake_iracing import FakeIracing
from iracing_sync_local.stepfunctions import LocalStepFunctions, local_step_functions
from tests.support.clock import FakeClock
from tests.support.dynamodb_proxy import DynamoDBProxy
from tests.support.events_sink import EventsSink, serving_sink

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def dynamodb() -> Iterator[DynamoDBLocal]:
    """One in-memory DynamoDB Local for the session, behind the fault-injecting proxy on the service's port."""
    port = urlsplit(os.environ["DYNAMODB_ENDPOINT"]).port
    assert port is not None
    with DynamoDBLocal() as engine:
        proxy = DynamoDBProxy(port, engine.port).start()
        _PROXY.append(proxy)
        yield engine
        proxy.stop()


_PROXY: list[DynamoDBProxy] = []


@pytest.fixture(scope="session", autouse=True)
def events_sink() -> Iterator[EventsSink]:
    """Every EventBridge call of the session goes to a local endpoint that keeps what it receives."""
    with serving_sink() as sink:
        yield sink


@pytest.fixture
def replay(settings_env: pytest.MonkeyPatch) -> Iterator[Any]:
    """A function making iRacing's next series/seasons answer a given body (a replay archive: no iRacing at all)."""
    import tempfile

    from iracing_sync.archive import Archive
    from iracing_sync.settings import get_settings

    with tempfile.TemporaryDirectory() as folder:
        settings_env.setenv("IRACING_REPLAY", folder)
        get_settings.cache_clear()
        yield lambda body: Archive(get_settings(), location=folder).put("series/seasons", {}, body)


@pytest.fixture
def events(events_sink: EventsSink) -> EventsSink:
    """The session's event sink, emptied for one test."""
    events_sink.clear()
    return events_sink


@pytest.fixture
def dynamodb_proxy(dynamodb: DynamoDBLocal) -> Iterator[DynamoDBProxy]:
    """The proxy every service call to DynamoDB goes through: counts operations, throttles on demand."""
    proxy = _PROXY[0]
    proxy.reset_counts()
    yield proxy
    proxy._throttle.clear()


def _empty_table() -> None:
    from iracing_sync.store.schema import Item, ensure_table

    if Item.exists():
        Item.delete_table()
    ensure_table()


@pytest.fixture
def clock() -> FakeClock:
    """Time the test moves by hand, for the fake iRacing server and the clients."""
    return FakeClock()


@pytest.fixture
def table(dynamodb: DynamoDBLocal) -> None:
    """An empty table for one test."""
    _empty_table()


@pytest.fixture(scope="module")
def module_table(dynamodb: DynamoDBLocal) -> None:
    """An empty table shared by the tests of one module (for read-only tests over one sync)."""
    _empty_table()


@pytest.fixture
def fake_iracing(settings_env: pytest.MonkeyPatch) -> Iterator[FakeIracing]:
    """The fake iRacing server with the 2025-09-09 snapshot; the service's settings point at it."""
    with FakeIracing("2025-09-09") as fake:
        _point_at(settings_env, fake)
        yield fake


@pytest.fixture(scope="module")
def module_fake_iracing() -> Iterator[FakeIracing]:
    """The fake iRacing server shared by one module's tests, settings pointing at it."""
    from iracing_sync.settings import get_settings

    with pytest.MonkeyPatch.context() as env, FakeIracing("2025-09-09") as fake:
        _point_at(env, fake)
        yield fake
    get_settings.cache_clear()


def _point_at(env: pytest.MonkeyPatch, fake: FakeIracing) -> None:
    from iracing_sync.settings import get_settings

    for name, value in fake.settings_env.items():
        env.setenv(name, value)
    get_settings.cache_clear()


@pytest.fixture
def step_functions(table: None) -> Iterator[LocalStepFunctions]:
    """moto's Step Functions interpreter running our ASL with the real handlers (1 s backoff)."""
    with local_step_functions(retry_interval_scale=0) as sfn:
        yield sfn


@pytest.fixture(scope="module")
def module_step_functions(module_table: None) -> Iterator[LocalStepFunctions]:
    """The interpreter shared by one module's tests."""
    with local_step_functions(retry_interval_scale=0) as sfn:
        yield sfn


@pytest.fixture(scope="module")
def api(module_table: None) -> Iterator[str]:
    """The slots API function served over real HTTP on 127.0.0.1 (what `iracing-sync serve` runs)."""
    from iracing_sync_local.http_server import make_server, serve_in_thread
    from iracing_sync_local.stepfunctions import LambdaContext, handler_for

    server = make_server(handler_for("SlotsApiFunction"), lambda: LambdaContext("SlotsApiFunction"), port=0)
    serve_in_thread(server)
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


_SYNCED: dict[str, list[Any]] = {}


def sync_snapshot(sfn: Any, fake: FakeIracing) -> None:
    """Sync ``fake``'s snapshot through the real state machines (series, reference data, seasons) into the table.

    The first sync of a snapshot into an empty table runs the machines and keeps the items they wrote; a later
    one into an empty table (another module's read-only fixture) writes those same items back in batches.
    The sync itself is tested on its own; the API modules need its result, and this spares each ~10 s.
    """
    from iracing_sync.store.schema import Item

    empty = next(iter(Item.scan(limit=1)), None) is None
    if empty and fake.snapshot in _SYNCED:
        with Item.batch_write() as batch:
            for item in _SYNCED[fake.snapshot]:
                batch.save(item)
        return
    for machine in ("sync_series", "sync_reference_data", "sync_current_seasons"):
        summary = sfn.run(machine, {}, progress=False)
        assert summary["status"] == "SUCCEEDED" and summary["failed"] == [], (machine, summary)
    if empty:
        _SYNCED[fake.snapshot] = list(Item.scan())


@pytest.fixture(scope="module")
def snapshot_api(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> str:
    """The API's address, serving the module's snapshot synced by the real state machines."""
    sync_snapshot(module_step_functions, module_fake_iracing)
    return api


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium in New York's zone (a DST zone, unlike the UTC the data is in) for a module's tests."""
    from tests.support.planner_page import chromium

    with chromium("America/New_York") as driver:
        yield driver
