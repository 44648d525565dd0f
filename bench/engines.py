"""Local engines for benchmarks: in-memory DynamoDB Local, the fake iRacing server, the service pointed at them.

The service reads its settings (and PynamoDB its table) when first imported, so the environment is set
here before any ``iracing_sync`` store import, exactly as the test suite's conftest does.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from iracing_sync_local.dynamodb_local import DynamoDBLocal, free_port
from iracing_sync_local.fake_iracing import FakeIracing

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
    from iracing_sync.settings import get_settings

    with DynamoDBLocal(port=_PORT) as _, FakeIracing(snapshot, **fake_options) as fake:  # type: ignore[arg-type]
        os.environ.update(
            {
                "IRACING_API_URL": fake.api_url,
                "IRACING_OAUTH_URL": fake.oauth_url,
                "IRACING_USERNAME": fake.username,
                "IRACING_PASSWORD": fake.password,
                "IRACING_CLIENT_ID": fake.client_id,
                "IRACING_CLIENT_SECRET": fake.client_secret,
            }
        )
        get_settings.cache_clear()
        from iracing_sync.store.schema import Item, ensure_table

        if Item.exists():
            Item.delete_table()
        ensure_table()
        yield fake
