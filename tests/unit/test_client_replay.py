"""Archive keys and replay: every fetched body is found again by endpoint, parameters and fetch time, and a
replaying client answers from the archive with no socket at all (this tier has none)."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iracing_sync.archive import Archive, archive_key, archive_prefix
from iracing_sync.client import ReplayClient
from iracing_sync.errors import PermanentError
from iracing_sync.settings import Settings
from tests.conftest import load_sample

FETCHED = datetime(2025, 9, 9, 12, 0, 0, 123456, tzinfo=UTC)


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    return Archive(Settings(archive_dir=tmp_path))


def test_archive_key_is_endpoint_parameters_and_fetch_time() -> None:
    key = archive_key("series/season_schedule", {"season_id": 5935}, FETCHED)
    assert key == "raw/series/season_schedule/season_id=5935/20250909T120000123456Z.json.gz"


def test_archive_key_does_not_depend_on_parameter_order_or_time_zone() -> None:
    from zoneinfo import ZoneInfo

    local = FETCHED.astimezone(ZoneInfo("Europe/Berlin"))
    a = archive_key("season/list", {"season_year": 2025, "season_quarter": 4}, FETCHED)
    b = archive_key("season/list", {"season_quarter": 4, "season_year": 2025}, local)
    assert a == b == "raw/season/list/season_quarter=4&season_year=2025/20250909T120000123456Z.json.gz"


def test_archive_key_without_parameters() -> None:
    assert archive_prefix("series/seasons", {}) == "raw/series/seasons/_/"


def test_archive_stores_gzip_json_under_its_key(archive: Archive, tmp_path: Path) -> None:
    body = load_sample("series_season_schedule.json")
    key = archive.put("series/season_schedule", {"season_id": 5935}, body, FETCHED)
    stored = (tmp_path / key).read_bytes()
    assert json.loads(gzip.decompress(stored)) == body
    assert archive.get(key) == body


def test_replay_answers_with_the_newest_body_of_the_same_endpoint_and_parameters(archive: Archive) -> None:
    # Given two fetches of one season's schedule and one of another season
    old, new = {"version": "old"}, {"version": "new"}
    archive.put("series/season_schedule", {"season_id": 5935}, new, FETCHED.replace(hour=13))
    archive.put("series/season_schedule", {"season_id": 5935}, old, FETCHED)
    archive.put("series/season_schedule", {"season_id": 1}, {"version": "other"}, FETCHED.replace(hour=14))
    client = ReplayClient(archive)
    # When the replaying client is asked for the first season
    body = client.get("series/season_schedule", season_id=5935)
    # Then it answers with the newest body of exactly that call, and sent nothing
    assert body == new
    assert client.api_requests == 0


def test_replay_of_a_call_never_archived_is_a_permanent_error(archive: Archive) -> None:
    archive.put("series/seasons", {}, [], FETCHED)
    client = ReplayClient(archive)
    with pytest.raises(PermanentError, match="series/season_schedule season_id=7"):
        client.get("series/season_schedule", season_id=7)
    with pytest.raises(PermanentError, match="series/get"):
        client.get("series/get")


def test_new_client_replays_when_iracing_replay_is_set(
    settings_env: pytest.MonkeyPatch, archive: Archive, tmp_path: Path
) -> None:
    from iracing_sync.sources import new_client

    # Given an archive with a series/seasons body and no iRacing credentials at all
    body = load_sample("series_seasons.json")
    archive.put("series/seasons", {}, body, FETCHED)
    settings_env.setenv("IRACING_REPLAY", str(tmp_path))
    for var in ("IRACING_USERNAME", "IRACING_PASSWORD", "IRACING_CLIENT_ID", "IRACING_CLIENT_SECRET"):
        settings_env.delenv(var, raising=False)
    # When a sync task asks for a client
    client = new_client()
    # Then it is a replaying one
    assert isinstance(client, ReplayClient)
    assert client.get("series/seasons") == body


def test_cli_sync_replay_of_a_folder_that_is_no_archive_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from iracing_sync_local.cli import main

    # Given a folder without raw/ inside: checked before any engine starts (this tier has no sockets)
    code = main(["sync", "current", "--replay", str(tmp_path)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no raw/" in err


def test_a_season_task_parses_an_archived_body_once_per_process(tmp_path: Path) -> None:
    from iracing_sync import sources

    # Given a series/seasons body archived once, and read by one season task
    archive = Archive(Settings(archive_dir=tmp_path / "a"))
    key = archive.put("series/seasons", {}, [{"season_id": 1}, {"season_id": 2}], FETCHED)
    first = sources.archived(archive.location, key)
    # When the file is gone and the next season task of the run reads the same key
    (tmp_path / "a" / key).unlink()
    # Then it gets the body parsed the first time (a warm Lambda neither fetches nor parses it again)
    assert sources.archived(archive.location, key) is first
    # And the same key in another archive is that archive's body, not the one kept
    other = Archive(Settings(archive_dir=tmp_path / "b"))
    other.put("series/seasons", {}, [{"season_id": 3}], FETCHED)
    assert sources.archived(other.location, key) == [{"season_id": 3}]
