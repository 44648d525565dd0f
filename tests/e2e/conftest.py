"""The e2e tier talks to a deployed stack (AWS_SAM_STACK_NAME) with the caller's own AWS credentials.

tests/conftest.py replaces every AWS_* variable with fake ones for the local tiers; for the e2e tests only, the
caller's are put back (and boto3's cached default session dropped, before and after, so no other test ever
holds real credentials).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest

from tests.conftest import USER_AWS_ENV

STACK_NAME = os.environ.get("AWS_SAM_STACK_NAME", "")
needs_stack = pytest.mark.skipif(not STACK_NAME, reason="AWS_SAM_STACK_NAME not set: no deployed stack")


@pytest.fixture(scope="package", autouse=True)
def callers_aws_credentials() -> Iterator[None]:
    """The caller's AWS_* environment while the e2e tests run; the fake one again afterwards."""
    from iracing_sync.settings import get_settings

    with pytest.MonkeyPatch.context() as env:
        for name in [n for n in os.environ if n.startswith("AWS_")]:
            env.delenv(name)
        for name, value in USER_AWS_ENV.items():
            env.setenv(name, value)
        boto3.DEFAULT_SESSION = None
        get_settings.cache_clear()
        yield
    boto3.DEFAULT_SESSION = None
    get_settings.cache_clear()


@pytest.fixture(scope="package")
def stack_outputs() -> dict[str, str]:
    """The deployed stack's Outputs (ApiUrl, TableName, RawArchiveBucketName, AlarmTopicArn, ...)."""
    from iracing_sync_local.stack import stack_outputs as outputs

    return outputs(STACK_NAME)
