"""The numbers behind each figure, at small sizes, held against the operators' autodiff spectra and
the seeds' claims; and the files ``spectra figures`` writes."""

import numpy as np
import pytest
from PIL import Image

from spectra import figures, games, theory, zoo
from spectra import operators as ops
from spectra.cli import main


def _radius(op, w_star):
    return float(ops.spectral_radius(op, ops.fixed_point_state(op, w_star)))


# -- 1. paper Fig. 2 / Theorem 2 ----------------------------------------------------------------


@pytest.fixture(scope="module")
def step_size():
    return figures.compute("step_size", n_steps=20)


def test_step_size_radius_is_optimal_for_the_real_operator(step_size):
    panels = zip(step_size["eigenvalues"], step_size["eta_best"], step_size["rho"], strict=True)
    for lam, eta, rho in panels:
        assert rho == pytest.approx(float(theory.optimal_step_size(lam).rho), abs=0)
        game = zoo.with_spectrum(lam)
        w = game.point()
        measured = _radius(ops.simultaneous(game, eta=float(eta)), w)
        np.testing.assert_allclose(measured, rho, rtol=1e-10)
        for factor in (0.99, 1.01):  # a minimum: both neighbours are worse
            assert _radius(ops.simultaneous(game, eta=float(eta) * factor), w) > rho + 1e-6


def test_step_size_tangent_left_cut_right(step_size):
    """Left: one eigenvalue (and its conjugate) on the red circle; right: two."""
    tangent, cut = step_size["tangent"]
    assert bool(tangent) and not bool(cut)
    for p, n_limiting in ((0, 1), (1, 2)):
        at_best = np.abs(step_size["at_best"][p])
        on_circle = np.isclose(at_best, step_size["rho"][p], rtol=1e-9)
        assert on_circle.sum() == n_limiting
        np.testing.assert_array_equal(on_circle, step_size["active"][p])
    # The tangent case is Theorem 2's η_best = Re(1/λ₁), ρ² = sin²ψ₁.
    lam1 = step_size["eigenvalues"][0][step_size["active"][0]][0]
    np.testing.assert_allclose(step_size["eta_best"][0], (1 / lam1).real, rtol=1e-12)
    np.testing.assert_allclose(step_size["rho"][0], abs(lam1.imag) / abs(lam1), rtol=1e-12)


def test_step_size_cut_is_visibly_not_tangent(step_size):
    """Right panel: η_best is well off the tangent point Re(1/λ) of every limiting eigenvalue and
    ρ is visibly above sin ψ of each, so the picture differs from the left (with 6 instead of 8
    the cut sat 0.8% from the tangent point, with ρ equal to 5 digits)."""
    lam, eta, rho = (step_size[k][1] for k in ("eigenvalues", "eta_best", "rho"))
    for z in lam[step_size["active"][1]]:
        if z.imag != 0:
            assert abs(eta - (1 / z).real) > 0.1 * eta
            assert rho > 1.01 * abs(z.imag) / abs(z)


def test_step_size_figure_draws_that_radius(step_size):
    fig = figures.render("step_size", step_size)
    for ax, rho in zip(fig.axes, step_size["rho"], strict=True):
        radii = sorted(p.get_radius() for p in ax.patches)
        assert radii == pytest.approx(sorted([1.0, float(rho)]), abs=0)


# -- 2. paper Fig. 1 and Table 1 ------------------------------------------------------------------


def test_bilinear_reproduces_table_1():
    data = figures.compute("bilinear", steps=120)
    expected = {  # (alternating, sign of β): (bounded, converges), paper Table 1
        (False, -1): (False, False),
        (False, 0): (False, False),
        (False, 1): (False, False),
        (True, 1): (False, False),
        (True, 0): (True, False),
        (True, -1): (True, True),
    }
    for k, beta in enumerate(data["betas"]):
        key = (bool(data["alternating"][k]), int(np.sign(beta)))
        assert (bool(data["bounded"][k]), bool(data["converges"][k])) == expected[key], key
        rho = data["spectral_radius"][k]
        assert (rho < 1 - 1e-3) == (key == (True, -1))
        if key == (True, 0):
            assert rho == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(data["distances"], np.hypot(data["phi"], data["theta"]))


