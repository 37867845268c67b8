"""`spectra demo --quick`: trains both runs, probes them, writes the report and its figures."""

import json
import re

import numpy as np

from spectra.cli import main
from spectra.demo import _verdict


def test_quick_demo_writes_report_and_figures(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--quiet", "--out", str(out)]) == 0
    report = (out / "report.md").read_text()
    for image in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report):
        assert (out / image).stat().st_size > 0, image
    assert "comparison.png" in report
    assert "## What the theory says at the last checkpoint" in report
    assert "β_D = -0.5" in report and "β_D = +0.5" in report
    for label in ("negative", "positive"):
        record = json.loads((out / f"probe_{label}.json").read_text())
        assert record["steps"] == [0, 20, 40]
        assert record["results"][-1]["advice"]["summary"]
        assert record["results"][-1]["update"]["method"] in ("dense", "krylov")
    assert "report:" in capsys.readouterr().out


def test_demo_refuses_a_foreign_folder(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["demo", "--quick", "--quiet", "--out", str(tmp_path)]) == 2
    assert "is not empty and does not hold a spectra demo" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def _rows(modes, quality, rho):
    columns = zip(modes, quality, rho, strict=True)
    return [{"modes": m, "high_quality": q, "rho": r} for m, q, r in columns]


def test_the_verdict_reports_disagreeing_metrics_and_no_convergence():
    summary = {
        "negative": {"rows": _rows([6, 2], [0.01, 0.09], [1.5, 2.3])},
        "positive": {"rows": _rows([5, 1], [0.42, 0.20], [1.1, 2.2])},
    }
    text = " ".join(_verdict(summary))
    assert "0.09 (negative) vs 0.2 (positive)" in text and "at best 0.09 vs 0.42" in text
    assert "neither run reached a locally attracting point" in text
    assert "One seed per setting" in text
    agree = {
        "negative": {"rows": _rows([6], [0.5], [0.9])},
        "positive": {"rows": _rows([2], [0.1], [np.nan])},
    }
    text = " ".join(_verdict(agree))
    assert "disagree" not in text and "attracting" not in text
