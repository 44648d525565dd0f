"""The iRacing Data API client: the only module that speaks HTTP to iRacing.

OAuth2 ``password_limited`` grant, ``link`` indirection (followed without the auth header),
rate-limit headers read on every call, typed errors instead of sleeps: throttling and transient
faults raise RetryableError subclasses so Step Functions does the backing off.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import requests

from iracing_sync.errors import AuthError, MalformedPayload, PermanentError, RateLimited, RetryableError
from iracing_sync.settings import Settings

# Stop spending the shared account's budget when fewer requests than this remain in the window.
RATE_RESERVE = 2


@dataclass(frozen=True)
class Credentials:
    """An iRacing account plus the OAuth client registered for it (never logged)."""

    username: str
    password: str = field(repr=False)
    client_id: str
    client_secret: str = field(repr=False)


def mask(secret: str, identifier: str) -> str:
    """iRacing's masking: base64(sha256(secret + identifier.strip().lower()))."""
    digest = hashlib.sha256((secret + identifier.strip().lower()).encode()).digest()
    return base64.b64encode(digest).decode()


@dataclass
class Token:
    """An OAuth access token and when it stops being valid (epoch seconds)."""

    access_token: str = field(repr=False)
    expires_at: float
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: float | None = None


class IracingClient:
    """Fetches /data endpoints; counts the requests it makes to iRacing (``api_requests``)."""

    def __init__(self, settings: Settings, credentials: Credentials, session: requests.Session | None = None) -> None:
        self._settings = settings
        self._credentials = credentials
        self._session = session or requests.Session()
        self._token: Token | None = None
        self._remaining: float | None = None
        self._reset_at: float | None = None
        self.api_requests = 0

    @property
    def _timeout(self) -> tuple[float, float]:
        return (self._settings.connect_timeout, self._settings.read_timeout)

    def _send(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        try:
            return self._session.request(method, url, timeout=self._timeout, **kwargs)
        except requests.Timeout as exc:
            raise RetryableError(f"iRacing {what}: timed out") from exc
        except requests.ConnectionError as exc:
            raise RetryableError(f"iRacing {what}: connection failed") from exc

    def _authorize(self) -> Token:
        if self._token and self._token.expires_at > time.time() + 30:
            return self._token
        c = self._credentials
        form = {
            "grant_type": "password_limited",
            "client_id": c.client_id,
            "client_secret": mask(c.client_secret, c.client_id),
            "username": c.username,
            "password": mask(c.password, c.username),
            "scope": "iracing.auth",
        }
        response = self._send("POST", self._settings.iracing_oauth_url, "token", data=form)
        self.api_requests += 1
        if response.status_code == 429:
            raise RateLimited("iRacing token endpoint: password grant rate limited")
        if response.status_code in (400, 401, 403):
            raise AuthError(f"iRacing token endpoint refused the credentials (HTTP {response.status_code})")
        body = self._json(response, "token")
        now = time.time()
        self._token = Token(
            access_token=body["access_token"],
            expires_at=now + float(body.get("expires_in", 600)),
            refresh_token=body.get("refresh_token"),
            refresh_expires_at=now + float(body["refresh_token_expires_in"])
            if body.get("refresh_token_expires_in")
            else None,
        )
        return self._token

    def get(self, endpoint: str, **params: Any) -> Any:
        """GET /data/<endpoint> and return the decoded body, following a ``link`` if there is one."""
        what = f"{endpoint} {params}" if params else endpoint
        if self._remaining is not None and self._remaining < RATE_RESERVE and (self._reset_at or 0) > time.time():
            # Spending the last requests would get the shared account refused: hand the wait to Step Functions.
            raise RateLimited(f"iRacing {what}: rate budget spent until {self._reset_at}", reset_at=self._reset_at)
        token = self._authorize()
        response = self._send(
            "GET",
            f"{self._settings.iracing_api_url}/data/{endpoint}",
            what,
            params=params,
            headers={"Authorization": f"Bearer {token.access_token}"},
        )
        self.api_requests += 1
        self._check(response, what)
        body = self._json(response, what)
        if isinstance(body, dict) and isinstance(body.get("link"), str):
            # The link is a pre-signed S3 URL: sending our bearer token there would leak it.
            linked = self._send("GET", body["link"], f"{what} link")
            if linked.status_code != 200:
                raise RetryableError(f"iRacing {what}: link answered HTTP {linked.status_code}")
            body = self._json(linked, f"{what} link")
        return body

    def _check(self, response: requests.Response, what: str) -> None:
        status = response.status_code
        reset = _float(response.headers.get("x-ratelimit-reset"))
        if status == 429:
            raise RateLimited(f"iRacing {what}: rate limited (HTTP 429)", reset_at=reset)
        if status == 401:
            self._token = None
            raise AuthError(f"iRacing {what}: unauthorized (HTTP 401)")
        if status >= 500:
            raise RetryableError(f"iRacing {what}: HTTP {status}")
        if status != 200:
            raise PermanentError(f"iRacing {what}: HTTP {status}")
        self._remaining = _float(response.headers.get("x-ratelimit-remaining"))
        self._reset_at = reset

    @staticmethod
    def _json(response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except (json.JSONDecodeError, requests.JSONDecodeError) as exc:
            raise RetryableError(f"iRacing {what}: body is not JSON (truncated?)") from exc


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def parse_credentials(data: Any) -> Credentials:
    """Credentials from a secret's JSON (keys username, password, client_id, client_secret)."""
    try:
        return Credentials(
            username=str(data["username"]),
            password=str(data["password"]),
            client_id=str(data["client_id"]),
            client_secret=str(data["client_secret"]),
        )
    except (KeyError, TypeError) as exc:
        raise MalformedPayload("iRacing credentials need username, password, client_id and client_secret") from exc