# -- 3. Theorem 3 -------------------------------------------------------------------------------


def test_momentum_eigenvalues_match_the_operator_and_the_optimum():
    data = figures.compute("momentum_eigenvalues", n_betas=41)
    lam, eta = complex(data["lam"]), float(data["eta"])
    game = zoo.with_spectrum([lam])
    w = game.point()
    for i in (0, 13, 20, 40):
        beta = float(data["betas"][i])
        spec = np.asarray(ops.spectrum(ops.momentum(game, eta=eta, beta=beta), np.r_[w, w]))
        mine = np.r_[data["mu_plus"][i], data["mu_minus"][i]]
        mine = np.r_[mine, mine.conj()]
        np.testing.assert_allclose(np.sort_complex(spec), np.sort_complex(mine), atol=1e-9)
    beta_star, rho_star = float(data["beta_star"]), float(data["rho_star"])
    assert beta_star < 0
    op = ops.momentum(game, eta=eta, beta=beta_star)
    np.testing.assert_allclose(_radius(op, w), rho_star, rtol=1e-6)
    assert data["rate"].min() >= rho_star - 1e-9
    assert rho_star < data["gd_rho"] < 1


# -- 4. the rate map ------------------------------------------------------------------------------


def test_rate_map_optimum_is_optimal_momentum_and_the_grid_agrees():
    data = figures.compute("rate_map", n_eta=30, n_beta=25)
    lam = data["eigenvalues"]
    best = theory.optimal_momentum(lam)
    assert (data["eta_star"], data["beta_star"], data["rho_star"]) == (
        float(best.eta),
        float(best.beta),
        float(best.rho),
    )
    assert data["rates"].shape == (25, 30)
    assert data["rates"].min() >= data["rho_star"] - 1e-9  # no grid cell beats the optimum
    game = zoo.with_spectrum(lam)
    w = game.point()
    i, j = 7, 11  # one cell against the autodiff Jacobian of the operator
    op = ops.momentum(game, eta=float(data["etas"][j]), beta=float(data["betas"][i]))
    np.testing.assert_allclose(data["rates"][i, j], _radius(op, w), rtol=1e-9)
    op = ops.momentum(game, eta=float(data["eta_star"]), beta=float(data["beta_star"]))
    np.testing.assert_allclose(_radius(op, w), data["rho_star"], rtol=1e-6)
    lo, hi = data["intersection"]
    assert lo < data["gd_eta"] < hi  # Theorem 4: a small β < 0 helps at η_best here
    assert data["beta_star"] < 0


# -- 5. Lemma 11 ------------------------------------------------------------------------------------


def test_stability_radius_crosses_one_at_lemma_11():
    data = figures.compute("stability", n_steps=40)
    for radius, bound in zip(data["radius"], data["max_stable_step"], strict=True):
        h = data["steps"]
        assert np.all(radius[h < 0.99 * bound] < 1.0)
        assert np.all(radius[h > 1.01 * bound] > 1.0)
    plain, consensus = data["max_stable_step"]
    assert consensus > 2 * plain  # consensus's γ shifts the spectrum: larger steps are stable
    shifted = data["jacobian_eigenvalues"][1]
    assert shifted.real.min() > data["jacobian_eigenvalues"][0].real.min()


# -- 6. lecture Fig. 2 -------------------------------------------------------------------------------


def test_fields_bad_points_are_saddles_not_sources():
    """The hollow markers are 'not attractive', not 'repelling': under v and the combined field
    each non-Nash stationary point has eigenvalues of both signs of real part (a saddle)."""
    data = figures.compute("fields", n_grid=3)
    game = zoo.sine_game()
    points = zip(data["point_phi"], data["point_theta"], data["local_nash"], strict=True)
    for phi, theta, nash in points:
        real = np.linalg.eigvals(np.asarray(games.jacobian(game, np.array([phi, theta])))).real
        if not nash:
            assert real.min() < 0 < real.max()
    fig = figures.render("fields", data)
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("not attractive" in t for t in labels)
    assert not any("repelling" in t for t in labels)


