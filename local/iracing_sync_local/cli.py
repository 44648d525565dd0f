"""The ``iracing-sync`` command line (contract in docs/architecture.md, "The CLI contract").

Usage errors exit with code 2 and print exactly one line on stderr (nothing on stdout), so the
CLI is safe to use in pipelines. ``slots expand`` is pure and offline; the stack commands import
``iracing_sync_local.stack`` lazily because it pulls in the local engines.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from iracing_sync.errors import InvalidInputError, IracingSyncError, MalformedPayload
from iracing_sync.instants import iso_z, parse_instant
from iracing_sync.models.records import Slot
from iracing_sync.recurrence import expand
from iracing_sync.schedule import parse_schedule_body, week_patterns

PROG = "iracing-sync"
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
FORMATS = ("json", "ics", "table")
SYNC_KINDS = ("series", "reference", "current", "season", "past", "all-past", "race-guide")


class UsageError(Exception):
    """Bad input given on the command line: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line on stderr (argparse prints the usage block by default)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {_one_line(message)}\n")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not in 1..65535")
    return port


def _positive_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an integer ID") from None
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{number} is not a positive ID")
    return number


# --- parser ------------------------------------------------------------------------------------


def _add_sync_options(parser: argparse.ArgumentParser) -> None:
    # SUPPRESSed defaults: an option is set only when given, so the KIND sub-parser's defaults never
    # overwrite a value given to `sync`, and the stack keeps owning the real defaults.
    parser.add_argument(
        "--snapshot", default=argparse.SUPPRESS, metavar="NAME", help="bundled snapshot (default: 2025-09-09)"
    )
    parser.add_argument("--stack", default=argparse.SUPPRESS, metavar="NAME", help="deployed stack to run on")
    parser.add_argument(
        "--replay", default=argparse.SUPPRESS, metavar="ARCHIVE", help="replay a recorded iRacing archive"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree of every ``iracing-sync`` command."""
    parser = _Parser(
        prog=PROG,
        description="Sync iRacing series, seasons and schedules into DynamoDB and serve race time slots.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    # slots expand
    slots = commands.add_parser("slots", help="work with race time slots", description="Work with race time slots.")
    slots_commands = slots.add_subparsers(dest="slots_command", metavar="SUBCOMMAND", required=True)
    exp = slots_commands.add_parser(
        "expand",
        help="expand a raw iRacing schedule into the race slots of a time window",
        description=(
            "Expand a raw iRacing body (a series/season_schedule object or a series/seasons array) into "
            "the race slots whose start is in [--from, --to). Times are ISO 8601; a bare date is midnight "
            "UTC and a time without offset is UTC."
        ),
    )
    exp.add_argument("--schedule", required=True, metavar="FILE", help="raw iRacing JSON body")
    exp.add_argument("--from", dest="start", required=True, metavar="ISO", help="window start (inclusive)")
    exp.add_argument("--to", dest="end", required=True, metavar="ISO", help="window end (exclusive)")
    exp.add_argument("--format", choices=FORMATS, default="json", help="output format (default: json)")
    exp.set_defaults(handler=_cmd_slots_expand)

    # sync KIND [ID]
    sync = commands.add_parser(
        "sync",
        help="run a sync state machine (locally, or on a deployed stack with --stack)",
        description=(
            "Run one sync state machine and print its JSON summary as the last stdout line; progress goes "
            "to stderr. Without --stack it runs locally against the bundled snapshot."
        ),
    )
    _add_sync_options(sync)  # also on `sync` itself, so `sync --stack X season 1` works too
    kinds = sync.add_subparsers(dest="kind", metavar="KIND", required=True)
    kind_help = {
        "series": "every series with its assets (logos)",
        "reference": "the series, then the reference data (car classes, cars, tracks): the daily sync",
        "current": "every active season with its schedule",
        "season": "one season by ID",
        "past": "every past season of one series",
        "all-past": "past seasons of every series (backfill)",
        "race-guide": "iRacing's race guide into the stored slots (session IDs, entries), drift found and healed",
    }
    for kind in SYNC_KINDS:
        sub = kinds.add_parser(kind, help=kind_help[kind], description=f"Sync {kind_help[kind]}.")
        _add_sync_options(sub)
        if kind == "season":
            sub.add_argument("target", type=_positive_id, metavar="ID", help="season_id")
        elif kind == "past":
            sub.add_argument("target", type=_positive_id, metavar="SERIES_ID", help="series_id")
        sub.set_defaults(handler=_cmd_sync)

    # serve / demo / runs / local reset
    serve = commands.add_parser("serve", help="serve the slots API on 127.0.0.1", description="Serve the slots API.")
    serve.add_argument("--port", type=_port, default=3000, help="port on 127.0.0.1 (default: 3000)")
    serve.set_defaults(handler=_cmd_serve)

    demo = commands.add_parser(
        "demo",
        help="local stack up, full sync of the bundled snapshot, API served",
        description="Start the local stack, sync the bundled snapshot, serve the API and print example URLs.",
    )
    demo.add_argument("--port", type=_port, default=3000, help="port on 127.0.0.1 (default: 3000)")
    demo.set_defaults(handler=_cmd_demo)

    runs = commands.add_parser(
        "runs",
        help="list recorded sync runs (locally, or of a deployed stack with --stack)",
        description="List recent sync runs, newest first, one JSON line each.",
    )
    runs.add_argument("--stack", metavar="NAME", help="deployed stack whose table to read (its TableName output)")
    runs.set_defaults(handler=_cmd_runs)

    local = commands.add_parser("local", help="manage the local stack", description="Manage the local stack.")
    local_commands = local.add_subparsers(dest="local_command", metavar="SUBCOMMAND", required=True)
    reset = local_commands.add_parser(
        "reset", help="wipe .local/", description="Wipe the local stack's data (.local/)."
    )
    reset.set_defaults(handler=_cmd_local_reset)
    return parser


# --- commands ----------------------------------------------------------------------------------


def _load_body(path_text: str) -> object:
    path = Path(path_text)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"--schedule: no such file: {path_text!r}") from None
    except OSError as exc:
        raise UsageError(f"--schedule: cannot read {path_text!r}: {exc.strerror or exc}") from None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"--schedule: {path_text!r} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except ValueError as exc:  # undecodable bytes
        raise UsageError(f"--schedule: {path_text!r} is not valid JSON: {_one_line(str(exc))}") from None


def _cmd_slots_expand(args: argparse.Namespace) -> int:
    try:
        start, end = parse_instant("--from", args.start), parse_instant("--to", args.end)
    except InvalidInputError as exc:
        raise UsageError(exc.message) from None
    if start >= end:
        raise UsageError(f"--from {iso_z(start)} must be before --to {iso_z(end)}")
    body = _load_body(args.schedule)
    try:
        seasons = parse_schedule_body(body)
    except MalformedPayload as exc:
        raise UsageError(f"--schedule: {args.schedule!r}: {_one_line(exc.message)}") from None
    slots = expand(week_patterns(seasons), start, end)
    if args.format == "json":
        sys.stdout.write(json.dumps([slot.to_json() for slot in slots]) + "\n")
    elif args.format == "table":
        sys.stdout.write(format_table(slots))
    else:
        from iracing_sync.ical import calendar_for  # only this format needs it

        name = f"iRacing race slots {iso_z(start)} – {iso_z(end)}"
        sys.stdout.write(calendar_for(slots, name).decode("utf-8"))
    return EXIT_OK


def format_table(slots: Sequence[Slot]) -> str:
    """An aligned plain-text table of slots, one per line, with a header."""
    header = ("START (UTC)", "END (UTC)", "SEASON", "SERIES", "WEEK", "SUPER", "SERIES NAME", "TRACK")
    rows = [header]
    for s in slots:
        track = s.track_name or ""
        if s.config_name:
            track = f"{track} - {s.config_name}"
        rows.append(
            (
                iso_z(s.start_time),
                iso_z(s.end_time),
                str(s.season_id),
                "" if s.series_id is None else str(s.series_id),
                str(s.race_week_num),
                "yes" if s.super_session else "",
                s.series_name or "",
                track,
            )
        )
    numeric = {2, 3, 4}
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _call_stack(function: str, *args: Any, **kwargs: Any) -> Any:
    """Call ``iracing_sync_local.stack.<function>``; its UsageError becomes ours (one line, exit 2)."""
    from iracing_sync_local import stack  # lazy: it pulls in the local engines

    stack_usage_error: type[Exception] = getattr(stack, "UsageError", UsageError)
    try:
        return getattr(stack, function)(*args, **kwargs)
    except stack_usage_error as exc:
        raise UsageError(str(exc)) from exc


def _cmd_sync(args: argparse.Namespace) -> int:
    options: dict[str, Any] = {}
    for name in ("snapshot", "stack", "replay"):
        if hasattr(args, name):  # pass only what was given: the stack owns the defaults
            options[name] = getattr(args, name)
    try:
        summary = _call_stack("run_sync", args.kind, getattr(args, "target", None), **options)
    except IracingSyncError as exc:
        # A run that failed still ends stdout with its recorded summary, when there is one.
        recorded = getattr(exc, "summary", None)
        if recorded is not None:
            sys.stdout.write(json.dumps(recorded, default=str, sort_keys=True) + "\n")
        raise
    if hasattr(summary, "model_dump"):  # a RunSummary model rather than its dict
        summary = summary.model_dump(mode="json")
    sys.stdout.write(json.dumps(summary, default=str, sort_keys=True) + "\n")
    return EXIT_OK


def _cmd_serve(args: argparse.Namespace) -> int:
    _call_stack("serve", args.port)
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    _call_stack("demo", args.port)
    return EXIT_OK


def _cmd_runs(args: argparse.Namespace) -> int:
    runs = _call_stack("list_runs", **({"stack": args.stack} if args.stack else {}))
    if runs is not None:  # None: the stack printed them itself
        for run in runs:
            sys.stdout.write(json.dumps(run, default=str, sort_keys=True) + "\n")
    return EXIT_OK


def _cmd_local_reset(args: argparse.Namespace) -> int:
    _call_stack("reset")
    return EXIT_OK


# --- entry point -------------------------------------------------------------------------------


def _error(message: str, code: int) -> int:
    sys.stderr.write(f"{PROG}: error: {_one_line(message)}\n")
    return code


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``iracing-sync`` with ``argv`` (default: sys.argv[1:]) and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2, already reported on stderr)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    handler: Callable[[argparse.Namespace], int] = args.handler
    # A plain `kill` unwinds like Ctrl-C, so engines this process started are stopped, not orphaned.
    if args.command in {"sync", "serve", "demo"}:
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        return handler(args)
    except UsageError as exc:
        return _error(str(exc), EXIT_USAGE)
    except IracingSyncError as exc:
        return _error(exc.message, EXIT_FAILED)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
