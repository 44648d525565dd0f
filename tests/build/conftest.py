"""Build tier: what `make build` and `make build-native` produced, checked the way Lambda loads it.

`make test-build` runs it after both builds (CI does); `make test` leaves it out (pyproject's testpaths), since
it needs the builds. Without a build it skips and says which make target is missing, except in CI, where a
missing build is a failure: a build tier that skipped everything would prove nothing.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from iracing_sync_local.dynamodb_local import DynamoDBLocal
from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import REPO_ROOT
from tests.support.events_sink import EventsSink, serving_sink

# Build name -> (folder, the make target that fills it).
BUILDS = {
    "build": (REPO_ROOT / ".aws-sam" / "build", "build"),
    "native": (REPO_ROOT / ".aws-sam" / "native" / "build", "build-native"),
}
# What Lambda calls the architecture each build is for: the shipped one is arm64 (template.yaml's default,
# checked by the unit tests), the native one is this machine's (Makefile NATIVE_ARCH).
ARCHITECTURES = {"build": "arm64", "native": "arm64" if platform.machine() in ("aarch64", "arm64") else "x86_64"}


def build_dir(name: str) -> Path:
    """A build's folder; skip (fail in CI) if that build was not made."""
    folder, target = BUILDS[name]
    if not (folder / "template.yaml").is_file():
        reason = f"no {folder.relative_to(REPO_ROOT)}: run make {target} first"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI builds before the build tier)")
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="session")
def dynamodb() -> Iterator[DynamoDBLocal]:
    """DynamoDB Local on the port tests/conftest.py gave the service (DYNAMODB_ENDPOINT), with an empty table."""
    from iracing_sync.store.schema import Item, ensure_table

    port = urlsplit(os.environ["DYNAMODB_ENDPOINT"]).port
    assert port is not None
    with DynamoDBLocal(port=port) as engine:
        if Item.exists():
            Item.delete_table()
        ensure_table()
        yield engine


@pytest.fixture(scope="session", autouse=True)
def events_sink() -> Iterator[EventsSink]:
    """EventBridge calls of this process and of the built functions go to a local sink."""
    with serving_sink() as sink:
        yield sink


@pytest.fixture(scope="module")
def fake_iracing() -> Iterator[FakeIracing]:
    """The fake iRacing server (2025-09-09 snapshot); this process's settings point at it too."""
    from iracing_sync.settings import get_settings

    with pytest.MonkeyPatch.context() as env, FakeIracing("2025-09-09") as fake:
        for name, value in fake.settings_env.items():
            env.setenv(name, value)
        get_settings.cache_clear()
        yield fake
    get_settings.cache_clear()
