"""How the e2e tier judges a deployed stack: the pure parts (no AWS, no sockets), unit-tested on their own.

- the slots the API serves for a window against `iracing-sync slots expand` over the archived listing;
- whether a resource policy lets a service principal act (the alarm topic's policy must admit CloudWatch and
  EventBridge; a KMS key's, for an encrypted topic, kms:Decrypt and kms:GenerateDataKey*);
- the names template.yaml gives the EventBridge schedules, and a schedule's dead-letter queue.
"""

from __future__ import annotations

import fnmatch
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from iracing_sync.instants import iso_z

SlotKey = tuple[int, int, str, str]
# What CloudWatch needs of the key of an encrypted SNS topic it publishes alarms to.
CLOUDWATCH_ON_ENCRYPTED_TOPIC = ("kms:Decrypt", "kms:GenerateDataKey*")


def slot_key(slot: Mapping[str, Any]) -> SlotKey:
    """A slot's identity (season, week, start) and its end, as both the API and `slots expand` write them."""
    return (int(slot["season_id"]), int(slot["race_week_num"]), str(slot["start_time"]), str(slot["end_time"]))


@dataclass(frozen=True)
class SlotDifference:
    """What the API served against what the archived listing expands to, for one window."""

    missing: list[SlotKey]  # expanded, not served
    unexpected: list[SlotKey]  # served, not expanded

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected)

    def describe(self, limit: int = 5) -> str:
        """One line naming the first few differences (for an assertion message)."""
        missing, unexpected = self.missing[:limit], self.unexpected[:limit]
        return f"{len(self.missing)} missing (first {missing}), {len(self.unexpected)} unexpected (first {unexpected})"


def compare_slots(served: Iterable[Mapping[str, Any]], expanded: Iterable[Mapping[str, Any]]) -> SlotDifference:
    """The difference between served and expanded slots (duplicates collapse, as slot identity says)."""
    have, want = {slot_key(s) for s in served}, {slot_key(s) for s in expanded}
    return SlotDifference(missing=sorted(want - have), unexpected=sorted(have - want))


def judged_window(now: datetime, hours: int = 6) -> tuple[str, str]:
    """The window [from, to) the e2e tier compares: the next ``hours`` from the start of the current hour (UTC)."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return iso_z(start), iso_z(start + timedelta(hours=hours))


def expand_body(body: Any, window: tuple[str, str], workdir: Path) -> list[dict[str, Any]]:
    """What `iracing-sync slots expand` prints for a raw iRacing body over the window (the CLI run in-process)."""
    from iracing_sync_local.cli import main

    schedule = workdir / "series_seasons.json"
    schedule.write_text(json.dumps(body), encoding="utf-8")
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["slots", "expand", "--schedule", str(schedule), "--from", window[0], "--to", window[1]])
    if code != 0:
        raise AssertionError(f"slots expand exited {code} on the archived body")
    slots: list[dict[str, Any]] = json.loads(out.getvalue())
    return slots


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def key_policy_admits(policy: str | Mapping[str, Any], service: str, actions: Sequence[str]) -> bool:
    """True if an Allow statement names ``service`` as principal for every one of ``actions`` (wildcards honoured).

    A statement for every principal (``"*"``) under conditions, as AWS managed keys have, does not count: it
    admits callers of the account through the owning service, never another service's own principal.
    """
    document = json.loads(policy) if isinstance(policy, str) else policy
    granted: list[str] = []
    for statement in _as_list(document.get("Statement", [])):
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service", [])) if isinstance(principal, Mapping) else []
        if statement.get("Effect") == "Allow" and service in services:
            granted += [str(a) for a in _as_list(statement.get("Action", []))]
    return all(any(fnmatch.fnmatchcase(action, pattern) for pattern in granted) for action in actions)


def schedule_names(template: Mapping[str, Any], stack_name: str) -> list[str]:
    """The EventBridge Scheduler names template.yaml gives its ScheduleV2 events, for one stack name."""
    names = []
    for resource in template["Resources"].values():
        for event in (resource.get("Properties", {}).get("Events") or {}).values():
            if event.get("Type") == "ScheduleV2":
                name = event["Properties"]["Name"]
                text = name["Fn::Sub"] if isinstance(name, Mapping) else name
                names.append(str(text).replace("${AWS::StackName}", stack_name))
    return sorted(names)


def dead_letter_arn(schedule: Mapping[str, Any]) -> str | None:
    """The dead-letter queue of a GetSchedule answer, if its target has one."""
    arn = schedule.get("Target", {}).get("DeadLetterConfig", {}).get("Arn")
    return str(arn) if arn else None
