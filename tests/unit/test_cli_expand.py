"""The `iracing-sync` CLI: `slots expand` per the contract, usage errors, and dispatch to the stack."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from pydantic import BaseModel

from iracing_sync.errors import PermanentError
from iracing_sync_local import SAMPLES_DIR, stack
from iracing_sync_local.cli import main
from iracing_sync_local.stepfunctions import ExecutionFailed

SCHEDULE = SAMPLES_DIR / "series_seasons.json"
GUIDE = json.loads((SAMPLES_DIR / "season_race_guide_2025-09-09.json").read_text(encoding="utf-8"))
FROM, TO = GUIDE["block_begin_time"], GUIDE["block_end_time"]
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
REQUIRED = {"season_id", "series_id", "race_week_num", "start_time", "end_time", "super_session"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def expand_json(capsys: pytest.CaptureFixture[str], *extra: str, schedule: Path = SCHEDULE) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "slots", "expand", "--schedule", str(schedule), *extra)
    assert (code, err) == (0, "")
    result = json.loads(out)
    assert isinstance(result, list)
    return result


def assert_usage_error(code: int, out: str, err: str, *fragments: str) -> None:
    """Exit 2, nothing on stdout, exactly one line on stderr containing every fragment."""
    assert code == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert err.startswith("iracing-sync")
    assert ": error: " in err
    for fragment in fragments:
        assert fragment in err, (fragment, err)


# --- slots expand: output ----------------------------------------------------------------------


def test_slots_expand_default_json_elements_have_contract_fields_in_utc_z_form(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given the real series/seasons capture and that day's race guide block
    # When expanded with the default format
    slots = expand_json(capsys, "--from", FROM, "--to", TO)
    # Then it is one JSON array whose elements carry the contract fields with Z-form UTC times
    assert len(slots) == len(GUIDE["sessions"])
    for s in slots:
        assert s.keys() >= REQUIRED
        assert ISO_Z.match(s["start_time"]) and ISO_Z.match(s["end_time"])
        assert isinstance(s["super_session"], bool)
        assert FROM <= s["start_time"] < TO  # same fixed-width form, so string order is time order


def test_slots_expand_json_sorted_by_start_season_week(capsys: pytest.CaptureFixture[str]) -> None:
    slots = expand_json(capsys, "--from", "2025-09-09", "--to", "2025-09-10")
    keys = [(s["start_time"], s["season_id"], s["race_week_num"]) for s in slots]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)
    assert len({s["season_id"] for s in slots}) > 1  # the order is exercised across seasons


def test_slots_expand_json_is_a_single_stdout_document(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "slots", "expand", "--schedule", str(SCHEDULE), "--from", FROM, "--to", TO)
    assert code == 0
    assert out.count("\n") == 1 and out.startswith("[")


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2025-09-09T13:54:00+02:00", "2025-09-09T16:54:00+02:00"),  # offsets
        ("2025-09-09T11:54:00", "2025-09-09T14:54:00"),  # naive = UTC
        ("2025-09-09T07:54:00-04:00", "2025-09-09T14:54:00Z"),  # mixed
    ],
)
def test_slots_expand_from_to_with_offset_or_naive_means_the_same_utc_instants(
    capsys: pytest.CaptureFixture[str], start: str, end: str
) -> None:
    # Given the guide block written with offsets / without zone, Then the result equals the Z-form window's
    assert expand_json(capsys, "--from", start, "--to", end) == expand_json(capsys, "--from", FROM, "--to", TO)


def test_slots_expand_bare_dates_mean_midnight_utc(capsys: pytest.CaptureFixture[str]) -> None:
    by_date = expand_json(capsys, "--from", "2025-09-09", "--to", "2025-09-10")
    by_time = expand_json(capsys, "--from", "2025-09-09T00:00:00Z", "--to", "2025-09-10T00:00:00Z")
    assert by_date == by_time and by_date
    assert by_date[0]["start_time"].startswith("2025-09-09T")
    assert by_date[-1]["start_time"].startswith("2025-09-09T")


def test_slots_expand_season_schedule_object_expands_its_weeks(capsys: pytest.CaptureFixture[str]) -> None:
    # Given a series/season_schedule body, When expanded over its first week's start day
    body = json.loads((SAMPLES_DIR / "series_season_schedule.json").read_text(encoding="utf-8"))
    desc = body["schedules"][0]["race_time_descriptors"][0]
    day = desc["start_date"]
    slots = expand_json(
        capsys, "--from", day, "--to", f"{day}T23:59:59Z", schedule=SAMPLES_DIR / "series_season_schedule.json"
    )
    # Then every slot is of that season and week 0, spaced by repeat_minutes
    assert {(s["season_id"], s["race_week_num"]) for s in slots} == {(body["season_id"], 0)}
    starts = [datetime.fromisoformat(s["start_time"]) for s in slots]
    assert {b - a for a, b in zip(starts, starts[1:], strict=False)} == {timedelta(minutes=desc["repeat_minutes"])}


def test_slots_expand_window_without_sessions_prints_empty_array(capsys: pytest.CaptureFixture[str]) -> None:
    assert expand_json(capsys, "--from", "1990-01-01", "--to", "1990-01-02") == []


def test_slots_expand_table_has_header_and_one_aligned_row_per_slot(capsys: pytest.CaptureFixture[str]) -> None:
    # Given the same window as JSON and as a table
    slots = expand_json(capsys, "--from", FROM, "--to", TO)
    code, out, err = run(
        capsys, "slots", "expand", "--schedule", str(SCHEDULE), "--from", FROM, "--to", TO, "--format", "table"
    )
    assert (code, err) == (0, "")
    header, *rows = out.rstrip("\n").split("\n")
    # Then there is a row per slot, in the same order, with columns starting where the header's do
    assert len(rows) == len(slots)
    assert [r.split()[0] for r in rows] == [s["start_time"] for s in slots]
    end_col = header.index("END")
    assert all(r[end_col:].startswith(s["end_time"]) for r, s in zip(rows, slots, strict=True))
    season_end = header.index("SEASON") + len("SEASON")
    assert all(r[:season_end].endswith(str(s["season_id"])) for r, s in zip(rows, slots, strict=True))


def test_slots_expand_ics_has_one_event_per_json_slot(capsys: pytest.CaptureFixture[str]) -> None:
    slots = expand_json(capsys, "--from", FROM, "--to", TO)
    code, out, err = run(
        capsys, "slots", "expand", "--schedule", str(SCHEDULE), "--from", FROM, "--to", TO, "--format", "ics"
    )
    assert (code, err) == (0, "")
    events = Calendar.from_ical(out).walk("VEVENT")
    assert len(events) == len(slots)
    assert [e.decoded("dtstart") for e in events] == [datetime.fromisoformat(s["start_time"]) for s in slots]


# --- slots expand: bad input -------------------------------------------------------------------


def test_slots_expand_missing_file_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    assert_usage_error(
        *run(capsys, "slots", "expand", "--schedule", str(missing), "--from", FROM, "--to", TO), "no such file"
    )


def test_slots_expand_directory_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert_usage_error(
        *run(capsys, "slots", "expand", "--schedule", str(tmp_path), "--from", FROM, "--to", TO), "cannot read"
    )


@pytest.mark.parametrize(
    "content",
    [b"", b"{not json", b'[{"season_id": 1,}]', b"\xff\xfe\x00garbage", (SAMPLES_DIR / "SOURCES.md").read_bytes()],
    ids=["empty", "truncated", "trailing-comma", "binary", "markdown"],
)
def test_slots_expand_invalid_json_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    assert_usage_error(
        *run(capsys, "slots", "expand", "--schedule", str(path), "--from", FROM, "--to", TO), "not valid JSON"
    )


def test_slots_expand_season_missing_season_id_exits_2_naming_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # Given a real series/seasons body whose second season lost its season_id
    body = json.loads(SCHEDULE.read_text(encoding="utf-8"))[:2]
    del body[1]["season_id"]
    path = tmp_path / "seasons.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    # Then exit 2, one line naming the element and the field
    assert_usage_error(
        *run(capsys, "slots", "expand", "--schedule", str(path), "--from", FROM, "--to", TO),
        "series/seasons[1]",
        "season_id",
    )


@pytest.mark.parametrize(
    "body",
    [{"link": "https://example.invalid/x", "expires": "2025-09-09T12:00:00Z"}, "just a string", 3, None],
    ids=["link-wrapper", "string", "number", "null"],
)
def test_slots_expand_wrong_body_shape_exits_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, body: object
) -> None:
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert_usage_error(
        *run(capsys, "slots", "expand", "--schedule", str(path), "--from", FROM, "--to", TO),
        "expected a series/season_schedule object or a series/seasons array",
    )


def test_slots_expand_bad_nested_value_exits_2_naming_season(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    body = json.loads((SAMPLES_DIR / "series_season_schedule.json").read_text(encoding="utf-8"))
    body["schedules"][0]["race_time_descriptors"][0]["repeat_minutes"] = 0
    path = tmp_path / "schedule.json"
    path.write_text(json.dumps(body), encoding="utf-8")
    assert_usage_error(
        *run(capsys, "slots", "expand", "--schedule", str(path), "--from", FROM, "--to", TO),
        f"season_id {body['season_id']}",
        "repeat_minutes",
    )


@pytest.mark.parametrize("option", ["--from", "--to"])
@pytest.mark.parametrize("value", ["2025-13-01", "yesterday", "", "2025-09-09T25:00:00Z", "09/09/2025"])
def test_slots_expand_bad_date_exits_2_naming_option_and_value(
    capsys: pytest.CaptureFixture[str], option: str, value: str
) -> None:
    args = {"--from": FROM, "--to": TO, option: value}
    code, out, err = run(
        capsys, "slots", "expand", "--schedule", str(SCHEDULE), "--from", args["--from"], "--to", args["--to"]
    )
    assert_usage_error(code, out, err, f"{option}: {value!r} is not an ISO 8601 date/time")


@pytest.mark.parametrize(
    ("start", "end"),
    [(FROM, FROM), (TO, FROM), ("2025-09-09T12:00:00+02:00", "2025-09-09T10:00:00Z")],
    ids=["equal", "reversed", "equal-instant-other-offset"],
)
def test_slots_expand_from_not_before_to_exits_2(capsys: pytest.CaptureFixture[str], start: str, end: str) -> None:
    assert_usage_error(
        *run(capsys, "slots", "expand", "--schedule", str(SCHEDULE), "--from", start, "--to", end), "--from"
    )


def test_slots_expand_bad_date_reported_before_missing_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # One error line only, even when several inputs are bad
    code, out, err = run(capsys, "slots", "expand", "--schedule", str(tmp_path / "x"), "--from", "bad", "--to", TO)
    assert_usage_error(code, out, err, "--from")


@pytest.mark.parametrize(
    "argv",
    [
        ["slots", "expand", "--schedule", str(SCHEDULE), "--from", FROM, "--to", TO, "--format", "xml"],
        ["slots", "expand", "--schedule", str(SCHEDULE), "--from", FROM],
        ["slots", "expand", "--from", FROM, "--to", TO],
        ["slots", "expand", "--schedule", str(SCHEDULE), "--from", FROM, "--to", TO, "--bogus"],
        ["slots"],
        ["slots", "shrink"],
        [],
        ["nonsense"],
    ],
    ids=[
        "unknown-format",
        "missing-to",
        "missing-schedule",
        "unknown-option",
        "no-subcommand",
        "bad-subcommand",
        "none",
        "bad-command",
    ],
)
def test_cli_argparse_usage_error_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert_usage_error(*run(capsys, *argv))


# --- --help everywhere -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["slots"],
        ["slots", "expand"],
        ["sync"],
        *[["sync", kind] for kind in ("series", "reference", "current", "season", "past", "all-past")],
        ["serve"],
        ["demo"],
        ["runs"],
        ["local"],
        ["local", "reset"],
    ],
    ids=lambda a: " ".join(a) or "iracing-sync",
)
def test_cli_help_on_every_command_exits_0_with_usage(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = run(capsys, *argv, "--help")
    assert code == 0
    assert out.startswith("usage: iracing-sync")
    assert err == ""


# --- dispatch to the stack ---------------------------------------------------------------------


class Recorder:
    """Stands in for a stack function: records calls, returns or raises what it is told."""

    def __init__(self, result: Any = None, error: BaseException | None = None) -> None:
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.result, self.error = result, error

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        if self.error is not None:
            raise self.error
        return self.result


SUMMARY = {"api_requests": 3, "items_written": 5, "items_unchanged": 1, "items_deleted": 0, "failed": []}


@pytest.mark.parametrize(
    ("argv", "expected_args", "expected_kwargs"),
    [
        (["sync", "series"], ("series", None), {}),
        (["sync", "reference"], ("reference", None), {}),
        (["sync", "current", "--snapshot", "2023s2"], ("current", None), {"snapshot": "2023s2"}),
        (["sync", "season", "5935", "--stack", "prod"], ("season", 5935), {"stack": "prod"}),
        (["sync", "--stack", "prod", "season", "5935"], ("season", 5935), {"stack": "prod"}),
        (["sync", "past", "306", "--replay", "a.tar"], ("past", 306), {"replay": "a.tar"}),
        (["sync", "all-past"], ("all-past", None), {}),
    ],
)
def test_sync_calls_run_sync_and_prints_summary_as_last_stdout_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    expected_args: tuple[Any, ...],
    expected_kwargs: dict[str, Any],
) -> None:
    # Given a stack whose run_sync prints progress and returns a summary
    def fake_run_sync(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append((args, kwargs))
        print("progress that should not be last")
        return SUMMARY

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(stack, "run_sync", fake_run_sync)
    # When the sync command runs
    code, out, err = run(capsys, *argv)
    # Then run_sync got the kind, target and only the given options, and the last line is the summary
    assert code == 0, err
    assert calls == [(expected_args, expected_kwargs)]
    assert json.loads(out.splitlines()[-1]) == SUMMARY


@pytest.mark.parametrize(
    "argv", [["sync", "season"], ["sync", "season", "abc"], ["sync", "past", "-3"], ["sync", "weekly"]]
)
def test_sync_bad_kind_or_id_exits_2_without_calling_stack(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    recorder = Recorder(SUMMARY)
    monkeypatch.setattr(stack, "run_sync", recorder)
    assert_usage_error(*run(capsys, *argv))
    assert recorder.calls == []


@pytest.mark.parametrize(
    ("argv", "function", "expected"),
    [
        (["serve"], "serve", (3000,)),
        (["serve", "--port", "8080"], "serve", (8080,)),
        (["demo"], "demo", (3000,)),
        (["demo", "--port", "3001"], "demo", (3001,)),
        (["local", "reset"], "reset", ()),
    ],
)
def test_stack_commands_call_their_stack_function(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    function: str,
    expected: tuple[Any, ...],
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(stack, function, recorder)
    code, _, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    assert recorder.calls == [(expected, {})]


@pytest.mark.parametrize("port", ["0", "65536", "http"])
def test_serve_bad_port_exits_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, port: str) -> None:
    recorder = Recorder()
    monkeypatch.setattr(stack, "serve", recorder)
    assert_usage_error(*run(capsys, "serve", "--port", port), "--port")
    assert recorder.calls == []


def test_runs_prints_one_json_line_per_run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    runs = [{"run_id": "a", "started": datetime(2025, 9, 9, tzinfo=UTC)}, {"run_id": "b", "started": None}]
    monkeypatch.setattr(stack, "list_runs", Recorder(runs), raising=False)
    code, out, _ = run(capsys, "runs")
    assert code == 0
    assert [json.loads(line)["run_id"] for line in out.splitlines()] == ["a", "b"]


@pytest.mark.parametrize(
    ("argv", "kwargs"), [(["runs"], {}), (["runs", "--stack", "iracing-sync-prod"], {"stack": "iracing-sync-prod"})]
)
def test_runs_reads_the_local_table_or_the_given_stacks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: list[str], kwargs: dict[str, str]
) -> None:
    recorder = Recorder([])
    monkeypatch.setattr(stack, "list_runs", recorder)
    assert run(capsys, *argv)[0] == 0
    assert recorder.calls == [((), kwargs)]


@pytest.mark.parametrize(
    "error", [ExecutionFailed("FAILED", "SyncFailed", "season 1: boom"), PermanentError("no credentials configured")]
)
def test_sync_stack_failure_exits_1_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    monkeypatch.setattr(stack, "run_sync", Recorder(error=error))
    code, out, err = run(capsys, "sync", "series")
    assert code == 1
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("iracing-sync: error: ")
    assert str(error) in err


def test_sync_stack_usage_error_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a stack that refuses the request as a usage problem (e.g. an option it does not support yet)
    monkeypatch.setattr(stack, "run_sync", Recorder(error=stack.UsageError("--replay is not available yet")))
    # Then the CLI reports it like its own usage errors
    assert_usage_error(*run(capsys, "sync", "season", "5935", "--replay", "x.tar"), "--replay is not available yet")


def test_sync_summary_model_is_printed_as_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class RunSummary(BaseModel):  # the shape of a pydantic summary, kept local to not couple to models.tasks
        run_id: str
        api_requests: int
        started: datetime

    summary = RunSummary(run_id="r1", api_requests=2, started=datetime(2025, 9, 9, tzinfo=UTC))
    monkeypatch.setattr(stack, "run_sync", Recorder(summary))
    code, out, _ = run(capsys, "sync", "series")
    assert code == 0
    assert json.loads(out.splitlines()[-1]) == summary.model_dump(mode="json")


def test_sync_failure_with_a_recorded_run_prints_it_last_and_exits_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a run that failed but was recorded
    recorded = {"run_id": "r1", "status": "FAILED", "failed": [{"season_id": 1, "error": "PermanentError"}]}
    monkeypatch.setattr(stack, "run_sync", Recorder(error=stack.SyncRunFailed("execution FAILED", recorded)))
    code, out, err = run(capsys, "sync", "current")
    # Then stdout ends with the recorded summary and stderr has one line
    assert code == 1
    assert json.loads(out.splitlines()[-1]) == recorded
    assert err.count("\n") == 1
