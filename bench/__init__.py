"""Benchmarks (``make bench`` / ``python -m bench.run``): every figure is a ratio against a baseline
measured in the same run, so the table means the same on a fast laptop and a loaded CI runner.

A benchmark module is ``bench/bench_<name>.py`` exposing ``run() -> list[Row]``; ``bench.run`` finds
it by name. Speed is measured only here, never asserted by the test suite.
"""

from __future__ import annotations

import gc
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Row", "cold_start_env", "function_environment", "median_seconds", "paired_medians", "paired_times"]

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    """One line of the benchmark table: our figure, the baseline's figure from the same run, a target ratio.

    ``ratio`` is always "how many times better than the baseline": value / baseline_value for rates
    (higher is better), baseline_value / value for durations or sizes (lower is better).
    """

    benchmark: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    target: float | None = None  # the minimum ratio this benchmark must reach
    higher_is_better: bool = True

    @property
    def ratio(self) -> float:
        """Times better than the baseline (> 1 means better)."""
        if self.higher_is_better:
            return self.value / self.baseline_value if self.baseline_value else float("inf")
        return self.baseline_value / self.value if self.value else float("inf")

    @property
    def met(self) -> bool | None:
        """Whether the ratio reaches the target (None without a target)."""
        return None if self.target is None else self.ratio >= self.target


def median_seconds(fn: Callable[[], object], repeats: int = 5) -> float:
    """The median wall time of ``repeats`` calls of ``fn`` (time.perf_counter), after one warm-up call.

    A full garbage collection before each call keeps one call's garbage from being billed to the next.
    """
    fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_times(
    ours: Callable[[], object], theirs: Callable[[], object], repeats: int = 5
) -> tuple[list[float], list[float]]:
    """Wall times of ``repeats`` calls of ``ours`` and ``theirs``, measured alternately (one warm-up call each).

    Alternating the two keeps a change in machine load (other processes) from favouring either side,
    so their ratio is steadier than that of two separate series of runs.
    """
    ours()
    theirs()
    ours_times: list[float] = []
    theirs_times: list[float] = []
    for _ in range(repeats):
        for fn, times in ((ours, ours_times), (theirs, theirs_times)):
            gc.collect()
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
    return ours_times, theirs_times


def paired_medians(ours: Callable[[], object], theirs: Callable[[], object], repeats: int = 5) -> tuple[float, float]:
    """Median wall times of ``ours`` and ``theirs``, measured alternately (see ``paired_times``)."""
    ours_times, theirs_times = paired_times(ours, theirs, repeats)
    return statistics.median(ours_times), statistics.median(theirs_times)


def function_environment() -> dict[str, str]:
    """The fixed variables template.yaml's Globals give every function: a child process timing a cold start gets
    them, as the function gets them in Lambda (values the stack resolves, like the table's name, are left out)."""
    from iracing_sync_local.template import load_template

    variables = load_template()["Globals"]["Function"]["Environment"]["Variables"]
    return {name: value for name, value in variables.items() if isinstance(value, str)}


def cold_start_env(folder: str, *, bytecode: bool = True, cache: Path | None = None) -> dict[str, str]:
    """The environment of a child process timing a function's cold start: the template's Globals, the import path
    of functions/<folder> and the layer, and a fresh bytecode cache (or ``cache``, a folder to share).

    Fresh, so no figure depends on what this checkout or the venv happen to hold (uv installs no .pyc, and
    PYTHONDONTWRITEBYTECODE may be set in the caller's environment). With ``bytecode`` the child's first run fills
    it (the build ships every module precompiled); without, it stays empty and every module compiles from source.
    """
    env = {
        **os.environ,
        **function_environment(),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "functions" / folder), str(ROOT / "layers" / "common")]),
        "PYTHONPYCACHEPREFIX": str(cache or tempfile.mkdtemp(prefix="iracing-sync-pyc-")),
    }
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env
