"""Figures of the GAN trainer: arrays in, ``matplotlib.figure.Figure`` out (no computation).

Samples of a run (a scatter over the mixture's modes, or a grid of images), and the grid sweep's
heat map with the best samples of each row (the layout of Gidel et al. 2019, Fig. 3).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

__all__ = ["scatter_samples", "image_grid", "heatmap", "best_rows"]


def _draw_scatter(ax, samples, centres, title):
    samples = np.asarray(samples)
    ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.4, color="tab:blue", label="generated")
    if centres is not None:
        centres = np.asarray(centres)
        ax.scatter(centres[:, 0], centres[:, 1], s=30, marker="x", color="tab:red", label="modes")
        lim = 1.5 * np.abs(centres).max()
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.legend(fontsize=6, loc="upper right", markerscale=2)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=6)


def _tile(images, n_side: int) -> np.ndarray:
    images = np.asarray(images)[: n_side * n_side, ..., 0]
    n, h, w = images.shape
    canvas = np.full((n_side * (h + 1) + 1, n_side * (w + 1) + 1), -1.0)
    for i in range(n):
        r, c = divmod(i, n_side)
        canvas[1 + r * (h + 1) : 1 + r * (h + 1) + h, 1 + c * (w + 1) : 1 + c * (w + 1) + w] = (
            images[i]
        )
    return canvas


def _draw_images(ax, images, title, n_side):
    ax.imshow(_tile(images, n_side), cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title, fontsize=8)


def scatter_samples(samples, centres=None, *, title: str = "") -> Figure:
    """2-D generated samples over the mixture's mode centres."""
    fig = Figure(figsize=(4, 4), dpi=100)
    _draw_scatter(fig.add_subplot(), samples, centres, title)
    fig.tight_layout()
    return fig


def image_grid(images, *, title: str = "", n_side: int = 8) -> Figure:
    """An ``n_side × n_side`` grid of single-channel images in [−1, 1], shape ``(n, h, w, 1)``."""
    fig = Figure(figsize=(4, 4.3), dpi=100)
    _draw_images(fig.add_subplot(), images, title, n_side)
    fig.tight_layout()
    return fig


def heatmap(
    scores,
    *,
    rows: Sequence[float],
    cols: Sequence[float],
    label: str,
    title: str = "",
    diverged=None,
    n_seeds: int = 1,
) -> Figure:
    """Scores on the (discriminator β = rows) × (discriminator η = columns) grid, annotated with
    three significant digits. ``diverged``: per cell, how many of the ``n_seeds`` seeds diverged
    (their score counts as 0): a cell where all did is hatched and labelled, not coloured as a
    low score."""
    scores = np.asarray(scores, dtype=float)
    counts = np.zeros(scores.shape, int) if diverged is None else np.asarray(diverged, int)
    fig = Figure(figsize=(1.1 * len(cols) + 2.5, 0.6 * len(rows) + 1.6), dpi=100)
    ax = fig.add_subplot()
    shown = np.where(counts >= n_seeds, np.nan, scores)  # all seeds diverged: no score
    image = ax.imshow(shown, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(cols)), [f"{c:g}" for c in cols])
    ax.set_yticks(range(len(rows)), [f"{r:g}" for r in rows])
    ax.set_xlabel("discriminator step size η")
    ax.set_ylabel("discriminator momentum β")
    finite = scores[np.isfinite(scores)]
    mid = (finite.min() + finite.max()) / 2 if finite.size else 0.0
    for (i, j), value in np.ndenumerate(scores):
        if counts[i, j] >= n_seeds:
            ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="xx", ec="0.5"))
            text, color = "diverged", "black"
        else:
            text = "NaN" if not np.isfinite(value) else f"{value:.3g}"
            if counts[i, j]:
                text += f"\n({counts[i, j]}/{n_seeds} diverged)"
            color = "black" if np.isfinite(value) and value > mid else "white"
        ax.text(j, i, text, ha="center", va="center", fontsize=7, color=color)
    fig.colorbar(image, ax=ax, label=label)
    ax.set_title(textwrap.fill(title, 60), fontsize=8)
    fig.tight_layout()
    return fig


def best_rows(samples: Sequence, titles: Sequence[str], *, centres=None) -> Figure:
    """One panel per grid row with the samples of that row's best configuration."""
    n = len(samples)
    fig = Figure(figsize=(2.6 * n, 2.9), dpi=100)
    for i, (s, title) in enumerate(zip(samples, titles, strict=True)):
        ax = fig.add_subplot(1, n, i + 1)
        s = np.asarray(s)
        if s.ndim == 2:
            _draw_scatter(ax, s, centres, title)
        else:
            _draw_images(ax, s, title, 6)
    fig.tight_layout()
    return fig
