"""Writing a probe down: JSON (atomically), figures, and a few lines of text.

Figures follow :mod:`spectra.plots`: results in, :class:`matplotlib.figure.Figure` out, no pyplot
state. :func:`spectrum_figure` shows one point (∇v in the complex plane, both players' Hessian
eigenvalues, ∇F with the unit circle); :func:`trajectory_figure` shows how the spectra move over
training steps; :func:`path_angle_figure` plots a :class:`~spectra.probe.path_angle.PathAngle`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from spectra.atomic import atomic_write_bytes
from spectra.plots._common import complex_plane, new_figure, unit_circle
from spectra.probe.core import ProbeResult
from spectra.probe.path_angle import PathAngle
from spectra.probe.result import HESSIAN_NAMES

__all__ = [
    "atomic_write_bytes",
    "write_json",
    "save_figure",
    "summary_lines",
    "spectrum_figure",
    "trajectory_figure",
    "path_angle_figure",
    "comparison_figure",
]

_MARKERS = {"LM": "o", "LR": ">", "SR": "<", "LI": "^", "SM": "s"}


# -- files ---------------------------------------------------------------------------------------


def _clean(obj: Any) -> Any:
    """JSON-ready: NaN and inf become ``null``, NumPy scalars Python numbers."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    return obj


