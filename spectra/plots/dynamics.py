"""Figures of iterates: the bilinear game's Table 1 (paper Fig. 1) and measured vs predicted rates.

Arrays in, :class:`~matplotlib.figure.Figure` out; :mod:`spectra.figures` computes the arrays.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from spectra.plots._common import new_figure

__all__ = ["bilinear_dynamics", "convergence_rates"]


def _beta_color(beta: float) -> str:
    return "C0" if beta < 0 else ("C3" if beta > 0 else "0.2")


def _beta(beta: float) -> str:
    return "0" if beta == 0 else f"{beta:+.2g}"


def _mark(flag: bool) -> str:
    return "✓" if flag else "✗"


def bilinear_dynamics(
    *,
    phi: np.ndarray,
    theta: np.ndarray,
    distances: np.ndarray,
    betas: np.ndarray,
    alternating: np.ndarray,
    spectral_radius: np.ndarray,
    bounded: np.ndarray,
    converges: np.ndarray,
    eta: float,
    lim: float = 3.0,
) -> Figure:
    """Paper Fig. 1 and Table 1: heavy-ball momentum on ``min_θ max_φ θφ``.

    Args:
        phi, theta: ``(k, T+1)`` iterates of the ``k`` runs.
        distances: ``(k, T+1)`` distances ``‖ω_t − ω*‖``.
        betas, alternating: ``(k,)`` momentum and update order of each run.
        spectral_radius: ``(k,)`` ``ρ(∇F)`` at the equilibrium (Theorem 1).
        bounded, converges: ``(k,)`` Table 1's outcomes, as measured on the runs.
        eta: the common step size.
        lim: half-width of the phase-plane panels.
    """
    fig, axes = new_figure(1, 4, width=3.6, height=3.7)
    ax_sim, ax_alt, ax_d, ax_tab = axes[0]
    for ax, alt, title in ((ax_sim, False, "simultaneous"), (ax_alt, True, "alternating")):
        for k in np.flatnonzero(np.asarray(alternating) == alt):
            b = float(betas[k])
            ax.plot(theta[k], phi[k], color=_beta_color(b), lw=0.9, label=f"β = {_beta(b)}")
        ax.plot(theta[0, 0], phi[0, 0], "ko", ms=4)
        ax.plot(0, 0, "*", color="gold", mec="k", ms=11, zorder=5)
        ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xlabel="θ", ylabel="φ", aspect="equal")
        ax.set_title(f"{title} (η = {eta:g})", fontsize=10)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="lower right")
    steps = np.arange(distances.shape[1])
    for k in range(len(betas)):
        style = "-" if alternating[k] else "--"
        name = "alt" if alternating[k] else "sim"
        ax_d.semilogy(
            steps, distances[k], style, color=_beta_color(float(betas[k])), lw=1.0,
            label=f"{name}, β = {_beta(float(betas[k]))}",
        )  # fmt: skip
    ax_d.set(xlabel="iteration t", ylabel="‖ω_t − ω*‖")
    ax_d.set_title("distance to the equilibrium", fontsize=10)
    ax_d.legend(fontsize=7)
    rows = [
        [
            "alt" if alternating[k] else "sim",
            _beta(float(betas[k])),
            f"{float(spectral_radius[k]):.4f}",
            _mark(bool(bounded[k])),
            _mark(bool(converges[k])),
        ]
        for k in range(len(betas))
    ]
    ax_tab.axis("off")
    table = ax_tab.table(
        cellText=rows,
        colLabels=["method", "β", "ρ(∇F)", "bounded", "converges"],
        loc="center",
        cellLoc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.scale(1.0, 1.4)
    table.auto_set_column_width(list(range(5)))
    ax_tab.set_title("Table 1 (measured)", fontsize=10)
    return fig


def convergence_rates(
    *,
    methods: np.ndarray,
    distances: np.ndarray,
    spectral_radius: np.ndarray,
    fitted_rate: np.ndarray,
    burn_in: int = 0,
    title: str = "",
) -> Figure:
    """``log ‖ω_t − ω*‖`` against ``t`` for several methods, each next to the line of slope
    ``log ρ(∇F(ω*))`` that Theorem 1 / Proposition 6 predicts.

    Args:
        methods: ``(k,)`` labels.
        distances: ``(k, T+1)``; entries that reached the floating-point floor may be ``nan``.
        spectral_radius: ``(k,)`` predicted rates ``ρ``.
        fitted_rate: ``(k,)`` rates fitted to the iterates (shown in the legend).
        burn_in: the dotted lines ``d_b ρ^{t−b}`` start at ``t = b``, after the transient.
    """
    fig, axes = new_figure(1, 1, width=7.6, height=5.2)
    ax = axes[0, 0]
    steps = np.arange(distances.shape[1])
    for k, name in enumerate(methods):
        color = f"C{k % 10}"
        d = np.asarray(distances[k])
        rho, fit = float(spectral_radius[k]), float(fitted_rate[k])
        ax.semilogy(steps, d, color=color, lw=1.4, label=f"{name}: ρ = {rho:.4f}, fitted {fit:.4f}")
        tail = steps[burn_in:]
        ax.semilogy(tail, d[burn_in] * rho ** (tail - burn_in), ":", color=color, lw=1.2)
    finite = distances[np.isfinite(distances) & (distances > 0)]
    ax.set_ylim(max(finite.min() * 0.3, 1e-16), finite.max() * 3)
    ax.set(xlabel="iteration t", ylabel="‖ω_t − ω*‖ (dotted: slope log ρ)")
    ax.set_title(title or "measured rates against the spectral radius (Theorem 1)", fontsize=10)
    # below the axes: inside, the legend hid the steepest curves where they reach the floor
    fig.legend(loc="outside lower center", ncols=2, fontsize=7, frameon=False)
    return fig