def test_fields_conservative_field_attracts_bad_points():
    data = figures.compute("fields", n_grid=9)
    nash = data["local_nash"]
    assert nash.sum() == 1 and len(nash) == 5
    origin = np.flatnonzero(nash)[0]
    assert data["point_phi"][origin] == pytest.approx(0, abs=1e-9)
    v_attr, conservative_attr, combined_attr = data["attractive"]
    assert v_attr[origin] and combined_attr[origin] and conservative_attr.all()
    assert not v_attr[~nash].any() and not combined_attr[~nash].any()
    # the grid holds the game's field (θ-component, φ-component)
    game = zoo.sine_game()
    i, j = 2, 6
    v = np.asarray(games.vector_field(game, np.array([data["phi"][i], data["theta"][j]])))
    np.testing.assert_allclose([data["field_phi"][0, i, j], data["field_theta"][0, i, j]], v)


# -- 7. the Dirac-GAN ---------------------------------------------------------------------------------


def test_dirac_gan_runs_and_spectra():
    data = figures.compute("dirac_gan", steps=150, n_grid=5, n_weights=5)
    d = np.hypot(data["traj_theta"], data["traj_phi"])
    keys = zip(data["traj_panel"], data["traj_label"], strict=True)
    outcome = dict(zip(keys, d, strict=True))
    assert outcome[(0, "simultaneous")][-1] > 1.5 * d[0, 0]  # spirals out
    alt = outcome[(0, "alternating")]
    assert alt.max() < 2 * alt[0] and alt[-1] > 0.5 * alt[0]  # cycles
    for key in ((1, "simultaneous"), (1, "alternating"), (2, "consensus")):
        assert outcome[key][-1] < 0.05 * outcome[key][0], key
    # ∇v at ω* = [[γ, −f'(0)], [f'(0), 0]], f'(0) = 1/2; consensus adds γ∇vᵀ∇v = γ/4 I.
    for g, eig in zip(data["weights"], data["eig_penalty"], strict=True):
        np.testing.assert_allclose(
            np.sort_complex(eig), np.sort_complex(np.roots([1, -g, 0.25])), atol=1e-10
        )
    expected = data["weights"][:, None] / 4 + np.array([0.5j, -0.5j])
    np.testing.assert_allclose(
        np.sort_complex(data["eig_consensus"]), np.sort_complex(expected), atol=1e-12
    )


# -- 8. rates --------------------------------------------------------------------------------------


def test_fitted_slopes_match_log_rho():
    data = figures.compute("rates", steps=120)
    np.testing.assert_allclose(
        np.log(data["fitted_rate"]), np.log(data["spectral_radius"]), atol=4e-3
    )
    lam = data["eigenvalues"]
    assert data["spectral_radius"][0] == pytest.approx(
        float(theory.optimal_step_size(lam).rho), rel=1e-9
    )
    assert data["spectral_radius"][1] == pytest.approx(
        float(theory.optimal_momentum(lam).rho), rel=1e-6
    )


# -- files and the CLI -------------------------------------------------------------------------------


