"""Gradient descent on a game: paper Theorem 2 (best step size) and lecture Lemma 11 (stability)."""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from spectra.theory._inputs import (
    _canonical,
    _check_broadcast,
    _check_eta,
    _check_finite,
    _complex,
    _nan_unless,
    _pad_spectrum,
    _spectrum,
    _traced,
)

Array = jax.Array


def gd_rate(lam, *, eta) -> Array:
    """``|1 − ηλ|``: the modulus of the eigenvalue of ``∇F_η = I − η∇v`` that λ becomes.

    Assumption: none beyond finite inputs and η > 0. Source: paper eq. 3 and Fig. 2; lecture
    Proposition 6 (the rate of simultaneous gradient descent is the largest of these).
    """
    _check_finite(lam, "lam")
    _check_eta(eta)
    _check_broadcast(lam=lam, eta=eta)
    return jnp.abs(1 - eta * _complex(lam))


def gd_spectral_radius(eigenvalues, *, eta) -> Array:
    """``ρ(I − η∇v) = max_k |1 − ηλ_k|``, broadcast over an array ``eta``.

    Source: paper Theorem 1 and eq. 3. Shape of the result: the shape of ``eta``.
    """
    lam = _spectrum(eigenvalues, None)
    _check_eta(eta)
    eta = jnp.asarray(eta)
    return jnp.max(jnp.abs(1 - eta[..., None] * lam), axis=-1)


# -- Theorem 2: the best step size of gradient descent ----------------------------------------


class StepSizeResult(NamedTuple):
    """The best step size of simultaneous gradient descent for a spectrum (paper Theorem 2).

    Attributes:
        eta: ``η_best = argmin_η max_k |1 − ηλ_k|``.
        rho: ``ρ_max(η_best) = max_k |1 − η_best λ_k|``, the spectral radius (not squared).
        eta_bounds: ``(Re(1/λ₁), 2 Re(1/λ₁))``, bounds on η_best from eq. 4.
        rho_squared_bounds: ``(max_k sin²ψ_k, 1 − Re(1/λ₁) δ)``, bounds on ``ρ_max²`` from eq. 4.
        active: boolean mask over the input: the limiting eigenvalues, those with
            ``|1 − η_best λ_k| = ρ_max`` (up to rounding; a conjugate pair is marked twice).
        tangent: True when ``η_best`` is the vertex ``Re(1/λ_k)`` of one limiting eigenvalue
            (Fig. 2 left, "tangent" case); False when two trajectories cut (Fig. 2 right).
    """

    eta: Array
    rho: Array
    eta_bounds: tuple[Array, Array]
    rho_squared_bounds: tuple[Array, Array]
    active: Array
    tangent: Array


def _gd_squares(lam: Array, eta) -> Array:
    """``|1 − ηλ_k|² = (1 − η a_k)² + (η b_k)²`` (a sum of squares: never negative)."""
    return (1 - eta * lam.real) ** 2 + (eta * lam.imag) ** 2


