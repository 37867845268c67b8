"""Step-size figures: paper Fig. 2 (Theorem 2) and lecture Fig. 1 (Lemma 11, consensus shift).

Arrays in, :class:`~matplotlib.figure.Figure` out; :mod:`spectra.figures` computes the arrays.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from spectra.plots._common import circle, complex_plane, fmt_complex, new_figure, unit_circle

__all__ = ["step_size_paths", "stability_region"]


def step_size_paths(
    *,
    eigenvalues: np.ndarray,
    paths: np.ndarray,
    eta_best: np.ndarray,
    rho: np.ndarray,
    at_best: np.ndarray,
    active: np.ndarray,
    titles: np.ndarray,
    lim: float = 1.25,
) -> Figure:
    """Paper Fig. 2: trajectories of ``1 − ηλᵢ`` as η grows, the unit circle, and the circle of
    radius ``ρ(η_best)`` (Theorem 2).

    Each panel shows one spectrum; the mirror image (``conj λ``) is drawn faintly, since a real
    ∇v has conjugate pairs.

    Args:
        eigenvalues: ``(P, m)`` the spectrum of ∇v of each panel.
        paths: ``(P, n, m)`` the eigenvalues ``1 − ηλᵢ`` of ``∇F_η`` over ``n`` step sizes.
        eta_best, rho: ``(P,)`` the optimal step size and its spectral radius ``ρ(η_best)``.
        at_best: ``(P, m)`` the eigenvalues ``1 − η_best λᵢ``.
        active: ``(P, m)`` which eigenvalues limit the rate (those on the red circle).
        titles: ``(P,)``.
    """
    n_panels = eigenvalues.shape[0]
    fig, axes = new_figure(1, n_panels, width=4.6, height=5.0)
    for p, ax in enumerate(axes[0]):
        complex_plane(ax, lim=lim)
        unit_circle(ax)
        circle(ax, rho[p], color="C3", ls="--", lw=1.5, label=f"radius ρ(η_best) = {rho[p]:.3f}")
        for i, lam in enumerate(eigenvalues[p]):
            color = f"C{i}"
            path = paths[p, :, i]
            ax.plot(
                path.real, path.imag, color=color, lw=1.4, label=f"1 − ηλ, λ = {fmt_complex(lam)}"
            )
            ax.plot(path.real, -path.imag, color=color, lw=0.8, alpha=0.3)
            style = {"ms": 9, "mec": "C3", "mew": 2} if active[p, i] else {"ms": 6}
            ax.plot(at_best[p, i].real, at_best[p, i].imag, "o", color=color, **style)
        n_active = int(np.sum(active[p]))
        kind = "tangent" if n_active == 1 else f"cut by {n_active}"
        ax.set_title(
            f"{titles[p]}\nη_best = {eta_best[p]:.4f}: {kind} (ringed: limiting)", fontsize=10
        )
        ax.legend(fontsize=7, loc="lower left")
    return fig


def stability_region(
    *,
    steps: np.ndarray,
    spectra: np.ndarray,
    radius: np.ndarray,
    max_stable_step: np.ndarray,
    titles: np.ndarray,
    lim: float = 1.35,
) -> Figure:
    """Lecture Fig. 1 / Lemma 11: eigenvalues of ``I + hA`` (``A = −∇v``) as ``h`` grows.

    One complex-plane panel per operator (e.g. plain gradient descent, and consensus optimization
    whose γ shifts the spectrum), the dots coloured by ``h``; a last panel shows the spectral
    radius against ``h`` with Lemma 11's largest stable step marked.

    Args:
        steps: ``(n,)`` step sizes ``h``.
        spectra: ``(K, n, m)`` eigenvalues of each operator's Jacobian at each ``h``.
        radius: ``(K, n)`` their spectral radius.
        max_stable_step: ``(K,)`` Lemma 11's bound for each operator.
        titles: ``(K,)``.
    """
    n_ops = spectra.shape[0]
    fig, axes = new_figure(1, n_ops + 1, width=4.0, height=4.4)
    h = np.asarray(steps)
    colors = np.broadcast_to(h[:, None], spectra.shape[1:])
    style = {"cmap": "viridis", "vmin": 0.0, "vmax": float(h.max())}
    for k in range(n_ops):
        ax = axes[0, k]
        complex_plane(ax, lim=lim)
        unit_circle(ax)
        z = spectra[k]
        inside = np.abs(z) < 1.0
        sc = ax.scatter(z.real[inside], z.imag[inside], c=colors[inside], s=9, **style)
        ax.scatter(z.real[~inside], z.imag[~inside], c=colors[~inside], s=14, marker="x", lw=0.8,
                   **style)  # fmt: skip
        ax.set_title(
            f"{titles[k]}\nh < {max_stable_step[k]:.4f} (Lemma 11; ×: outside)", fontsize=10
        )
    fig.colorbar(sc, ax=axes[0, :n_ops].tolist(), label="step size h", shrink=0.7)
    ax = axes[0, n_ops]
    for k in range(n_ops):
        ax.plot(h, radius[k], color=f"C{k}", label=str(titles[k]).split("\n")[0])
        ax.axvline(max_stable_step[k], color=f"C{k}", ls=":", lw=1.2)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xlabel="step size h", ylabel="spectral radius of I + hA")
    ax.set_title("ρ against h (dotted: Lemma 11)", fontsize=10)
    ax.legend(fontsize=7)
    return fig
