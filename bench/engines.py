"""Local engines for benchmarks: in-memory DynamoDB Local, the fake iRacing server, the service pointed at them.

The service reads its settings (and PynamoDB its table) when first imported, so the environment is set
here before any ``iracing_sync`` store import, exactly as the test suite's conftest does.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from iracing_sync_local.dynamodb_local import DynamoDBLocal, free_port
from iracing_sync_local.fake_iracing import FakeIracing

if TYPE_CHECKING:
    from tests.support.dynamodb_proxy import DynamoDBProxy

_PORT = free_port()
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "TABLE_NAME": "iracing-sync-bench",
        "DYNAMODB_ENDPOINT": f"http://127.0.0.1:{_PORT}",
        "ARCHIVE_DIR": tempfile.mkdtemp(prefix="iracing-sync-bench-"),
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
)


@contextmanager
def engines(snapshot: str = "2025-09-09", **fake_options: object) -> Iterator[FakeIracing]:
    """DynamoDB Local (fresh, in memory) and the fake iRacing server; the service configured for both."""
    with DynamoDBLocal(port=_PORT) as _, _service(snapshot, **fake_options) as fake:
        yield fake


@contextmanager
def metered_engines(snapshot: str = "2025-09-09") -> Iterator[tuple[FakeIracing, DynamoDBProxy]]:
    """``engines()`` with the metering proxy between the service and DynamoDB Local (capacity units consumed)."""
    from tests.support.dynamodb_proxy import DynamoDBProxy

    with DynamoDBLocal() as engine:
        proxy = DynamoDBProxy(_PORT, engine.port, meter=True).start()
        try:
            with _service(snapshot) as fake:
                yield fake, proxy
        finally:
            proxy.stop()


@contextmanager
def _service(snapshot: str, **fake_options: object) -> Iterator[FakeIracing]:
    """The fake iRacing server; the service configured for it and for DynamoDB on the service's port."""
    from iracing_sync.settings import get_settings

    with FakeIracing(snapshot, **fake_options) as fake:  # type: ignore[arg-type]
        os.environ.update(fake.settings_env)
        get_settings.cache_clear()
        empty_table()
        yield fake


def empty_table() -> None:
    """Drop and create the service's table: a fresh start for the next run."""
    from iracing_sync.store.schema import Item, ensure_table

    if Item.exists():
        Item.delete_table()
    ensure_table()