@functools.partial(jax.jit, static_argnames=("n_bisect", "n_polish"))
def _optimal_step_size(
    lam: Array, n_valid=None, n_bisect: int = 96, n_polish: int = 8
) -> StepSizeResult:
    """Theorem 2 for ``lam``, of which only the first ``n_valid`` entries are the spectrum (all of
    them if None); the rest must repeat those entries (:func:`_pad_spectrum`). Repeats leave every
    max, min and first argmax unchanged; the polish ranks them last, so that it picks the same
    pieces, and every extra candidate it builds from them copies an earlier one: same result.

    Solved for ``λ / max|λ|`` (η_best scales as 1/|λ|, ρ not at all): ``|λ|²`` then neither
    overflows nor underflows, in float32 beyond |λ| ~ 1e19 or below ~1e-19."""
    lam = _canonical(lam)
    scale = jnp.max(jnp.abs(lam))
    scale = jnp.where(scale > 0, scale, 1)
    lam = lam / scale
    a, r2 = lam.real, jnp.abs(lam) ** 2
    inv_re = a / r2  # Re(1/λ_k): the vertex of the k-th parabola |1 − ηλ_k|²
    ok = jnp.all(a > 0)
    c1 = jnp.min(inv_re)

    # h(η) = max_k |1 − ηλ_k|² is a max of convex parabolas through (0, 1): convex, with its
    # minimiser in (0, 2 Re(1/λ₁)] (h(0) = 1 and the λ₁ parabola exceeds 1 beyond). Bisect on
    # the sign of a subgradient (the slope of the parabola attaining the max).
    def bisect(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        k = jnp.argmax(_gd_squares(lam, mid))
        slope = r2[k] * mid - a[k]
        return jnp.where(slope > 0, lo, mid), jnp.where(slope > 0, mid, hi)

    lo, hi = jax.lax.fori_loop(0, n_bisect, bisect, (jnp.zeros_like(c1), 2 * c1))
    eta_b = 0.5 * (lo + hi)

    # Exact polish: the minimiser is the vertex of one active parabola, or the crossing of two
    # (q_j = q_k ⇔ η = 2(a_j − a_k)/(|λ_j|² − |λ_k|²)). Candidates from the K largest pieces at
    # the bisection point, each evaluated exactly; vertices first, so ties count as tangent.
    k = min(lam.shape[0], n_polish)
    score = _gd_squares(lam, eta_b)
    if n_valid is not None:
        score = jnp.where(jnp.arange(lam.shape[0]) < n_valid, score, -jnp.inf)
    _, top = jax.lax.top_k(score, k)
    aj, rj = a[top][:, None], r2[top][:, None]
    den = rj - rj.T
    safe = jnp.where(den != 0, den, 1)
    cross = jnp.where(den != 0, 2 * (aj - aj.T) / safe, eta_b)
    cand = jnp.concatenate([inv_re[top], cross.ravel(), eta_b[None]])
    cand = jnp.where((cand > 0) & jnp.isfinite(cand), cand, eta_b)
    values = jax.vmap(lambda e: jnp.max(_gd_squares(lam, e)))(cand)
    eps = jnp.finfo(values.dtype).eps
    best, vertex = jnp.argmin(values), jnp.argmin(values[:k])
    tangent = values[vertex] <= values[best] + 16 * eps  # a vertex as good, up to rounding
    best = jnp.where(tangent, vertex, best)
    eta, rho2 = cand[best], values[best]
    active = _gd_squares(lam, eta) >= rho2 - 1e3 * eps
    delta = jnp.min(r2 * (2 * inv_re - c1))
    sin2 = jnp.max(lam.imag**2 / r2)
    return StepSizeResult(
        eta=_nan_unless(ok, eta / scale),
        rho=_nan_unless(ok, jnp.sqrt(rho2)),
        eta_bounds=(_nan_unless(ok, c1 / scale), _nan_unless(ok, 2 * c1 / scale)),
        rho_squared_bounds=(_nan_unless(ok, sin2), _nan_unless(ok, 1 - c1 * delta)),
        active=active & ok,
        tangent=tangent & ok,
    )


def optimal_step_size(eigenvalues) -> StepSizeResult:
    """The best step size of simultaneous gradient descent and the bounds of paper Theorem 2.

    Assumption: ``Re λ_k > 0`` for all k. Source: paper Theorem 2, eq. 4 (and Fig. 2):
    ``η_best = argmin_η max_k |1 − ηλ_k|``, with, for λ sorted so that
    ``0 < Re(1/λ₁) ≤ … ≤ Re(1/λ_m)``, ``δ = min_k |λ_k|²(2Re(1/λ_k) − Re(1/λ₁))`` and
    ``λ_k = r_k e^{iψ_k}``:

    .. math:: \\max_k \\sin^2ψ_k ≤ ρ_{max}(η_{best})^2 ≤ 1 − \\Re(1/λ_1)δ,\\qquad
              \\Re(1/λ_1) ≤ η_{best} ≤ 2\\Re(1/λ_1).

    Solved exactly as the convex piecewise-quadratic problem ``min_η max_k |1 − ηλ_k|²``:
    bisection on a subgradient to machine precision, then an exact polish among the vertices and
    pairwise crossings of the pieces that are largest there (a vertex is preferred when it is as
    good up to rounding, so the tangent case lands exactly on ``Re(1/λ_k)``). No grid; ``O(m)`` per step, so a
    thousand eigenvalues cost nothing. See :class:`StepSizeResult` for the fields.
    """
    lam = _spectrum(eigenvalues, "Theorem 2")
    if _traced(lam):
        return _optimal_step_size(lam)
    padded, n = _pad_spectrum(lam)  # one compilation per power-of-two size, not per size
    result = _optimal_step_size(padded, n)
    return result._replace(active=jax.device_put(np.asarray(result.active)[:n]))


def limiting_eigenvalues(eigenvalues) -> Array:
    """Boolean mask of the eigenvalues that limit ``ρ_max`` at ``η_best`` (paper Theorem 2, Fig. 2):
    one (and its conjugate) in the tangent case, several in the cut case."""
    return optimal_step_size(eigenvalues).active


def max_stable_step(eigenvalues) -> Array:
    """The largest step size for which gradient descent is locally stable (supremum, excluded).

    Source: lecture Lemma 11 (Mescheder et al. 2017, Lemma 4), stated for ``I + hA`` with
    ``Re λ(A) < 0``; with ``A = −∇v`` it reads: ``ρ(I − η∇v) < 1`` iff for every k

    .. math:: η < \\frac{1}{\\Re λ_k} \\frac{2}{1 + (\\Im λ_k / \\Re λ_k)^2}
              = \\frac{2 \\Re λ_k}{|λ_k|^2} = 2\\Re(1/λ_k).

    Assumption: ``Re λ_k > 0`` (NaN under tracing otherwise).
    """
    lam = _spectrum(eigenvalues, "Lemma 11")
    mod = jnp.abs(lam)
    bound = jnp.min(2 * (lam.real / mod) / mod)  # 2 Re λ / |λ|², with no |λ|² to overflow
    return _nan_unless(jnp.all(lam.real > 0), bound)
