"""Raw payload archive: every fetched iRacing body, gzip, keyed by endpoint, parameters and fetch time.

State machines pass archive keys between states, never payloads. In AWS the archive is an S3
bucket; locally a directory. The newest body of an endpoint and parameters can be read back, which is
what a replay (a sync that answers iRacing calls from an archive) runs on.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from iracing_sync.errors import PermanentError, RetryableError
from iracing_sync.settings import Settings

S3_SCHEME = "s3://"


def digest(body: Any) -> str:
    """A digest of a raw body's content (keys sorted, so iRacing's key order does not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


# A weather_url's query string: iRacing re-signs the link (date, signature) on every fetch of a schedule.
_SIGNED_LINK = re.compile(r'("weather_url":"[^"?]*)\?[^"]*"')


def unsigned_digest(body: Any) -> str:
    """``digest`` of a schedule body as if its weather_url links carried no query string: two fetches of an
    unchanged listing differ only there (iRacing re-signs every link on every fetch)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(_SIGNED_LINK.sub(r'\1"', canonical).encode()).hexdigest()[:32]


def archive_prefix(endpoint: str, params: dict[str, Any]) -> str:
    """Where every fetch of one endpoint with these parameters lives: ``raw/<endpoint>/<params or _>/``."""
    query = urlencode(sorted((k, str(v)) for k, v in params.items())) or "_"
    return f"raw/{endpoint.strip('/')}/{query}/"


STAMP = "%Y%m%dT%H%M%S%fZ"
SUFFIX = ".json.gz"


def archive_key(endpoint: str, params: dict[str, Any], fetched_at: datetime | None = None) -> str:
    """Deterministic key: ``raw/<endpoint>/<params or _>/<fetch time, UTC, sortable>.json.gz``."""
    when = (fetched_at or datetime.now(UTC)).astimezone(UTC).strftime(STAMP)
    return f"{archive_prefix(endpoint, params)}{when}{SUFFIX}"


def fetched_at(key: str) -> datetime:
    """When the body under ``key`` was fetched (the stamp ``archive_key`` wrote); PermanentError if none."""
    stamp = key.rsplit("/", 1)[-1].removesuffix(SUFFIX)
    try:
        return datetime.strptime(stamp, STAMP).replace(tzinfo=UTC)
    except ValueError:
        raise PermanentError(f"archive key {key!r} carries no fetch time") from None


@cache
def _s3_client(region: str) -> Any:
    # One per process: making a client costs tens of milliseconds, and a warm Lambda serves many Map items.
    return boto3.client("s3", region_name=region)


class Archive:
    """Stores and loads archived bodies in S3 (``archive_bucket``) or a directory (``archive_dir``).

    ``location`` (a directory or ``s3://bucket``) overrides the settings, e.g. to read a replay archive.
    """

    def __init__(self, settings: Settings, *, location: str | Path | None = None) -> None:
        self._bucket: str | None = None
        self._dir: Path | None = None
        if location is not None:
            text = str(location)
            if text.startswith(S3_SCHEME):
                self._bucket = text[len(S3_SCHEME) :].strip("/")
            else:
                self._dir = Path(text)
        elif settings.archive_bucket:
            self._bucket = settings.archive_bucket
        elif settings.archive_dir:
            self._dir = settings.archive_dir
        else:
            raise PermanentError("no raw archive configured: set ARCHIVE_BUCKET or ARCHIVE_DIR")
        if self._bucket is not None:
            self._s3 = _s3_client(settings.region)

    @property
    def location(self) -> str:
        """Where this archive lives: ``s3://bucket`` or a directory (what ``location=`` takes)."""
        return f"{S3_SCHEME}{self._bucket}" if self._bucket is not None else str(self._dir)

    def put(self, endpoint: str, params: dict[str, Any], body: Any, fetched_at: datetime | None = None) -> str:
        """Archive one body; returns its key."""
        key = archive_key(endpoint, params, fetched_at)
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

    def latest_key(self, endpoint: str, params: dict[str, Any]) -> str:
        """The key of the newest archived fetch of this endpoint with exactly these parameters."""
        prefix = archive_prefix(endpoint, params)
        keys: list[str] = []
        if self._dir is not None:
            folder = self._dir / prefix
            if folder.is_dir():
                keys = [f"{prefix}{p.name}" for p in folder.glob(f"*{SUFFIX}")]
        else:
            try:
                pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._bucket, Prefix=prefix)
                keys = [o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"].endswith(SUFFIX)]
            except (BotoCoreError, ClientError) as exc:
                raise RetryableError(f"archive listing {prefix} failed: {exc}") from exc
        if not keys:
            raise PermanentError(f"{endpoint} {_describe(params)}: no archived body to replay")
        return max(keys)  # fetch times are fixed-width UTC, so the newest sorts last

    def latest(self, endpoint: str, params: dict[str, Any]) -> Any:
        """The newest archived body of this endpoint with exactly these parameters."""
        return self.get(self.latest_key(endpoint, params))


def _describe(params: dict[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(params.items())) or "(no parameters)"
