"""The (η, β) that minimise the worst momentum rate over a spectrum (paper §3, numerically)."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from spectra.theory._inputs import (
    _canonical,
    _nan_unless,
    _pad_spectrum,
    _spectrum,
    _traced,
    merge_conjugates,
)
from spectra.theory.momentum import _momentum_step_bound, _radius_squared
from spectra.theory.step_size import _optimal_step_size

Array = jax.Array


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
    lam, n_valid = merge_conjugates(lam), None
    if not _traced(lam):  # one compilation per power-of-two size (repeats change no max or min)
        lam, n_valid = _pad_spectrum(lam)
    gd = _optimal_step_size(lam, n_valid)
    return _optimal_momentum(lam, gd.eta, gd.rho, _momentum_step_bound(lam), n_grid=n_grid)
