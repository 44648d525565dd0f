"""The fake iRacing's OAuth server: ``password_limited`` and single-use refresh grants, and the tokens they issue.

Like iRacing, it remembers the tokens it issued across restarts when given a ``state_file``: access and refresh
tokens with their expiry and use, and the password grants of the last hour.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs

from iracing_sync_local.fake_iracing.transport import Response, json_body


def mask(value: str, identifier: str) -> str:
    """iRacing's masking of a secret or password: base64(sha256(value + identifier.strip().lower()))."""
    return base64.b64encode(hashlib.sha256((value + identifier.strip().lower()).encode()).digest()).decode()


@dataclass(frozen=True)
class Account:
    """The one account the fake knows, and how long its tokens live."""

    username: str
    password: str
    client_id: str
    client_secret: str
    access_token_ttl: int
    refresh_token_ttl: int
    password_grants_per_hour: int


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


def _owner(username: str) -> str:
    return username.strip().lower()


def _error(status: int, error: str, description: str) -> Response:
    return Response(status, json_body({"error": error, "error_description": description}))


class TokenIssuer:
    """Answers the token endpoint and knows which tokens it issued (kept in ``state_file`` if given)."""

    def __init__(self, account: Account, clock: Callable[[], float], state_file: Path | None) -> None:
        self.account = account
        self._clock = clock
        self._state_file = state_file
        self.grants: collections.Counter[str] = collections.Counter()
        self._lock = threading.RLock()
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}
        self._password_attempts: collections.deque[float] = collections.deque()
        if state_file is not None:
            self._load_state(state_file)

    # ----------------------------------------------------------------- what tests and /data ask

    def token_state(self, auth: str | None) -> tuple[str, bool]:
        """(rate-limit bucket owner, token valid) of an Authorization header; unknown tokens share one bucket."""
        if not auth:
            return "", False
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer":
            return "", False
        with self._lock:
            stored = self._access.get(token.strip())
            if stored is None:
                return "", False
            return stored.owner, not stored.revoked and self._clock() < stored.expires_at

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (refresh tokens stay usable)."""
        with self._lock:
            for token in self._access.values():
                token.revoked = True
            self._save_state()

    def issued_tokens(self) -> set[str]:
        """Every access and refresh token handed out so far."""
        with self._lock:
            return set(self._access) | set(self._refresh)

    def issue_token(self) -> str:
        """A valid access token for the account without an OAuth round trip (not counted)."""
        with self._lock:
            token = self._new_access(_owner(self.account.username))
            self._save_state()
            return token

    # ----------------------------------------------------------------- the token endpoint

    def answer(self, content_type: str, body: bytes) -> Response:
        """The token endpoint's answer to one POST."""
        try:
            return self._token_request(content_type, body)
        finally:
            with self._lock:
                self._save_state()  # every attempt counts, and a grant spends or issues tokens

    def _token_request(self, content_type: str, body: bytes) -> Response:
        if not content_type.lower().startswith("application/x-www-form-urlencoded"):
            return _error(400, "invalid_request", "body must be application/x-www-form-urlencoded")
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        grant = form.get("grant_type", "")
        if grant == "password_limited":
            return self._password_grant(form)
        if grant == "refresh_token":
            return self._refresh_grant(form)
        return _error(400, "unsupported_grant_type", f"grant_type {grant!r} is not supported")

    def _password_grant(self, form: dict[str, str]) -> Response:
        missing = [k for k in ("client_id", "client_secret", "username", "password") if not form.get(k)]
        if missing:
            return _error(400, "invalid_request", f"missing {', '.join(missing)}")
        now = self._clock()
        with self._lock:
            # Every well-formed attempt counts, good or bad: the limit exists to stop credential guessing,
            # and it is why a service must share and refresh tokens instead of logging in per call.
            while self._password_attempts and self._password_attempts[0] <= now - 3600:
                self._password_attempts.popleft()
            if len(self._password_attempts) >= self.account.password_grants_per_hour:
                return _error(429, "rate_limited", "too many password_limited grants; retry later")
            self._password_attempts.append(now)
        if not self._client_ok(form["client_id"], form["client_secret"]):
            return _error(401, "invalid_client", "client authentication failed")
        username = form["username"]
        if _owner(username) != _owner(self.account.username) or not secrets.compare_digest(
            form["password"], mask(self.account.password, username)
        ):
            return _error(400, "invalid_grant", "invalid username or password")
        return self._issue(_owner(username), form["client_id"], "password_limited")

    def _refresh_grant(self, form: dict[str, str]) -> Response:
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not form.get(k)]
        if missing:
            return _error(400, "invalid_request", f"missing {', '.join(missing)}")
        if not self._client_ok(form["client_id"], form["client_secret"]):
            return _error(401, "invalid_client", "client authentication failed")
        with self._lock:
            stored = self._refresh.get(form["refresh_token"])
            if (
                stored is None
                or stored.used
                or stored.client_id != form["client_id"]
                or stored.expires_at <= self._clock()
            ):
                return _error(400, "invalid_grant", "refresh token is invalid, expired or already used")
            stored.used = True  # single use: a second Lambda replaying it must fail, as in reality
        return self._issue(stored.owner, stored.client_id, "refresh_token")

    def _client_ok(self, client_id: str, client_secret: str) -> bool:
        account = self.account
        return client_id == account.client_id and secrets.compare_digest(
            client_secret, mask(account.client_secret, account.client_id)
        )

    def _new_access(self, owner: str) -> str:
        token = secrets.token_urlsafe(32)
        self._access[token] = _AccessToken(owner, self._clock() + self.account.access_token_ttl)
        return token

    def _issue(self, owner: str, client_id: str, grant: str) -> Response:
        ttl = self.account.refresh_token_ttl
        with self._lock:
            access = self._new_access(owner)
            refresh = secrets.token_urlsafe(32)
            self._refresh[refresh] = _RefreshToken(owner, client_id, self._clock() + ttl)
            self.grants[grant] += 1
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.account.access_token_ttl,
            "refresh_token": refresh,
            "refresh_token_expires_in": ttl,
            "scope": "iracing.auth",
        }
        return Response(200, json_body(body), headers={"Cache-Control": "no-store"})

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
        if self._state_file is None:
            return
        now = self._clock()
        state = {
            "access": {t: dataclasses.asdict(a) for t, a in self._access.items() if a.expires_at > now},
            # A used refresh token is dropped: unknown or spent, iRacing answers invalid_grant alike.
            "refresh": {
                t: dataclasses.asdict(r) for t, r in self._refresh.items() if r.expires_at > now and not r.used
            },
            "password_attempts": [a for a in self._password_attempts if a > now - 3600],
        }
        self._state_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self._state_file.with_suffix(".tmp")
        # Tokens, even fake ones, are credentials: readable by the owner only.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            json.dump(state, out)
        partial.replace(self._state_file)
