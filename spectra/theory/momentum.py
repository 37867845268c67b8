"""Heavy-ball momentum: paper Theorem 3 (eigenvalues μ±) and Theorem 4 (interval I(λ))."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

from spectra.theory._inputs import (
    _check_beta,
    _check_broadcast,
    _check_eta,
    _check_finite,
    _check_stable_half_plane,
    _complex,
    _nan_unless,
    _spectrum,
)

Array = jax.Array


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
    _check_beta(beta)
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
    _check_beta(beta)
    _check_broadcast(lam=lam, eta=eta, beta=beta)
    lam = _complex(lam)
    return jnp.sqrt(_rate_squared(lam.real, lam.imag, eta, beta))


def momentum_spectral_radius(eigenvalues, *, eta, beta) -> Array:
    """``ρ(∇F_{η,β}(ω*)) = max_k momentum_rate(λ_k)``, broadcast over arrays ``eta``, ``beta``.

    Source: paper Theorems 1 and 3. Shape of the result: ``broadcast(eta, beta)``.
    """
    lam = _spectrum(eigenvalues, None)
    _check_eta(eta)
    _check_beta(beta)
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
    ``(ρ²)'(0) = 2 Re(z̄ − z̄/z)`` with ``z = 1 − ηλ``, which equals
    ``2η(−a + 2η|λ|² − η²a|λ|²) / |z|²`` for ``λ = a + ib``; its positive set is between the two
    roots above. Empty for real λ. Computed as ``lo = (a/|λ|) / (|λ| + |b|)`` and
    ``hi = (1 + |b|/|λ|) / a``, the same values without the cancellation of ``|λ| − |b|`` when λ
    is nearly imaginary (the paper's case) and without ``|λ|²``, which over- or underflows.

    Assumption: ``Re λ > 0`` (NaN under tracing otherwise). Broadcasts over ``lam``.
    """
    _check_finite(lam, "lam")
    _check_stable_half_plane(lam, "lam", "Theorem 4")
    lam = _complex(lam)
    mod, a = jnp.abs(lam), lam.real
    ok = a > 0
    b = jnp.abs(lam.imag)
    lo = (a / mod) / (mod + b)
    hi = (1 + b / mod) / a
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


# -- a step size bound for heavy ball --------------------------------------------------------


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
