"""The iRacing client's pure parts: masking, credentials, and what each answer of iRacing becomes.

Answers are real ``requests.Response`` objects built in-process with the bodies of the bundled real samples,
so the mapping is checked without a socket (the integration tier checks the same over HTTP).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from iracing_sync.client import Credentials, TokenSeal, decode, describe, mask, parse_credentials
from iracing_sync.errors import AuthError, MalformedPayload, PermanentError, RateLimited, RetryableError
from iracing_sync.store.iracing_state import TokenState
from tests.conftest import load_sample

WHAT = describe("series/season_schedule", {"season_id": 5935})


def answer(status: int, body: bytes | str | Any, content_type: str = "application/json", **headers: str) -> Any:
    """A response as requests would hand it over, from a status, a body and headers."""
    response = requests.Response()
    response.status_code = status
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    response._content = body.encode() if isinstance(body, str) else body
    response.encoding = "utf-8"
    response.headers.update({"Content-Type": content_type, **{k.replace("_", "-"): v for k, v in headers.items()}})
    return response


def test_mask_matches_iracings_documented_example() -> None:
    # iRacing's auth documentation: password MyPassWord for CLunky@iRacing.Com (identifier trimmed, lower-cased)
    assert mask("MyPassWord", " CLunky@iRacing.Com ") == "xGKecAR27ALXNuMLsGaG0v5Q9pSs2tZTZRKNgmHMg+Q="


def test_mask_of_the_client_secret_uses_the_client_id() -> None:
    assert mask("s3cret", "My-Client") == mask("s3cret", "my-client") != mask("s3cret", "other-client")


def test_describe_names_endpoint_and_sorted_parameters() -> None:
    assert describe("season/list", {"season_year": 2025, "season_quarter": 4}) == (
        "season/list season_quarter=4 season_year=2025"
    )
    assert describe("series/get", {}) == "series/get"


def test_credentials_repr_hides_password_and_client_secret() -> None:
    credentials = Credentials("driver@example.com", "hunter2-password", "client", "client-s3cret")
    text = repr(credentials)
    assert "driver@example.com" in text
    assert "hunter2-password" not in text and "client-s3cret" not in text


def test_token_state_repr_hides_tokens() -> None:
    state = TokenState(access_token="acc-TOKEN-value", expires_at=1.0, refresh_token="ref-TOKEN-value")
    assert "TOKEN-value" not in repr(state)


def test_parse_credentials_needs_every_key_and_names_none_of_the_values() -> None:
    good = {"username": "u@example.com", "password": "pw-value", "client_id": "cid", "client_secret": "cs-value"}
    assert parse_credentials(good).client_id == "cid"
    for key in good:
        with pytest.raises(MalformedPayload) as failure:
            parse_credentials({**good, key: ""})
        assert "pw-value" not in str(failure.value) and "cs-value" not in str(failure.value)
    with pytest.raises(MalformedPayload):
        parse_credentials(["not", "a", "dict"])


def test_decode_returns_the_json_body_of_a_200() -> None:
    wrapper = load_sample("link_wrapper_car_assets.json")
    assert decode(answer(200, wrapper), WHAT) == wrapper


@pytest.mark.parametrize(
    ("status", "body", "content_type"),
    [
        (503, load_sample("error_503_site_maintenance.json")["content"], "application/json"),
        (503, b"<html><head><title>iRacing.com - Site Maintenance</title></head></html>", "text/html"),
        (500, {"error": "Internal Server Error"}, "application/json"),
        (502, b"<html>Bad Gateway</html>", "text/html"),
        (504, b"", "text/plain"),
    ],
)
def test_decode_server_errors_are_retryable(status: int, body: Any, content_type: str) -> None:
    with pytest.raises(RetryableError) as failure:
        decode(answer(status, body, content_type), WHAT)
    # Exactly RetryableError: Step Functions matches the class name, a subclass would not be retried
    assert type(failure.value) is RetryableError
    assert str(status) in str(failure.value) and WHAT in str(failure.value)
    if status == 503:
        assert "Maintenance" in str(failure.value)


@pytest.mark.parametrize("body", [b'{"link": "https://exam', b"", b"<html>not json</html>", b"\xff\xfe\x00"])
def test_decode_a_200_that_is_not_json_is_retryable(body: bytes) -> None:
    with pytest.raises(RetryableError) as failure:
        decode(answer(200, body), WHAT)
    assert type(failure.value) is RetryableError and "not JSON" in str(failure.value)


def test_decode_429_is_rate_limited_until_the_header_reset() -> None:
    headers = load_sample("error_401_unauthorized.json")["headers"]  # real x-ratelimit-* header values
    with pytest.raises(RateLimited) as failure:
        decode(answer(429, b"Rate limit exceeded", "text/plain", **{**headers, "x-ratelimit-remaining": "0"}), WHAT)
    assert failure.value.reset_at == float(headers["x-ratelimit-reset"])
    assert "2022-07-11T" in str(failure.value)  # the reset, readable


def test_decode_429_without_headers_has_no_reset() -> None:
    with pytest.raises(RateLimited) as failure:
        decode(answer(429, b"Rate limit exceeded", "text/plain"), WHAT)
    assert failure.value.reset_at is None


def test_decode_401_is_an_auth_error() -> None:
    with pytest.raises(AuthError):
        decode(answer(401, load_sample("error_401_unauthorized.json")["content"]), WHAT)


@pytest.mark.parametrize(
    ("status", "body"),
    [(400, load_sample("error_400_bad_request.json")["content"]), (404, {"error": "Not Found"}), (403, b"")],
)
def test_decode_client_errors_are_permanent_and_name_endpoint_and_parameters(status: int, body: Any) -> None:
    with pytest.raises(PermanentError) as failure:
        decode(answer(status, body), WHAT)
    assert type(failure.value) is PermanentError
    message = str(failure.value)
    assert "series/season_schedule" in message and "season_id=5935" in message and str(status) in message


def test_token_seal_round_trips_and_hides_the_token() -> None:
    seal = TokenSeal(Credentials("driver@example.com", "pw", "client", "client-secret"))
    token = "eyJhbGciOiJSUzI1NiJ9.access-token-value"
    sealed = seal.seal(token)
    assert token not in sealed and "access-token" not in sealed
    assert seal.seal(token) != sealed  # a fresh nonce every time
    assert seal.open(sealed) == token


def test_token_seal_does_not_open_with_another_key_or_after_tampering() -> None:
    seal = TokenSeal(Credentials("driver@example.com", "pw", "client", "client-secret"))
    sealed = seal.seal("access-token-value")
    other = TokenSeal(Credentials("driver@example.com", "pw", "client", "rotated-secret"))
    assert other.open(sealed) is None
    flipped = sealed[:-5] + ("A" if sealed[-5] != "A" else "B") + sealed[-4:]
    assert seal.open(flipped) is None
    assert seal.open("v2.not-base64!") is None and seal.open("v2.c2hvcnQ=") is None
    assert seal.open("plain-token") is None and seal.open(None) is None
    # Given a value of the old stdlib seal (v1): it reads as no token, so the client logs in afresh
    assert seal.open("v1." + sealed.removeprefix("v2.")) is None
