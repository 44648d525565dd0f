"""The cost bench's parts (``bench/bench_cost.py`` runs them): prices, the usage model, measurement, the report."""
