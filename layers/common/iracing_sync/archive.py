"""Raw payload archive: every fetched iRacing body, gzip, keyed by endpoint, parameters and fetch time.

State machines pass archive keys between states, never payloads. In AWS the archive is an S3
bucket; locally a directory.
"""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from iracing_sync.errors import PermanentError, RetryableError
from iracing_sync.settings import Settings


def archive_key(endpoint: str, params: dict[str, Any], fetched_at: datetime | None = None) -> str:
    """Deterministic key: ``raw/<endpoint>/<params or _>/<fetch time>.json.gz``."""
    when = (fetched_at or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    query = urlencode(sorted(params.items())) or "_"
    return f"raw/{endpoint}/{query}/{when}.json.gz"


class Archive:
    """Stores and loads archived bodies in S3 (``archive_bucket``) or a directory (``archive_dir``)."""

    def __init__(self, settings: Settings) -> None:
        if settings.archive_bucket:
            self._bucket: str | None = settings.archive_bucket
            self._dir: Path | None = None
            self._s3 = boto3.client("s3", region_name=settings.region)
        elif settings.archive_dir:
            self._bucket, self._dir = None, settings.archive_dir
        else:
            raise PermanentError("no raw archive configured: set ARCHIVE_BUCKET or ARCHIVE_DIR")

    def put(self, endpoint: str, params: dict[str, Any], body: Any) -> str:
        """Archive one body; returns its key."""
        key = archive_key(endpoint, params)
        data = gzip.compress(json.dumps(body, separators=(",", ":")).encode())
        if self._dir is not None:
            path = self._dir / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            return key
        try:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=data, ContentEncoding="gzip")
        except (BotoCoreError, ClientError) as exc:
            raise RetryableError(f"archive write {key} failed: {exc}") from exc
        return key

    def get(self, key: str) -> Any:
        """Load an archived body."""
        try:
            if self._dir is not None:
                data = (self._dir / key).read_bytes()
            else:
                data = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except FileNotFoundError as exc:
            raise PermanentError(f"archived payload {key} not found") from exc
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise PermanentError(f"archived payload {key} not found") from exc
            raise RetryableError(f"archive read {key} failed: {exc}") from exc
        except BotoCoreError as exc:
            raise RetryableError(f"archive read {key} failed: {exc}") from exc
        return json.loads(gzip.decompress(data))
