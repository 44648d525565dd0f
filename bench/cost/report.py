"""The cost bench's report: the designs' bills at the scaled season count, the table's rows and a breakdown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bench import Row
from bench.cost.fixed import Inventory
from bench.cost.measure import Measurements
from bench.cost.prices import GB, PRICE_SOURCE
from bench.cost.usage import (
    SEASONS,
    SERVICES,
    CostModel,
    Deployment,
    Design,
    Measured,
    Usage,
    month_changed,
    month_typical,
    month_unchanged,
    usage_at,
)

BEFORE_15 = 'design before #15: STANDARD children, every season synced ({"force": true})'
BUDGET_USD = 1.0  # the sync runs' variable bill
WHOLE_BUDGET_USD = 1.50  # the whole typical month: fixed, sync runs, race-guide polls


@dataclass(frozen=True)
class Guide:
    """A month of race-guide polls: typical, and with one day of PARTIAL polls (see bench/bench_guide.py)."""

    typical: Usage = field(default_factory=Usage)
    bad: Usage = field(default_factory=Usage)


@dataclass(frozen=True)
class Bill:
    """A design's bill at the scaled season count: its runs, fixed items, custom metrics no run sends (declared) and
    race-guide polls."""

    design: Design
    table_gb: float
    model: CostModel
    inventory: Inventory
    guide: Guide = field(default_factory=Guide)
    declared_metric_hours: float = 0.0

    def variable_month(self, month: Usage) -> float:
        """USD per month of a month's sync runs plus the table's storage."""
        return self.model.usd(month) + self.model.storage_month(self.table_gb)

    def fixed_month(self) -> float:
        """USD per month of the fixed items, the dashboards left out (free as an account's first three)."""
        return sum(self.inventory.monthly(self.model.prices).values())

    def declared_metrics_month(self) -> float:
        return self.declared_metric_hours * self.model.prices["custom_metric_hour"].usd

    def typical_month(self) -> float:
        """The whole typical month: fixed items, sync runs, custom metrics, race-guide polls (no dashboard)."""
        return (
            self.fixed_month()
            + self.variable_month(month_typical(self.design))
            + self.declared_metrics_month()
            + self.model.usd(self.guide.typical)
        )

    def bad_month(self) -> float:
        """The typical month with one day of PARTIAL race-guide polls instead of healthy ones."""
        return self.typical_month() - self.model.usd(self.guide.typical) + self.model.usd(self.guide.bad)

    def items(self) -> dict[str, float]:
        """The whole typical month by item (USD), for docs/cost.md."""
        runs = month_typical(self.design)
        out = {f"fixed: {k}": v for k, v in self.inventory.monthly(self.model.prices).items()}
        out["fixed: CloudWatch dashboards (list price; not in the total)"] = self.inventory.dashboards_monthly()
        out["custom metrics no run sends now (declared)"] = self.declared_metrics_month()
        for service, usd in self.model.by_service(runs).items():
            out[f"sync runs: {service}"] = usd
        out["sync runs: DynamoDB storage + PITR"] = self.model.storage_month(self.table_gb)
        for service, usd in self.model.by_service(self.guide.typical).items():
            out[f"race-guide polls: {service}"] = usd
        out["total (no dashboard)"] = self.typical_month()
        return out


def bills(
    m: Measurements,
    deployments: tuple[Deployment, Deployment],
    init_seconds: dict[str, float],
    inventories: tuple[Inventory, Inventory],
    guides: tuple[Guide, Guide],
    declared_metric_hours: float,
) -> tuple[Bill, Bill, Bill]:
    """At SEASONS seasons: ours; the design before #15 (its sync runs, our fixed items); the design before #23 (our
    sync runs, priced with its deployment, fixed items, declared metrics and polls)."""
    ours_deployment, before_23 = deployments
    model = CostModel(ours_deployment.archive_retention_days, ours_deployment.log_retention_days)
    table_gb = m.table_bytes / GB * SEASONS / m.ours["new"].seasons

    def design(runs: dict[str, Measured], deployment: Deployment) -> Design:
        at = {k: usage_at(r, SEASONS, deployment, init_seconds) for k, r in runs.items()}
        reference = usage_at(m.reference, SEASONS, deployment, init_seconds)
        return Design(new=at["new"], unchanged=at["unchanged"], changed=at["changed"], reference=reference)

    ours = Bill(design(m.ours, ours_deployment), table_gb, model, inventories[0], guides[0])
    before_15 = Bill(design(m.baseline, ours_deployment), table_gb, model, inventories[0], guides[0])
    before = Bill(design(m.ours, before_23), table_gb, model, inventories[1], guides[1], declared_metric_hours)
    return ours, before_15, before


def rows_for(ours: Bill, before_15: Bill, before_23: Bill) -> list[Row]:
    """The table: per run and per month (variable) against the design before #15; the budget; the whole bill, fixed
    and the dashboard against the design before #23."""
    n = f"{SEASONS} seasons"

    def versus(label: str, of: Callable[[Bill], float], target: float | None = None) -> Row:
        return Row(label, of(ours), "USD", BEFORE_15, of(before_15), target=target, higher_is_better=False)

    def whole(label: str, of: Callable[[Bill], float]) -> Row:
        return Row(label, of(ours), "USD", before, of(before_23), higher_is_better=False)

    def typical(bill: Bill) -> float:
        return bill.variable_month(month_typical(bill.design))

    inv, old = ours.inventory, before_23.inventory
    before = (
        f"design before #23: {old.kms_keys} rotated CMK, {old.secrets} secret, {old.alarm_metrics} alarm metrics, "
        f"{before_23.declared_metric_hours:,.0f} custom metric-hours"
    )
    typical_label = "whole bill per month, typical: fixed + sync runs + race-guide polls, dashboard free"
    return [
        versus(f"hourly run, nothing changed, {n}", lambda b: b.model.usd(b.design.unchanged), target=20),
        versus(f"hourly run, every season changed, {n}", lambda b: b.model.usd(b.design.changed)),
        versus(f"hourly run, every season new (quarter start), {n}", lambda b: b.model.usd(b.design.new)),
        versus(
            f"variable bill per month, nothing changed (720 hourly + 30 daily runs), {n}",
            lambda b: b.variable_month(month_unchanged(b.design)),
        ),
        versus(
            f"variable bill per month, every season changed every hour, {n}",
            lambda b: b.variable_month(month_changed(b.design)),
        ),
        Row(
            f"variable bill per month, typical (each season changes weekly, new quarter every 3rd month), {n}",
            typical(ours),
            "USD",
            "budget",
            BUDGET_USD,
            target=1.0,
            higher_is_better=False,
        ),
        versus(f"variable bill per month, typical, {n}", typical),
        whole(
            f"fixed bill per month (prod): {inv.alarm_metrics} alarm metrics, {inv.kms_keys} KMS keys, "
            f"{inv.secrets} secrets, {inv.parameters} standard parameter (free), dashboard not counted",
            Bill.fixed_month,
        ),
        Row(
            f"CloudWatch dashboard per month at list price ({inv.dashboards}, {inv.dashboard_metrics} metrics; free as "
            "one of an account's first 3 of up to 50 metrics: not in the totals)",
            inv.dashboards_monthly(),
            "USD",
            before,
            old.dashboards_monthly(),
            higher_is_better=False,
        ),
        Row(
            f"{typical_label}, {n}",
            ours.typical_month(),
            "USD",
            "budget",
            WHOLE_BUDGET_USD,
            target=1.0,  # at most the budget
            higher_is_better=False,
        ),
        whole(f"{typical_label}, {n}", Bill.typical_month),
        whole(
            f"whole bill per month, typical, with the dashboard at list price, {n}",
            lambda b: b.typical_month() + b.inventory.dashboards_monthly(),
        ),
        whole(f"whole bill per month, one day of PARTIAL race-guide polls (dashboard free), {n}", Bill.bad_month),
    ]


def breakdown(ours: Bill, before_15: Bill, before_23: Bill, m: Measurements, init_seconds: dict[str, float]) -> str:
    """Markdown for docs/cost.md: the whole typical month by item for both designs, the sync runs by service, and
    the measured raw figures."""
    lines = [f"Prices: {PRICE_SOURCE}. USD at {SEASONS} seasons.", ""]
    lines += ["| item | ours | design before #23 |", "|---|---:|---:|"]
    theirs = before_23.items()
    lines += [f"| {item} | {usd:.4f} | {theirs.get(item, 0.0):.4f} |" for item, usd in ours.items().items()]
    lines += [f"| {item} | - | {usd:.4f} |" for item, usd in theirs.items() if item not in ours.items()]
    columns = [
        ("run: nothing changed", ours.model.by_service(ours.design.unchanged)),
        ("run: every season changed", ours.model.by_service(ours.design.changed)),
        ("run: every season new", ours.model.by_service(ours.design.new)),
        ("before #15 run: nothing changed", before_15.model.by_service(before_15.design.unchanged)),
        ("daily reference run", ours.model.by_service(ours.design.reference)),
        ("month: typical", ours.model.by_service(month_typical(ours.design))),
        ("before #15 month: typical", before_15.model.by_service(month_typical(before_15.design))),
    ]
    services = list(dict.fromkeys(SERVICES.values()))
    lines += ["", "| service | " + " | ".join(c for c, _ in columns) + " |", "|---|" + "---:|" * len(columns)]
    for service in services:
        lines.append(f"| {service} | " + " | ".join(f"{c[service]:.6f}" for _, c in columns) + " |")
    lines += ["", f"Measured at {m.ours['new'].seasons} seasons (INIT seconds: {init_seconds}):", ""]
    lines.append(
        "| run | invocations | Lambda s | parent transitions | child transitions | items | child s | RRU | WRU "
        "| PUTs | archived KB | log KB | events | relay calls | custom metrics |"
    )
    lines.append("|---|" + "---:|" * 14)
    runs = [(f"ours {k}", r) for k, r in m.ours.items()] + [(f"before #15 {k}", r) for k, r in m.baseline.items()]
    for name, r in [*runs, ("reference", m.reference)]:
        lines.append(
            f"| {name} | {len(r.invocations)} | {sum(i.seconds for i in r.invocations):.2f} | "
            f"{r.flow.parent_transitions} | {r.flow.child_transitions} | {r.items} | {sum(r.flow.child_seconds):.2f} | "
            f"{r.read_units:.1f} | {r.write_units:.1f} | {r.s3_puts} | {r.archived_bytes / 1024:.0f} | "
            f"{r.log_bytes / 1024:.0f} | {r.events} | {len(r.relay_seconds)} | {len(r.metrics)} |"
        )
    return "\n".join(lines) + "\n"
