"""``spectra train`` and ``spectra grid`` from the command line: errors, divergence, SIGKILL."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jax
import numpy as np
import pytest

from spectra.cli import main
from spectra.gan.train import load_checkpoint

REPO = Path(__file__).resolve().parents[1]
TINY = ["--hidden", "16", "--depth", "1", "--latent-dim", "4", "--batch-size", "32"]


def _one_error_line(capsys, *needles):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    for needle in needles:
        assert needle in err[0], err[0]


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["--data", "cifar"], ["unknown", "cifar", "mog8, mog25, digits, mnist"]),
        (["--config", "huge"], ["config", "huge"]),
        (["--data", "mog8", "--d-beta", "1.5"], ["d_beta", "(-1, 1)"]),
        (["--data", "mog8", "--d-beta", "-1"], ["d_beta", "(-1, 1)"]),
        (["--data", "mog8", "--g-lr", "0"], ["g_lr", "> 0"]),
        (["--data", "mog8", "--d-lr", "-0.1"], ["d_lr", "> 0"]),
        (["--data", "mog8", "--d-opt", "rmsprop"], ["d_optimizer", "sgd, adam"]),
        (["--data", "mog8", "--steps", "0"], ["steps"]),
    ],
)
def test_train_bad_input_is_one_line_and_exit_2(argv, needles, tmp_path, capsys):
    assert main(["train", *argv, "--out", str(tmp_path / "run")]) == 2
    _one_error_line(capsys, "spectra train: error:", *needles)
    assert not (tmp_path / "run").exists()


def test_train_folder_errors_and_divergence_exit_codes(tmp_path, capsys):
    common = ["train", "--data", "mog8", *TINY, "--steps", "20", "--checkpoint-every", "10"]
    common += ["--eval-every", "10", "--no-progress"]
    out = str(tmp_path / "run")
    assert main([*common, "--out", out]) == 0
    assert "step 20" in capsys.readouterr().out
    assert main([*common, "--d-lr", "0.3", "--out", out]) == 2
    _one_error_line(capsys, "holds another run", "d_lr")
    assert main([*common, "--out", out]) == 2
    _one_error_line(capsys, "--resume")
    assert main([*common, "--out", out, "--resume"]) == 0
    assert "resuming" in capsys.readouterr().err
    data_file = max(
        (p for p in (tmp_path / "run" / "checkpoints" / "20").rglob("*") if p.is_file()),
        key=lambda p: p.stat().st_size,
    )
    data_file.write_bytes(data_file.read_bytes()[:-1] + b"?")
    assert main([*common, "--steps", "30", "--out", out, "--resume"]) == 2
    _one_error_line(capsys, "step 20", "corrupted", "to resume from the previous checkpoint")
    (tmp_path / "file").write_text("")
    assert main([*common, "--out", str(tmp_path / "file" / "run")]) == 2
    _one_error_line(capsys, "cannot write")
    assert main([*common, "--d-lr", "1e8", "--g-lr", "1e8", "--out", str(tmp_path / "nan")]) == 3
    _one_error_line(capsys, "diverged", "last good checkpoint (step 0)")
    assert (tmp_path / "nan" / "manifests" / "0.json").exists()


def test_resume_reuses_the_runs_own_settings(tmp_path, capsys):
    out = str(tmp_path / "run")
    argv = ["train", "--data", "mog8", *TINY, "--steps", "20", "--steps-per-call", "10"]
    assert main([*argv, "--eval-every", "10", "--no-progress", "--out", out]) == 0
    capsys.readouterr()
    # only the flag that changes: the rest comes from the run's config.json, not from mog8's
    assert main(["train", "--steps", "30", "--resume", "--no-progress", "--out", out]) == 0
    assert "step 30" in capsys.readouterr().out
    assert json.loads((tmp_path / "run" / "config.json").read_text())["hidden"] == 16
    assert main(["train", "--steps", "10", "--resume", "--no-progress", "--out", out]) == 0
    assert "already at step 30" in capsys.readouterr().err


def test_usage_errors_are_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--steps", "1.5", "--out", str(tmp_path / "run")])
    assert exit_info.value.code == 2
    _one_error_line(capsys, "--steps", "invalid int value", "--help")


def test_grid_refuses_a_foreign_folder_before_training(tmp_path, capsys, monkeypatch):
    import spectra.gan.grid as grid

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking --out")

    monkeypatch.setattr(grid, "run_grid", no_training)
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["grid", "--lrs", "0.1", "--out", str(tmp_path)]) == 2
    _one_error_line(capsys, "not empty", "spectra grid")


def test_heatmap_marks_diverged_cells():
    from spectra.gan.figures import heatmap

    fig = heatmap(
        np.array([[0.0, 0.0015]]),
        rows=[0.5],
        cols=[2.0, 0.05],
        label="score",
        diverged=np.array([[2, 1]]),
        n_seeds=2,
    )
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["diverged", "0.0015\n(1/2 diverged)"]  # three digits, not "0.00"


def test_grid_writes_table_heatmap_and_samples(tmp_path, capsys):
    out = tmp_path / "grid"
    argv = ["grid", "--data", "mog8", *TINY, "--steps", "20", "--steps-per-call", "10"]
    argv += ["--betas=-0.5,0.5", "--lrs", "0.05,0.1", "--seeds", "2", "--no-progress"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "β=-0.5" in printed and "β=+0.5" in printed
    table = json.loads((out / "grid.json").read_text())
    assert len(table["rows"]) == 2 * 2 * 2 and table["config"]["g_beta"] == 0.5
    assert table["config"]["loss"] == "saturating" and table["config"]["updates"] == "alternating"
    assert (out / "grid.csv").read_text().splitlines()[0].startswith("d_beta,d_lr,seed,diverged")
    assert (out / "heatmap.png").stat().st_size > 0 and (out / "best.png").stat().st_size > 0
    assert main(["grid", "--betas=-0.5,1.0", "--lrs", "0.1", "--out", str(out)]) == 2
    _one_error_line(capsys, "betas", "(-1, 1)")
    assert main(["grid", "--lrs", "0.1,x", "--out", str(out)]) == 2
    _one_error_line(capsys, "lrs")


def _spectra(args, **kwargs):
    env = {**os.environ, "PYTHONPATH": str(REPO), "JAX_PLATFORMS": "cpu"}
    cmd = [sys.executable, "-m", "spectra", "train", *args]
    return subprocess.Popen(
        cmd, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs
    )


@pytest.mark.slow
def test_sigkill_then_resume_is_bit_identical(tmp_path):
    args = ["--data", "mog8", *TINY, "--steps", "3000", "--steps-per-call", "25"]
    args += ["--checkpoint-every", "100", "--eval-every", "500", "--no-progress"]
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    proc = _spectra([*args, "--out", str(killed)])
    manifests = killed / "manifests"
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        if manifests.exists() and len(list(manifests.glob("*.json"))) >= 4:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be killed"
    time.sleep(0.137)  # somewhere between checkpoints, or inside a save
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    saved = sorted(int(p.stem) for p in manifests.glob("*.json"))
    assert saved[-1] < 3000

    resumed = _spectra([*args, "--out", str(killed), "--resume"])
    reference = _spectra([*args, "--out", str(clean)])
    for p in (resumed, reference):
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    a, b = load_checkpoint(killed).checkpoint, load_checkpoint(clean).checkpoint
    assert a.step == b.step == 3000
    for x, y in zip(
        jax.tree_util.tree_leaves(a.state), jax.tree_util.tree_leaves(b.state), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert (killed / "metrics.jsonl").read_text() == (clean / "metrics.jsonl").read_text()
