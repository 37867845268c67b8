"""The drawing functions: arrays in, a Figure out, and what is drawn is what was passed in.

Synthetic arrays only: no JAX here (the numbers are tested in test_figures.py)."""

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from spectra import plots


def _lines(ax, marker=None, ls=None):
    out = [ln for ln in ax.get_lines() if isinstance(ln, Line2D)]
    if marker is not None:
        out = [ln for ln in out if ln.get_marker() == marker]
    if ls is not None:
        out = [ln for ln in out if ln.get_linestyle() == ls]
    return out


def test_fmt_complex():
    assert plots.fmt_complex(4.0) == "4"
    assert plots.fmt_complex(1 + 1.5j) == "1+1.5j"
    assert plots.fmt_complex(0.5 - 2j) == "0.5-2j"
    assert plots.fmt_complex(3j) == "3j"


def test_step_size_paths_draws_the_given_circle_and_rings_the_limiting():
    lam = np.array([[1 + 1.5j, 4.0]])
    etas = np.linspace(0, 0.6, 7)
    fig = plots.step_size_paths(
        eigenvalues=lam,
        paths=1 - etas[None, :, None] * lam[:, None, :],
        eta_best=np.array([0.3]),
        rho=np.array([0.7]),
        at_best=1 - 0.3 * lam,
        active=np.array([[True, False]]),
        titles=np.array(["t"]),
    )
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert sorted(p.get_radius() for p in ax.patches) == [0.7, 1.0]
    ringed = [ln for ln in _lines(ax, "o") if ln.get_markeredgecolor() == "C3"]
    assert len(ringed) == 1 and ringed[0].get_xdata()[0] == pytest.approx(
        (1 - 0.3 * lam[0, 0]).real
    )
    assert "tangent" in ax.get_title()


def test_rate_map_marks_the_given_optimum_and_intervals():
    etas, betas = np.linspace(0.01, 1, 5), np.linspace(-0.9, 0.9, 4)
    rates = np.linspace(0.5, 1.5, 20).reshape(4, 5)
    fig = plots.momentum_rate_map(
        etas=etas,
        betas=betas,
        rates=rates,
        eta_star=0.4,
        beta_star=-0.2,
        rho_star=0.5,
        gd_eta=0.3,
        gd_rho=0.8,
        intervals=np.array([[0.2, 0.7], [0.5, 0.5]]),
        intersection=np.array([0.5, 0.5]),
        eigenvalues=np.array([1 + 1j, 2.0]),
    )
    ax = fig.axes[0]
    (star,) = _lines(ax, "*")
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (0.4, -0.2)
    labels = ax.get_legend_handles_labels()[1]
    assert any("(empty)" in s for s in labels) and not any("∩" in s for s in labels)


def test_convergence_rates_dotted_slopes_are_log_rho():
    t = np.arange(50)
    rho = np.array([0.9, 0.5])
    d = rho[:, None] ** t[None, :] * 1.3
    fig = plots.convergence_rates(
        methods=np.array(["a", "b"]),
        distances=d,
        spectral_radius=rho,
        fitted_rate=rho,
        burn_in=5,
    )
    dotted = _lines(fig.axes[0], ls=":")
    assert len(dotted) == 2
    for line, r in zip(dotted, rho, strict=True):
        x, y = line.get_xdata(), line.get_ydata()
        assert x[0] == 5
        np.testing.assert_allclose(np.diff(np.log(y)), np.log(r))


def test_convergence_rates_legend_hides_no_curve_and_is_not_clipped():
    """The legend sits below the axes (inside, it covered the steepest curves near the floor) and
    the six long labels of the real figure fit in the saved image."""
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    t = np.arange(80)
    rho = np.linspace(0.7, 0.99, 6)
    names = np.array([f"momentum η = 0.765, β = -0.53{k}" for k in range(6)])  # as long as real
    fig = plots.convergence_rates(
        methods=names,
        distances=rho[:, None] ** t[None, :],
        spectral_radius=rho,
        fitted_rate=rho,
        burn_in=5,
    )
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    (legend,) = fig.legends or [ax.get_legend()]
    assert not legend.get_window_extent(renderer).overlaps(ax.get_window_extent(renderer))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    image = np.asarray(Image.open(buffer).convert("L"))
    border = np.r_[image[:, :2].ravel(), image[:, -2:].ravel(), image[-2:].ravel()]
    assert border.min() == 255


def test_bilinear_table_shows_the_outcomes():
    k, steps = 2, 4
    fig = plots.bilinear_dynamics(
        phi=np.zeros((k, steps)),
        theta=np.ones((k, steps)),
        distances=np.ones((k, steps)),
        betas=np.array([-0.5, 0.0]),
        alternating=np.array([True, True]),
        spectral_radius=np.array([0.96, 1.0]),
        bounded=np.array([True, True]),
        converges=np.array([True, False]),
        eta=0.5,
    )
    table = fig.axes[3].tables[0]
    cells = table.get_celld()
    assert [cells[(r, 4)].get_text().get_text() for r in (1, 2)] == ["✓", "✗"]
    assert cells[(2, 1)].get_text().get_text() == "0"


def test_vector_fields_fill_attractive_points_only():
    axis = np.linspace(-1, 1, 5)
    field = np.stack(np.meshgrid(axis, axis))  # (2, ny, nx)
    fig = plots.vector_fields(
        theta=axis,
        phi=axis,
        field_theta=np.stack([field[0], -field[0]]),
        field_phi=np.stack([field[1], -field[1]]),
        titles=np.array(["a", "b"]),
        point_theta=np.array([0.0]),
        point_phi=np.array([0.0]),
        local_nash=np.array([True]),
        attractive=np.array([[True], [False]]),
        extra_theta=np.array([]),
        extra_phi=np.array([]),
        extra_field=np.array([], dtype=int),
        extra_attractive=np.array([], dtype=bool),
    )
    faces = [_lines(ax, "o")[0].get_markerfacecolor() for ax in fig.axes]
    assert faces[0] != faces[1] and faces[1] == "white"


def test_no_pyplot_figures_leak():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    test_rate_map_marks_the_given_optimum_and_intervals()
    assert plt.get_fignums() == before
