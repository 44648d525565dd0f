"""The cost model (``python -m bench.run cost``): what the sync costs in USD per run and per month at AWS list prices
(bench/cost/prices.py), measured on the full 2023 S2 quarter against the local engines and scaled to 180 seasons,
for today's design and for the design before #15 (STANDARD children, no change detection) in the same run.
"""

from __future__ import annotations

import sys

from bench import Row
from bench.cost.measure import measure_all, measure_init_seconds
from bench.cost.report import bills, breakdown, rows_for


def run() -> list[Row]:
    """Measure both designs, price them, print the breakdown on stderr, return the rows."""
    from iracing_sync_local.stepfunctions import FUNCTIONS

    measurements, deployment = measure_all()
    init_seconds = measure_init_seconds({f: FUNCTIONS[f] for f in ("SeasonFunction", "SeriesFunction")})
    ours, base = bills(measurements, deployment, init_seconds)
    print(breakdown(ours, base, measurements, init_seconds), file=sys.stderr)
    return rows_for(ours, base)
