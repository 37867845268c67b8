"""`spectra demo --quick`: trains both runs, probes them, writes the report and its figures."""

import json
import re

from spectra.cli import main


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
