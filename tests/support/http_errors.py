"""The API's error answer, as every 4xx must look: JSON `{"error": {"code", "message"}}`, never cached."""

from __future__ import annotations

from typing import Any

import requests


def error_of(response: requests.Response, status: int) -> dict[str, Any]:
    """The ``{"code", "message"}`` of an error answer with ``status``, after checking its shape and headers."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    error: dict[str, Any] = body["error"]
    return error
