"""FakeIracing: the fake iRacing's public face (start it, point a client at it, script faults, read its requests)."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from iracing_sync_local.fake_iracing import weather
from iracing_sync_local.fake_iracing.faults import (
    MAINTENANCE_HTML,
    Fault,
    Faults,
    RateLimit,
    default_body,
    fault_response,
)
from iracing_sync_local.fake_iracing.links import Links
from iracing_sync_local.fake_iracing.oauth import Account, TokenIssuer, mask
from iracing_sync_local.fake_iracing.samples import Samples, sample_content
from iracing_sync_local.fake_iracing.transport import HTML, JSON, TEXT, HttpError, Response, Transport, json_body


@dataclass
class RecordedRequest:
    """One request as the server saw it; the Authorization value is never kept, only its presence."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    had_authorization: bool
    timestamp: float
    status: int = 0  # filled in once the response is chosen


class FakeIracing:
    """The fake iRacing server: start() it, point a client at oauth_url/api_url, script faults, read requests."""

    def __init__(
        self,
        snapshot: str = "2025-09-09",
        *,
        port: int = 0,
        clock: Callable[[], float] = time.time,
        rate_limit: int = 240,
        rate_window: float = 60.0,
        link_expiry: float = 900.0,
        password_grants_per_hour: int = 12,
        access_token_ttl: int = 600,
        refresh_token_ttl: int = 604800,
        username: str = "demo@example.com",
        password: str = "demo-password",
        client_id: str = "iracing-sync-local",
        client_secret: str = "local-secret",
        state_file: Path | None = None,
    ) -> None:
        self._samples = Samples(snapshot)
        self.snapshot = snapshot
        self.port = port
        self.clock = clock
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.link_expiry = link_expiry
        self.password_grants_per_hour = password_grants_per_hour
        self.access_token_ttl = access_token_ttl
        self.refresh_token_ttl = refresh_token_ttl
        self.username = username
        self.password = password
        self.client_id = client_id
        self.client_secret = client_secret
        self.state_file = state_file
        # What every weather_url object answers (fake_iracing.weather): the real forecast, or a body a test sets.
        self.forecast_body = weather.forecast_body()
        account = Account(
            username, password, client_id, client_secret, access_token_ttl, refresh_token_ttl, password_grants_per_hour
        )
        self._tokens = TokenIssuer(account, clock, state_file)
        self._rate = RateLimit(clock, rate_limit, rate_window)
        self._faults = Faults()
        self._links = Links(clock, link_expiry)
        self._transport = Transport(self._dispatch, port)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> str:
        """Bind 127.0.0.1, serve in a daemon thread, return the base URL (idempotent)."""
        self._transport.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._transport.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    @property
    def oauth_url(self) -> str:
        """The token endpoint (``https://oauth.iracing.com/oauth2/token`` in reality)."""
        return self.base_url + "/oauth2/token"

    @property
    def api_url(self) -> str:
        """Data calls are ``GET {api_url}/data/<endpoint>``."""
        return self.base_url

    @property
    def settings_env(self) -> dict[str, str]:
        """The service's environment variables that point an iRacing client at this server, with its credentials."""
        return {
            "IRACING_API_URL": self.api_url,
            "IRACING_OAUTH_URL": self.oauth_url,
            "IRACING_USERNAME": self.username,
            "IRACING_PASSWORD": self.password,
            "IRACING_CLIENT_ID": self.client_id,
            "IRACING_CLIENT_SECRET": self.client_secret,
        }

    # ----------------------------------------------------------------- request log and tokens

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of the request log, oldest first."""
        with self._lock:
            return list(self._requests)

    def data_requests(self) -> int:
        """How many /data/* requests arrived (what counts against the real rate limit)."""
        with self._lock:
            return sum(1 for r in self._requests if r.path.startswith("/data/"))

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        """Recorded requests whose path starts with path_prefix (e.g. "/links/")."""
        with self._lock:
            return [r for r in self._requests if r.path.startswith(path_prefix)]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    @property
    def grants(self) -> collections.Counter[str]:
        """OAuth grants issued so far, by grant type."""
        return self._tokens.grants

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (refresh tokens stay usable)."""
        self._tokens.expire_tokens()

    def issue_token(self) -> str:
        """A valid access token for the configured account without an OAuth round trip (not counted)."""
        return self._tokens.issue_token()

    def issued_secrets(self) -> set[str]:
        """Every access and refresh token handed out so far, plus the account's secrets and their masks.

        For tests that must prove none of them ever reaches a log.
        """
        return self._tokens.issued_tokens() | {
            self.password,
            self.client_secret,
            mask(self.password, self.username),
            mask(self.client_secret, self.client_id),
        }

    # ----------------------------------------------------------------- faults and answers

    def fail_next(
        self,
        path_prefix: str,
        status: int,
        *,
        times: int = 1,
        body: str | bytes | None = None,
        content_type: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next `times` requests under path_prefix with `status` (default body by status)."""
        raw = body.encode() if isinstance(body, str) else body
        self._faults.add(Fault(path_prefix, status, times, raw, content_type, delay))

    def maintenance(self, times: int = 1, html: bool = False, *, path_prefix: str = "/data/") -> None:
        """503 Site Maintenance: the real JSON body, or an HTML page as iRacing sometimes serves."""
        if html:
            self.fail_next(path_prefix, 503, times=times, body=MAINTENANCE_HTML, content_type=HTML)
        else:
            body = json_body(sample_content("error_503_site_maintenance.json"))
            self.fail_next(path_prefix, 503, times=times, body=body)

    def slow(self, path_prefix: str, seconds: float, times: int = 1) -> None:
        """Delay the next responses under path_prefix by `seconds` of real time, then answer normally."""
        self._faults.add(Fault(path_prefix, None, times, delay=seconds))

    def truncate(self, path_prefix: str, times: int = 1, *, short_read: bool = False) -> None:
        """Answer normally but cut the body in half.

        By default Content-Length matches the cut body, so the client sees a 200 with invalid JSON (a
        truncated object). With short_read the full length is declared and the connection closes early.
        """
        self._faults.add(Fault(path_prefix, None, times, truncate=True, short_read=short_read))

    def fail_season(self, season_id: int, status: int = 500, *, times: int | None = None) -> None:
        """Make series/season_schedule for this season answer `status` (every time unless `times`)."""
        self._faults.fail_season(season_id, status, times)

    def clear_faults(self) -> None:
        self._faults.clear()

    def chunk(self, endpoint: str, chunk_size: int = 100) -> None:
        """Serve an endpoint whose body is an array the way iRacing serves large results: chunk_info.

        The link then leads to a body in the shape of chunk_info_season_driver_standings.json (``chunk_info``
        with chunk_size, num_chunks, rows, base_download_url, chunk_file_names), and each chunk file, fetched
        without auth like a link, holds the next ``chunk_size`` rows of the real body, in order.
        """
        self._links.chunk(endpoint, chunk_size)

    def expire_links(self) -> None:
        """Make every link handed out so far answer 403 AccessDenied."""
        self._links.expire()

    def serve(self, endpoint: str, body: Any) -> None:
        """Answer a parameterless ``endpoint`` (e.g. ``season/race_guide``, ``series/seasons``) with ``body`` instead
        of the snapshot's file: a bundled sample's file name, or a JSON value. Only that answer changes: the
        season_schedule bodies stay those of the snapshot's seasons (so a re-sync by ID gets the snapshot's truth).
        """
        self._samples.serve(endpoint, body)

    def replace_seasons(self, body: list[dict[str, Any]]) -> None:
        """Make ``body`` the snapshot's series/seasons from now on. Unlike ``serve``, the season_schedule answers
        synthesized from it follow too, as when iRacing changes its schedules (bundled schedule files stay)."""
        self._samples.replace_seasons(body)

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, method: str, raw_path: str, headers: Message, body: bytes) -> Response:
        parts = urlsplit(raw_path)
        path = parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        auth = headers.get("Authorization")
        record = RecordedRequest(
            method=method,
            path=path,
            query=query,
            headers={k: v for k, v in headers.items() if k.lower() != "authorization"},
            had_authorization=auth is not None,
            timestamp=self.clock(),
        )
        with self._lock:
            self._requests.append(record)

        fault = self._faults.take(path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)  # real time: this is about the client's socket timeouts
        if fault is not None and fault.status is not None:
            resp = fault_response(fault, path, self._links.denied)
            if path.startswith("/data/"):
                # The request reached the account's budget like any other /data call.
                resp.headers.update(self._rate.consume(self._tokens.token_state(auth)[0])[1])
        else:
            resp = self._route(method, path, query, headers, auth, body)
            if fault is not None:
                resp.truncate, resp.short_read = fault.truncate, fault.short_read
        record.status = resp.status
        return resp

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: Message, auth: str | None, body: bytes
    ) -> Response:
        if path == "/oauth2/token":
            if method != "POST":
                return Response(405, json_body({"error": "invalid_request", "error_description": "POST only"}))
            return self._tokens.answer(headers.get("Content-Type") or "", body)
        if path.startswith("/data/"):
            return self._data(method, path[len("/data/") :], query, auth)
        if path.startswith("/links/") and method == "GET":
            return self._links.answer(path[len("/links/") :])
        if path.startswith("/chunks/") and method == "GET":
            return self._links.answer(path[len("/chunks/") :])
        if path.startswith(weather.PATH) and method == "GET":  # a weather_url: S3, no auth, no rate limit
            return Response(200, self.forecast_body, JSON)
        return Response(404, json_body({"error": "Not Found"}))

    def _data(self, method: str, endpoint: str, query: dict[str, str], auth: str | None) -> Response:
        owner, valid = self._tokens.token_state(auth)
        # The sample 401 carries rate-limit headers with a decremented remaining: rejected calls count too.
        allowed, rate_headers = self._rate.consume(owner)
        if not allowed:
            return Response(429, b"Rate limit exceeded", TEXT, rate_headers)
        if not valid:
            return Response(401, json_body(sample_content("error_401_unauthorized.json")), JSON, rate_headers)
        try:
            if method != "GET":
                raise HttpError(404, json_body({"error": "Not Found"}))
            body, direct = self._samples.resolve(endpoint.rstrip("/"), query, self._season_fault)
        except HttpError as err:
            return Response(err.status, err.body, err.content_type, rate_headers)
        if direct:
            return Response(200, body, JSON, rate_headers)
        if endpoint in ("series/seasons", "series/season_schedule"):  # iRacing re-signs weather links on every fetch
            body = weather.resign(body, self.base_url, self.clock())
        return Response(200, self._links.offer(endpoint, body, self.base_url), JSON, rate_headers)

    def _season_fault(self, season_id: int) -> None:
        status = self._faults.take_season(season_id)
        if status is not None:
            raise HttpError(status, *default_body(status, "", self._links.denied))
