"""Shared drawing helpers: a figure without pyplot, the unit circle, complex points, stream plots.

Figures are built with :class:`matplotlib.figure.Figure` directly (no ``pyplot`` state), so that
a library call never leaks open figures; ``Figure.savefig`` and Jupyter display work as usual.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle

__all__ = [
    "new_figure",
    "unit_circle",
    "circle",
    "complex_plane",
    "streams",
    "fmt_complex",
]


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 4.2, height: float = 4.0):
    """A constrained-layout :class:`Figure` and its axes (always a 2-D array of ``Axes``)."""
    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def fmt_complex(z: complex, digits: int = 3) -> str:
    """``1.5`` for a real number, ``1+1.5j`` otherwise (Python's notation, fewer digits)."""
    z = complex(z)
    if z.imag == 0:
        return f"{z.real:.{digits}g}"
    if z.real == 0:
        return f"{z.imag:.{digits}g}j"
    return f"{z.real:.{digits}g}{z.imag:+.{digits}g}j"


def circle(ax: Axes, radius: float, *, center: complex = 0.0, **style) -> Circle:
    """Draw a circle of ``radius`` (a patch, so tests can read its radius back)."""
    patch = Circle((float(np.real(center)), float(np.imag(center))), float(radius), fill=False)
    patch.set(**style)
    ax.add_patch(patch)
    return patch


def unit_circle(ax: Axes, **style) -> Circle:
    """The unit circle in black: the boundary of convergence (Theorem 1 / Proposition 6)."""
    kwargs = {"color": "black", "lw": 1.2, "label": "unit circle"} | style
    return circle(ax, 1.0, **kwargs)


def complex_plane(ax: Axes, *, title: str | None = None, lim: float | None = None) -> None:
    """Equal aspect, axes through the origin, labelled Re / Im."""
    ax.set_aspect("equal")
    ax.axhline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0.0, color="0.8", lw=0.8, zorder=0)
    ax.set_xlabel("Re")
    ax.set_ylabel("Im")
    if lim is not None:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    if title:
        ax.set_title(title, fontsize=10)


def streams(ax: Axes, x: np.ndarray, y: np.ndarray, u: np.ndarray, v: np.ndarray, **style):
    """Stream plot of the flow ``(u, v)`` on the grid ``x × y`` (``u[i, j]`` at ``(x[j], y[i])``)."""
    kwargs = {"density": 1.1, "linewidth": 0.7, "arrowsize": 0.8, "color": "0.45"} | style
    return ax.streamplot(np.asarray(x), np.asarray(y), np.asarray(u), np.asarray(v), **kwargs)
