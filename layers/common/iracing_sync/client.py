"""The iRacing Data API client: the only module that speaks HTTP to iRacing.

- Auth: OAuth2 ``password_limited`` (secret and password masked) and the ``refresh_token`` grant. The token
  state lives in DynamoDB (``store.iracing_state``), shared by every concurrent invocation: a client uses
  the stored access token; when it is missing, expiring or refused (401), one invocation takes a
  conditional-write lock and renews it, by the refresh grant while a refresh token is valid, by the
  password grant only when none is. Losers of the lock use the winner's token or raise RetryableError.
  A single-use refresh token is therefore never sent twice, and a cold start costs no login.
- Data: ``GET /data/<endpoint>``; a ``link`` answer is downloaded without the auth header (it is a
  pre-signed S3 URL); ``chunk_info`` chunks are downloaded in order and concatenated into ``chunk_data``.
  Every request has an explicit (connect, read) timeout.
- Rate budget: every /data request first reserves one request of the account's shared budget
  (``store.reserve_request``); the x-ratelimit-* headers of every answer are folded back into it. When the
  budget is nearly spent the client raises RateLimited(reset_at) without sending: it never sleeps, Step
  Functions does the backing off.
- Errors (class names are the Step Functions contract): 429 or spent budget → RateLimited; 5xx (incl. 503
  Site Maintenance, JSON or HTML), timeouts, broken or non-JSON bodies, expired links → RetryableError;
  401 → one token renewal and one retry, then AuthError; other 4xx → PermanentError naming endpoint and
  parameters.

Nothing here logs or puts into an error message a token, password or client secret (masked or not), or a
pre-signed link. Tokens are sealed before they go to DynamoDB (``TokenSeal``), so a DEBUG log of the DynamoDB
calls, or a function that may only read the table, never sees a usable token.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from iracing_sync import store
from iracing_sync.archive import Archive
from iracing_sync.errors import (
    AuthError,
    IracingSyncError,
    MalformedPayload,
    PermanentError,
    RateLimited,
    RetryableError,
)
from iracing_sync.instants import iso_z
from iracing_sync.observability import logger
from iracing_sync.settings import Settings

# An access token this close to its expiry is renewed first, so it cannot die between check and use.
TOKEN_MARGIN = 60.0
# Where a week's forecast (the body behind its weather_url) is archived, with its season_id and race_week_num.
FORECAST_ENDPOINT = "weather_forecast"
# iRacing's documented limit; only used for a window opened before any x-ratelimit-limit header was seen.
DEFAULT_RATE_LIMIT = 240
OAUTH_SCOPE = "iracing.auth"


@dataclass(frozen=True)
class Credentials:
    """An iRacing account plus the OAuth client registered for it (secrets never in a repr)."""

    username: str
    password: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)


def mask(secret: str, identifier: str) -> str:
    """iRacing's masking: base64(sha256(secret + identifier.strip().lower()))."""
    digest = hashlib.sha256((secret + identifier.strip().lower()).encode()).digest()
    return base64.b64encode(digest).decode()


def parse_credentials(data: Any) -> Credentials:
    """Credentials from a secret's JSON (keys username, password, client_id, client_secret)."""
    keys = ("username", "password", "client_id", "client_secret")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) and data[k] for k in keys):
        # Name the keys, never the values.
        raise MalformedPayload("iRacing credentials need username, password, client_id and client_secret")
    return Credentials(*(data[k] for k in keys))


def describe(endpoint: str, params: dict[str, Any]) -> str:
    """An endpoint with its parameters, for messages: ``series/season_schedule season_id=5935``."""
    return " ".join([endpoint, *(f"{k}={v}" for k, v in sorted(params.items()))])


class TokenSeal:
    """Encrypts and authenticates token values stored in DynamoDB, with a key derived from the client secret.

    The client secret lives only in Secrets Manager (or the local credentials), never in the table. AES-256-GCM
    (the ``cryptography`` library, not hand-made crypto) with a fresh 96-bit nonce per value and a key derived by
    HKDF-SHA256 from the client secret and the account. A value that does not open (another client secret,
    tampering, an older format) reads as no token, which leads to a fresh login.
    """

    _VERSION = "v2."
    _NONCE = 12

    def __init__(self, credentials: Credentials) -> None:
        secret = credentials.client_secret.encode() + b"\0" + credentials.username.strip().lower().encode()
        info = b"iracing-sync token seal v2"
        self._aead = AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret))

    def seal(self, value: str) -> str:
        """The sealed form of a token, safe to store and to appear in a DynamoDB debug log."""
        nonce = secrets.token_bytes(self._NONCE)
        sealed = nonce + self._aead.encrypt(nonce, value.encode(), self._VERSION.encode())
        return self._VERSION + base64.urlsafe_b64encode(sealed).decode()

    def open(self, sealed: str | None) -> str | None:
        """The token of a sealed value, or None if there is none or it does not open with this key."""
        if not sealed or not sealed.startswith(self._VERSION):
            return None
        try:
            raw = base64.urlsafe_b64decode(sealed[len(self._VERSION) :])
            return self._aead.decrypt(raw[: self._NONCE], raw[self._NONCE :], self._VERSION.encode()).decode()
        except (ValueError, InvalidTag):  # not base64, too short, forged or another key, not UTF-8
            return None


