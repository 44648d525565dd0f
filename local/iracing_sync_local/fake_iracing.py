"""A fake iRacing (OAuth server + /data API + S3 links) over real HTTP on 127.0.0.1.

It serves the bundled real samples (data/iracing-samples) with the transport behaviour that matters to a
client: OAuth2 ``password_limited`` with masked secrets, single-use refresh tokens, a rate-limited password
grant, ``{"link", "expires"}`` indirection to unauthenticated, expiring links, ``chunk_info`` bodies split into
chunk files on request, ``x-ratelimit-*`` headers with a plain-text 429, and scriptable faults (status codes,
maintenance pages, slow and truncated bodies).
Like iRacing, it remembers the tokens it issued across restarts when given a ``state_file`` (the local stack
keeps one under .local/fake-iracing): access and refresh tokens with their expiry and use, and the password
grants of the last hour, so a local re-sync starts with the token it stored, as it would against iRacing.
Used by ``make demo``, the local CLI and the integration tests.
"""

from __future__ import annotations

import argparse
import base64
import collections
import dataclasses
import hashlib
import json
import math
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qs, urlsplit

from iracing_sync.instants import iso_z
from iracing_sync_local import SAMPLES_DIR, fake_weather

JSON = "application/json"
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
XML = "application/xml"

# Reference data does not change with the capture day, so every snapshot serves the same files.
_REFERENCE_FILES: dict[str, str] = {
    "series/get": "series_get.json",
    "series/assets": "series_assets.json",
    "carclass/get": "carclass_get.json",
    "car/get": "car_get.json",
    "car/assets": "car_assets.json",
    "track/get": "track_get.json",
    "track/assets": "track_assets.json",
    "lookup/licenses": "lookup_licenses.json",
}
# The real API returns these bodies directly instead of a link (data_doc.json: "returned directly").
_DIRECT_FILES: dict[str, str] = {
    "constants/categories": "constants_categories.json",
    "constants/divisions": "constants_divisions.json",
    "constants/event_types": "constants_event_types.json",
    "doc": "data_doc.json",
}


@dataclass(frozen=True)
class Snapshot:
    """Which sample file answers which endpoint (and parameter value) for one capture."""

    name: str
    seasons_file: str  # series/seasons (active seasons with schedules); also feeds synthesized season_schedule
    quarter: tuple[int, int]  # (season_year, season_quarter) that series/seasons?season_year&season_quarter knows
    files: Mapping[str, str]  # parameterless endpoints answered through a link
    schedule_files: Mapping[int, str] = field(default_factory=dict)  # season_id -> real season_schedule body
    past_seasons_files: Mapping[int, str] = field(default_factory=dict)  # series_id -> series/past_seasons body
    season_list_files: Mapping[tuple[int, int], str] = field(default_factory=dict)  # (year, quarter) -> season/list
    # A series/seasons dump of an earlier quarter whose seasons the fake serves as past seasons.
    past_seasons_source: str | None = None


SNAPSHOTS: dict[str, Snapshot] = {
    "2025-09-09": Snapshot(
        name="2025-09-09",
        seasons_file="series_seasons.json",
        quarter=(2025, 3),
        files={
            **_REFERENCE_FILES,
            "series/season_list": "series_season_list.json",
            "season/race_guide": "season_race_guide_2025-09-09.json",
        },
        schedule_files={5935: "series_season_schedule.json"},
        past_seasons_files={306: "series_past_seasons.json"},
        season_list_files={(2025, 4): "season_list.json"},
        past_seasons_source="series_seasons_2023s2_full.json",
    ),
    # The full 2023 S2 quarter (137 seasons) for demo scale; only reference data besides the seasons,
    # because the other captures (race guide, season lists, past seasons) belong to 2025.
    "2023s2": Snapshot(
        name="2023s2",
        seasons_file="series_seasons_2023s2_full.json",
        quarter=(2023, 2),
        files=dict(_REFERENCE_FILES),
    ),
}

