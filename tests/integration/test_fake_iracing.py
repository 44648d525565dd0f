"""The fake iRacing server over real sockets: OAuth, link indirection, rate limits, scripted faults."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from iracing_sync_local import REPO_ROOT, SAMPLES_DIR
from iracing_sync_local.fake_iracing import FakeIracing, mask
from tests.support.clock import T0, FakeClock
from tests.support.weather_links import unsigned

pytestmark = pytest.mark.integration


def sha_mask(value: str, identifier: str) -> str:
    """Independent re-statement of iRacing's masking, so the server's own helper is checked too."""
    return base64.b64encode(hashlib.sha256((value + identifier.strip().lower()).encode()).digest()).decode()


@pytest.fixture
def fake(clock: FakeClock) -> Iterator[FakeIracing]:
    with FakeIracing(clock=clock) as server:
        yield server


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


def password_form(fake: FakeIracing, **overrides: str) -> dict[str, str]:
    form = {
        "grant_type": "password_limited",
        "client_id": fake.client_id,
        "client_secret": sha_mask(fake.client_secret, fake.client_id),
        "username": fake.username,
        "password": sha_mask(fake.password, fake.username),
    }
    form.update(overrides)
    return form


def login(fake: FakeIracing, http: requests.Session) -> dict[str, object]:
    resp = http.post(fake.oauth_url, data=password_form(fake), timeout=5)
    assert resp.status_code == 200, resp.text
    body: dict[str, object] = resp.json()
    return body


def data(
    fake: FakeIracing, http: requests.Session, endpoint: str, token: str | None, **params: str
) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return http.get(f"{fake.api_url}/data/{endpoint}", params=params, headers=headers, timeout=5)


def fetch(fake: FakeIracing, http: requests.Session, endpoint: str, token: str, **params: str) -> object:
    """The two hops a real client makes: /data answer, then the link without the auth header."""
    first = data(fake, http, endpoint, token, **params)
    assert first.status_code == 200, first.text
    link = first.json()["link"]
    second = requests.get(link, timeout=5)
    assert second.status_code == 200
    return second.json()


# ----------------------------------------------------------------------------- lifecycle


def test_start_returns_loopback_url_and_stop_releases_port() -> None:
    server = FakeIracing()
    url = server.start()
    assert url.startswith("http://127.0.0.1:")
    assert server.base_url == url == server.api_url
    assert server.oauth_url == url + "/oauth2/token"
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/data/car/get", timeout=2)
    with pytest.raises(RuntimeError):
        _ = server.base_url


def test_stop_closes_kept_alive_connections_too() -> None:
    # Given a client whose pool holds a kept-alive connection to the fake
    server = FakeIracing()
    url = server.start()
    with requests.Session() as session:
        assert session.get(url + "/data/car/get", timeout=5).status_code == 401  # (no token: answered all the same)
        # When the fake stops
        server.stop()
        # Then that connection is gone too: the next request cannot reach a stopped iRacing
        with pytest.raises(requests.ConnectionError):
            session.get(url + "/data/car/get", timeout=5)


def test_unknown_snapshot_is_rejected() -> None:
    with pytest.raises(ValueError, match="2023s2"):
        FakeIracing("1999s1")


# ----------------------------------------------------------------------------- OAuth


def test_password_grant_with_correct_masking(fake: FakeIracing, http: requests.Session) -> None:
    assert mask(fake.password, fake.username) == sha_mask(fake.password, fake.username)
    # The identifier is normalised (strip + lower) before masking, so a differently spelled username works.
    spelled = "  " + fake.username.upper() + " "
    resp = http.post(
        fake.oauth_url, data=password_form(fake, username=spelled, password=sha_mask(fake.password, spelled))
    )
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["refresh_token_expires_in"] == 604800
    assert body["scope"] == "iracing.auth"
    assert body["access_token"] and body["refresh_token"]
    assert fake.grants["password_limited"] == 1


@pytest.mark.parametrize(
    ("field", "value", "status", "error"),
    [
        ("client_secret", "local-secret", 401, "invalid_client"),  # sent unmasked
        ("client_secret", sha_mask("local-secret", "someone-else"), 401, "invalid_client"),
        ("password", "demo-password", 400, "invalid_grant"),  # sent unmasked
        ("password", sha_mask("wrong", "demo@example.com"), 400, "invalid_grant"),
        ("username", "other@example.com", 400, "invalid_grant"),
        ("client_id", "other-client", 401, "invalid_client"),
    ],
)
def test_password_grant_with_bad_masking_or_credentials(
    fake: FakeIracing, http: requests.Session, field: str, value: str, status: int, error: str
) -> None:
    resp = http.post(fake.oauth_url, data=password_form(fake, **{field: value}), timeout=5)
    assert resp.status_code == status
    assert resp.json()["error"] == error
    assert fake.grants["password_limited"] == 0


def test_token_endpoint_wants_a_form_and_a_known_grant(fake: FakeIracing, http: requests.Session) -> None:
    as_json = http.post(fake.oauth_url, json=password_form(fake), timeout=5)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    missing = http.post(fake.oauth_url, data={"grant_type": "password_limited", "client_id": fake.client_id})
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    other = http.post(fake.oauth_url, data={"grant_type": "password"}, timeout=5)
    assert other.status_code == 400 and other.json()["error"] == "unsupported_grant_type"


def test_refresh_token_is_single_use(fake: FakeIracing, http: requests.Session) -> None:
    first = login(fake, http)
    form = {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": sha_mask(fake.client_secret, fake.client_id),
        "refresh_token": str(first["refresh_token"]),
    }
    renewed = http.post(fake.oauth_url, data=form, timeout=5)
    assert renewed.status_code == 200, renewed.text
    pair = renewed.json()
    assert pair["access_token"] != first["access_token"]
    assert pair["refresh_token"] != first["refresh_token"]
    assert data(fake, http, "car/get", pair["access_token"]).status_code == 200

    replay = http.post(fake.oauth_url, data=form, timeout=5)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    # The new refresh token is good exactly once as well.
    chained = http.post(fake.oauth_url, data={**form, "refresh_token": pair["refresh_token"]}, timeout=5)
    assert chained.status_code == 200
    assert fake.grants == {"password_limited": 1, "refresh_token": 2}


# ----------------------------------------------------------------------------- tokens across restarts


def refresh_form(fake: FakeIracing, refresh_token: str) -> dict[str, str]:
    return {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": sha_mask(fake.client_secret, fake.client_id),
        "refresh_token": refresh_token,
    }


def test_restarted_server_with_its_state_file_accepts_the_tokens_it_issued(
    clock: FakeClock, http: requests.Session, tmp_path: Path
) -> None:
    # Given a server that issued tokens (one refresh token already spent), then stopped
    state = tmp_path / "fake-iracing" / "tokens.json"
    with FakeIracing(clock=clock, state_file=state) as before:
        spent = str(login(before, http)["refresh_token"])
        pair = http.post(before.oauth_url, data=refresh_form(before, spent), timeout=5).json()
    # When a new server starts with the same state file
    with FakeIracing(clock=clock, state_file=state) as after:
        # Then the access token it issued still works, with no OAuth round trip
        assert data(after, http, "car/get", pair["access_token"]).status_code == 200
        assert after.grants == {}
        # And refresh tokens keep their single use across the restart
        replay = http.post(after.oauth_url, data=refresh_form(after, spent), timeout=5)
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        fresh = http.post(after.oauth_url, data=refresh_form(after, pair["refresh_token"]), timeout=5)
        assert fresh.status_code == 200
        # And what it issued expires as it would have (10 minutes for an access token)
        clock.advance(600)
        assert data(after, http, "car/get", pair["access_token"]).status_code == 401
    assert state.stat().st_mode & 0o777 == 0o600


def test_restarted_server_keeps_counting_password_grants_of_the_hour(
    clock: FakeClock, http: requests.Session, tmp_path: Path
) -> None:
    state = tmp_path / "tokens.json"
    with FakeIracing(clock=clock, password_grants_per_hour=1, state_file=state) as before:
        login(before, http)
    with FakeIracing(clock=clock, password_grants_per_hour=1, state_file=state) as after:
        assert http.post(after.oauth_url, data=password_form(after), timeout=5).status_code == 429
        clock.advance(3601)
        login(after, http)


def test_server_without_a_state_file_forgets_its_tokens(clock: FakeClock, http: requests.Session) -> None:
    with FakeIracing(clock=clock) as before:
        token = str(login(before, http)["access_token"])
    with FakeIracing(clock=clock) as after:
        assert data(after, http, "car/get", token).status_code == 401


def test_refresh_needs_the_masked_client_secret(fake: FakeIracing, http: requests.Session) -> None:
    refresh = str(login(fake, http)["refresh_token"])
    form = {"grant_type": "refresh_token", "client_id": fake.client_id, "client_secret": fake.client_secret}
    resp = http.post(fake.oauth_url, data={**form, "refresh_token": refresh}, timeout=5)
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"


def test_refresh_token_expires_after_a_week(fake: FakeIracing, http: requests.Session, clock: FakeClock) -> None:
    refresh = str(login(fake, http)["refresh_token"])
    clock.advance(604800)
    form = {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": sha_mask(fake.client_secret, fake.client_id),
        "refresh_token": refresh,
    }
    resp = http.post(fake.oauth_url, data=form, timeout=5)
    assert resp.status_code == 400 and resp.json()["error"] == "invalid_grant"


def test_password_grant_is_rate_limited_per_hour(fake: FakeIracing, http: requests.Session, clock: FakeClock) -> None:
    for _ in range(fake.password_grants_per_hour):
        login(fake, http)
        clock.advance(60)
    limited = http.post(fake.oauth_url, data=password_form(fake), timeout=5)
    assert limited.status_code == 429
    assert limited.json()["error"] == "rate_limited"
    assert fake.grants["password_limited"] == 12
    clock.advance(3600 - 60 * 12 + 1)  # the first grant is now more than an hour old
    login(fake, http)
    assert fake.grants["password_limited"] == 13


# ----------------------------------------------------------------------------- /data and links


def test_link_indirection_is_fetched_without_auth_header(fake: FakeIracing, http: requests.Session) -> None:
    token = str(login(fake, http)["access_token"])
    first = data(fake, http, "series/get", token)
    assert first.status_code == 200
    wrapper = first.json()
    assert set(wrapper) == {"link", "expires"}
    assert wrapper["link"].startswith(fake.base_url + "/links/")
    assert wrapper["expires"] == "2025-09-09T12:15:00.000Z"  # clock + 900 s, millisecond Z like the real field

    series = requests.get(wrapper["link"], timeout=5).json()
    expected = json.loads((SAMPLES_DIR / "series_get.json").read_text(encoding="utf-8"))
    assert series == expected and len(series) == 137

    data_hit = fake.requests_to("/data/series/get")[-1]
    assert data_hit.had_authorization and "Authorization" not in data_hit.headers
    link_hit = fake.requests_to("/links/")[-1]
    assert link_hit.had_authorization is False and link_hit.status == 200
    # Sending the header to a link is recorded, so a client test can catch that bug.
    requests.get(wrapper["link"], headers={"Authorization": f"Bearer {token}"}, timeout=5)
    assert fake.requests_to("/links/")[-1].had_authorization is True
    assert fake.data_requests() == 1


def test_link_expires(fake: FakeIracing, http: requests.Session, clock: FakeClock) -> None:
    token = fake.issue_token()
    link = data(fake, http, "track/get", token).json()["link"]
    clock.advance(899)
    assert requests.get(link, timeout=5).status_code == 200
    clock.advance(1)
    expired = requests.get(link, timeout=5)
    assert expired.status_code == 403
    assert expired.headers["Content-Type"] == "application/xml"
    assert "<Code>AccessDenied</Code>" in expired.text and "expired" in expired.text
    assert requests.get(fake.base_url + "/links/not-a-link", timeout=5).status_code == 403


def test_expire_links(fake: FakeIracing, http: requests.Session) -> None:
    token = fake.issue_token()
    link = data(fake, http, "car/get", token).json()["link"]
    fake.expire_links()
    assert requests.get(link, timeout=5).status_code == 403
    fresh = data(fake, http, "car/get", token).json()["link"]
    assert requests.get(fresh, timeout=5).status_code == 200


def test_unauthorized_without_or_with_expired_token(
    fake: FakeIracing, http: requests.Session, clock: FakeClock
) -> None:
    unauthorized = {"error": "Unauthorized"}
    missing = data(fake, http, "car/get", None)
    assert missing.status_code == 401 and missing.json() == unauthorized
    assert "x-ratelimit-remaining" in missing.headers
    assert data(fake, http, "car/get", "made-up").status_code == 401

    token = str(login(fake, http)["access_token"])
    clock.advance(599)
    assert data(fake, http, "car/get", token).status_code == 200
    clock.advance(1)
    expired = data(fake, http, "car/get", token)
    assert expired.status_code == 401 and expired.json() == unauthorized


def test_expire_tokens_forces_a_refresh(fake: FakeIracing, http: requests.Session) -> None:
    pair = login(fake, http)
    fake.expire_tokens()
    assert data(fake, http, "car/get", str(pair["access_token"])).status_code == 401
    form = {
        "grant_type": "refresh_token",
        "client_id": fake.client_id,
        "client_secret": sha_mask(fake.client_secret, fake.client_id),
        "refresh_token": str(pair["refresh_token"]),
    }
    renewed = http.post(fake.oauth_url, data=form, timeout=5).json()
    assert data(fake, http, "car/get", renewed["access_token"]).status_code == 200


def test_rate_limit_headers_count_down_then_429_plain_text(clock: FakeClock, http: requests.Session) -> None:
    with FakeIracing(clock=clock, rate_limit=3, rate_window=60.0) as fake:
        token = fake.issue_token()
        reset = str(math.ceil(T0 + 60))
        remaining = []
        for _ in range(3):
            resp = data(fake, http, "car/get", token)
            assert resp.status_code == 200
            assert resp.headers["x-ratelimit-limit"] == "3"
            assert resp.headers["x-ratelimit-reset"] == reset
            remaining.append(resp.headers["x-ratelimit-remaining"])
            # Link fetches are S3 in reality and never count against the account.
            requests.get(resp.json()["link"], timeout=5)
            clock.advance(1)
        assert remaining == ["2", "1", "0"]

        limited = data(fake, http, "car/get", token)
        assert limited.status_code == 429
        assert limited.headers["Content-Type"].startswith("text/plain")
        assert limited.text == "Rate limit exceeded"
        assert limited.headers["x-ratelimit-remaining"] == "0"
        assert limited.headers["x-ratelimit-reset"] == reset

        clock.now = T0 + 60  # the window is over: a new one starts with this request
        again = data(fake, http, "car/get", token)
        assert again.status_code == 200
        assert again.headers["x-ratelimit-remaining"] == "2"
        assert again.headers["x-ratelimit-reset"] == str(math.ceil(T0 + 120))
        assert fake.data_requests() == 5


def test_constants_are_answered_directly(fake: FakeIracing, http: requests.Session) -> None:
    resp = data(fake, http, "constants/categories", fake.issue_token())
    assert resp.status_code == 200
    assert resp.json() == json.loads((SAMPLES_DIR / "constants_categories.json").read_text(encoding="utf-8"))
    assert "x-ratelimit-limit" in resp.headers


def test_season_schedule_real_and_synthesized(fake: FakeIracing, http: requests.Session) -> None:
    token = fake.issue_token()
    real = fetch(fake, http, "series/season_schedule", token, season_id="5935")
    # (the real body, but for its weather links: re-signed on every fetch, as iRacing does, and served by the fake)
    sample = json.loads((SAMPLES_DIR / "series_season_schedule.json").read_text(encoding="utf-8"))
    assert unsigned(real) == unsigned(sample) and real != sample
    assert unsigned(fetch(fake, http, "series/season_schedule", token, season_id="5935")) == unsigned(real)
    seasons = json.loads((SAMPLES_DIR / "series_seasons.json").read_text(encoding="utf-8"))
    synthesized = fetch(fake, http, "series/season_schedule", token, season_id=str(seasons[3]["season_id"]))
    expected = {"success": True, "season_id": seasons[3]["season_id"], "schedules": seasons[3]["schedules"]}
    assert unsigned(synthesized) == unsigned(expected)
    past = fetch(fake, http, "series/past_seasons", token, series_id="306")
    assert isinstance(past, dict) and past["series_id"] == 306


def test_unknown_endpoint_or_value_is_404(fake: FakeIracing, http: requests.Session) -> None:
    token = fake.issue_token()
    for endpoint, params in [
        ("no/such", {}),
        ("series/season_schedule", {"season_id": "1"}),
        ("series/season_schedule", {"season_id": "abc"}),
        ("series/past_seasons", {"series_id": "1"}),
        ("series/seasons", {"season_year": "2019", "season_quarter": "1"}),
        ("season/list", {"season_year": "2024", "season_quarter": "1"}),
    ]:
        resp = data(fake, http, endpoint, token, **params)
        assert resp.status_code == 404, (endpoint, params)
        assert resp.json() == {"error": "Not Found"}
    assert http.get(fake.base_url + "/elsewhere", timeout=5).status_code == 404


def test_missing_required_parameter_is_400(fake: FakeIracing, http: requests.Session) -> None:
    token = fake.issue_token()
    for endpoint in ("series/season_schedule", "series/past_seasons", "season/list"):
        resp = data(fake, http, endpoint, token)
        assert resp.status_code == 400, endpoint
        assert resp.json() == {"error": "Bad Request"}


def test_snapshot_2023s2_serves_137_seasons(clock: FakeClock, http: requests.Session) -> None:
    with FakeIracing("2023s2", clock=clock) as fake:
        token = fake.issue_token()
        seasons = fetch(fake, http, "series/seasons", token)
        assert isinstance(seasons, list) and len(seasons) == 137
        assert sum(len(s["schedules"]) for s in seasons) == 1629
        one = seasons[0]
        schedule = fetch(fake, http, "series/season_schedule", token, season_id=str(one["season_id"]))
        assert schedule == {"success": True, "season_id": one["season_id"], "schedules": one["schedules"]}
        assert len(fetch(fake, http, "track/get", token)) == 461  # type: ignore[arg-type]
        assert data(fake, http, "series/season_schedule", token, season_id="5935").status_code == 404


# ----------------------------------------------------------------------------- faults


def test_maintenance_json_and_html(fake: FakeIracing, http: requests.Session) -> None:
    token = fake.issue_token()
    fake.maintenance()
    fake.maintenance(html=True)
    as_json = data(fake, http, "series/seasons", token)
    assert as_json.status_code == 503
    assert as_json.json()["error"] == "Site Maintenance"
    as_html = data(fake, http, "series/seasons", token)
    assert as_html.status_code == 503
    assert as_html.headers["Content-Type"].startswith("text/html")
    assert "maintenance" in as_html.text.lower()
    with pytest.raises(requests.JSONDecodeError):
        as_html.json()
    assert data(fake, http, "series/seasons", token).status_code == 200  # consumed


def test_fail_next_matches_prefix_in_order_and_keeps_rate_headers(fake: FakeIracing, http: requests.Session) -> None:
    token = fake.issue_token()
    fake.fail_next("/data/car/", 500, times=2)
    fake.fail_next("/data/", 429)
    fake.fail_next("/data/track/get", 418, body="teapot", content_type="text/plain")
    assert data(fake, http, "track/get", token).status_code == 429  # the earlier, broader fault comes first
    assert data(fake, http, "track/get", token).text == "teapot"
    first = data(fake, http, "car/get", token)
    assert first.status_code == 500 and first.json() == {"error": "Internal Server Error"}
    assert "x-ratelimit-reset" in first.headers
    assert data(fake, http, "car/assets", token).status_code == 500
    assert data(fake, http, "car/get", token).status_code == 200
    assert [r.status for r in fake.requests_to("/data/")] == [429, 418, 500, 500, 200]


def test_fault_on_links(fake: FakeIracing, http: requests.Session) -> None:
    link = data(fake, http, "car/get", fake.issue_token()).json()["link"]
    fake.fail_next("/links/", 403)
    denied = requests.get(link, timeout=5)
    assert denied.status_code == 403 and "AccessDenied" in denied.text
    assert requests.get(link, timeout=5).status_code == 200


def test_fail_season(fake: FakeIracing, http: requests.Session) -> None:
    token = fake.issue_token()
    fake.fail_season(5880, 500)
    fake.fail_season(5881, 503, times=1)
    for _ in range(2):
        assert data(fake, http, "series/season_schedule", token, season_id="5880").status_code == 500
    assert data(fake, http, "series/season_schedule", token, season_id="5881").status_code == 503
    assert data(fake, http, "series/season_schedule", token, season_id="5881").status_code == 200
    assert data(fake, http, "series/season_schedule", token, season_id="5882").status_code == 200
    fake.clear_faults()
    assert data(fake, http, "series/season_schedule", token, season_id="5880").status_code == 200


def test_truncated_body_is_invalid_json(fake: FakeIracing, http: requests.Session) -> None:
    token = fake.issue_token()
    fake.truncate("/links/")
    link = data(fake, http, "carclass/get", token).json()["link"]
    cut = requests.get(link, timeout=5)
    assert cut.status_code == 200
    assert int(cut.headers["Content-Length"]) == len(cut.content) > 0
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut.content)
    assert isinstance(requests.get(link, timeout=5).json(), list)  # consumed

    fake.truncate("/data/")
    with pytest.raises(requests.JSONDecodeError):
        data(fake, http, "carclass/get", token).json()


def test_short_read_breaks_the_connection(fake: FakeIracing, http: requests.Session) -> None:
    link = data(fake, http, "car/get", fake.issue_token()).json()["link"]
    fake.truncate("/links/", short_read=True)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(link, timeout=5)


def test_slow_response_is_honored(fake: FakeIracing, http: requests.Session) -> None:
    token = fake.issue_token()
    fake.slow("/data/car/get", 0.6)
    with pytest.raises(requests.exceptions.ReadTimeout):
        http.get(f"{fake.api_url}/data/car/get", headers={"Authorization": f"Bearer {token}"}, timeout=(2, 0.2))
    fake.slow("/data/car/get", 0.3)
    started = time.monotonic()
    resp = data(fake, http, "car/get", token)
    assert resp.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_main_serves_until_terminated() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "iracing_sync_local.fake_iracing", "--port", "0", "--snapshot", "2023s2"],
        cwd=REPO_ROOT,
        env={"PYTHONPATH": f"{REPO_ROOT / 'local'}", "PATH": ""},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" on ")[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(url + "/data/car/get", timeout=5).status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=5)