BAD_ARGUMENTS = [
    ("step_size", {"n_steps": 1}, "n_steps"),
    ("step_size", {"spectra": [[1 + 1j, 2.0], [3.0]]}, "spectra"),
    ("momentum_eigenvalues", {"n_betas": 0}, "n_betas"),
    ("rate_map", {"n_eta": 0}, "n_eta"),
    ("rate_map", {"n_beta": 1}, "n_beta"),
    ("stability", {"n_steps": 0}, "n_steps"),
    ("stability", {"gamma": float("nan")}, "gamma"),
    ("stability", {"gamma": -1.0}, "gamma"),
    ("bilinear", {"steps": 0}, "steps"),
    ("bilinear", {"betas": ()}, "betas"),
    ("bilinear", {"w0": (0.0, 0.0)}, "w0"),  # at ω*: every method would "converge"
    ("rates", {"steps": 5}, "steps"),
    ("rates", {"burn_in": 500}, "steps"),
    ("rates", {"floor": 2.0}, "floor"),
    ("rates", {"steps": 200, "burn_in": 60, "floor": 1e-3}, "burn_in"),  # NaN fitted rate before
    ("fields", {"n_grid": 1}, "n_grid"),
    ("fields", {"box": -1.0}, "box"),
    ("fields", {"gamma": -1.0}, "gamma"),
    ("dirac_gan", {"steps": 0}, "steps"),
    ("dirac_gan", {"n_weights": 0}, "n_weights"),
    ("dirac_gan", {"penalty": -1.0}, "penalty"),
]


@pytest.mark.parametrize(("name", "kwargs", "argument"), BAD_ARGUMENTS)
def test_bad_arguments_are_value_errors_naming_them(name, kwargs, argument):
    with pytest.raises(ValueError, match=rf"^{argument}: "):
        figures.render(name, figures.compute(name, **kwargs))


def test_write_figure_refuses_a_file_as_folder(tmp_path):
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "sub"):
        with pytest.raises(ValueError, match="^out_dir: "):
            figures.write_figure("bilinear", out, steps=5)
    with pytest.raises(ValueError, match="^dpi: "):
        figures.write_figure("bilinear", tmp_path, dpi=0, steps=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_names_in_the_cli_match_the_registry():
    from spectra.cli.figures import NAMES

    assert NAMES == figures.figure_names()


def test_write_figure_files_roundtrip(tmp_path):
    paths = figures.write_figure("bilinear", tmp_path, steps=30)
    assert [p.name for p in paths] == ["bilinear.png", "bilinear.npz", "bilinear.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)  # no temp
    assert all(p.stat().st_mode & 0o044 for p in paths)  # readable by others (not mkstemp's 0600)
    with np.load(paths[1], allow_pickle=False) as npz:
        data = dict(npz)
    assert data["distances"].shape == (6, 31)
    figures.render("bilinear", data)  # the saved arrays are enough to redraw
    header = paths[2].read_text().splitlines()[0]
    assert header.startswith("method,beta,spectral_radius,bounded,converges")
    image = np.asarray(Image.open(paths[0]).convert("L"))
    border = np.r_[
        image[:2].ravel(), image[-2:].ravel(), image[:, :2].ravel(), image[:, -2:].ravel()
    ]
    assert border.min() == 255  # nothing clipped at the edges


def test_cli_figures(tmp_path, capsys):
    assert main(["figures", "--out", str(tmp_path), "--quiet", "step_size"]) == 0
    assert (tmp_path / "step_size.png").stat().st_size > 10_000
    assert main(["figures", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown figure 'nope'" in err[0]
    with pytest.raises(ValueError, match="unknown figure"):
        figures.compute("nope")


def test_cli_figures_bad_out_is_one_line_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "sub"):
        assert main(["figures", "--out", str(out), "--quiet", "bilinear"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("spectra figures: error: --out: "), err


def test_counts_refuse_booleans_and_non_integers_everywhere():
    """One shared scalar check (spectra.checks.count) for the eigensolvers, the operators and
    the figures: True is an int to Python but never a size to a user."""
    import numpy as np

    from spectra import checks, eigensolvers, operators, zoo

    for bad in (True, 2.5, "3"):
        with pytest.raises(ValueError, match="n_steps: expected an integer >= 1"):
            checks.count("n_steps", bad, minimum=1)
    with pytest.raises(ValueError, match="k: expected an integer >= 1"):
        eigensolvers.eigenvalues(np.eye(4), k=True)
    op = operators.simultaneous(zoo.scalar_bilinear(), eta=0.1)
    with pytest.raises(ValueError, match="steps: expected an integer >= 0"):
        operators.iterate(op, operators.initial_state(op, np.ones(2)), True)
    assert checks.count("k", np.int64(3), minimum=1) == 3
