"""The cost model (``python -m bench.run cost``): the whole bill of a typical prod month at 180 active seasons, at AWS
list prices without free tiers (bench/cost/prices.py): the fixed items of template.yaml, the sync runs measured on the
full 2023 S2 quarter against the local engines and scaled to 180 seasons, and the race-guide polls
(bench/bench_guide.py). Beside it in the same run: the sync as it was before #15 (STANDARD children, no change
detection), and the whole bill of the design before #23 (declared in bench/cost/fixed.py) with the same runs.
"""

from __future__ import annotations

import sys

from bench import Row, bench_guide
from bench.cost.fixed import BEFORE_23_INVENTORY, BEFORE_23_METRICS, before_23, metric_hours, read_inventory
from bench.cost.measure import measure_all, measure_init_seconds
from bench.cost.report import Guide, bills, breakdown, rows_for
from bench.cost.usage import RELAY, Deployment


def run() -> list[Row]:
    """Measure both designs, price them, print the breakdown on stderr, return the rows."""
    from iracing_sync_local.asl import FUNCTIONS
    from iracing_sync_local.template import load_template

    measurements, deployment = measure_all()
    init_seconds = measure_init_seconds({f: FUNCTIONS[f] for f in ("SeasonFunction", "SeriesFunction", RELAY)})
    template = load_template()
    polls = bench_guide.measure()
    notices = polls.notices(template)
    earlier = before_23(deployment)

    def guide(d: Deployment) -> Guide:
        return Guide(polls.month(d, notices), polls.month(d, notices, bad_days=bench_guide.BAD_DAYS))

    ours, before_15, before = bills(
        measurements,
        (deployment, earlier),
        init_seconds,
        (read_inventory(template), BEFORE_23_INVENTORY),
        (guide(deployment), guide(earlier)),
        metric_hours(BEFORE_23_METRICS),
    )
    print(breakdown(ours, before_15, before, measurements, init_seconds), file=sys.stderr)
    return rows_for(ours, before_15, before)
