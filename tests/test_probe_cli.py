"""`spectra probe` on checkpoints written by the trainer: outputs, reproducibility, bad input."""

import json
import shutil

import numpy as np
from cli_helpers import run_cli

from spectra.gan.config import get_config
from spectra.probe import checkpoints

MOG8 = get_config("mog8")  # the tiny run (conftest.tiny_run) keeps mog8's optimisers


def _probe(argv, capsys):
    return run_cli("probe", argv, capsys)


def test_probe_writes_json_and_figure(tiny_run, tmp_path, capsys):
    out = tmp_path / "probe"
    status, stdout, _ = _probe([tiny_run, "--k", 3, "--which", "LM,LI", "--out", out], capsys)
    assert status == 0
    record = json.loads((out / "probe_step40.json").read_text())
    assert record["step"] == 40
    assert record["n"] == record["n_phi"] + record["n_theta"]
    assert set(record["jacobian"]) == {"LM", "LI"}
    assert len(record["jacobian"]["LM"]["residuals"]) == 3
    assert record["update_rule"]["alternating"] is True
    assert record["update_rule"]["beta"] == [MOG8.d_beta, MOG8.g_beta]
    assert record["update_spectral_radius"] > 0
    assert "theory" in stdout
    assert (out / "spectrum_step40.png").stat().st_size > 0


def test_a_checkpoint_probes_to_the_same_numbers_every_time(tiny_run, tmp_path, capsys):
    """The trainer's checkpoint, restored and probed twice (and by the library and the CLI),
    gives bit-identical eigenvalues: the game, its batch and ARPACK's start are all fixed."""
    options = {"k": 3, "which": ("LM", "SR"), "dense_max": 0, "progress": False}
    a = checkpoints.probe_checkpoint(tiny_run, 20, **options)
    b = checkpoints.probe_checkpoint(tiny_run, 20, **options)
    for which in ("LM", "SR"):
        assert np.array_equal(a.jacobian[which].values, b.jacobian[which].values)
    assert np.array_equal(a.hessians["theta"].values, b.hessians["theta"].values)
    assert a.update.spectral_radius == b.update.spectral_radius
    out = tmp_path / "cli"
    argv = [tiny_run, "--step", 20, "--k", 3, "--which", "LM,SR", "--dense-max", 0, "--out", out]
    assert _probe(argv, capsys)[0] == 0
    record = json.loads((out / "probe_step20.json").read_text())
    values = np.array(record["jacobian"]["SR"]["real"]) + 1j * np.array(
        record["jacobian"]["SR"]["imag"]
    )
    assert np.array_equal(values, a.jacobian["SR"].values)


def test_all_steps_and_path_angle(tiny_run, tmp_path, capsys):
    out = tmp_path / "all"
    argv = [tiny_run, "--all", "--k", 2, "--which", "LM", "--no-hessians", "--float64"]
    argv += ["--out", out]
    status, stdout, _ = _probe([*argv, "--path-angle", "0,40"], capsys)
    assert status == 0
    record = json.loads((out / "probe_all.json").read_text())
    assert record["steps"] == [0, 20, 40]
    assert all(r["dtype"] == "float64" for r in record["results"])
    assert (out / "trajectories.png").exists()
    angle = json.loads((out / "path_angle_0_40.json").read_text())
    assert len(angle["cosine"]) == len(angle["alphas"])
    assert all(-1 - 1e-6 <= c <= 1 + 1e-6 for c in angle["cosine"])
    assert "path-angle 0 → 40" in stdout


def _error(argv, capsys, match):
    status, _, err = _probe(argv, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert match in lines[0], lines[0]


def test_missing_run(tmp_path, capsys):
    _error([tmp_path / "nope"], capsys, "does not exist")


def test_missing_step(tiny_run, capsys):
    _error([tiny_run, "--step", 7], capsys, "no checkpoint at step 7")


def test_unknown_which_and_bad_k(tiny_run, capsys):
    _error([tiny_run, "--which", "LM,XY"], capsys, "unknown selection 'XY'")
    _error([tiny_run, "--k", 1000], capsys, "k: expected k < n - 1")


def test_bad_out_and_path_angle_fail_before_any_probe(tiny_run, tmp_path, capsys, monkeypatch):
    def no_probe(*args, **kwargs):
        raise AssertionError("probed before checking the arguments")

    monkeypatch.setattr(checkpoints, "probe_checkpoint", no_probe)
    monkeypatch.setattr(checkpoints, "run_path_angle", no_probe)
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    _error([tiny_run, "--out", a_file], capsys, "--out: ")
    assert a_file.read_text() == "mine"
    _error([tiny_run, "--path-angle", "0,abc"], capsys, "--path-angle: expected two steps")
    _error([tiny_run, "--path-angle", "0,7"], capsys, "--path-angle: no checkpoint at step 7")
    _error([tiny_run, "--path-angle", "20,20"], capsys, "two different steps")
    _error([tiny_run, "--dense-max", -5], capsys, "--dense-max: expected an integer >= 0")


def _corrupt(tiny_run, tmp_path, step):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_run, copy)
    files = sorted(p for p in (copy / "checkpoints" / str(step)).rglob("*") if p.is_file())
    target = max(files, key=lambda p: p.stat().st_size)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return copy


def test_corrupted_checkpoint(tiny_run, tmp_path, capsys):
    _error([_corrupt(tiny_run, tmp_path, 20), "--step", 20], capsys, "corrupted")


def test_all_skips_a_corrupted_checkpoint_and_keeps_the_others(tiny_run, tmp_path, capsys):
    copy, out = _corrupt(tiny_run, tmp_path, 20), tmp_path / "out"
    argv = [copy, "--all", "--k", 2, "--which", "LM", "--no-hessians", "--no-update"]
    status, _, err = _probe([*argv, "--out", out], capsys)
    assert status == 2
    assert "step 20: skipped" in err and "corrupted" in err.splitlines()[-1]
    record = json.loads((out / "probe_all.json").read_text())
    assert record["steps"] == [0, 40]
    assert (out / "trajectories.png").exists()


def test_arpack_failure_reports_what_converged(tiny_run, tmp_path, capsys):
    out = tmp_path / "fail"
    argv = [tiny_run, "--k", 6, "--which", "SR", "--dense-max", 0, "--maxiter", 1, "--ncv", 8]
    _error([*argv, "--tol", 1e-14, "--no-hessians", "--out", out], capsys, "what converged")
    record = json.loads((out / "probe_step40.json").read_text())
    assert record["errors"]
    assert record["jacobian"]["SR"]["error"]
    assert len(record["jacobian"]["SR"]["converged"]) == len(record["jacobian"]["SR"]["real"])


def test_run_steps_lists_checkpoints(tiny_run):
    assert checkpoints.run_steps(tiny_run) == [0, 20, 40]
    rule = checkpoints.run_update_rule(tiny_run)
    assert rule.alternating and rule.eta == (MOG8.d_lr, MOG8.g_lr)
