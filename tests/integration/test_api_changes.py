"""GET /changes and /changes.atom over real HTTP after real syncs: what each sync changed, filtered, as JSON and Atom.

The 2025-09-09 snapshot is synced into an empty table by the real state machines (a first sync: one season_added
per season), then re-synced from a copy of series/seasons in which season 5376 changed a week's track and lost
its last week, and season 5378 lost a fixed session time (exactly those three changes). The API function is
served on 127.0.0.1. The Atom feed is read with xml.etree (no feed library of ours), against the JSON answer.
"""

from __future__ import annotations

import copy
import json
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import requests

from iracing_sync_local.fake_iracing import FakeIracing
from tests.conftest import load_sample
from tests.support.http_errors import error_of

pytestmark = pytest.mark.integration

BODY = load_sample("series_seasons.json")
SERIES_OF = {s["season_id"]: s["series_id"] for s in BODY}
FIELDS = {"at", "kind", "season_id", "series_id", "race_week_num", "before", "after"}
KINDS = {
    "season_added",
    "week_added",
    "week_removed",
    "track_changed",
    "times_changed",
    "cars_changed",
    "slot_added",
    "slot_removed",
}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
NS = {"a": "http://www.w3.org/2005/Atom"}
SOMEWHERE_ELSE = {"track_id": 1, "track_name": "Somewhere Else"}  # (config_name null: left out of the answer)


@dataclass(frozen=True)
class History:
    """What the module's two syncs did, and the changes answer right after the first (before the second ran)."""

    start: str  # an instant before the first sync
    first: dict[str, Any]  # GET /changes?since=start after the first sync
    between: str  # an instant after every change of the first sync, before any of the re-sync
    old_track: dict[str, Any]  # season 5376 week 3's track before
    dropped_week: int  # season 5376's week the re-sync removed
    dropped_time: str  # the fixed session of season 5378 week 0 the re-sync removed (ISO 8601 Z)