_MAINTENANCE_HTML = b"""<!DOCTYPE html>
<html><head><title>iRacing.com - Site Maintenance</title></head>
<body><h1>iRacing.com is currently down for maintenance</h1>
<p>We are performing scheduled maintenance. Please check back later.</p></body></html>
"""


def mask(value: str, identifier: str) -> str:
    """iRacing's masking of a secret or password: base64(sha256(value + identifier.strip().lower()))."""
    return base64.b64encode(hashlib.sha256((value + identifier.strip().lower()).encode()).digest()).decode()


def _json(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def _sample_content(filename: str) -> Any:
    """The ``content`` of an aydsko envelope sample (the real response body)."""
    return json.loads((SAMPLES_DIR / filename).read_text(encoding="utf-8"))["content"]


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


@dataclass
class _Fault:
    path_prefix: str
    status: int | None  # None: answer normally (slow / truncated responses)
    times: int
    body: bytes | None = None
    content_type: str | None = None
    delay: float = 0.0
    truncate: bool = False
    short_read: bool = False


@dataclass
class _Response:
    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)
    truncate: bool = False
    short_read: bool = False


@dataclass
class _AccessToken:
    owner: str
    expires_at: float
    revoked: bool = False


@dataclass
class _RefreshToken:
    owner: str
    client_id: str
    expires_at: float
    used: bool = False


@dataclass
class _Link:
    body: bytes
    expires_at: float
    revoked: bool = False


