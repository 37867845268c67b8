"""Eigenvalue density figures: the smoothed spectral density of a Hessian on a log scale.

As in Ghorbani, Krishnan & Xiao (ICML 2019, Figs. 1-4): a log-scale density shows both the bulk
near zero and the few outliers that a linear scale flattens to nothing. Arrays in,
:class:`~matplotlib.figure.Figure` out; :mod:`spectra.density` computes the arrays.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.figure import Figure

from spectra.plots._common import new_figure

__all__ = ["spectral_density"]


def spectral_density(
    grids: Mapping[str, np.ndarray],
    densities: Mapping[str, np.ndarray],
    *,
    top: Mapping[str, np.ndarray] | None = None,
    notes: Mapping[str, str] | None = None,
    floor: float = 1e-8,
    title: str | None = None,
) -> Figure:
    """One log-scale panel per operator: its density ``φ_σ(t)`` against ``t``.

    Args:
        grids: ``{label: (g,)}`` the points of each density (the label titles the panel).
        densities: ``{label: (g,)}`` the density on them (same keys as ``grids``).
        top: ``{label: (k,)}`` eigenvalues to mark (e.g. the top Krylov eigenvalues of
            ``spectra probe``), drawn as vertical dashed lines; labels may be missing.
        notes: ``{label: text}`` a line under each panel's title (the trace, the settings).
        floor: the lowest value shown, relative to the panel's largest density (a log scale
            needs a floor: the Gaussian tails fall to 0).
        title: the figure's title.
    """
    if set(grids) != set(densities) or not grids:
        raise ValueError("densities: expected the same non-empty labels as grids")
    top, notes = top or {}, notes or {}
    fig, axes = new_figure(1, len(grids), width=5.0, height=3.8)
    for ax, label in zip(axes[0], grids, strict=True):
        t, phi = np.asarray(grids[label]), np.asarray(densities[label])
        if t.shape != phi.shape:
            raise ValueError(f"densities: {label!r} has shape {phi.shape}, its grid {t.shape}")
        low = max(float(phi.max(initial=0.0)) * floor, np.finfo(float).tiny)
        ax.semilogy(t, np.maximum(phi, low), color="C0", lw=1.2, label="density (SLQ)")
        ax.set_ylim(bottom=low)
        marks = np.asarray(top.get(label, []), dtype=float).ravel()
        for i, value in enumerate(marks):
            ax.axvline(
                value,
                color="C3",
                ls="--",
                lw=0.8,
                alpha=0.7,
                label=f"top {marks.size} (Krylov)" if i == 0 else None,
            )
        ax.set_xlabel("eigenvalue")
        ax.set_ylabel("density")
        note = notes.get(label)
        ax.set_title(label if note is None else f"{label}\n{note}", fontsize=10)
        ax.legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