def iso(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def get(api: str, path: str, **params: Any) -> requests.Response:
    return requests.get(api + path, params=params, timeout=60)


def changes(api: str, **params: Any) -> list[dict[str, Any]]:
    response = get(api, "/changes", **params)
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["changes"]
    return listed


def key(change: dict[str, Any]) -> tuple[int, str, int | None]:
    return (change["season_id"], change["kind"], change["race_week_num"])


@pytest.fixture(scope="module")
def history(module_step_functions: Any, module_fake_iracing: FakeIracing, api: str) -> History:
    """Given a first sync of the snapshot into an empty table, then a re-sync of a changed series/seasons body."""
    start = iso(datetime.now(UTC) - timedelta(seconds=1))
    for machine in ("sync_series", "sync_reference_data", "sync_current_seasons"):
        summary = module_step_functions.run(machine, {}, progress=False)
        assert summary["status"] == "SUCCEEDED" and summary["failed"] == [], (machine, summary)
    first = get(api, "/changes", since=start).json()
    # Answers are to the second and `since` is inclusive: the re-sync must fetch in a later second than the first
    # sync's last change (the seasons' Map took seconds since its fetch, so this seldom waits at all)
    between = instant(max(c["at"] for c in first["changes"])) + timedelta(seconds=1)
    time.sleep(max(0.0, (between - datetime.now(UTC)).total_seconds()))
    changed = copy.deepcopy(BODY)
    season = next(s for s in changed if s["season_id"] == 5376)
    old_track = season["schedules"][3]["track"]
    season["schedules"][3]["track"] = {**SOMEWHERE_ELSE, "config_name": None}
    dropped_week = season["schedules"].pop()["race_week_num"]
    fixed = next(s for s in changed if s["season_id"] == 5378)["schedules"][0]["race_time_descriptors"][0]
    dropped_time = fixed["session_times"].pop().replace(".000", "")
    module_fake_iracing.serve("series/seasons", changed)
    summary = module_step_functions.run("sync_current_seasons", {}, progress=False)
    assert summary["status"] == "SUCCEEDED" and summary["seasons_synced"] == 2, summary
    return History(start, first, iso(between), old_track, dropped_week, dropped_time)


def resync_keys(h: History) -> set[tuple[int, str, int | None]]:
    return {(5376, "track_changed", 3), (5376, "week_removed", h.dropped_week), (5378, "slot_removed", 0)}


# --- JSON -----------------------------------------------------------------------------------------------------


def test_changes_after_a_first_sync_are_one_season_added_per_stored_season(history: History, api: str) -> None:
    # Then the answer right after the first sync lists each stored season once, as season_added, and nothing else
    listed = history.first["changes"]
    assert [c["kind"] for c in listed] == ["season_added"] * len(BODY) == ["season_added"] * 35
    assert sorted(c["season_id"] for c in listed) == sorted(SERIES_OF)
    # And each change has every field of the contract, its season's series, no week, and the new season's facts
    for change in listed:
        assert set(change) == FIELDS, change
        assert change["series_id"] == SERIES_OF[change["season_id"]]
        assert change["race_week_num"] is None and change["before"] is None
        season = next(s for s in BODY if s["season_id"] == change["season_id"])
        assert change["after"] == {
            "season_name": season["season_name"],
            "weeks": len(season["schedules"]),
            "start_date": season["start_date"][:10],  # (a date, as ChangePart states)
        }
    # And the stored seasons are exactly those (each series' seasons, as the API lists them)
    stored = {
        s["season_id"] for sid in set(SERIES_OF.values()) for s in get(api, f"/series/{sid}/seasons").json()["seasons"]
    }
    assert stored == set(SERIES_OF)


def test_changes_at_is_iso_utc_oldest_first_and_the_answer_echoes_since(history: History, api: str) -> None:
    # When every change since before the first sync is asked for
    body = get(api, "/changes", since=history.start).json()
    # Then it echoes where it starts, and lists the changes oldest first, each `at` to the second in UTC
    assert set(body) == {"since", "changes"} and body["since"] == history.start
    ats = [c["at"] for c in body["changes"]]
    assert all(ISO_Z.match(at) for at in ats) and ats == sorted(ats)
    assert history.start <= ats[0] < history.between <= ats[-1]
    assert {c["kind"] for c in body["changes"]} <= KINDS


def test_a_resync_with_a_changed_track_a_removed_week_and_session_is_exactly_those_changes(
    history: History, api: str
) -> None:
    # When the changes since before the first sync are asked for, after the re-sync
    listed = changes(api, since=history.start)
    # Then they are the first sync's season_added, then exactly the re-sync's three changes
    assert listed[: len(history.first["changes"])] == history.first["changes"]
    later = {key(c): c for c in listed[len(history.first["changes"]) :]}
    assert set(later) == resync_keys(history) and len(later) == 3
    # And each carries what it changed: before and after
    track = later[(5376, "track_changed", 3)]
    old = history.old_track
    assert track["before"] == {k: old[k] for k in ("track_id", "track_name", "config_name") if old[k] is not None}
    assert track["after"] == SOMEWHERE_ELSE and track["series_id"] == 47
    week = later[(5376, "week_removed", history.dropped_week)]
    assert week["after"] is None and week["before"]["track_id"] and week["before"]["start_date"]
    session = later[(5378, "slot_removed", 0)]
    assert session["series_id"] == 229 and session["after"] is None
    assert session["before"]["start_time"] == history.dropped_time


def test_changes_since_after_the_first_sync_are_only_the_resyncs(history: History, api: str) -> None:
    listed = changes(api, since=history.between)
    assert {key(c) for c in listed} == resync_keys(history) and len(listed) == 3
    assert all(c["at"] >= history.between for c in listed)


def test_changes_since_later_than_any_change_is_an_empty_200(history: History, api: str) -> None:
    assert changes(api, since="2199-01-01T00:00:00Z") == []


def test_changes_since_older_than_30_days_starts_30_days_back(history: History, api: str) -> None:
    # Given changes are kept 30 days: asking for more is not an error, the answer starts where they are kept
    body = get(api, "/changes", since="2025-09-09").json()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert body["since"] in {iso(hour - timedelta(days=30)), iso(hour - timedelta(days=30, hours=1))}
    assert body["changes"] == changes(api, since=history.start)


def test_changes_without_since_are_those_of_the_last_24_hours(history: History, api: str) -> None:
    body = get(api, "/changes").json()
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # (the hour read here may have turned since the API read it)
    assert body["since"] in {iso(hour - timedelta(hours=24)), iso(hour - timedelta(hours=25))}
    assert body["changes"] == changes(api, since=history.start)


def test_changes_openapi_document_states_the_contracts_kinds_and_the_feeds_media_type(api: str) -> None:
    document = get(api, "/openapi.json").json()
    assert set(document["components"]["schemas"]["ChangeOut"]["properties"]["kind"]["enum"]) == KINDS
    assert list(document["paths"]["/changes.atom"]["get"]["responses"]["200"]["content"]) == ["application/atom+xml"]


# --- series filter ----------------------------------------------------------------------------------------------


def test_changes_of_one_series_are_its_seasons_only(history: History, api: str) -> None:
    listed = changes(api, since=history.start, series_id=47)
    assert [key(c) for c in listed] == [
        (5376, "season_added", None),
        *sorted(k for k in resync_keys(history) if k[0] == 5376),
    ]
    assert {c["series_id"] for c in listed} == {47}


@pytest.mark.parametrize("series", [[47, 229], "47,229"], ids=["key repeated", "comma-joined"])
def test_changes_of_several_series_are_any_of_them(history: History, api: str, series: Any) -> None:
    listed = changes(api, since=history.between, series_id=series)
    assert {key(c) for c in listed} == resync_keys(history)
    everything = changes(api, since=history.start)
    assert changes(api, since=history.start, series_id=series) == [c for c in everything if c["series_id"] in {47, 229}]


def test_changes_of_a_known_series_without_any_is_an_empty_200(history: History, api: str) -> None:
    # Series 62 is stored, but the re-sync changed nothing of it
    assert changes(api, since=history.between, series_id=62) == []
    assert changes(api, since=history.between, series_id=[62, 47]) != []


NOT_INSTANTS = ["yesterday", "last week", "2025-02-30", "1700000000", "0001-01-01", ""]
BAD_IDS = ["abc", "0", "47,abc", "9" * 20, ",".join(map(str, range(1, 52)))]  # (the last: more than 50 of them)
BAD = {
    # an unknown series, alone or among known ones (a typo must not narrow the answer unseen)
    "/changes?series_id=999999": (404, "not_found", "series 999999 not found"),
    "/changes?series_id=47&series_id=999999": (404, "not_found", "series 999999 not found"),
    "/changes.atom?series_id=62,999999": (404, "not_found", "series 999999 not found"),
    # since no ISO 8601 instant (older than the 30 days kept is none of these: the answer starts 30 days back)
    **{f"/changes?since={quote(v)}": (400, "invalid_input", f"since: {v!r} is not an ISO 8601") for v in NOT_INSTANTS},
    "/changes.atom?since=yesterday": (400, "invalid_input", "since: 'yesterday' is not an ISO 8601 date or date-time"),
    # bad series IDs, too many of them, a parameter the route does not take
    **{f"/changes?series_id={v}": (400, "invalid_input", "series_id: ") for v in BAD_IDS},
    "/changes?" + "&".join(f"series_id={i}" for i in range(1, 52)): (400, "invalid_input", "series_id: "),
    "/changes?season_id=5376": (400, "invalid_input", "unknown query parameter 'season_id'"),
    "/changes.atom?from=2025-09-09": (400, "invalid_input", "unknown query parameter 'from'"),
}


@pytest.mark.parametrize("path", BAD)
def test_changes_bad_input_is_a_clear_4xx_with_the_error_shape(history: History, api: str, path: str) -> None:
    status, code, message = BAD[path]
    error = error_of(requests.get(api + path, timeout=60), status)
    assert error["code"] == code and error["message"].startswith(message), error


# --- Atom -----------------------------------------------------------------------------------------------------


def feed(api: str, **params: Any) -> ET.Element:
    response = get(api, "/changes.atom", **params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].split(";")[0] == "application/atom+xml"
    return ET.fromstring(response.content)


def text(element: ET.Element, path: str) -> str:
    found = element.find(path, NS)
    assert found is not None and found.text is not None, path
    return found.text


def entry_facts(entry: ET.Element) -> dict[str, Any]:
    """An entry as the JSON answer's change: its time, kind (category) and before/after (the content's JSON)."""
    category = entry.find("a:category", NS)
    assert category is not None
    title, data = text(entry, "a:content").split("\n", 1)
    assert title == text(entry, "a:title")
    parts = json.loads(data)
    # (the JSON answer leaves out a key whose value is null)
    before, after = ({k: v for k, v in (parts[p] or {}).items() if v is not None} or None for p in ("before", "after"))
    return {"at": text(entry, "a:updated"), "kind": category.get("term"), "before": before, "after": after}


def test_changes_feed_is_an_atom_feed_of_the_json_answers_changes(history: History, api: str) -> None:
    # When the feed of every change since before the first sync is read
    root = feed(api, since=history.start)
    listed = changes(api, since=history.start)
    # Then it is an Atom feed with its required elements: id, title, updated (its newest change), a self link
    assert root.tag == "{http://www.w3.org/2005/Atom}feed"
    assert text(root, "a:id") == "tag:iracing-sync,2025:changes"
    assert text(root, "a:title") == "iRacing schedule changes"
    assert text(root, "a:updated") == listed[-1]["at"]
    assert text(root, "a:author/a:name")
    links = root.findall("a:link", NS)
    assert [(x.get("rel"), x.get("type")) for x in links] == [("self", "application/atom+xml")]
    assert links[0].get("href") == f"/changes.atom?since={history.start.replace(':', '%3A')}"
    # And its entries are the JSON answer's changes, in the same order (oldest first)
    entries = root.findall("a:entry", NS)
    assert len(entries) == len(listed) == 38
    for entry, change in zip(entries, listed, strict=True):
        assert entry_facts(entry) == {k: change[k] for k in ("at", "kind", "before", "after")}, change
        assert f"season {change['season_id']} (series {change['series_id']})" in text(entry, "a:title")
    track = entries[[key(c) for c in listed].index((5376, "track_changed", 3))]
    assert text(track, "a:title").startswith("Track changed: season 5376 (series 47), week 4: ")
    assert text(track, "a:title").endswith(" → Somewhere Else")


def test_changes_feed_entry_ids_are_stable_and_distinct(history: History, api: str) -> None:
    # When the feed is read twice, and over a later window and one series
    ids = [text(e, "a:id") for e in feed(api, since=history.start).findall("a:entry", NS)]
    again = [text(e, "a:id") for e in feed(api, since=history.start).findall("a:entry", NS)]
    later = [text(e, "a:id") for e in feed(api, since=history.between, series_id=47).findall("a:entry", NS)]
    # Then each change keeps its ID in every feed that shows it, and no two changes share one
    assert ids == again and len(set(ids)) == len(ids) == 38
    assert all(i.startswith("tag:iracing-sync,2025:change:") for i in ids)
    assert len(later) == 2 and set(later) <= set(ids[35:])


def test_changes_feed_of_series_names_them_in_its_id_and_title(history: History, api: str) -> None:
    # When the feed of two series is asked for (in any order, repeated or comma-joined)
    root = feed(api, since=history.start, series_id=[229, 47])
    # Then its ID and title name them, and it holds their changes only
    assert text(root, "a:id") == "tag:iracing-sync,2025:changes?series_id=47,229"
    assert text(root, "a:title") == "iRacing schedule changes — series 47, 229"
    joined = feed(api, since=history.start, series_id="47,229")
    assert (text(joined, "a:id"), text(joined, "a:title")) == (text(root, "a:id"), text(root, "a:title"))
    entries = root.findall("a:entry", NS)
    listed = changes(api, since=history.start, series_id=[47, 229])
    assert [entry_facts(e)["kind"] for e in entries] == [c["kind"] for c in listed] and len(listed) == 5


def test_changes_feed_without_changes_is_updated_at_its_window_start(history: History, api: str) -> None:
    root = feed(api, since="2199-01-01")
    assert root.findall("a:entry", NS) == [] and text(root, "a:updated") == "2199-01-01T00:00:00Z"
