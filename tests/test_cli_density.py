"""`spectra density` on a tiny trained GAN, held against its dense autodiff player Hessians."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
from cli_helpers import run_cli

from spectra import games
from spectra.gan import game_at


def _density(argv, capsys):
    return run_cli("density", argv, capsys)


def test_traces_and_extreme_nodes_match_the_dense_hessians(tiny_run, tmp_path, capsys):
    """In float64 with steps >= each player's size, Lanczos runs to the full space: the SLQ
    nodes are the eigenvalues of the dense autodiff Hessian (its extremes to 1e-6 relative),
    and Hutchinson's trace lies within 4 standard errors of the dense trace."""
    out = tmp_path / "density"
    argv = [
        tiny_run,
        "--step",
        20,
        "--float64",
        "--steps",
        100,
        "--probes",
        2,
        "--trace-samples",
        64,
    ]
    status, stdout, _ = _density([*argv, "--minibatch", 32, "--out", out], capsys)
    assert status == 0
    record = json.loads((out / "density_step20.json").read_text())
    assert (out / "density_step20.png").stat().st_size > 0
    assert record["step"] == 20 and record["dtype"] == "float64"
    assert record["settings"]["probes"] == 2 and record["settings"]["minibatch"] == 32
    game = game_at(tiny_run, 20, dtype=jnp.float64)
    dense = dict(zip(("phi", "theta"), games.player_hessians(game, game.point()), strict=True))
    for player, hessian in dense.items():
        hessian = np.asarray(hessian)
        got = record["players"][player]
        n = hessian.shape[0]
        assert got["n"] == n
        trace = got["trace"]
        assert trace["samples"] == 64 and len(trace["values"]) == 64
        assert trace["stderr"] > 0
        assert abs(trace["value"] - np.trace(hessian)) <= 4 * trace["stderr"]
        exact = np.linalg.eigvalsh((hessian + hessian.T) / 2)
        scale = np.abs(exact).max()
        nodes, weights = np.array(got["slq"]["nodes"]), np.array(got["slq"]["weights"])
        assert all(1 <= m <= n for m in got["slq"]["steps_used"])
        np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-10)
        for row, w in zip(nodes, weights, strict=True):
            used = row[w > 0]
            assert abs(used.min() - exact[0]) <= 1e-6 * scale
            assert abs(used.max() - exact[-1]) <= 1e-6 * scale
        assert got["products"] == 64 + sum(got["slq"]["steps_used"])
        grid, phi = np.array(got["grid"]), np.array(got["density"])
        assert np.trapezoid(phi, grid) == pytest.approx(1.0, abs=1e-6)
    total = record["game_jacobian_trace"]
    phi_t, theta_t = (record["players"][p]["trace"]["value"] for p in ("phi", "theta"))
    assert total["value"] == pytest.approx(phi_t + theta_t)
    assert "tr ∇v" in stdout and "wrote" in stdout


def test_one_player_and_probe_marks(tiny_run, tmp_path, capsys):
    """--player theta alone; the top eigenvalues of a `spectra probe` JSON are read if present."""
    from spectra.cli import density as cli_density

    probe_json = tmp_path / "probe.json"
    probe_json.write_text(
        json.dumps({"hessians": {"theta": {"real": [1.0, 2.0], "converged": [True, False]}}})
    )
    assert cli_density._top_eigenvalues(probe_json, ("theta",)) == {"theta": [1.0]}
    assert cli_density._top_eigenvalues(tmp_path / "missing.json", ("theta",)) == {}
    out = tmp_path / "one"
    argv = [
        tiny_run,
        "--step",
        20,
        "--player",
        "theta",
        "--probes",
        1,
        "--steps",
        5,
        "--trace-samples",
        2,
    ]
    status, stdout, _ = _density([*argv, "--out", out], capsys)
    assert status == 0
    record = json.loads((out / "density_step20.json").read_text())
    assert list(record["players"]) == ["theta"] and "game_jacobian_trace" not in record
    assert record["players"]["theta"]["slq"]["steps_used"] == [5]
    assert "∇²_φ" not in stdout


def _error(argv, capsys, match):
    status, _, err = _density(argv, capsys)
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert match in lines[0], lines[0]


def test_bad_input_fails_in_one_line(tiny_run, tmp_path, capsys, monkeypatch):
    _error([tmp_path / "nope"], capsys, "does not exist")
    _error([tiny_run, "--step", 7], capsys, "no checkpoint at step 7")

    def no_work(*args, **kwargs):
        raise AssertionError("worked before checking the arguments")

    monkeypatch.setattr("spectra.gan.game_at", no_work)
    _error([tiny_run, "--player", "gen"], capsys, "--player: expected phi, theta")
    _error([tiny_run, "--player", ","], capsys, "--player")
    _error([tiny_run, "--probes", 0], capsys, "--probes: expected an integer >= 1, got 0")
    _error([tiny_run, "--steps", -1], capsys, "--steps")
    _error([tiny_run, "--trace-samples", 0], capsys, "--trace-samples")
    _error([tiny_run, "--minibatch", 0], capsys, "--minibatch")
    (tmp_path / "file").write_text("x")
    _error([tiny_run, "--out", tmp_path / "file"], capsys, "--out")