def write_json(path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON, atomically (NaN written as ``null``)."""
    text = json.dumps(_clean(obj), indent=1, ensure_ascii=False, allow_nan=False)
    atomic_write_bytes(path, text.encode())
    return Path(path)


def save_figure(fig: Figure, path, *, dpi: int = 120) -> Path:
    """Save a figure as PNG, atomically."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


# -- text ----------------------------------------------------------------------------------------


def _fmt(z: complex) -> str:
    z = complex(z)
    return f"{z.real:.4g}" if z.imag == 0 else f"{z.real:.4g}{z.imag:+.4g}j"


def _converged(spec, k: int) -> str:
    """``"c/k converged"`` against the number asked for (a failed solve keeps only the
    converged values, so their count alone would read ``0/0``)."""
    wanted = max(min(k, spec.size), spec.values.size)
    return f"{int(np.count_nonzero(spec.converged))}/{wanted} converged"


def summary_lines(result: ProbeResult, *, label: str = "") -> list[str]:
    """A few lines for a terminal: sizes, top eigenvalues, radii, the theory's summary."""
    head = f"{label}: " if label else ""
    lines = [
        f"{head}{result.game}: n = {result.n} (φ {result.n_phi}, θ {result.n_theta}), "
        f"{result.dtype}, ‖v‖ = {result.stationarity:.3g}, {result.n_products} products, "
        f"{result.seconds:.1f} s"
    ]
    for which, spec in result.jacobian.items():
        top = ", ".join(_fmt(v) for v in spec.values[:3])
        lines.append(f"  ∇v {which} ({spec.method}, {_converged(spec, result.k)}): {top}, …")
    for player, spec in result.hessians.items():
        top = ", ".join(_fmt(v.real) for v in spec.values[:3])
        lines.append(
            f"  {HESSIAN_NAMES[player]} LM ({spec.method}, {_converged(spec, result.k)}): {top}, …"
        )
    if result.update is not None:
        lines.append(
            f"  ∇F ({result.update.method}): spectral radius {result.update.spectral_radius:.6f}"
        )
    if result.advice and "summary" in result.advice:
        lines.append("  theory: " + result.advice["summary"])
    lines.extend(f"  note: {n}" for n in result.notes)
    lines.extend(f"  NOT CONVERGED: {e}" for e in result.errors)
    return lines


# -- figures -------------------------------------------------------------------------------------


def spectrum_figure(result: ProbeResult, *, title: str | None = None) -> Figure:
    """∇v's eigenvalues (complex plane, one marker per selection), both players' Hessian
    eigenvalues, and ∇F's eigenvalues with the unit circle (Theorem 1: inside means converging).
    Eigenvalues that did not converge are drawn hollow."""
    ncols = 2 + (result.update is not None)
    fig, axes = new_figure(1, ncols, width=4.3, height=4.0)
    ax = axes[0, 0]
    complex_plane(ax, title="eigenvalues of ∇v")
    ax.set_aspect("auto")
    if result.jacobian_full is not None:
        full = result.jacobian_full
        ax.scatter(full.real, full.imag, s=8, color="0.75", label="all (dense)", zorder=0)
    for i, (which, spec) in enumerate(result.jacobian.items()):
        _scatter(ax, spec.values, spec.converged, f"C{i}", _MARKERS.get(which, "o"), which)
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    for i, (player, spec) in enumerate(result.hessians.items()):
        role = "discriminator" if player == "phi" else "generator"
        label = f"{HESSIAN_NAMES[player]} ({role})"
        order = np.argsort(-np.abs(spec.values), kind="stable")  # largest |λ| first
        v, ok = spec.values.real[order], np.asarray(spec.converged, bool)[order]
        color = f"C{i + 4}"
        ax.plot(np.arange(v.size), v, "-", lw=1, color=color, label=label)
        ax.scatter(np.flatnonzero(ok), v[ok], s=12, color=color)
        if (~ok).any():
            ax.scatter(
                np.flatnonzero(~ok),
                v[~ok],
                s=12,
                facecolors="none",
                edgecolors=color,
                label=f"{label} (not converged)",
            )
    ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("rank by |λ|")
    ax.set_ylabel("eigenvalue")
    ax.set_title("player Hessians (largest |λ|)", fontsize=10)
    if result.hessians:
        ax.legend(fontsize=8)
    if result.update is not None:
        ax = axes[0, 2]
        spec = result.update
        complex_plane(
            ax, title=f"eigenvalues of ∇F ({spec.method}), ρ = {spec.spectral_radius:.4f}"
        )
        unit_circle(ax)
        _scatter(ax, spec.values, spec.converged, "C3", "o", "∇F")
        lim = max(1.1, float(np.abs(spec.values).max(initial=0.0)) * 1.05)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.legend(fontsize=8, loc="lower left")
    fig.suptitle(title or f"{result.game}: n = {result.n}, {result.dtype}", fontsize=11)
    return fig


def _scatter(ax, values, converged, color, marker, label):
    values = np.asarray(values)
    converged = np.asarray(converged, bool)
    ax.scatter(
        values.real[converged],
        values.imag[converged],
        s=18,
        color=color,
        marker=marker,
        label=label,
    )
    if (~converged).any():
        ax.scatter(
            values.real[~converged],
            values.imag[~converged],
            s=18,
            facecolors="none",
            edgecolors=color,
            marker=marker,
            label=f"{label} (not converged)",
        )


def trajectory_figure(
    steps: Sequence[int], results: Sequence[ProbeResult], *, title: str | None = None
) -> Figure:
    """How the spectra move over training: ∇v's eigenvalues in the complex plane coloured by step,
    then per step the largest |λ|, the largest |Im λ| and the smallest Re λ of ∇v, the largest
    eigenvalue of each player's Hessian, and the spectral radius of ∇F (with 1, the stability
    threshold)."""
    if len(steps) != len(results) or not results:
        raise ValueError("steps, results: expected two non-empty sequences of the same length")
    steps = np.asarray(steps)
    fig, axes = new_figure(1, 3, width=4.3, height=4.0)
    ax = axes[0, 0]
    complex_plane(ax, title="eigenvalues of ∇v over training")
    ax.set_aspect("auto")
    norm = mpl.colors.Normalize(
        vmin=float(steps.min()), vmax=float(max(steps.max(), steps.min() + 1))
    )
    colors = mpl.colormaps["viridis"]
    for step, res in zip(steps, results, strict=True):
        lam = res.jacobian_eigenvalues()
        ax.scatter(lam.real, lam.imag, s=12, color=colors(norm(step)))
    fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=colors), ax=ax, label="step")

    def per_step(fn):
        out = []
        for res in results:
            lam = res.jacobian_eigenvalues()
            out.append(fn(lam) if lam.size else np.nan)
        return np.asarray(out, dtype=float)

    ax = axes[0, 1]
    of = "∇v" if all(r.jacobian_full is not None for r in results) else "∇v (probed λ)"
    ax.plot(steps, per_step(lambda v: np.abs(v).max()), "o-", ms=3, label=f"max |λ| of {of}")
    ax.plot(
        steps, per_step(lambda v: np.abs(v.imag).max()), "s-", ms=3, label=f"max |Im λ| of {of}"
    )
    ax.plot(steps, per_step(lambda v: v.real.min()), "^-", ms=3, label=f"min Re λ of {of}")
    for i, player in enumerate(("phi", "theta")):
        top = [
            float(np.abs(r.hessians[player].values).max()) if player in r.hessians else np.nan
            for r in results
        ]
        ax.plot(steps, top, "--", color=f"C{i + 4}", label=f"max |λ| of {HESSIAN_NAMES[player]}")
    ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("step")
    ax.set_title("spectral summaries", fontsize=10)
    ax.legend(fontsize=7)
    ax = axes[0, 2]
    rho = [r.update.spectral_radius if r.update is not None else np.nan for r in results]
    ax.plot(steps, rho, "o-", ms=3, color="C3", label="ρ(∇F)")
    ax.axhline(1.0, color="black", lw=1.0, label="1 (stability)")
    ax.set_xlabel("step")
    ax.set_title("spectral radius of the update operator", fontsize=10)
    ax.legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def path_angle_figure(pa: PathAngle, *, title: str | None = None) -> Figure:
    """The path-angle (Berard et al. 2020): cosine between v and the line, and ‖v‖, along α."""
    fig, axes = new_figure(2, 1, width=5.0, height=2.4)
    ax = axes[0, 0]
    ax.plot(pa.alphas, pa.cosine, color="C3")
    ax.axhline(0.0, color="0.6", lw=0.8, ls="--")
    for x in (0.0, 1.0):
        ax.axvline(x, color="0.6", lw=0.8, ls=":")
    ax.set_ylabel("cos(v, ω₁ − ω₀)")
    ax.set_ylim(-1.05, 1.05)
    ax = axes[1, 0]
    ax.semilogy(pa.alphas, np.maximum(pa.norm, np.finfo(float).tiny), color="C0")
    for x in (0.0, 1.0):
        ax.axvline(x, color="0.6", lw=0.8, ls=":")
    ax.set_xlabel("α   (ω_α = ω₀ + α(ω₁ − ω₀))")
    ax.set_ylabel("‖v(ω_α)‖")
    fig.suptitle(title or "path-angle", fontsize=11)
    return fig