@dataclass(frozen=True)
class _Grant:
    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: float | None = None


class IracingClient:
    """Fetches /data endpoints for one invocation.

    ``api_requests`` counts every HTTP request this client sent to iRacing: token grants, /data calls, and
    link and chunk downloads (a sent request counts even when it fails). So one current-seasons listing
    costs 2 requests (3 when this invocation had to obtain the token).
    """

    def __init__(
        self,
        settings: Settings,
        credentials: Credentials,
        *,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._clock = clock
        self._session = session or requests.Session()
        self._account = store.iracing_account_key(credentials.username)
        self._seal = TokenSeal(credentials)
        self._access: str | None = None
        self._access_expires = 0.0
        self._rejected: str | None = None  # the access token iRacing last answered 401 to
        self._reservation = store.Reservation(granted=False, reset_at=0.0, remaining=0)
        self.api_requests = 0

    # ----------------------------------------------------------------- data

    def get(self, endpoint: str, **params: Any) -> Any:
        """GET /data/<endpoint> and return the decoded body, following a ``link`` and ``chunk_info``."""
        what = describe(endpoint, params)
        body = self._data(endpoint, params, what)
        if isinstance(body, dict) and isinstance(body.get("link"), str):
            body = self._download(body["link"], f"{what} link")
        return self._with_chunks(body, what)

    def forecast(self, url: str, **params: Any) -> Any:
        """The body behind a week's ``weather_url`` (its hourly forecast). The link is a presigned S3 URL, like a
        ``link`` answer: fetched without the auth header, and not from the account's rate budget (S3 is not the
        /data API). ``params`` (season_id, race_week_num) only name it, for messages and replays."""
        return self._download(url, describe("weather forecast", params))

    def _data(self, endpoint: str, params: dict[str, Any], what: str) -> Any:
        url = f"{self._settings.iracing_api_url}/data/{endpoint}"
        for attempt in (1, 2):
            token = self._access_token()
            self._reserve(what)
            response = self._send("GET", url, what, params=params, headers={"Authorization": f"Bearer {token}"})
            self._observe(response)
            if response.status_code == 401 and attempt == 1:
                # Expired or revoked early: renew once (shared, under the lock) and try once more.
                self._rejected, self._access = token, None
                continue
            return decode(response, what)
        raise AssertionError("unreachable")  # pragma: no cover - the second pass always returns or raises

    def _download(self, url: str, what: str) -> Any:
        # A pre-signed S3 URL: no bearer token (it would leak to S3), and never in a message (it is a credential).
        response = self._send("GET", url, what)
        if response.status_code != 200:
            # 403 is an expired link; any failure here is cured by asking /data again for a fresh one.
            raise RetryableError(f"iRacing {what}: HTTP {response.status_code} (expired link?)")
        return _json(response, what)

    def _with_chunks(self, body: Any, what: str) -> Any:
        """Download ``chunk_info`` chunks in order and put their concatenated rows next to it as ``chunk_data``."""
        holder = body if isinstance(body, dict) and isinstance(body.get("chunk_info"), dict) else None
        if holder is None and isinstance(body, dict) and isinstance(body.get("data"), dict):
            # Search endpoints nest it: {"type": ..., "data": {"chunk_info": ...}}.
            holder = body["data"] if isinstance(body["data"].get("chunk_info"), dict) else None
        if holder is None:
            return body
        info = holder["chunk_info"]
        names = info.get("chunk_file_names") or []
        base = info.get("base_download_url")
        if not isinstance(names, list) or (names and not isinstance(base, str)):
            raise MalformedPayload(f"iRacing {what}: chunk_info without base_download_url/chunk_file_names")
        rows: list[Any] = []
        for number, name in enumerate(names, start=1):
            chunk = self._download(f"{base}{name}", f"{what} chunk {number}/{len(names)}")
            if not isinstance(chunk, list):
                raise MalformedPayload(f"iRacing {what}: chunk {number} is not an array")
            rows.extend(chunk)
        holder["chunk_data"] = rows
        return body

    # ----------------------------------------------------------------- transport

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        self.api_requests += 1  # sent is sent, whether or not an answer comes back
        timeout = (self._settings.connect_timeout, self._settings.read_timeout)
        try:
            return self._session.request(method, url, timeout=timeout, **kwargs)
        except requests.Timeout as exc:
            raise RetryableError(f"iRacing {what}: timed out") from exc
        except (
            requests.ConnectionError,
            requests.exceptions.ChunkedEncodingError,
            requests.exceptions.ContentDecodingError,
        ) as exc:
            # The exception's text may hold the URL (a pre-signed link): name only its kind.
            raise RetryableError(f"iRacing {what}: connection failed ({type(exc).__name__})") from exc

    # ----------------------------------------------------------------- rate budget

    def _reserve(self, what: str) -> None:
        reservation = store.reserve_request(
            self._account,
            now=self._clock(),
            reserve=self._settings.rate_reserve,
            default_limit=DEFAULT_RATE_LIMIT,
            window=self._settings.rate_window_seconds,
        )
        if not reservation.granted:
            raise RateLimited(
                f"iRacing {what}: not sent, the account's rate budget is nearly spent until "
                f"{_when(reservation.reset_at)}",
                reset_at=reservation.reset_at,
            )
        self._reservation = reservation

    def _observe(self, response: requests.Response) -> None:
        reset = _number(response.headers.get("x-ratelimit-reset"))
        remaining = _number(response.headers.get("x-ratelimit-remaining"))
        if reset is None or remaining is None:
            return
        mine = self._reservation
        if not mine.provisional and mine.reset_at == reset and remaining >= mine.remaining:
            return  # the shared budget is already at or below what this answer says: nothing to write
        limit = _number(response.headers.get("x-ratelimit-limit"))
        store.observe_rate(
            self._account,
            reset_at=reset,
            remaining=int(remaining),
            limit=int(limit) if limit is not None else None,
            now=self._clock(),
        )

    # ----------------------------------------------------------------- tokens

    def _access_token(self) -> str:
        now = self._clock()
        if self._access is not None and self._access_expires > now + TOKEN_MARGIN:
            return self._access
        state = self._load()
        if self._usable(state, now):
            return self._use(state)
        return self._renew(state, now)

    def _load(self) -> store.TokenState | None:
        """The shared token state with its tokens opened (a token that does not open counts as none)."""
        state = store.load_token(self._account)
        if state is None:
            return None
        return dataclasses.replace(
            state, access_token=self._seal.open(state.access_token), refresh_token=self._seal.open(state.refresh_token)
        )

    def _usable(self, state: store.TokenState | None, now: float) -> bool:
        return state is not None and state.access_valid(now, TOKEN_MARGIN) and state.access_token != self._rejected

    def _use(self, state: store.TokenState | None) -> str:
        assert state is not None and state.access_token is not None  # checked by _usable
        self._access, self._access_expires = state.access_token, state.expires_at or 0.0
        return state.access_token

    def _renew(self, state: store.TokenState | None, now: float) -> str:
        """Renew the shared token under the lock; a loser uses the winner's token or raises RetryableError."""
        busy = "iRacing token: another invocation is renewing it; retry"
        if state is not None and state.locked(now):
            raise RetryableError(busy)
        owner = uuid.uuid4().hex
        version = state.version if state is not None else 0
        if not store.lock_token(self._account, owner, version, now, now + self._settings.token_lock_seconds):
            again = self._load()
            if self._usable(again, now):
                return self._use(again)
            raise RetryableError(busy)
        try:
            grant = None
            if state is not None and state.refresh_token and state.refresh_valid(now, TOKEN_MARGIN):
                grant = self._refresh_grant(state.refresh_token)
            if grant is None:
                # No refresh token, or iRacing refused it (spent, expired, revoked): only now may we log in.
                grant = self._password_grant()
        except IracingSyncError:
            store.unlock_token(self._account, owner)  # the next invocation may try at once, not after the lock expires
            raise
        stored = store.save_token(
            self._account,
            owner,
            access_token=self._seal.seal(grant.access_token),
            expires_at=grant.expires_at,
            refresh_token=self._seal.seal(grant.refresh_token) if grant.refresh_token else None,
            refresh_expires_at=grant.refresh_expires_at,
        )
        if not stored:
            logger.warning("iRacing token renewed after the refresh lock expired; the renewal was not shared")
        self._access, self._access_expires = grant.access_token, grant.expires_at
        return grant.access_token

    def _password_grant(self) -> _Grant:
        c = self._credentials
        form = {
            "grant_type": "password_limited",
            "client_id": c.client_id,
            "client_secret": mask(c.client_secret, c.client_id),
            "username": c.username,
            "password": mask(c.password, c.username),
            "scope": OAUTH_SCOPE,
        }
        grant = self._token_request(form, "password grant")
        assert grant is not None  # only a refresh grant can come back refused
        logger.info("iRacing token obtained by the password grant")
        return grant

    def _refresh_grant(self, refresh_token: str) -> _Grant | None:
        c = self._credentials
        form = {
            "grant_type": "refresh_token",
            "client_id": c.client_id,
            "client_secret": mask(c.client_secret, c.client_id),
            "refresh_token": refresh_token,
        }
        grant = self._token_request(form, "refresh grant")
        if grant is None:
            logger.info("iRacing refused the stored refresh token; falling back to the password grant")
        else:
            logger.info("iRacing token renewed by the refresh grant")
        return grant

    def _token_request(self, form: dict[str, str], what: str) -> _Grant | None:
        """POST one grant; None when a refresh token is refused (invalid_grant), else a grant or a typed error."""
        response = self._send("POST", self._settings.iracing_oauth_url, f"token endpoint ({what})", data=form)
        status = response.status_code
        error = _error_field(response)
        if status == 429:
            retry_after = _number(response.headers.get("retry-after"))
            reset = self._clock() + retry_after if retry_after is not None else None
            raise RateLimited(f"iRacing token endpoint: {what} rate limited (HTTP 429)", reset_at=reset)
        if status >= 500:
            raise RetryableError(f"iRacing token endpoint: {what}: {_server_error(response)}")
        if status == 400 and form["grant_type"] == "refresh_token" and "invalid_grant" in error:
            return None
        if status != 200:
            raise AuthError(f"iRacing token endpoint refused the {what} (HTTP {status}{error})")
        body = _json(response, f"token endpoint ({what})")
        now = self._clock()
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise MalformedPayload(f"iRacing token endpoint: {what} answered without an access_token")
        refresh_in = _number(body.get("refresh_token_expires_in"))
        return _Grant(
            access_token=body["access_token"],
            expires_at=now + (_number(body.get("expires_in")) or 600.0),
            refresh_token=body.get("refresh_token") if isinstance(body.get("refresh_token"), str) else None,
            refresh_expires_at=now + refresh_in if refresh_in is not None else None,
        )


class ReplayClient(IracingClient):
    """Answers every call with the newest archived body of that endpoint and parameters; sends nothing.

    Same interface as IracingClient (``get``, ``api_requests`` which stays 0), so a sync runs unchanged.
    """

    def __init__(self, archive: Archive) -> None:  # no HTTP session, credentials or token state: none is used
        self._archive = archive
        self.api_requests = 0

    def get(self, endpoint: str, **params: Any) -> Any:
        """The newest archived body of ``endpoint`` with exactly ``params`` (PermanentError if none)."""
        return self._archive.latest(endpoint, params)

    def forecast(self, url: str, **params: Any) -> Any:
        """The newest archived forecast of that week (``FORECAST_ENDPOINT`` with ``params``; PermanentError if none)."""
        return self._archive.latest(FORECAST_ENDPOINT, params)


# --------------------------------------------------------------------------------------------------- helpers


def decode(response: requests.Response, what: str) -> Any:
    """A /data answer's JSON body, or the typed error its status means (``what`` names endpoint and parameters)."""
    status = response.status_code
    if status == 200:
        return _json(response, what)
    if status == 429:
        reset = _number(response.headers.get("x-ratelimit-reset"))
        raise RateLimited(f"iRacing {what}: rate limited (HTTP 429) until {_when(reset)}", reset_at=reset)
    if status == 401:
        raise AuthError(f"iRacing {what}: unauthorized (HTTP 401) even with a renewed token")
    if status >= 500:
        raise RetryableError(f"iRacing {what}: {_server_error(response)}")
    raise PermanentError(f"iRacing {what}: HTTP {status}{_error_field(response)}")


def _json(response: requests.Response, what: str) -> Any:
    try:
        return response.json()
    except (json.JSONDecodeError, requests.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RetryableError(f"iRacing {what}: body is not JSON (truncated?)") from exc


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _when(epoch: float | None) -> str:
    return "an unknown time" if epoch is None else iso_z(epoch)


def _error_field(response: requests.Response) -> str:
    """`` <error>`` from a JSON error body (iRacing's and OAuth's), or "" (never the whole body)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    return f" {error}" if isinstance(error, str) and len(error) < 100 else ""


def _server_error(response: requests.Response) -> str:
    """What a 5xx says: maintenance (iRacing's JSON, or its HTML page) or just the status."""
    status = response.status_code
    if "maintenance" in _error_field(response).lower() or (
        "html" in response.headers.get("Content-Type", "") and b"maintenance" in response.content.lower()
    ):
        return f"down for Site Maintenance (HTTP {status})"
    return f"HTTP {status}{_error_field(response)}"
