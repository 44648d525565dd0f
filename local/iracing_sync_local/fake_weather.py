"""The fake iRacing's weather links: re-signed on every fetch of a schedule, as iRacing does, and served like S3.

iRacing's schedules link each week's hourly forecast by a presigned S3 URL (``weather_url``) whose query string
(date, signature) is new on every fetch of the schedule, while the object stays. The fake points every link at
itself (``/weather-s3/<S3 host>/<object path>``), signs it afresh on each fetch, and answers any such object
with the one real forecast body bundled (weather_forecast_2024-04-13_envelope.json), without auth, as S3 does.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from urllib.parse import urlsplit

from iracing_sync_local import SAMPLES_DIR

PATH = "/weather-s3/"
FORECAST_SAMPLE = "weather_forecast_2024-04-13_envelope.json"
_LINK = re.compile(rb'("weather_url"\s*:\s*")(https?://[^"?]+)(\?[^"]*)?"')


def forecast_body() -> bytes:
    """The bundled real forecast (the envelope's ``content``)."""
    envelope = json.loads((SAMPLES_DIR / FORECAST_SAMPLE).read_text(encoding="utf-8"))
    return json.dumps(envelope["content"]).encode()


def resign(body: bytes, base_url: str, now: float | None = None) -> bytes:
    """``body`` with every weather_url pointing at this server's copy of its object, freshly signed."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if now is None else now))

    def signed(match: re.Match[bytes]) -> bytes:
        url, ours = match.group(2).decode(), base_url + PATH
        parts = urlsplit(url)
        where = url[len(ours) :] if url.startswith(ours) else parts.netloc + parts.path  # (a body served back)
        query = f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={stamp}&X-Amz-Expires=604800"
        query += f"&X-Amz-Signature={secrets.token_hex(32)}"
        return match.group(1) + f"{base_url}{PATH}{where}?{query}".encode() + b'"'

    return _LINK.sub(signed, body)
