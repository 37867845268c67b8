"""Momentum figures: the eigenvalues μ± of Theorem 3 as β sweeps, and the rate map over (η, β).

Arrays in, :class:`~matplotlib.figure.Figure` out; :mod:`spectra.figures` computes the arrays.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from spectra.plots._common import circle, complex_plane, fmt_complex, new_figure, unit_circle

__all__ = ["momentum_eigenvalue_paths", "momentum_rate_map"]


def momentum_eigenvalue_paths(
    *,
    lam: complex,
    eta: float,
    betas: np.ndarray,
    mu_plus: np.ndarray,
    mu_minus: np.ndarray,
    rate: np.ndarray,
    beta_star: float,
    rho_star: float,
    gd_rho: float,
) -> Figure:
    """Theorem 3: ``μ±(β, η, λ)`` in the complex plane as β sweeps (−1, 1), and ``max |μ±|``.

    Args:
        lam, eta: the fixed eigenvalue of ∇v and step size.
        betas: ``(n,)`` momentum values, increasing.
        mu_plus, mu_minus: ``(n,)`` the two eigenvalues of ``∇F_{η,β}`` for λ.
        rate: ``(n,)`` ``max(|μ+|, |μ−|)``.
        beta_star, rho_star: the optimal momentum at this η and its rate.
        gd_rho: the best rate of gradient descent (β = 0, best η; Theorem 2), for reference.
    """
    fig, axes = new_figure(1, 2, width=4.8, height=4.7)
    i0 = int(np.argmin(np.abs(betas)))
    i_star = int(np.argmin(np.abs(betas - beta_star)))
    lim = max(1.15, 1.08 * float(np.abs(mu_plus[i0])))
    ax = axes[0, 0]
    complex_plane(ax, lim=lim, title=f"μ±(β, η = {eta:.3g}, λ = {fmt_complex(lam)}), β ∈ (−1, 1)")
    unit_circle(ax)
    circle(ax, rho_star, color="C3", ls="--", lw=1.2, label=f"radius ρ* = {rho_star:.3f}")
    norm = Normalize(-1.0, 1.0)
    for mu in (mu_plus, mu_minus):
        sc = ax.scatter(mu.real, mu.imag, c=betas, cmap="coolwarm", norm=norm, s=6)
    for i, label, color in ((i0, "β = 0", "k"), (i_star, f"β* = {beta_star:.3f}", "C3")):
        ax.plot([mu_plus[i].real, mu_minus[i].real], [mu_plus[i].imag, mu_minus[i].imag], "D",
                ms=7, mfc="none", mec=color, mew=1.8, label=label)  # fmt: skip
    fig.colorbar(sc, ax=ax, label="β", shrink=0.7)
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[0, 1]
    ax.plot(betas, rate, color="C0", label="max |μ±| at this η")
    ax.plot([0.0], [rate[i0]], "D", mfc="none", mec="k", mew=1.8, label=f"β = 0: {rate[i0]:.3f}")
    ax.plot([beta_star], [rho_star], "D", mfc="none", mec="C3", mew=1.8,
            label=f"β* = {beta_star:.3f}: {rho_star:.3f}")  # fmt: skip
    ax.axhline(gd_rho, color="C2", ls="--", lw=1.0, label=f"best GD rate (Thm 2): {gd_rho:.3f}")
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xlabel="β", ylabel="max |μ±|", ylim=(0.0, min(2.0, float(np.max(rate)) * 1.05)))
    ax.set_title(f"the rate at η = {eta:.3g} against β", fontsize=10)
    ax.legend(fontsize=7, loc="upper center")
    return fig


def momentum_rate_map(
    *,
    etas: np.ndarray,
    betas: np.ndarray,
    rates: np.ndarray,
    eta_star: float,
    beta_star: float,
    rho_star: float,
    gd_eta: float,
    gd_rho: float,
    intervals: np.ndarray,
    intersection: np.ndarray,
    eigenvalues: np.ndarray,
    vmax: float = 1.2,
) -> Figure:
    """The worst momentum rate ``max_λ max |μ±(β, η, λ)|`` over a grid of (η, β), with the optimum,
    the gradient-descent optimum (β = 0) and Theorem 4's intervals ``I(λ)`` drawn on it.

    Args:
        etas: ``(n_η,)``; betas: ``(n_β,)``.
        rates: ``(n_β, n_η)``.
        eta_star, beta_star, rho_star: the optimal (η, β) and its rate.
        gd_eta, gd_rho: Theorem 2's optimal step size and rate (β = 0).
        intervals: ``(m, 2)`` the interval ``I(λ)`` of each eigenvalue (Theorem 4).
        intersection: ``(2,)`` their intersection (empty when ``lo ≥ hi``).
        eigenvalues: ``(m,)``.
    """
    fig, axes = new_figure(1, 1, width=7.0, height=5.0)
    ax = axes[0, 0]
    mesh = ax.pcolormesh(etas, betas, np.minimum(rates, vmax), cmap="magma_r", shading="auto",
                         vmin=float(np.nanmin(rates)), vmax=vmax)  # fmt: skip
    fig.colorbar(mesh, ax=ax, label=f"worst rate max |μ±| (clipped at {vmax:g})")
    ax.contour(etas, betas, rates, levels=[1.0], colors="w", linewidths=1.0)
    ax.axhline(0.0, color="w", lw=0.6, ls=":")
    lo, hi = float(intersection[0]), float(intersection[1])
    if lo < hi:
        ax.axvspan(lo, min(hi, etas.max()), color="C2", alpha=0.12, lw=0,
                   label=f"∩ I(λ) = ({lo:.3f}, {hi:.3f})")  # fmt: skip
    # each I(λ) as a bar just below β = 0, where it applies (a small β < 0 helps there), one
    # row per eigenvalue; a bar running past the plotted η range ends in an arrow
    span = betas.max() - betas.min()
    for i, (a, b) in enumerate(np.asarray(intervals)):
        y = -0.03 * span * (i + 1)
        color = f"C{(i + 4) % 10}"
        lam = fmt_complex(eigenvalues[i])
        name = f"I({lam}) = ({a:.3f}, {b:.3f})" if a < b else f"I({lam}) (empty)"
        end = max(a, min(b, etas.max()))
        ax.plot([a, end], [y, y], lw=3, color=color, marker="|", ms=8, solid_capstyle="butt",
                label=name)  # fmt: skip
        if b > etas.max():
            ax.plot(end, y, ">", ms=7, color=color)
    ax.plot(eta_star, beta_star, "*", ms=15, color="C2", mec="k",
            label=f"optimum η = {eta_star:.3f}, β = {beta_star:.3f}: ρ = {rho_star:.4f}")  # fmt: skip
    ax.plot(gd_eta, 0.0, "o", ms=9, color="C0", mec="k",
            label=f"GD optimum η = {gd_eta:.3f}, β = 0: ρ = {gd_rho:.4f}")  # fmt: skip
    ax.set(xlim=(etas.min(), etas.max()), ylim=(betas.min(), betas.max()), xlabel="step size η",
           ylabel="momentum β")  # fmt: skip
    ax.set_title("worst momentum rate over (η, β); white line: ρ = 1; bars below β = 0: "
                 "Theorem 4's I(λ)", fontsize=10)  # fmt: skip
    ax.legend(fontsize=7, loc="upper right")
    return fig
