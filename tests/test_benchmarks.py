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
