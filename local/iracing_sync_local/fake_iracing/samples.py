"""What the fake iRacing answers: the bundled real samples of a snapshot, by /data endpoint and parameters."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iracing_sync_local import SAMPLES_DIR
from iracing_sync_local.fake_iracing.transport import HttpError, json_body

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
    # When the capture was made, if known (ISO 8601): the demo's forecasts are those due then.
    captured_at: str | None = None


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
        captured_at="2025-09-09T11:54:00Z",  # the race guide's block
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


def sample_content(filename: str) -> Any:
    """The ``content`` of an aydsko envelope sample (the real response body)."""
    return json.loads((SAMPLES_DIR / filename).read_text(encoding="utf-8"))["content"]


def _not_found() -> HttpError:
    return HttpError(404, json_body({"error": "Not Found"}))


class Samples:
    """The bodies of one snapshot, read once each, with the answers a test put in their place."""

    def __init__(self, snapshot: str) -> None:
        if snapshot not in SNAPSHOTS:
            raise ValueError(f"unknown snapshot {snapshot!r}; known: {', '.join(sorted(SNAPSHOTS))}")
        self._snap = SNAPSHOTS[snapshot]
        self._lock = threading.RLock()
        self._bytes: dict[str, bytes] = {}
        self._synthesized: dict[int, bytes] = {}
        self._served: dict[str, bytes] = {}  # endpoint -> a body answering it instead of the snapshot's (serve)
        self._seasons: dict[int, Any] | None = None
        self._past: tuple[dict[int, list[Any]], dict[int, Any]] | None = None

    def serve(self, endpoint: str, body: Any) -> None:
        """Answer a parameterless ``endpoint`` with ``body``: a bundled sample's file name, or a JSON value."""
        data = self._file(body) if isinstance(body, str) and body.endswith(".json") else json_body(body)
        with self._lock:
            self._served[endpoint.strip("/")] = data

    def replace_seasons(self, body: list[dict[str, Any]]) -> None:
        """Make ``body`` the snapshot's series/seasons, and the season_schedule answers synthesized from it."""
        with self._lock:
            self._bytes[self._snap.seasons_file] = json_body(body)
            self._seasons = None
            self._synthesized.clear()

    def resolve(self, endpoint: str, query: dict[str, str], season_fault: Callable[[int], None]) -> tuple[bytes, bool]:
        """(body, answered directly) for one /data endpoint, or HttpError 400/404.

        ``season_fault`` raises the HttpError scripted for a season's schedule, if any, before it is answered.
        """
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
                raise _not_found()
            return self._file(snap.seasons_file), False
        if endpoint == "series/season_schedule":
            (season_id,) = _ints(_require(query, "season_id"), "season_id")
            season_fault(season_id)
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
        raise _not_found()

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
                raise _not_found()
            # Only one real season_schedule body is bundled (season 5935). For every other active season
            # we build one in the real shape from that season's own `schedules` in series/seasons, which
            # is the same list the real endpoint returns, so sync paths can run against every season.
            body = json_body({"success": True, "season_id": season_id, "schedules": season.get("schedules", [])})
            self._synthesized[season_id] = body
            return body

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
            raise _not_found()
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
        return json_body({"success": True, "series": series, "series_id": series_id})

    def _lookup(self, files: Mapping[Any, str], key: Any) -> bytes:
        if key not in files:
            raise _not_found()
        return self._file(files[key])


def _require(query: dict[str, str], *names: str) -> dict[str, str]:
    """The real API answers a missing required parameter with 400 {"error": "Bad Request"}."""
    if any(not query.get(n) for n in names):
        raise HttpError(400, json_body(sample_content("error_400_bad_request.json")))
    return query


def _ints(query: dict[str, str], *names: str) -> tuple[int, ...]:
    """Parameter values as ints; a value that is no number cannot match any sample, hence 404."""
    try:
        return tuple(int(query[n]) for n in names)
    except (KeyError, ValueError):
        raise _not_found() from None
