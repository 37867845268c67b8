"""The benchmark runner works end to end (quick mode, the fast benchmark only), so it never rots.

Timings are never asserted here: benchmarks report ratios, tests only check they ran.
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_runner_quick_rate_map(tmp_path):
    out = tmp_path / "results.md"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--only", "rate_map", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert "| benchmark | name | measured | baseline | ratio | target | passed |" in text
    rows = [line for line in text.splitlines() if line.startswith("| rate_map")]
    assert len(rows) >= 2  # against numpy and against the dense route
    assert "error" not in text.lower()


def test_only_keeps_the_other_benchmarks_rows(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT))  # benchmarks/ is not installed with the package
    from benchmarks.__main__ import kept_lines, table

    out = tmp_path / "results.md"
    rows = [
        {"benchmark": "probe", "name": "p", "measured": 1.0},
        {"benchmark": "train", "name": "t", "measured": 2.0},
    ]
    out.write_text("# Benchmark results (full mode)\n\nMachine: x\n\n" + table(rows) + "\n")
    kept = kept_lines(out, "full", {"train"})
    assert len(kept) == 1 and kept[0].startswith("| probe | p |")
    assert kept_lines(out, "quick", {"train"}) == []  # another mode's rows are not mixed in


def test_probe_benchmark_without_torch_reports_spectra_alone(monkeypatch, capsys):
    from benchmarks import bench_probe

    fake = {
        "n": 10,
        "peak_mb": 100.0,
        "game": {"warm": 0.5, "products": 40, "converged": True},
        "all": {"warm": 1.5, "products": 120, "converged": True},
    }
    monkeypatch.setattr(bench_probe, "_torch_available", lambda: False)
    monkeypatch.setattr(bench_probe, "_spawn", lambda kind, cfg: {"spectra": fake}[kind])
    rows = bench_probe.run(quick=True, only=["mixture-quick"])
    assert "torch is not installed" in capsys.readouterr().err
    assert [r["measured"] for r in rows] == [0.5, 1.5, 100.0]
    assert all(r["baseline"] is None and r["ratio"] is None for r in rows)
    assert "no baseline" in rows[0]["note"]


def test_conv_layers_benchmark_without_torch_is_skipped(monkeypatch):
    import builtins

    from benchmarks import bench_conv_layers

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("no torch here")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    rows = bench_conv_layers.run(quick=True)
    assert rows == [
        {"name": "skipped", "note": "torch is not installed (pip install torch==2.13.0)"}
    ]