def comparison_figure(
    series: dict[str, tuple[Sequence[int], Sequence[ProbeResult]]], *, title: str | None = None
) -> Figure:
    """Several runs side by side over training: the spectral radius of each run's own update
    operator ∇F, the largest |Im λ| and the smallest Re λ of ∇v."""
    if not series:
        raise ValueError("series: expected at least one run")
    fig, axes = new_figure(1, 3, width=4.3, height=3.6)
    for i, (label, (steps, results)) in enumerate(series.items()):
        steps = np.asarray(steps)
        rho = [r.update.spectral_radius if r.update is not None else np.nan for r in results]
        lam = [r.jacobian_eigenvalues() for r in results]
        imag = [np.abs(v.imag).max() if v.size else np.nan for v in lam]
        low = [v.real.min() if v.size else np.nan for v in lam]
        style = {"color": f"C{i}", "marker": "o", "ms": 3, "label": label}
        axes[0, 0].plot(steps, rho, **style)
        axes[0, 1].plot(steps, imag, **style)
        axes[0, 2].plot(steps, low, **style)
    axes[0, 0].axhline(1.0, color="black", lw=1.0)
    titles = ("spectral radius of ∇F (1: stability)", "max |Im λ| of ∇v", "min Re λ of ∇v")
    for ax, name in zip(axes[0], titles, strict=True):
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
    axes[0, 2].axhline(0.0, color="0.7", lw=0.8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
