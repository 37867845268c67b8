"""``spectra bounds``: the numbers it prints are the library's and hold against the operators;
every error a user can cause ends in one line and exit status 2."""

import json
import subprocess
import sys

import jax
import numpy as np
import pytest

from spectra import operators as ops
from spectra import theory, zoo
from spectra.bounds import bounds_report, game_eigenvalues
from spectra.cli import main

EIGS = "1+2j, 0.5+3j, 2"
LAM = np.array([1 + 2j, 0.5 + 3j, 2.0])


def _json(capsys, argv):
    assert main(["bounds", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def report():
    return bounds_report(LAM)


def test_json_numbers_are_the_librarys(capsys, report):
    out = _json(capsys, ["--eigs", EIGS])
    assert out == report
    step = theory.optimal_step_size(LAM)
    best = theory.optimal_momentum(LAM)
    assert out["max_stable_step"] == float(theory.max_stable_step(LAM))
    assert out["step_size"]["eta_best"] == float(step.eta)
    assert out["step_size"]["rho"] == float(step.rho)
    assert out["step_size"]["limiting"] == [1]  # 0.5+3j: the smallest Re(1/λ)
    lo, hi = theory.momentum_interval(LAM)
    np.testing.assert_array_equal(out["momentum_intervals"]["intervals"], np.c_[lo, hi])
    assert out["momentum_intervals"]["intersection"] is None  # I(2) is empty: λ is real
    assert [out["momentum"][k] for k in ("eta", "beta", "rho")] == [
        float(best.eta),
        float(best.beta),
        float(best.rho),
    ]


def test_report_holds_against_the_operators(report):
    """Lemma 11 just below / above, and both rates, on the autodiff Jacobian of the operators."""
    game = zoo.with_spectrum(LAM, key=jax.random.PRNGKey(3))
    w_star = game.point()

    def radius(op):
        return float(ops.spectral_radius(op, ops.fixed_point_state(op, w_star)))

    h = report["max_stable_step"]
    assert (
        radius(ops.simultaneous(game, eta=0.99 * h))
        < 1
        < radius(ops.simultaneous(game, eta=1.01 * h))
    )
    step = report["step_size"]
    np.testing.assert_allclose(
        radius(ops.simultaneous(game, eta=step["eta_best"])), step["rho"], rtol=1e-9
    )
    mom = report["momentum"]
    op = ops.momentum(game, eta=mom["eta"], beta=mom["beta"])
    np.testing.assert_allclose(radius(op), mom["rho"], rtol=1e-6)
    assert mom["rho"] < mom["gd_rho"] and mom["speedup"] > 1


def test_table_output_is_readable(capsys, report):
    assert main(["bounds", "--eigs", EIGS]) == 0
    out = capsys.readouterr().out
    for needle in ("Lemma 11", "Theorem 2", "Theorem 4", "η_best", "I(0.5+3j)", "empty"):
        assert needle in out
    assert f"{report['momentum']['beta']:.6g}" in out


def test_game_eigenvalues_and_the_dirac_gan_with_penalty(capsys):
    out = _json(capsys, ["--game", "dirac_gan_r1"])
    # ∇v = [[γ, −f'(0)], [f'(0), 0]] with f'(0) = 1/2, γ = 0.3: roots of μ² − γμ + 1/4.
    expected = np.roots([1.0, -0.3, 0.25])
    got = np.array([complex(*z) for z in out["eigenvalues"]])
    np.testing.assert_allclose(np.sort_complex(got), np.sort_complex(expected), atol=1e-12)
    assert out["step_size"]["case"] == "tangent"


def test_game_eigenvalues_cleans_rounding_noise():
    lam = game_eigenvalues(zoo.bilinear(np.array([[1.0, 0.5], [0.0, 1.5]])))
    assert np.all(lam.real == 0)


@pytest.mark.parametrize("kind", ["text", "csv", "re_im", "npy", "npy_columns"])
def test_file_inputs(tmp_path, capsys, kind):
    path = tmp_path / {"text": "e.txt", "csv": "e.csv", "re_im": "e.csv"}.get(kind, "e.npy")
    if kind == "text":
        path.write_text("# eigenvalues\n1+2j\n0.5+3j  2\n")
    elif kind == "csv":
        path.write_text("1+2j,0.5+3j,2\n")
    elif kind == "re_im":
        path.write_text("re,im\n1,2\n0.5,3\n2,0\n")
    elif kind == "npy":
        np.save(path, LAM)
    else:
        np.save(path, np.c_[LAM.real, LAM.imag])
    out = _json(capsys, ["--file", str(path)])
    np.testing.assert_array_equal(out["eigenvalues"], np.c_[LAM.real, LAM.imag])


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--eigs", "1+2j, x"], "malformed number 'x'"),
        (["--eigs", "1+2j, -1"], "Re λ > 0"),
        (["--eigs", "0+1j"], "purely imaginary"),
        (["--eigs", "nan"], "finite"),
        (["--eigs", " , "], "no eigenvalues"),
        (["--game", "bilinear"], "game 'bilinear'"),
        (["--game", "scalar"], "purely imaginary"),
        (["--game", "nope"], "unknown name 'nope'"),
        (["--file", "/no/such/file.csv"], "no such file"),
        ([], "give the eigenvalues"),
        (["--eigs", "-1+1j"], "--eigs: Lemma 11"),  # a leading minus is a value, not an option
        (["--eigs", "-0.5+2j, 1+1j"], "got -0.5+2j"),
        (["--eigs", "abc"], "--eigs: malformed number"),
        (["--eigs", "0"], "λ = 0: a flat direction"),
    ],
)
def test_errors_are_one_line_with_exit_2(capsys, argv, needle):
    assert main(["bounds", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("spectra bounds: error: ")
    assert needle in lines[0]


def test_bad_files(tmp_path, capsys):
    bad_columns = tmp_path / "bad.csv"
    bad_columns.write_text("re,im\n1,2,3\n")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"\xff\xfe\x00")
    headerless = tmp_path / "headerless.csv"  # re, im columns would be read as 4 real values
    headerless.write_text("1,2\n0.5,3\n")
    strings, booleans = tmp_path / "s.npy", tmp_path / "b.npy"
    np.save(strings, np.array(["1", "2"]))
    np.save(booleans, np.array([True, False]))
    for path, needle in (
        (bad_columns, "two columns"),
        (binary, "not a text file"),
        (headerless, "header line re,im"),
        (strings, "numeric array"),
        (booleans, "numeric array"),
        (tmp_path, "is not a file"),
    ):
        assert main(["bounds", "--file", str(path)]) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0] and str(path) in lines[0]


