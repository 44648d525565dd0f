"""The cost bench's report: both designs' bills at the scaled season count, the table's rows and a breakdown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench import Row
from bench.cost.measure import Measurements
from bench.cost.prices import GB, PRICE_SOURCE
from bench.cost.usage import (
    SEASONS,
    SERVICES,
    CostModel,
    Deployment,
    Design,
    Inventory,
    Measured,
    Usage,
    month_changed,
    month_typical,
    month_unchanged,
    usage_at,
)

BASELINE = 'design before #15: STANDARD children, every season synced ({"force": true})'
BUDGET_USD = 1.0


@dataclass(frozen=True)
class Bill:
    """A design's bill at the scaled season count: per run, per month (variable), and the fixed monthly items."""

    design: Design
    table_gb: float
    model: CostModel
    inventory: Inventory

    def variable_month(self, month: Usage) -> float:
        """USD per month of a month's runs plus the table's storage."""
        return self.model.usd(month) + self.model.storage_month(self.table_gb)

    def fixed_month(self) -> float:
        """USD per month of the fixed items."""
        return sum(self.inventory.monthly(self.model.prices).values())


def bills(m: Measurements, deployment: Deployment, init_seconds: dict[str, float]) -> tuple[Bill, Bill]:
    """Our bill and the baseline's, at SEASONS seasons."""
    model = CostModel(deployment.archive_retention_days, deployment.log_retention_days)
    table_gb = m.table_bytes / GB * SEASONS / m.ours["new"].seasons
    reference = usage_at(m.reference, SEASONS, deployment, init_seconds)

    def design(runs: dict[str, Measured]) -> Design:
        at = {k: usage_at(r, SEASONS, deployment, init_seconds) for k, r in runs.items()}
        return Design(new=at["new"], unchanged=at["unchanged"], changed=at["changed"], reference=reference)

    inventory = deployment.inventory_base
    return Bill(design(m.ours), table_gb, model, inventory), Bill(design(m.baseline), table_gb, model, inventory)


def rows_for(ours: Bill, base: Bill) -> list[Row]:
    """The table: per run, per month (variable), the budget, fixed and typical totals."""
    n = f"{SEASONS} seasons"

    def versus(label: str, of: Callable[[Bill], float], target: float | None = None) -> Row:
        return Row(label, of(ours), "USD", BASELINE, of(base), target=target, higher_is_better=False)

    def typical(bill: Bill) -> float:
        return bill.variable_month(month_typical(bill.design))

    inv = ours.inventory
    fixed = (
        f"fixed bill per month: secret, {inv.alarm_metrics} alarm metrics, {inv.custom_metrics} custom metrics, KMS key"
    )
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
        Row(fixed, ours.fixed_month(), "USD", "same resources before #15", base.fixed_month(), higher_is_better=False),
        versus(f"typical bill per month, fixed + variable, {n}", lambda b: b.fixed_month() + typical(b)),
    ]


def breakdown(ours: Bill, base: Bill, m: Measurements, init_seconds: dict[str, float]) -> str:
    """A Markdown breakdown by service (USD), and the measured raw figures, for docs/cost.md."""
    columns = [
        ("run: nothing changed", ours.model.by_service(ours.design.unchanged)),
        ("run: every season changed", ours.model.by_service(ours.design.changed)),
        ("baseline run: nothing changed", base.model.by_service(base.design.unchanged)),
        ("daily reference run", ours.model.by_service(ours.design.reference)),
        ("month: typical", ours.model.by_service(month_typical(ours.design))),
        ("baseline month: typical", base.model.by_service(month_typical(base.design))),
    ]
    services = list(dict.fromkeys(SERVICES.values()))
    lines = [f"Prices: {PRICE_SOURCE}. USD at {SEASONS} seasons.", ""]
    lines.append("| service | " + " | ".join(c for c, _ in columns) + " |")
    lines.append("|---|" + "---:|" * len(columns))
    for service in services:
        lines.append(f"| {service} | " + " | ".join(f"{c[service]:.6f}" for _, c in columns) + " |")
    storage = ours.model.storage_month(ours.table_gb)
    lines.append("| DynamoDB storage + PITR | - | - | - | - | " + f"{storage:.6f} | {storage:.6f} |")
    lines += ["", "Fixed per month: " + ", ".join(f"{k} {v:.2f}" for k, v in ours.inventory.monthly().items()), ""]
    lines.append(f"Measured at {m.ours['new'].seasons} seasons (INIT seconds: {init_seconds}):")
    lines.append("")
    lines.append(
        "| run | invocations | Lambda s | parent transitions | child transitions | items | child s | RRU | WRU "
        "| PUTs | archived KB | log KB |"
    )
    lines.append("|---|" + "---:|" * 11)
    runs = [(f"ours {k}", r) for k, r in m.ours.items()] + [(f"baseline {k}", r) for k, r in m.baseline.items()]
    for name, r in [*runs, ("reference", m.reference)]:
        lines.append(
            f"| {name} | {len(r.invocations)} | {sum(i.seconds for i in r.invocations):.2f} | "
            f"{r.flow.parent_transitions} | {r.flow.child_transitions} | {r.items} | {sum(r.flow.child_seconds):.2f} | "
            f"{r.read_units:.1f} | {r.write_units:.1f} | {r.s3_puts} | {r.archived_bytes / 1024:.0f} | "
            f"{r.log_bytes / 1024:.0f} |"
        )
    return "\n".join(lines) + "\n"
