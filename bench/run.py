"""Run every benchmark module (``bench/bench_*.py``) and print one table.

    python -m bench.run [NAME ...]     # only modules whose name contains one of NAME

Columns: benchmark | value | unit | baseline | baseline value | ratio | target. Exit code 1 if a
benchmark misses its target or fails, so ``make bench`` reports it.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import pkgutil
import sys
import traceback
from collections.abc import Callable, Sequence
from types import ModuleType

import bench
from bench import Row

HEADER = ("benchmark", "value", "unit", "baseline", "baseline value", "ratio", "target")


def discover(names: Sequence[str] = ()) -> list[str]:
    """Module names ``bench.bench_*``, sorted; filtered to those containing one of ``names`` if given."""
    found = sorted(
        f"{bench.__name__}.{m.name}" for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    return [m for m in found if not names or any(n in m.rsplit(".", 1)[-1] for n in names)]


def collect(
    modules: Sequence[str], *, importer: Callable[[str], ModuleType] = importlib.import_module
) -> tuple[list[Row], list[str]]:
    """Import each module and call its ``run()``; a failing module is reported, the others still run."""
    rows: list[Row] = []
    failures: list[str] = []
    for name in modules:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        try:
            # Whatever a benchmark's code prints (an EMF metric line of a handler) goes to stderr: stdout is the table.
            with contextlib.redirect_stdout(sys.stderr):
                rows.extend(importer(name).run())
        except Exception:  # one broken benchmark must not hide the others' figures
            failures.append(name)
            traceback.print_exc()
    return rows, failures


def number(value: float) -> str:
    """A figure with thousands separators and about three significant digits."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def target_cell(row: Row) -> str:
    if row.target is None:
        return ""
    return f">= {row.target:g}x {'ok' if row.met else 'MISSED'}"


def table(rows: Sequence[Row]) -> str:
    """The one table: numbers right-aligned, text left-aligned."""
    cells = [HEADER] + [
        (
            r.benchmark,
            number(r.value),
            r.unit,
            r.baseline,
            number(r.baseline_value),
            f"{r.ratio:.2f}x",
            target_cell(r),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADER))]
    numeric = {1, 4, 5}
    out = []
    for index, line in enumerate(cells):
        out.append(
            " | ".join(
                c.rjust(w) if i in numeric and index else c.ljust(w)
                for i, (c, w) in enumerate(zip(line, widths, strict=True))
            ).rstrip()
        )
        if index == 0:
            out.append("-|-".join("-" * w for w in widths))
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmarks, print the table on stdout; 1 if one failed or missed its target."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description="Run the benchmarks, print one table.")
    parser.add_argument("names", nargs="*", metavar="NAME", help="only modules whose name contains NAME")
    args = parser.parse_args(argv)
    modules = discover(args.names)
    if not modules:
        print(f"no benchmark module matches {args.names}", file=sys.stderr)
        return 1
    rows, failures = collect(modules)
    sys.stdout.write(table(rows))
    missed = [r.benchmark for r in rows if r.met is False]
    for name in failures:
        print(f"FAILED: {name}", file=sys.stderr)
    for name in missed:
        print(f"MISSED TARGET: {name}", file=sys.stderr)
    return 1 if failures or missed else 0


if __name__ == "__main__":
    sys.exit(main())