def test_rates_near_one_and_zero_are_shown_readably(capsys):
    assert main(["bounds", "--eigs", "1e-4+1j"]) == 0
    assert "1 − ρ = 5e-09" in capsys.readouterr().out  # six digits alone would print 1
    assert main(["bounds", "--eigs", "3"]) == 0
    out = capsys.readouterr().out
    assert "0 (one step)" in out and "iterations saved" not in out
    assert bounds_report([3.0])["momentum"]["speedup"] is None


def test_a_closed_reader_ends_quietly():
    code = "import numpy as np; np.save('big.npy', np.arange(1, 5001) + 1j)"
    cmd = f'{sys.executable} -c "{code}" && {sys.executable} -m spectra bounds --file big.npy'
    done = subprocess.run(
        f"cd $(mktemp -d) && {cmd} --json | head -c 10", shell=True, capture_output=True, text=True
    )
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr


def test_python_one_liner_rejects_what_the_theorems_exclude():
    with pytest.raises(ValueError, match="Re λ > 0"):
        bounds_report([1 + 2j, -0.1])
    with pytest.raises(ValueError, match="eigenvalues: expected a non-empty"):
        bounds_report([])


def test_subprocess_error_and_help():
    cmd = [sys.executable, "-m", "spectra", "bounds"]
    done = subprocess.run([*cmd, "--game", "bilinear"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "purely imaginary" in done.stderr
    done = subprocess.run([*cmd, "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "Lemma 11" in done.stdout and "--game" in done.stdout
