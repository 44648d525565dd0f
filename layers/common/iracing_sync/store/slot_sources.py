"""What the slot engine reads: week patterns for a time window or a season, filtered.

A window is answered from the by_time index: one Query per month partition of short weeks whose first start lies
in [from - SHORT_WEEK, to), plus one Query of the long weeks' partition from ``from`` on (two or three Queries for
any window up to three weeks). Each is filtered in DynamoDB to the weeks still starting sessions at ``from`` (or
already at ``to``, for long weeks) and to the query's filters, so items that fail them never leave DynamoDB, and the
weeks read are (nearly) those that race in the window. A season is read from its partition. Never a Scan.

Filters are sets ("any of"); a filter of None is "any". Ownership (what a racer owns, up to hundreds of IDs) is
applied to the weeks read, in Python: DynamoDB's expressions hold at most 4 KB, and a week says all deciding needs.

iRacing's race guide (session IDs, entry counts, iRacing's ends) rides along: a season's partition holds its own
guide sessions; for a window over all seasons, the stored guide's horizon (store.guide's state item, in the time
index's long partition) comes back with the long weeks' Query exactly when the window overlaps it, and only then
are its sessions read (``guide_sessions``: one Query of by_parent GUIDE, for the span an answer shows).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from iracing_sync.instants import iso_z, parse_iso_z
from iracing_sync.models.iracing import SeasonFacts
from iracing_sync.models.planning import Ownership
from iracing_sync.models.records import GuideSession, SlotKey, SlotSources, WeekPattern
from iracing_sync.store.schema import LONG_WEEKS, SHORT_WEEK, month_buckets, plain, raw_query
from iracing_sync.store.seasons import (
    GUIDE,
    facts_of,
    guide_sort_key,
    live,
    pattern_of,
    pattern_of_raw,
    season_partition,
)

# The item_type of the stored race guide's state (store.guide), the one item of the long weeks' partition that is
# not a week: its first_start and last_start are the span of session starts the stored guide holds.
GUIDE_STATE = "guide_state"


class SlotFilter(NamedTuple):
    """Which weeks' slots a query wants: each set is "any of", None is "any"; the sets combine with AND.

    Matched on the facts the week items carry: its series, season, category, license group, track, and its cars
    (a car-rotation week's own cars, else the cars of its car classes, as the sync wrote them).
    """

    series_ids: frozenset[int] | None = None
    season_ids: frozenset[int] | None = None
    categories: frozenset[str] | None = None
    license_groups: frozenset[int] | None = None
    track_ids: frozenset[int] | None = None
    car_ids: frozenset[int] | None = None
    # Only weeks this racer can enter (models.planning.Ownership); None: any.
    ownership: Ownership | None = None

    def canonical(self) -> list[list[Any] | None]:
        """The filter as sorted lists, the same in every process (a set's order is not: string hashes vary)."""
        sets = (self.series_ids, self.season_ids, self.categories, self.license_groups, self.track_ids, self.car_ids)
        lists: list[list[Any] | None] = [None if values is None else sorted(values) for values in sets]
        return lists if self.ownership is None else [*lists, *self.ownership.canonical()]

    def accepts(self, week: WeekPattern) -> bool:
        """The same test as ``expression``, in Python (for a season read whole by its partition), and ownership."""
        return (
            _any(self.series_ids, week.series_id)
            and _any(self.season_ids, week.season_id)
            and _any(self.categories, week.category)
            and _any(self.license_groups, week.license_group)
            and _any(self.track_ids, week.track_id)
            and (self.car_ids is None or any(c.car_id in self.car_ids for c in week.cars))
            and self.admits(week)
        )

    def admits(self, week: WeekPattern) -> bool:
        """Whether the racer can enter the week (always, without ownership)."""
        return self.ownership is None or self.ownership.access(week.track_id, week.cars, week.plan).enterable

    def expression(self) -> _Expression:
        """A DynamoDB filter expression: items that fail it never leave DynamoDB (smaller, faster pages)."""
        out = _Expression()
        sets: tuple[tuple[str, frozenset[int] | frozenset[str] | None], ...] = (
            ("series_id", self.series_ids),
            ("season_id", self.season_ids),
            ("category", self.categories),
            ("license_group", self.license_groups),
            ("track_id", self.track_ids),
        )
        for attribute, wanted in sets:
            if wanted is not None:
                name = out.name(attribute)
                values: list[int | str] = sorted(wanted)  # type: ignore[arg-type]  # one kind per set
                out.parts.append(f"{name} IN ({', '.join(map(out.value, values))})")
        if self.car_ids is not None:
            name = out.name("car_ids")
            anyof = " OR ".join(f"contains({name}, {out.value(c)})" for c in sorted(self.car_ids))
            # (DynamoDB refuses parentheses around a single condition: "redundant parentheses")
            out.parts.append(f"({anyof})" if len(self.car_ids) > 1 else anyof)
        return out


def _any(wanted: frozenset[Any] | None, value: Any) -> bool:
    return wanted is None or value in wanted


ANY = SlotFilter()


class _Expression:
    """A condition expression being built: its parts (ANDed), attribute names and values (placeholders)."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, str]] = {}

    def name(self, attribute: str) -> str:
        placeholder = f"#{attribute}"
        self.names[placeholder] = attribute
        return placeholder

    def value(self, value: int | str) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = {"N": str(value)} if isinstance(value, int) else {"S": value}
        return placeholder

    def request(self, key: str, extra: Iterable[str], *, or_type: str | None = None) -> dict[str, Any]:
        """Query parameters: key condition ``key``, filter ``extra`` AND the parts, names and values.

        ``or_type``: items of that item_type pass the parts whatever they hold (they carry no week's facts).
        """
        parts = self.parts
        if parts and or_type is not None:
            ours = " AND ".join(parts) if len(parts) == 1 else f"({' AND '.join(parts)})"
            parts = [f"({self.name('item_type')} = {self.value(or_type)} OR {ours})"]
        return {
            "IndexName": "by_time",
            "KeyConditionExpression": key,
            "FilterExpression": " AND ".join([*extra, *parts]),
            "ExpressionAttributeNames": self.names,
            "ExpressionAttributeValues": self.values,
        }


def window_queries(start: datetime, end: datetime, where: SlotFilter = ANY) -> list[dict[str, Any]]:
    """The low-level Query requests (without TableName) that find the weeks racing in [start, end).

    Short weeks: per month partition, first start in [start - SHORT_WEEK, end) (BETWEEN: "<end>#..." sorts after
    "<end>") and last start >= start. Long weeks: last start >= start and first start < end; the stored race guide's
    state sits in that partition too, keyed alike by its span, so it comes back exactly when the window overlaps it.
    """
    requests = []
    for bucket in month_buckets(start - SHORT_WEEK, end):
        q = where.expression()
        tpk, tsk, last = q.name("tpk"), q.name("tsk"), q.name("last_start")
        lo, hi = q.value(iso_z(start - SHORT_WEEK)), q.value(iso_z(end))
        key = f"{tpk} = {q.value(bucket)} AND {tsk} BETWEEN {lo} AND {hi}"
        requests.append(q.request(key, [f"{last} >= {q.value(iso_z(start))}"]))
    q = where.expression()
    tpk, tsk, first = q.name("tpk"), q.name("tsk"), q.name("first_start")
    key = f"{tpk} = {q.value(LONG_WEEKS)} AND {tsk} >= {q.value(iso_z(start))}"
    requests.append(q.request(key, [f"{first} < {q.value(iso_z(end))}"], or_type=GUIDE_STATE))
    return requests


def slot_sources_between(start: datetime, end: datetime, where: SlotFilter = ANY) -> SlotSources:
    """Week patterns that may have slots in [start, end) and pass ``where`` (Query only: see ``window_queries``),
    with the stored race guide's horizon if the window overlaps it."""
    patterns: list[WeekPattern] = []
    horizon = None
    for request in window_queries(start, end, where):
        for item in raw_query(request, f"the weeks racing from {iso_z(start)}"):
            if plain(item["item_type"]) == GUIDE_STATE:
                horizon = (parse_iso_z(plain(item["first_start"])), parse_iso_z(plain(item["last_start"])))
            else:
                pattern = pattern_of_raw(item)
                if where.admits(pattern):
                    patterns.append(pattern)
    return SlotSources(patterns, horizon=horizon)


def guide_sessions(first: datetime, last: datetime) -> dict[SlotKey, GuideSession]:
    """The stored race-guide sessions starting in [first, last], of every season, not yet expired (one Query of
    by_parent GUIDE, all its pages)."""
    request = {
        "IndexName": "by_parent",
        "KeyConditionExpression": "#p = :guide AND #s BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": {"#p": "gsi1pk", "#s": "gsi1sk"},
        "ExpressionAttributeValues": {
            ":guide": {"S": GUIDE},
            ":lo": {"S": guide_sort_key(first, 0, 0)},
            # (the last second's sessions sort below the next second's first key)
            ":hi": {"S": guide_sort_key(last + timedelta(seconds=1), 0, 0)},
        },
    }
    return live(raw_query(request, f"the race guide from {iso_z(first)}"))


def season_sources(season_id: int, where: SlotFilter = ANY) -> tuple[SeasonFacts, SlotSources] | None:
    """A season's facts and the patterns of its weeks that ``where`` accepts, with its race-guide sessions (one
    Query); None if the season is unknown."""
    partition = season_partition(season_id)
    if partition is None:
        return None
    patterns = [p for p in map(pattern_of, partition.weeks) if where.accepts(p)]
    return facts_of(partition.season), SlotSources(patterns, sessions=partition.sessions)


def season_slot_sources(season_id: int, where: SlotFilter = ANY) -> SlotSources | None:
    """The patterns of one season's weeks that ``where`` accepts, with its race-guide sessions (one Query); None if
    the season is unknown."""
    found = season_sources(season_id, where)
    return found[1] if found is not None else None
