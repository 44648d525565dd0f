"""Schedule bodies compared as iRacing's: every weather_url as its object, whatever its signature and host.

iRacing re-signs a week's weather_url on every fetch of a schedule, and the fake iRacing does too, pointing each link
at its own copy of the object (local/iracing_sync_local/fake_iracing/weather.py); two fetches of one schedule, or a
fetch and the bundled sample, are the same body but for those links' query strings and the fake's host.
"""

from __future__ import annotations

import json
import re
from typing import Any

_LINK = re.compile(r'"weather_url": "(?:http://127\.0\.0\.1:\d+/weather-s3/|https://)([^"?]+)(?:\?[^"]*)?"')


def unsigned(body: Any) -> Any:
    """``body`` with every weather_url replaced by its object's https URL (no query string)."""
    return json.loads(_LINK.sub(r'"weather_url": "https://\1"', json.dumps(body)))
