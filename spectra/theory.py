"""Closed forms of the seed theorems on the spectrum of ∇v at a stationary point ω*.

Sign convention: gradient *descent*, ``F_η(ω) = ω − η v(ω)``, so ``∇F_η = I − η∇v`` and local
stability needs ``Re λ > 0`` for every eigenvalue λ of ∇v. Every function takes eigenvalues of
∇v (complex or real arrays; a complex conjugate gives the same rate, so either or both may be
passed) and the hyperparameters as keywords.

- Theorem 2 (Gidel et al. 2019): :func:`optimal_step_size`, :func:`limiting_eigenvalues`.
- Lemma 11 of the lecture (Lemma 4 of Mescheder et al. 2017): :func:`max_stable_step`.
- Theorem 3 (paper eq. 7): :func:`momentum_eigenvalues`, :func:`momentum_rate`.
- Theorem 4 (paper eq. 9): :func:`momentum_interval`, :func:`is_in_interval`,
  :func:`interval_intersection`.
- Optimal heavy-ball parameters for a spectrum (numerical, paper §3): :func:`optimal_momentum`.

Everything is ``jit``/``vmap``-able. With concrete inputs the assumptions are checked and a
violation raises a ``ValueError`` naming the argument; under tracing the checks are skipped and
quantities whose assumption fails come out as NaN rather than as a wrong number.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array

__all__ = [
    "gd_rate",
    "gd_spectral_radius",
    "momentum_eigenvalues",
    "momentum_rate",
    "momentum_spectral_radius",
    "Interval",
    "momentum_interval",
    "is_in_interval",
    "interval_intersection",
    "StepSizeResult",
    "optimal_step_size",
    "limiting_eigenvalues",
    "max_stable_step",
    "momentum_step_bound",
    "merge_conjugates",
    "MomentumResult",
    "optimal_momentum",
]


# -- input handling -----------------------------------------------------------------------


def _traced(*xs) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def _complex(x) -> Array:
    x = jnp.asarray(x)
    return x if jnp.iscomplexobj(x) else x.astype(jnp.result_type(x.dtype, jnp.complex64))


def _check_finite(x, name: str) -> None:
    if not _traced(x) and not np.all(np.isfinite(np.asarray(x))):
        raise ValueError(f"{name}: expected finite values")


def _check_eta(eta) -> None:
    _check_finite(eta, "eta")
    if not _traced(eta) and not np.all(np.asarray(eta) > 0):
        raise ValueError("eta: expected a step size > 0")


def _check_broadcast(**arrays) -> None:
    try:
        np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(a)}" for k, a in arrays.items())
        raise ValueError(f"{', '.join(arrays)}: shapes do not broadcast ({shapes})") from None


def _check_stable_half_plane(lam, name: str, source: str) -> None:
    if not _traced(lam) and not np.all(np.real(np.asarray(lam)) > 0):
        raise ValueError(f"{name}: {source} assumes Re λ > 0 for every eigenvalue")


def _spectrum(eigenvalues, source: str | None) -> Array:
    """A validated 1-D complex spectrum: non-empty, finite and, if ``source`` names the result
    that assumes it, with ``Re λ > 0`` (checked when concrete)."""
    lam = _complex(eigenvalues)
    if lam.ndim == 0:
        lam = lam[None]
    if lam.ndim != 1:
        raise ValueError(f"eigenvalues: expected a 1-D sequence, got shape {lam.shape}")
    if lam.shape[0] == 0:
        raise ValueError("eigenvalues: expected a non-empty spectrum")
    _check_finite(lam, "eigenvalues")
    if source is not None:
        _check_stable_half_plane(lam, "eigenvalues", source)
    return lam


def _canonical(lam: Array) -> Array:
    """``Re λ + i|Im λ|``: one representative per conjugate pair (rates are conjugation-blind)."""
    return lam.real + 1j * jnp.abs(lam.imag)


def merge_conjugates(eigenvalues) -> Array:
    """One representative ``Re λ + i|Im λ|`` per conjugate pair, exact duplicates removed.

    Every rate here is the same for λ and its conjugate (real η, β), so a real ∇v's spectrum
    needs only half the work. Duplicates are removed only for concrete input (under tracing the
    shape must stay fixed, so only the representatives are taken). Order: sorted.
    """
    lam = _canonical(_spectrum(eigenvalues, None))
    if _traced(lam):
        return lam
    pairs = np.unique(np.stack([np.real(lam), np.imag(lam)], axis=1), axis=0)
    return jnp.asarray(pairs[:, 0] + 1j * pairs[:, 1], dtype=lam.dtype)


def _nan_unless(ok, x):
    return jnp.where(ok, x, jnp.nan)


# -- gradient descent: |1 − ηλ| -----------------------------------------------------------


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


# -- Theorem 3: heavy-ball momentum ---------------------------------------------------------


def _momentum_s_r(lam, eta, beta):
    s = 1 - eta * _complex(lam) + beta
    return s, jnp.sqrt(s * s - 4 * beta)


def momentum_eigenvalues(lam, *, eta, beta) -> tuple[Array, Array]:
    """The two eigenvalues ``(μ₊, μ₋)`` of ``∇F_{η,β}(ω*)`` that an eigenvalue λ of ∇v becomes.

    Source: paper Theorem 3, eq. 7 (the Jacobian is eq. 6):

    .. math:: μ_± = (1 − ηλ + β) \\frac{1 ± Δ^{1/2}}{2},\\qquad Δ = 1 − \\frac{4β}{(1 − ηλ + β)^2},

    with ``Δ^{1/2}`` the square root of positive real part, and ``Δ^{1/2} := i√(−Δ)`` when Δ is a
    negative real number (paper footnote 3). They are the roots of ``μ² − sμ + β = 0`` with
    ``s = 1 − ηλ + β``, which also defines them at ``s = 0`` (where Δ is undefined): there
    ``μ₊ = √(−β)`` (principal root) and ``μ₋ = −μ₊``.

    Computed without cancellation: ``r = √(s² − 4β)``, the sign σ = ±1 with ``σr = sΔ^{1/2}``
    (``Re(σ r s̄) > 0``, or ``Im(σ r s̄) > 0`` in the footnote's case), ``μ₊ = (s + σr)/2`` and
    ``μ₋ = β/μ₊``. With this labelling ``|μ₊| ≥ |μ₋|`` always.

    Assumption: none (any complex λ, η > 0, real β). Broadcasts over ``lam``, ``eta``, ``beta``;
    the dtype is the complex type of the inputs.
    """
    _check_finite(lam, "lam")
    _check_eta(eta)
    _check_finite(beta, "beta")
    _check_broadcast(lam=lam, eta=eta, beta=beta)
    s, r = _momentum_s_r(lam, eta, beta)
    p = r * jnp.conj(s)
    sigma = jnp.where(p.real != 0, jnp.sign(p.real), jnp.where(p.imag < 0, -1.0, 1.0))
    mu_plus = 0.5 * (s + sigma * r)
    nonzero = mu_plus != 0
    mu_minus = jnp.where(nonzero, beta / jnp.where(nonzero, mu_plus, 1), 0)
    return mu_plus, mu_minus.astype(mu_plus.dtype)


def _rate_squared(a, b, eta, beta):
    """``|μ₊|² = max(|μ₊|², |μ₋|²)`` for ``λ = a + ib``, in real arithmetic.

    With ``s = x + iy = 1 − ηλ + β`` and ``w = u + iv = s² − 4β``, any root ``r`` of w gives
    ``max(|s + r|, |s − r|)² = |s|² + |w| + 2|Re(s r̄)|``: a sum of non-negative terms (no
    cancellation). r is taken with the stable complex square root (the larger component by a
    square root, the other by a division), and the sign of r does not matter. ``u² + v²`` is not
    rescaled: it overflows (to ``inf``, a correct "unstable") only for ``|1 − ηλ + β|`` beyond
    about 1e9 in float32 and 1e77 in float64.
    """
    x = 1 + beta - eta * a
    y = -eta * b
    u = (x - y) * (x + y) - 4 * beta
    v = 2 * x * y
    m = jnp.sqrt(u * u + v * v)
    t = jnp.sqrt(0.5 * (m + jnp.abs(u)))
    half = v / (2 * jnp.where(t > 0, t, 1))
    re = jnp.where(u >= 0, x * t + y * half, x * jnp.abs(half) + y * jnp.copysign(t, v))
    return 0.25 * (x * x + y * y + m + 2 * jnp.abs(re))


def _radius_squared(lam: Array, eta, beta) -> Array:
    """``max_k |μ₊(λ_k)|²`` for a 1-D spectrum, broadcast over ``eta`` and ``beta``.

    A loop over the eigenvalues with the grid as the vectorised axis (under ``vmap`` too): an
    order of magnitude faster on CPU than reducing over a trailing eigenvalue axis.
    """
    a, b = lam.real, lam.imag
    eta, beta = jnp.asarray(eta), jnp.asarray(beta)
    shape = jnp.broadcast_shapes(eta.shape, beta.shape)
    dtype = jnp.result_type(a.dtype, eta.dtype, beta.dtype)

    def body(k, acc):
        return jnp.maximum(acc, _rate_squared(a[k], b[k], eta, beta))

    return jax.lax.fori_loop(0, lam.shape[0], body, jnp.zeros(shape, dtype))


def momentum_rate(lam, *, eta, beta) -> Array:
    """``max(|μ₊|, |μ₋|)``: the local rate contributed by λ under heavy-ball momentum.

    It is the square root of paper eq. 8's ``ρ_{λ,η}(β)``. Since ``|μ₊|² − |μ₋|² = |s|² Re Δ^{1/2}
    ≥ 0`` it equals ``|μ₊| = max(|s + r|, |s − r|)/2`` for either square root r of ``s² − 4β``
    (``s = 1 − ηλ + β``); it is computed in real arithmetic without cancellation. Source: paper
    Theorem 3 and eq. 8. Broadcasts over ``lam``, ``eta``, ``beta``.
    """
    _check_finite(lam, "lam")
    _check_eta(eta)
    _check_finite(beta, "beta")
    _check_broadcast(lam=lam, eta=eta, beta=beta)
    lam = _complex(lam)
    return jnp.sqrt(_rate_squared(lam.real, lam.imag, eta, beta))


def momentum_spectral_radius(eigenvalues, *, eta, beta) -> Array:
    """``ρ(∇F_{η,β}(ω*)) = max_k momentum_rate(λ_k)``, broadcast over arrays ``eta``, ``beta``.

    Source: paper Theorems 1 and 3. Shape of the result: ``broadcast(eta, beta)``.
    """
    lam = _spectrum(eigenvalues, None)
    _check_eta(eta)
    _check_finite(beta, "beta")
    _check_broadcast(eta=eta, beta=beta)
    return jnp.sqrt(_radius_squared(lam, eta, beta))


# -- Theorem 4: where a small negative momentum helps ------------------------------------


class Interval(NamedTuple):
    """An open interval ``(lo, hi)``; empty unless ``lo < hi`` (so NaN bounds count as empty)."""

    lo: Array
    hi: Array

    @property
    def is_empty(self) -> Array:
        return ~(jnp.asarray(self.lo) < jnp.asarray(self.hi))


def momentum_interval(lam) -> Interval:
    """``I(λ)``: the step sizes for which ``ρ'_{λ,η}(0) > 0``, so that a small β < 0 helps.

    Source: paper Theorem 4, eq. 9, stated there with ``Im λ``; since ρ is the same for λ and its
    conjugate, the interval must be symmetric in ``Im λ``, and it is, with ``|Im λ|``:

    .. math:: I(λ) = \\Big( \\frac{|λ| − |\\Im λ|}{|λ| \\Re λ}, \\frac{|λ| + |\\Im λ|}{|λ| \\Re λ} \\Big).

    (With ``Im λ < 0`` the paper's literal formula gives ``lo > hi``.) Derivation: at β = 0,
    ``ρ'(0) = 2 Re(z̄ − z̄/z)`` with ``z = 1 − ηλ``, which equals ``η(−a + 2η|λ|² − η²a|λ|²)`` for
    ``λ = a + ib``; its positive set is between the two roots above. Empty for real λ.

    Assumption: ``Re λ > 0`` (NaN under tracing otherwise). Broadcasts over ``lam``.
    """
    _check_finite(lam, "lam")
    _check_stable_half_plane(lam, "lam", "Theorem 4")
    lam = _complex(lam)
    mod, a = jnp.abs(lam), lam.real
    ok = a > 0
    lo = (mod - jnp.abs(lam.imag)) / (mod * a)
    hi = (mod + jnp.abs(lam.imag)) / (mod * a)
    return Interval(_nan_unless(ok, lo), _nan_unless(ok, hi))


def is_in_interval(lam, *, eta) -> Array:
    """Whether ``η ∈ I(λ)`` (paper Theorem 4): a small negative β then lowers ``ρ_{λ,η}``."""
    _check_eta(eta)
    _check_broadcast(lam=lam, eta=eta)
    lo, hi = momentum_interval(lam)
    return (lo < eta) & (eta < hi)


def interval_intersection(eigenvalues) -> Interval:
    """``∩_k I(λ_k)`` (paper §3, after Theorem 4): step sizes where a small β < 0 lowers every
    ``ρ_{λ_k,η}`` at once. Empty (``lo >= hi``) if they do not overlap, e.g. for a real λ."""
    lam = _spectrum(eigenvalues, "Theorem 4")
    lo, hi = momentum_interval(lam)
    return Interval(jnp.max(lo), jnp.min(hi))


# -- Theorem 2: the best step size of gradient descent -------------------------------------


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
def _optimal_step_size(lam: Array, n_bisect: int = 96, n_polish: int = 8) -> StepSizeResult:
    lam = _canonical(lam)
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
    _, top = jax.lax.top_k(_gd_squares(lam, eta_b), k)
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
        eta=_nan_unless(ok, eta),
        rho=_nan_unless(ok, jnp.sqrt(rho2)),
        eta_bounds=(_nan_unless(ok, c1), _nan_unless(ok, 2 * c1)),
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
    return _optimal_step_size(_spectrum(eigenvalues, "Theorem 2"))


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
    bound = jnp.min(2 * lam.real / jnp.abs(lam) ** 2)
    return _nan_unless(jnp.all(lam.real > 0), bound)


def momentum_step_bound(eigenvalues) -> Array:
    """A step size beyond which no β ∈ (−1, 1) makes heavy-ball momentum stable.

    If both roots of ``μ² − sμ + β`` lie in the unit disc, ``|s| = |μ₊ + μ₋| < 2`` with
    ``s = 1 − ηλ + β`` (paper Theorem 3), so ``η|Im λ| < 2`` and ``η Re λ < 3 + β < 4``:

    .. math:: η < \\min_k \\min(4/\\Re λ_k, 2/|\\Im λ_k|).

    A necessary condition, not a tight one; it bounds the search of :func:`optimal_momentum` and
    the η axis of a rate map. Assumption: ``Re λ_k > 0``.
    """
    return _momentum_step_bound(_spectrum(eigenvalues, "momentum_step_bound"))


def _momentum_step_bound(lam: Array) -> Array:
    b = jnp.abs(lam.imag)
    per = jnp.minimum(4 / lam.real, jnp.where(b > 0, 2 / jnp.where(b > 0, b, 1), jnp.inf))
    return _nan_unless(jnp.all(lam.real > 0), jnp.min(per))


# -- optimal heavy-ball parameters -----------------------------------------------------------


class MomentumResult(NamedTuple):
    """The best heavy-ball parameters for a spectrum, beside the best gradient descent.

    Attributes:
        eta, beta: the minimiser of ``ρ(η, β) = max_k momentum_rate(λ_k; η, β)``, β ∈ (−1, 1).
        rho: ``ρ(eta, beta)``, the local rate of momentum there (a spectral radius, not squared).
        gd_eta, gd_rho: ``η_best`` and ``ρ_max(η_best)`` of gradient descent (β = 0, Theorem 2).
    """

    eta: Array
    beta: Array
    rho: Array
    gd_eta: Array
    gd_rho: Array


_INV_PHI = (math.sqrt(5.0) - 1.0) / 2.0


def _golden(f, lo, hi, start, n: int):
    """Golden-section search of ``f: x -> (value, aux)`` on ``[lo, hi]``, ``n + 2`` evaluations.

    ``start = (x0, value0, aux0)`` is a point already evaluated. Returns the best point evaluated
    as ``(x, value, aux)``, so the reported value is always one that was attained.
    """
    c = hi - _INV_PHI * (hi - lo)
    d = lo + _INV_PHI * (hi - lo)
    fc, ac = f(c)
    fd, ad = f(d)
    best = jax.tree.map(lambda u, v: jnp.where(fc < fd, u, v), (c, fc, ac), (d, fd, ad))
    best = jax.tree.map(lambda u, v: jnp.where(best[1] < start[1], u, v), best, start)

    def body(_, carry):
        lo, hi, c, d, fc, fd, best = carry
        left = fc < fd  # the minimum is in [lo, d]
        lo, hi = jnp.where(left, lo, c), jnp.where(left, d, hi)
        x = jnp.where(left, hi - _INV_PHI * (hi - lo), lo + _INV_PHI * (hi - lo))
        fx, ax = f(x)
        c, d = jnp.where(left, x, d), jnp.where(left, c, x)
        fc, fd = jnp.where(left, fx, fd), jnp.where(left, fc, fx)
        best = jax.tree.map(lambda u, v: jnp.where(fx < best[1], u, v), (x, fx, ax), best)
        return lo, hi, c, d, fc, fd, best

    carry = jax.lax.fori_loop(0, n, body, (lo, hi, c, d, fc, fd, best))
    return carry[-1]


def _grid_then_golden(f, lo, hi, n_grid: int, n_golden: int):
    """Minimise ``f: x -> (value, aux)`` on ``[lo, hi]``: a midpoint grid, then golden-section
    search within one cell either side of the best grid point."""
    h = (hi - lo) / n_grid
    xs = lo + (jnp.arange(n_grid, dtype=h.dtype) + 0.5) * h
    values, aux = jax.vmap(f)(xs)
    j = jnp.argmin(values)
    a0 = jax.tree.map(lambda t: t[j], aux)
    lo_j, hi_j = jnp.maximum(xs[j] - h, lo), jnp.minimum(xs[j] + h, hi)
    return _golden(f, lo_j, hi_j, (xs[j], values[j], a0), n_golden)


@functools.partial(jax.jit, static_argnames=("n_grid", "n_golden", "n_seeds"))
def _optimal_momentum(lam, gd_eta, gd_rho, eta_hi, n_grid=128, n_golden=80, n_seeds=3):
    lam = _canonical(lam)
    dtype = lam.real.dtype
    one = jnp.ones((), dtype)

    def rate(eta, beta):
        return jnp.sqrt(_radius_squared(lam, eta, beta))

    def best_beta(eta):  # φ(η) = min_β ρ(η, β), and the β attaining it
        def f(beta):
            return rate(eta, beta), jnp.zeros((), dtype)

        beta, value, _ = _grid_then_golden(f, -one, one, 2 * n_grid, n_golden)
        return value, beta

    # Outer problem in η: φ on a grid; golden-section from the best few local minima of φ.
    h = eta_hi / n_grid
    etas = (jnp.arange(n_grid, dtype=dtype) + 0.5) * h
    phi, betas = jax.vmap(best_beta)(etas)
    padded = jnp.concatenate([jnp.array([jnp.inf], dtype), phi, jnp.array([jnp.inf], dtype)])
    local = (phi <= padded[:-2]) & (phi <= padded[2:])
    _, seeds = jax.lax.top_k(-jnp.where(local, phi, jnp.inf), n_seeds)

    def refine(i):
        lo, hi = jnp.maximum(etas[i] - h, 0), jnp.minimum(etas[i] + h, eta_hi)
        return _golden(best_beta, lo, hi, (etas[i], phi[i], betas[i]), n_golden)

    eta_s, rho_s, beta_s = jax.vmap(refine)(seeds)
    # Gradient descent (β = 0) is a candidate too: the result is never worse than Theorem 2.
    eta_s = jnp.concatenate([eta_s, gd_eta[None]])
    beta_s = jnp.concatenate([beta_s, jnp.zeros((1,), dtype)])
    rho_s = jnp.concatenate([rho_s, rate(gd_eta, jnp.zeros((), dtype))[None]])
    i = jnp.argmin(rho_s)
    ok = jnp.all(lam.real > 0)
    eta, beta, rho = (_nan_unless(ok, x[i]) for x in (eta_s, beta_s, rho_s))
    return MomentumResult(eta, beta, rho, gd_eta, gd_rho)


def optimal_momentum(eigenvalues, *, n_grid: int = 128) -> MomentumResult:
    """The heavy-ball parameters ``(η, β)`` that minimise the local rate for a spectrum.

    Minimises ``ρ(η, β) = max_k max(|μ₊(λ_k)|, |μ₋(λ_k)|)`` (paper Theorem 3, eq. 8, maximised over
    the spectrum) over ``0 < η < momentum_step_bound`` and ``β ∈ (−1, 1)``. The paper (§3, end)
    did this numerically and reports, "for any non-imaginary" single λ, β < 0 and η > Re(1/λ).
    The tests confirm it for every non-real λ with Re λ > 0 and find the optimum in closed form,
    ``ρ = tan(|ψ|/2)``, ``β = −tan²(ψ/2)``, ``η = (1 + β)/Re λ`` for ``λ = r e^{iψ}`` (vs.
    ``|sin ψ|`` for gradient descent); for a real λ it is β = 0, η = 1/λ, ρ = 0.

    Method: ``φ(η) = min_β ρ(η, β)`` is computed by a grid of ``2·n_grid`` values of β followed by
    golden-section search; φ is sampled on ``n_grid`` step sizes and each of its best local minima
    is refined by golden-section search in η. ρ is non-smooth (a maximum over roots, with
    square-root cusps where roots collide, which is where optima sit), which is why only
    derivative-free bracketing is used. The reported ``rho`` is attained at the reported
    ``(eta, beta)`` and is never worse than gradient descent's ``gd_rho``; in float64 it is within
    about 1e-8 of the optimum for well-separated minima.

    Assumption: ``Re λ_k > 0`` (so that a stable (η, β) exists). Conjugate pairs are merged.
    """
    lam = _spectrum(eigenvalues, "optimal_momentum")
    if not isinstance(n_grid, int) or n_grid < 8:
        raise ValueError(f"n_grid: expected an integer >= 8, got {n_grid!r}")
    lam = merge_conjugates(lam)
    gd = _optimal_step_size(lam)
    return _optimal_momentum(lam, gd.eta, gd.rho, _momentum_step_bound(lam), n_grid=n_grid)
