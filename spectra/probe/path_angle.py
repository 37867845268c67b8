"""The path-angle between two points of a game (Berard et al., ICLR 2020, §3).

Along the straight line ``ω_α = ω_0 + α (ω_1 − ω_0)`` joining two points (two checkpoints of a
run, say, with ``α ∈ [a, b]`` a little wider than ``[0, 1]``), the path-angle is the cosine
between the game's vector field and the line's direction,

.. math::

    \\cos(α) = \\frac{\\langle v(ω_α),\\, ω_1 − ω_0 \\rangle}{\\lVert v(ω_α) \\rVert\\,
               \\lVert ω_1 − ω_0 \\rVert}.

For a minimisation problem (v a gradient) near a minimum it goes from −1 to +1 through 0, as the
gradient flips direction past the minimum; a rotational game keeps it near 0 with a bump where the
line passes the equilibrium, the signature Berard et al. use to tell rotation from attraction.
``dot(α) = ⟨v(ω_α), d⟩ / ‖d‖`` (the component of v along the line) and ``‖v(ω_α)‖`` are returned
too.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from spectra.games import Game
from spectra.probe.products import streamed_vector_field

__all__ = ["PathAngle", "path_angle"]


class PathAngle(NamedTuple):
    """The path-angle along ``ω_α = ω_0 + α (ω_1 − ω_0)``.

    Attributes:
        alphas: the positions α.
        cosine: ``cos(v(ω_α), ω_1 − ω_0)``.
        dot: ``⟨v(ω_α), ω_1 − ω_0⟩ / ‖ω_1 − ω_0‖``.
        norm: ``‖v(ω_α)‖``.
    """

    alphas: np.ndarray
    cosine: np.ndarray
    dot: np.ndarray
    norm: np.ndarray

    def to_dict(self) -> dict:
        return {key: np.asarray(value).tolist() for key, value in self._asdict().items()}


def path_angle(
    game: Game,
    w0,
    w1,
    *,
    alphas=None,
    minibatch: int | None = None,
) -> PathAngle:
    """The path-angle of ``game`` from ``w0`` to ``w1`` (module docstring).

    Args:
        game: the game (its data: the evaluation batch).
        w0, w1: flat points ``(φ, θ)`` (e.g. two checkpoints of one run).
        alphas: positions along the line; default 49 points on ``[−0.2, 1.2]``.
        minibatch: stream the batch (see :func:`spectra.probe.products.split_batch`).
    """
    n = game.n
    w0 = jnp.asarray(w0, game.dtype)
    w1 = jnp.asarray(w1, game.dtype)
    for name, w in (("w0", w0), ("w1", w1)):
        if w.shape != (n,):
            raise ValueError(f"{name}: expected a flat vector of shape ({n},), got {w.shape}")
        if not bool(jnp.all(jnp.isfinite(w))):
            raise ValueError(f"{name}: expected finite values")
    d = w1 - w0
    d_norm = float(jnp.linalg.norm(d))
    if d_norm == 0.0:
        raise ValueError("w1: expected a point different from w0 (the line has no direction)")
    alphas = np.linspace(-0.2, 1.2, 49) if alphas is None else np.asarray(alphas, dtype=float)
    if alphas.ndim != 1 or alphas.size == 0 or not np.all(np.isfinite(alphas)):
        raise ValueError("alphas: expected a non-empty 1-D array of finite positions")
    cosine, dot, norm = [], [], []
    for alpha in alphas:
        v = streamed_vector_field(game, w0 + alpha * d, minibatch=minibatch)
        v_norm = float(jnp.linalg.norm(v))
        proj = float(jnp.vdot(v, d)) / d_norm
        dot.append(proj)
        norm.append(v_norm)
        cosine.append(proj / v_norm if v_norm > 0 else 0.0)
    return PathAngle(alphas, np.asarray(cosine), np.asarray(dot), np.asarray(norm))
