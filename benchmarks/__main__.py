"""Run every benchmark of the project in one go and print one table.

    python -m benchmarks            # full mode: the real numbers (minutes)
    python -m benchmarks --quick    # quick mode for CI (seconds)
    python -m benchmarks --only rate_map train

Each module ``benchmarks/bench_<name>.py`` exposes ``run(quick: bool) -> list[dict]`` whose rows
have ``name, measured, baseline, ratio, target, passed`` (and optional ``note``). Measurements are
ratios against a baseline run side by side in the same process, repeated, median reported, with
BLAS threads limited. The table is written to ``benchmarks/results.md`` (atomically) so the README
can quote it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import platform
import sys
import time
import traceback
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import spectra  # noqa: E402, F401 - spectra.xla_cpu's setting precedes any JAX computation

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    return sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(HERE)])
        if m.name.startswith("bench_")
    )


def _fmt(x) -> str:
    if isinstance(x, float):
        return f"{x:.3g}"
    return "" if x is None else str(x)


def table(rows: list[dict], kept: list[str] = ()) -> str:
    """The Markdown table of ``rows``, after the already formatted lines ``kept``."""
    cols = ["benchmark", "name", "measured", "baseline", "ratio", "target", "passed", "note"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols), *kept]
    for r in rows:
        cells = [_fmt(r.get(c)).replace("|", "/") for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def kept_lines(path: Path, mode: str, ran: set[str]) -> list[str]:
    """Rows of an earlier results file in the same mode for benchmarks not run now: ``--only``
    updates its benchmarks' rows and keeps the others' (a full probe run takes half an hour)."""
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    if not lines or f"({mode} mode)" not in lines[0]:
        return []
    out = []
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and cells[0] not in ("benchmark", *ran) and len(cells) == 8:
            out.append(line)
    return out


def main(argv: list[str] | None = None) -> int:
    names = discover()
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, seconds (CI)")
    parser.add_argument("--only", nargs="*", choices=names, help="run only these benchmarks")
    parser.add_argument(
        "--out", default=str(HERE / "results.md"), help="where to write the Markdown table"
    )
    args = parser.parse_args(argv)
    rows: list[dict] = []
    failed = []
    for name in args.only or names:
        start = time.perf_counter()
        print(f"[benchmarks] {name} ({'quick' if args.quick else 'full'}) ...", flush=True)
        try:
            module = importlib.import_module(f"benchmarks.bench_{name}")
            for row in module.run(quick=args.quick):
                rows.append({"benchmark": name, **row})
        except Exception as err:  # a broken benchmark is reported, the others still run
            traceback.print_exc()
            failed.append(name)
            rows.append(
                {"benchmark": name, "name": "error", "note": f"{type(err).__name__}: {err}"}
            )
        print(f"[benchmarks] {name} done in {time.perf_counter() - start:.1f} s", flush=True)
    mode = "quick" if args.quick else "full"
    out = Path(args.out)
    kept = kept_lines(out, mode, set(args.only or names)) if args.only else []
    text = (
        f"# Benchmark results ({mode} mode)\n\n"
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"BLAS threads limited to 1; medians of repeats; ratios measured side by side in one run "
        f"(each benchmark's own run; `--only` keeps the other benchmarks' earlier rows).\n\n"
        + table(rows, kept)
        + "\n"
    )
    print(text)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, out)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