class _HttpError(Exception):
    def __init__(self, status: int, body: bytes, content_type: str = JSON) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # a client that keeps a connection open must not block stop()
    fake: FakeIracing

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that time out and hang up are expected here; stay quiet about them."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API (requests reuses connections)
    # Headers and body go out as separate writes; with Nagle on, the body waits ~40 ms for a delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature fixed by the base class
        """Silence the per-request stderr log; the request log is on FakeIracing.requests."""

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        fake = cast(_Server, self.server).fake
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""  # always drain it so keep-alive stays in sync
        resp = fake._dispatch(method, self.path, self.headers, body)
        self._write(resp)

    def _write(self, resp: _Response) -> None:
        body = resp.body
        declared = len(body)
        if resp.truncate:
            body = body[: max(1, len(body) // 2)]
            if not resp.short_read:
                declared = len(body)
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(declared))
            for name, value in resp.headers.items():
                self.send_header(name, value)
            if resp.short_read:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


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
        if snapshot not in SNAPSHOTS:
            raise ValueError(f"unknown snapshot {snapshot!r}; known: {', '.join(sorted(SNAPSHOTS))}")
        self.snapshot = snapshot
        self._snap = SNAPSHOTS[snapshot]
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
        self.grants: collections.Counter[str] = collections.Counter()

        self._lock = threading.RLock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[_Fault] = []
        self._season_faults: dict[int, tuple[int, int | None]] = {}  # season_id -> (status, times left | None)
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._links: dict[str, _Link] = {}  # link id (or chunk "<folder>/<file>") -> body
        self._chunked: dict[str, int] = {}  # endpoint -> rows per chunk file
        self._windows: dict[str, tuple[float, int]] = {}  # owner -> (window start, requests in window)
        self._password_attempts: collections.deque[float] = collections.deque()
        self._bytes: dict[str, bytes] = {}
        self._synthesized: dict[int, bytes] = {}
        self._served: dict[str, bytes] = {}  # endpoint -> a body answering it instead of the snapshot's (serve)
        self._seasons: dict[int, Any] | None = None
        self._past: tuple[dict[int, list[Any]], dict[int, Any]] | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        # What every weather_url object answers (fake_weather): the real forecast, or a body a test sets.
        self.forecast_body = fake_weather.forecast_body()
        self.state_file = state_file
        if state_file is not None:
            self._load_state(state_file)

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> str:
        """Bind 127.0.0.1, serve in a daemon thread, return the base URL (idempotent)."""
        with self._lock:
            if self._server is None:
                server = _Server(("127.0.0.1", self.port), _Handler)
                server.fake = self
                self._server = server
                self._thread = threading.Thread(
                    target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-iracing", daemon=True
                )
                self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("FakeIracing is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

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

    # ----------------------------------------------------------------- request log

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

    # ----------------------------------------------------------------- faults

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
        self._add_fault(_Fault(path_prefix, status, times, raw, content_type, delay))

    def maintenance(self, times: int = 1, html: bool = False, *, path_prefix: str = "/data/") -> None:
        """503 Site Maintenance: the real JSON body, or an HTML page as iRacing sometimes serves."""
        if html:
            self.fail_next(path_prefix, 503, times=times, body=_MAINTENANCE_HTML, content_type=HTML)
        else:
            self.fail_next(
                path_prefix, 503, times=times, body=_json(_sample_content("error_503_site_maintenance.json"))
            )

    def slow(self, path_prefix: str, seconds: float, times: int = 1) -> None:
        """Delay the next responses under path_prefix by `seconds` of real time, then answer normally."""
        self._add_fault(_Fault(path_prefix, None, times, delay=seconds))

    def truncate(self, path_prefix: str, times: int = 1, *, short_read: bool = False) -> None:
        """Answer normally but cut the body in half.

        By default Content-Length matches the cut body, so the client sees a 200 with invalid JSON (a
        truncated object). With short_read the full length is declared and the connection closes early.
        """
        self._add_fault(_Fault(path_prefix, None, times, truncate=True, short_read=short_read))

    def fail_season(self, season_id: int, status: int = 500, *, times: int | None = None) -> None:
        """Make series/season_schedule for this season answer `status` (every time unless `times`)."""
        with self._lock:
            self._season_faults[season_id] = (status, times)

    def chunk(self, endpoint: str, chunk_size: int = 100) -> None:
        """Serve an endpoint whose body is an array the way iRacing serves large results: chunk_info.

        The link then leads to a body in the shape of chunk_info_season_driver_standings.json (``chunk_info``
        with chunk_size, num_chunks, rows, base_download_url, chunk_file_names), and each chunk file, fetched
        without auth like a link, holds the next ``chunk_size`` rows of the real body, in order.
        """
        if chunk_size < 1:
            raise ValueError("chunk_size must be >= 1")
        with self._lock:
            self._chunked[endpoint.strip("/")] = chunk_size

    def serve(self, endpoint: str, body: Any) -> None:
        """Answer a parameterless ``endpoint`` (e.g. ``season/race_guide``, ``series/seasons``) with ``body`` instead
        of the snapshot's file: a bundled sample's file name, or a JSON value. Only that answer changes: the
        season_schedule bodies stay those of the snapshot's seasons (so a re-sync by ID gets the snapshot's truth).
        """
        data = self._file(body) if isinstance(body, str) and body.endswith(".json") else _json(body)
        with self._lock:
            self._served[endpoint.strip("/")] = data

    def replace_seasons(self, body: list[dict[str, Any]]) -> None:
        """Make ``body`` the snapshot's series/seasons from now on. Unlike ``serve``, the season_schedule answers
        synthesized from it follow too, as when iRacing changes its schedules (bundled schedule files stay)."""
        with self._lock:
            self._bytes[self._snap.seasons_file] = _json(body)
            self._seasons = None
            self._synthesized.clear()

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._season_faults.clear()

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (refresh tokens stay usable)."""
        with self._lock:
            for token in self._access.values():
                token.revoked = True
            self._save_state()

    def expire_links(self) -> None:
        """Make every link handed out so far answer 403 AccessDenied."""
        with self._lock:
            for link in self._links.values():
                link.revoked = True

    def issued_secrets(self) -> set[str]:
        """Every access and refresh token handed out so far, plus the account's secrets and their masks.

        For tests that must prove none of them ever reaches a log.
        """
        with self._lock:
            tokens = set(self._access) | set(self._refresh)
        return tokens | {
            self.password,
            self.client_secret,
            mask(self.password, self.username),
            mask(self.client_secret, self.client_id),
        }

    def issue_token(self) -> str:
        """A valid access token for the configured account without an OAuth round trip (not counted)."""
        with self._lock:
            token = self._new_access(self._owner(self.username))
            self._save_state()
            return token

    def _add_fault(self, fault: _Fault) -> None:
        if fault.times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.path_prefix):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _take_season_fault(self, season_id: int) -> int | None:
        with self._lock:
            entry = self._season_faults.get(season_id)
            if entry is None:
                return None
            status, times = entry
            if times is not None:
                if times <= 1:
                    del self._season_faults[season_id]
                else:
                    self._season_faults[season_id] = (status, times - 1)
            return status

    # ----------------------------------------------------------------- dispatch

    def _dispatch(self, method: str, raw_path: str, headers: Message, body: bytes) -> _Response:
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

        fault = self._take_fault(path)
        if fault is not None and fault.delay:
            time.sleep(fault.delay)  # real time: this is about the client's socket timeouts
        if fault is not None and fault.status is not None:
            resp = self._fault_response(fault, path)
            if path.startswith("/data/"):
                # The request reached the account's budget like any other /data call.
                resp.headers.update(self._consume_rate(self._token_state(auth)[0])[1])
        else:
            resp = self._route(method, path, query, headers, auth, body)
            if fault is not None:
                resp.truncate, resp.short_read = fault.truncate, fault.short_read
        record.status = resp.status
        return resp

    def _route(
        self, method: str, path: str, query: dict[str, str], headers: Message, auth: str | None, body: bytes
    ) -> _Response:
        if path == "/oauth2/token":
            if method != "POST":
                return _Response(405, _json({"error": "invalid_request", "error_description": "POST only"}))
            return self._oauth(headers.get("Content-Type") or "", body)
        if path.startswith("/data/"):
            return self._data(method, path[len("/data/") :], query, auth)
        if path.startswith("/links/") and method == "GET":
            return self._link(path[len("/links/") :])
        if path.startswith("/chunks/") and method == "GET":
            return self._link(path[len("/chunks/") :])
        if path.startswith(fake_weather.PATH) and method == "GET":  # a weather_url: S3, no auth, no rate limit
            return _Response(200, self.forecast_body, JSON)
        return _Response(404, _json({"error": "Not Found"}))

    def _fault_response(self, fault: _Fault, path: str) -> _Response:
        status = cast(int, fault.status)
        if fault.body is not None:
            return _Response(status, fault.body, fault.content_type or JSON)
        body, ctype = self._default_body(status, path)
        return _Response(status, body, fault.content_type or ctype)

    def _default_body(self, status: int, path: str) -> tuple[bytes, str]:
        """The body the real service sends with this status (real samples where we have them)."""
        if status == 429:
            body, ctype = b"Rate limit exceeded", TEXT
        elif status == 503:
            body, ctype = _json(_sample_content("error_503_site_maintenance.json")), JSON
        elif status == 401:
            body, ctype = _json(_sample_content("error_401_unauthorized.json")), JSON
        elif status == 400:
            body, ctype = _json(_sample_content("error_400_bad_request.json")), JSON
        elif status == 403 and path.startswith(("/links/", "/chunks/")):
            body, ctype = self._s3_denied("Access Denied"), XML
        else:
            body, ctype = _json({"error": HTTPStatus(status).phrase}), JSON
        return body, ctype

    # ----------------------------------------------------------------- OAuth

    @staticmethod
    def _owner(username: str) -> str:
        return username.strip().lower()

    def _new_access(self, owner: str) -> str:
        token = secrets.token_urlsafe(32)
        self._access[token] = _AccessToken(owner, self.clock() + self.access_token_ttl)
        return token

    def _issue(self, owner: str, client_id: str, grant: str) -> _Response:
        with self._lock:
            access = self._new_access(owner)
            refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = _RefreshToken(owner, client_id, self.clock() + self.refresh_token_ttl)
            self.grants[grant] += 1
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_token_ttl,
            "refresh_token": refresh,
            "refresh_token_expires_in": self.refresh_token_ttl,
            "scope": "iracing.auth",
        }
        return _Response(200, _json(body), headers={"Cache-Control": "no-store"})

    @staticmethod
    def _oauth_error(status: int, error: str, description: str) -> _Response:
        return _Response(status, _json({"error": error, "error_description": description}))

    def _client_ok(self, client_id: str, client_secret: str) -> bool:
        return client_id == self.client_id and secrets.compare_digest(
            client_secret, mask(self.client_secret, self.client_id)
        )

    def _oauth(self, content_type: str, body: bytes) -> _Response:
        try:
            return self._token_request(content_type, body)
        finally:
            with self._lock:
                self._save_state()  # every attempt counts, and a grant spends or issues tokens

    def _token_request(self, content_type: str, body: bytes) -> _Response:
        if not content_type.lower().startswith("application/x-www-form-urlencoded"):
            return self._oauth_error(400, "invalid_request", "body must be application/x-www-form-urlencoded")
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        grant = form.get("grant_type", "")
        if grant == "password_limited":
            return self._password_grant(form)
        if grant == "refresh_token":
            return self._refresh_grant(form)
        return self._oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _password_grant(self, form: dict[str, str]) -> _Response:
        missing = [k for k in ("client_id", "client_secret", "username", "password") if not form.get(k)]
        if missing:
            return self._oauth_error(400, "invalid_request", f"missing {', '.join(missing)}")
        now = self.clock()
        with self._lock:
            # Every well-formed attempt counts, good or bad: the limit exists to stop credential guessing,
            # and it is why a service must share and refresh tokens instead of logging in per call.
            while self._password_attempts and self._password_attempts[0] <= now - 3600:
                self._password_attempts.popleft()
            if len(self._password_attempts) >= self.password_grants_per_hour:
                return self._oauth_error(429, "rate_limited", "too many password_limited grants; retry later")
            self._password_attempts.append(now)
        if not self._client_ok(form["client_id"], form["client_secret"]):
            return self._oauth_error(401, "invalid_client", "client authentication failed")
        username = form["username"]
        if self._owner(username) != self._owner(self.username) or not secrets.compare_digest(
            form["password"], mask(self.password, username)
        ):
            return self._oauth_error(400, "invalid_grant", "invalid username or password")
        return self._issue(self._owner(username), form["client_id"], "password_limited")

    def _refresh_grant(self, form: dict[str, str]) -> _Response:
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not form.get(k)]
        if missing:
            return self._oauth_error(400, "invalid_request", f"missing {', '.join(missing)}")
        if not self._client_ok(form["client_id"], form["client_secret"]):
            return self._oauth_error(401, "invalid_client", "client authentication failed")
        with self._lock:
            stored = self._refresh.get(form["refresh_token"])
            if (
                stored is None
                or stored.used
                or stored.client_id != form["client_id"]
                or stored.expires_at <= self.clock()
            ):
                return self._oauth_error(400, "invalid_grant", "refresh token is invalid, expired or already used")
            stored.used = True  # single use: a second Lambda replaying it must fail, as in reality
        return self._issue(stored.owner, stored.client_id, "refresh_token")

    # ----------------------------------------------------------------- token state across restarts

    def _load_state(self, path: Path) -> None:
        """The tokens and password grants a previous server with this state file left (none if it is unreadable)."""
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            access = {t: _AccessToken(**a) for t, a in state.get("access", {}).items()}
            refresh = {t: _RefreshToken(**r) for t, r in state.get("refresh", {}).items()}
            attempts = [float(a) for a in state.get("password_attempts", [])]
        except FileNotFoundError:
            return
        except (OSError, ValueError, TypeError, AttributeError):
            return  # a damaged file is a server that forgot everything: clients log in again, as after a revoke
        with self._lock:
            self._access, self._refresh = access, refresh
            self._password_attempts = collections.deque(sorted(attempts))

    def _save_state(self) -> None:
        """Write the live tokens and the last hour's password grants (caller holds the lock)."""
        if self.state_file is None:
            return
        now = self.clock()
        state = {
            "access": {t: dataclasses.asdict(a) for t, a in self._access.items() if a.expires_at > now},
            # A used refresh token is dropped: unknown or spent, iRacing answers invalid_grant alike.
            "refresh": {
                t: dataclasses.asdict(r) for t, r in self._refresh.items() if r.expires_at > now and not r.used
            },
            "password_attempts": [a for a in self._password_attempts if a > now - 3600],
        }
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.state_file.with_suffix(".tmp")
        # Tokens, even fake ones, are credentials: readable by the owner only.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(state, out)
        partial.replace(self.state_file)

    # ----------------------------------------------------------------- /data

    def _token_state(self, auth: str | None) -> tuple[str, bool]:
        """(rate-limit bucket owner, token valid); unknown tokens share an anonymous bucket."""
        if not auth:
            return "", False
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            return "", False
        with self._lock:
            stored = self._access.get(token.strip())
            if stored is None:
                return "", False
            return stored.owner, not stored.revoked and self.clock() < stored.expires_at

    def _consume_rate(self, owner: str) -> tuple[bool, dict[str, str]]:
        """Count one request in the owner's fixed window; return (allowed, x-ratelimit-* headers)."""
        now = self.clock()
        with self._lock:
            start, count = self._windows.get(owner, (now, 0))
            if now >= start + self.rate_window:
                start, count = now, 0
            allowed = count < self.rate_limit
            if allowed:
                count += 1
            self._windows[owner] = (start, count)
        headers = {
            "x-ratelimit-limit": str(self.rate_limit),
            "x-ratelimit-remaining": str(max(0, self.rate_limit - count)),
            "x-ratelimit-reset": str(math.ceil(start + self.rate_window)),
        }
        return allowed, headers

    def _data(self, method: str, endpoint: str, query: dict[str, str], auth: str | None) -> _Response:
        owner, valid = self._token_state(auth)
        # The sample 401 carries rate-limit headers with a decremented remaining: rejected calls count too.
        allowed, rate_headers = self._consume_rate(owner)
        if not allowed:
            return _Response(429, b"Rate limit exceeded", TEXT, rate_headers)
        if not valid:
            return _Response(401, _json(_sample_content("error_401_unauthorized.json")), JSON, rate_headers)
        try:
            if method != "GET":
                raise _HttpError(404, _json({"error": "Not Found"}))
            body, direct = self._resolve(endpoint.rstrip("/"), query)
        except _HttpError as err:
            return _Response(err.status, err.body, err.content_type, rate_headers)
        if direct:
            return _Response(200, body, JSON, rate_headers)
        if endpoint in ("series/seasons", "series/season_schedule"):  # iRacing re-signs weather links on every fetch
            body = fake_weather.resign(body, self.base_url, self.clock())
        link_id = secrets.token_hex(16)
        expires_at = self.clock() + self.link_expiry
        with self._lock:
            chunk_size = self._chunked.get(endpoint.strip("/"))
        if chunk_size is not None:
            body = self._chunk_info_body(body, chunk_size, expires_at)
        with self._lock:
            self._links[link_id] = _Link(body, expires_at)
        wrapper = {"link": f"{self.base_url}/links/{link_id}", "expires": iso_z(expires_at, millis=True)}
        return _Response(200, _json(wrapper), JSON, rate_headers)

    def _chunk_info_body(self, body: bytes, chunk_size: int, expires_at: float) -> bytes:
        """The chunk_info wrapper of an array body; its chunk files are registered like links."""
        rows = json.loads(body)
        if not isinstance(rows, list):
            raise ValueError("only an array body can be served in chunks")
        folder = secrets.token_hex(16)
        names = []
        with self._lock:
            for start in range(0, len(rows), chunk_size):
                part = _json(rows[start : start + chunk_size])
                file = hashlib.sha256(folder.encode() + part).hexdigest() + ".json"
                self._links[f"{folder}/{file}"] = _Link(part, expires_at)
                # Real chunk names carry a pre-signed query; a client must append them verbatim.
                names.append(f"{file}?X-Amz-Expires=3600&X-Amz-Signature={secrets.token_hex(32)}")
        info = {
            "chunk_size": chunk_size,
            "num_chunks": len(names),
            "rows": len(rows),
            "base_download_url": f"{self.base_url}/chunks/{folder}/",
            "chunk_file_names": names,
        }
        return _json({"success": True, "chunk_info": info, "last_updated": iso_z(self.clock(), millis=True)})

    def _link(self, link_id: str) -> _Response:
        # Links stand for S3 pre-signed URLs: no auth needed, no rate limit, 403 once expired.
        with self._lock:
            link = self._links.get(link_id)
        if link is None:
            return _Response(403, self._s3_denied("Access Denied"), XML)
        if link.revoked or self.clock() >= link.expires_at:
            return _Response(403, self._s3_denied("Request has expired", link.expires_at), XML)
        return _Response(200, link.body, JSON)

    def _s3_denied(self, message: str, expired_at: float | None = None) -> bytes:
        extra = ""
        if expired_at is not None:
            expires, now = iso_z(expired_at, millis=True), iso_z(self.clock(), millis=True)
            extra = f"<Expires>{expires}</Expires><ServerTime>{now}</ServerTime>"
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>AccessDenied</Code><Message>{message}</Message>{extra}"
            f"<RequestId>{secrets.token_hex(8).upper()}</RequestId><HostId>fake-iracing</HostId></Error>"
        ).encode()

    # ----------------------------------------------------------------- snapshot routing

    def _file(self, filename: str) -> bytes:
        with self._lock:
            data = self._bytes.get(filename)
            if data is None:
                data = Path(SAMPLES_DIR / filename).read_bytes()
                self._bytes[filename] = data
            return data

    def _season_index(self) -> dict[int, Any]:
        with self._lock:
            if self._seasons is None:
                seasons = json.loads(self._file(self._snap.seasons_file))
                self._seasons = {int(s["season_id"]): s for s in seasons}
            return self._seasons

    def _schedule_body(self, season_id: int) -> bytes:
        if season_id in self._snap.schedule_files:
            return self._file(self._snap.schedule_files[season_id])
        with self._lock:
            cached = self._synthesized.get(season_id)
            if cached is not None:
                return cached
            season = self._season_index().get(season_id) or self._past_index()[1].get(season_id)
            if season is None:
                raise _HttpError(404, _json({"error": "Not Found"}))
            # Only one real season_schedule body is bundled (season 5935). For every other active season
            # we build one in the real shape from that season's own `schedules` in series/seasons, which
            # is the same list the real endpoint returns, so sync paths can run against every season.
            body = _json({"success": True, "season_id": season_id, "schedules": season.get("schedules", [])})
            self._synthesized[season_id] = body
            return body

    def _resolve(self, endpoint: str, query: dict[str, str]) -> tuple[bytes, bool]:
        """(body, answered directly) for one /data endpoint, or _HttpError 400/404."""
        snap = self._snap
        if endpoint in _DIRECT_FILES:
            return self._file(_DIRECT_FILES[endpoint]), True
        with self._lock:
            served = self._served.get(endpoint)
        if served is not None and not query:
            return served, False
        if endpoint == "series/seasons":
            # Both given means "that past quarter"; only the captured quarter is known.
            past = bool(query.get("season_year") and query.get("season_quarter"))
            if past and _ints(query, "season_year", "season_quarter") != snap.quarter:
                raise _HttpError(404, _json({"error": "Not Found"}))
            return self._file(snap.seasons_file), False
        if endpoint == "series/season_schedule":
            (season_id,) = _ints(_require(query, "season_id"), "season_id")
            status = self._take_season_fault(season_id)
            if status is not None:
                raise _HttpError(status, *self._default_body(status, ""))
            return self._schedule_body(season_id), False
        if endpoint == "series/past_seasons":
            (series_id,) = _ints(_require(query, "series_id"), "series_id")
            if series_id in snap.past_seasons_files:
                return self._lookup(snap.past_seasons_files, series_id), False
            return self._past_seasons_body(series_id), False
        if endpoint == "season/list":
            key = _ints(_require(query, "season_year", "season_quarter"), "season_year", "season_quarter")
            return self._lookup(snap.season_list_files, (key[0], key[1])), False
        if endpoint in snap.files:
            return self._file(snap.files[endpoint]), False
        raise _HttpError(404, _json({"error": "Not Found"}))

    def _past_index(self) -> tuple[dict[int, list[Any]], dict[int, Any]]:
        """Past seasons by series and by season ID, from the snapshot's ``past_seasons_source``.

        Only one real series/past_seasons body is bundled (series 306). The full 2023 S2 dump holds real
        seasons that are past seasons of their series by 2025-09-09, with their schedules, so the fake
        answers past_seasons and season_schedule for them in the real shapes. The bundled 306 body's
        seasons also resolve; they carry only tracks (race_weeks), so their weeks have no session times.
        """
        with self._lock:
            if self._past is None:
                by_series: dict[int, list[Any]] = {}
                by_season: dict[int, Any] = {}
                if self._snap.past_seasons_source:
                    for season in json.loads(self._file(self._snap.past_seasons_source)):
                        by_series.setdefault(int(season["series_id"]), []).append(season)
                        by_season[int(season["season_id"])] = season
                for filename in self._snap.past_seasons_files.values():
                    for season in json.loads(self._file(filename))["series"]["seasons"]:
                        by_season.setdefault(int(season["season_id"]), {**season, "schedules": season["race_weeks"]})
                self._past = (by_series, by_season)
            return self._past

    def _past_seasons_body(self, series_id: int) -> bytes:
        seasons = self._past_index()[0].get(series_id, [])
        known = {int(x["series_id"]): x for x in json.loads(self._file(_REFERENCE_FILES["series/get"]))}
        if not seasons and series_id not in known:
            raise _HttpError(404, _json({"error": "Not Found"}))
        # A known series without a season in the dump answers as a series with no past seasons.
        past = [
            {
                **{k: v for k, v in s.items() if k != "schedules"},
                "race_weeks": [
                    {"season_id": w["season_id"], "race_week_num": w["race_week_num"], "track": w.get("track")}
                    for w in s.get("schedules", [])
                ],
            }
            for s in seasons
        ]
        name = seasons[0].get("series_name") if seasons else known[series_id].get("series_name")
        series = {"series_id": series_id, "series_name": name, "seasons": past}
        return _json({"success": True, "series": series, "series_id": series_id})

    def _lookup(self, files: Mapping[Any, str], key: Any) -> bytes:
        if key not in files:
            raise _HttpError(404, _json({"error": "Not Found"}))
        return self._file(files[key])


def _require(query: dict[str, str], *names: str) -> dict[str, str]:
    """The real API answers a missing required parameter with 400 {"error": "Bad Request"}."""
    if any(not query.get(n) for n in names):
        raise _HttpError(400, _json(_sample_content("error_400_bad_request.json")))
    return query


def _ints(query: dict[str, str], *names: str) -> tuple[int, ...]:
    """Parameter values as ints; a value that is no number cannot match any sample, hence 404."""
    try:
        return tuple(int(query[n]) for n in names)
    except (KeyError, ValueError):
        raise _HttpError(404, _json({"error": "Not Found"})) from None


def main(argv: list[str] | None = None) -> None:
    """Run the fake server in the foreground: python -m iracing_sync_local.fake_iracing --port N --snapshot NAME."""
    parser = argparse.ArgumentParser(description="Fake iRacing OAuth + /data server on 127.0.0.1 (bundled samples).")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free port)")
    parser.add_argument("--snapshot", default="2025-09-09", choices=sorted(SNAPSHOTS), help="which capture to serve")
    args = parser.parse_args(argv)
    fake = FakeIracing(args.snapshot, port=args.port)
    url = fake.start()
    print(f"fake iRacing ({args.snapshot}) on {url}", flush=True)
    print(f"  oauth: {fake.oauth_url}  api: {fake.api_url}/data/<endpoint>", flush=True)
    print(
        f"  username={fake.username} password={fake.password} client_id={fake.client_id} "
        f"client_secret={fake.client_secret}",
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
