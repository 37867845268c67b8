"""Trace and eigenvalue density of a large operator from its products: Hutchinson and SLQ.

Two stochastic estimators that need nothing but ``x -> A x`` (Yao et al. 2020, *PyHessian*, use
them on neural-network Hessians; this module is written from the papers below):

**Hutchinson's trace estimator** (Hutchinson 1990; Avron & Toledo, *J. ACM* 58, 2011). For a
probe ``z`` with independent Rademacher entries (``±1`` with probability ½), ``E[z zᵀ] = I``, so

.. math::

    \\mathbb{E}[z^\\top A z] = \\operatorname{tr}(A), \\qquad
    \\operatorname{Var}[z^\\top A z] = \\tfrac12 \\sum_{i \\ne j} (A_{ij} + A_{ji})^2 ,

for any square ``A``, symmetric or not: ``zᵀAz`` only sees the symmetric part of ``A``, whose
trace is ``tr A``. On a game Jacobian this is ``tr ∇v = Σ λᵢ(∇v) = tr ∇²_φ L_φ + tr ∇²_θ L_θ``.
The diagonal never contributes to the variance (``zᵢ² = 1``): a diagonal ``A`` is estimated
exactly by a single probe.

**Stochastic Lanczos quadrature** (SLQ; Golub & Meurant, *Matrices, Moments and Quadrature*,
2010, ch. 6; Lin, Saad & Yang, *SIAM Review* 58, 2016, §3.2; Ubaru, Chen & Saad, *SIMAX* 38,
2017; used on network Hessians by Ghorbani, Krishnan & Xiao, ICML 2019). The spectral density of
a symmetric ``A`` with eigenvalues ``λ₁..λₙ`` is ``φ(t) = (1/n) Σᵢ δ(t − λᵢ)``. For a unit vector
``q = v/‖v‖``, ``qᵀ f(A) q = Σᵢ (uᵢᵀq)² f(λᵢ)`` is a Riemann–Stieltjes integral of ``f`` against
a measure with weights ``(uᵢᵀq)²``. ``m`` steps of Lanczos from ``q`` give a tridiagonal
``T_m = Y Θ Yᵀ``; its eigenvalues ``θ_k`` (Ritz values) and the squared first components
``τ_k = (e₁ᵀ y_k)²`` of its eigenvectors are the nodes and weights of the ``m``-point Gauss
quadrature of that measure, exact for polynomials of degree ``≤ 2m − 1`` (Golub & Meurant,
Theorem 6.2):

.. math::

    q^\\top A^p q = \\sum_{k=1}^m \\tau_k \\theta_k^p \\quad (p \\le 2m - 1).

With Rademacher ``v`` (``‖v‖² = n``) ``E[vᵀ f(A) v]/n = tr f(A)/n``, so averaging over ``n_v``
probes gives ``φ(t) ≈ (1/n_v) Σ_l Σ_k τ_k^{(l)} δ(t − θ_k^{(l)})``; :func:`density` smooths each
delta with a Gaussian of width ``σ`` (Lin, Saad & Yang §3.2; Ghorbani et al. §2.2), so the
smoothed density integrates to 1. With ``m = n`` steps (and no breakdown) the nodes are the
exact eigenvalues; with fewer, the extreme Ritz values still converge first (Kaniel–Paige
theory; Saad, *Numerical Methods for Large Eigenvalue Problems*, 2011, §6.6).

Precision and memory. Lanczos runs in float64 on the host, with full reorthogonalisation
(classical Gram–Schmidt applied twice: "twice is enough", Giraud, Langou & Rozložník 2005), so
its basis of ``steps × n`` numbers is held, in the operator's precision (as :mod:`spectra.krylov`:
a float32 operator's products carry float32 errors anyway): ``4 · steps · n`` bytes for float32,
``8 · steps · n`` for float64; for a 10⁶-parameter float32 player and 80 steps, 320 MB. Without it
rounding makes Lanczos forget orthogonality and repeat converged Ritz values (ghosts), which
would double-count mass in the density (Paige 1976; Meurant & Strakoš, *Acta Numerica* 2006).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.linalg

from spectra import checks
from spectra.eigensolvers import as_linear, check_symmetric
from spectra.matvecs import MatrixFreeOperator

__all__ = [
    "TraceEstimate",
    "Tridiagonal",
    "SLQResult",
    "hutchinson_trace",
    "lanczos",
    "slq",
    "density",
    "default_grid",
    "spectral_moments",
]

# streams of random probes: the same seed gives independent probes to each estimator
_TRACE_STREAM, _SLQ_STREAM = 0, 1


class TraceEstimate(NamedTuple):
    """Hutchinson's estimate of ``tr A``.

    Attributes:
        value: the mean of the samples ``zᵀAz``.
        stderr: the standard error of the mean, ``std(samples, ddof=1)/√s`` (NaN for one
            sample: the spread is unknown).
        samples: how many probes (one product each).
        values: ``(samples,)`` the per-probe values ``zᵀAz``.
    """

    value: float
    stderr: float
    samples: int
    values: np.ndarray


class Tridiagonal(NamedTuple):
    """The Lanczos tridiagonal ``T_m``: ``alpha`` ``(m,)`` its diagonal, ``beta`` ``(m−1,)`` its
    off-diagonal (all ``> 0``). ``m`` (= the products used) is below ``steps`` on breakdown."""

    alpha: np.ndarray
    beta: np.ndarray


class SLQResult(NamedTuple):
    """Gauss quadrature nodes and weights of ``probes`` Lanczos runs (module docstring).

    Attributes:
        nodes: ``(probes, m)`` Ritz values of each probe's ``T``, ascending. A probe whose
            Lanczos broke down after ``m_l < m`` steps has its row padded with its largest node,
            at weight 0 (so sums over a row stay exact, and no NaN appears).
        weights: ``(probes, m)`` squared first components of ``T``'s eigenvectors; each row sums
            to 1.
        steps: ``(probes,)`` the Lanczos steps each probe ran (``m_l``).
        n: the operator's dimension.
        products: products used, ``Σ m_l``.
    """

    nodes: np.ndarray
    weights: np.ndarray
    steps: np.ndarray
    n: int
    products: int


# -- operators ---------------------------------------------------------------------------------


def _real(operator, n):
    lin = as_linear(operator, n)
    if not lin.real:
        raise ValueError("operator: expected a real operator, got a complex one")
    return lin


def _symmetric(operator, n):
    """The operator for SLQ, refused when it is known not to be symmetric: a dense matrix is
    checked (to ``√ε`` of its largest entry), a :class:`MatrixFreeOperator` must be marked
    ``symmetric=True``; a bare callable is trusted."""
    if isinstance(operator, MatrixFreeOperator) and not operator.symmetric:
        raise ValueError(
            "operator: SLQ needs a symmetric operator, and this MatrixFreeOperator is marked "
            "symmetric=False (for a non-symmetric one use hutchinson_trace, or the "
            "eigenvalues of spectra.eigensolvers)"
        )
    lin = _real(operator, n)
    if lin.matrix is not None:
        hint = "SLQ needs a symmetric matrix (use hutchinson_trace for a non-symmetric one)"
        check_symmetric(lin.matrix, np.finfo(lin.precision).eps, name="operator", hint=hint)
    return lin


def _rademacher(rng: np.random.Generator, shape) -> np.ndarray:
    return rng.integers(0, 2, size=shape).astype(np.float64) * 2.0 - 1.0


# -- Hutchinson --------------------------------------------------------------------------------


def hutchinson_trace(
    operator, *, samples: int = 32, seed: int = 0, n: int | None = None
) -> TraceEstimate:
    """``tr A`` by Hutchinson's estimator with Rademacher probes (module docstring).

    Args:
        operator: a square ``(n, n)`` array, a :class:`~spectra.matvecs.MatrixFreeOperator`, a
            SciPy operator, or a callable ``x -> A x`` (then ``n`` is required). Need not be
            symmetric.
        samples: probes, one product each; the standard error falls as ``1/√samples``.
        seed: seeds the probes (independent of :func:`slq`'s for the same seed).
        n: the dimension (required for a bare callable, else checked).

    Raises:
        ValueError: bad arguments, or a product that is not finite.
    """
    samples = checks.count("samples", samples, minimum=1)
    lin = _real(operator, n)
    rng = np.random.default_rng([checks.count("seed", seed, minimum=0), _TRACE_STREAM])
    values = np.empty(samples)
    for s in range(samples):
        z = _rademacher(rng, lin.n)
        values[s] = z @ lin.op.matvec(z)
    stderr = float(values.std(ddof=1) / np.sqrt(samples)) if samples > 1 else float("nan")
    return TraceEstimate(float(values.mean()), stderr, samples, values)


# -- Lanczos -----------------------------------------------------------------------------------


def _lanczos(lin, start: np.ndarray, steps: int) -> Tridiagonal:
    n = lin.n
    m = min(steps, n)  # a Krylov space of R^n has at most n dimensions
    store = np.float32 if lin.precision == np.float32 else np.float64  # the operator's
    basis = np.empty((m, n), dtype=store)
    alpha, beta = [], []
    eps = np.finfo(np.float64).eps
    q = start / np.linalg.norm(start)
    for j in range(m):
        basis[j] = q
        w = lin.op.matvec(q)
        a = float(q @ w)
        alpha.append(a)
        if j == m - 1:
            break
        w = w - a * q - (beta[-1] * basis[j - 1] if j else 0.0)
        known = basis[: j + 1]
        for _ in range(2):  # full reorthogonalisation, classical Gram–Schmidt twice
            w = w - known.T @ (known @ w.astype(store, copy=False))
        b = float(np.linalg.norm(w))
        # breakdown: the Krylov space is invariant (to rounding): T's eigenvalues are exact
        scale = max(abs(x) for x in alpha + beta) if alpha else 0.0
        if b <= n * eps * max(scale, np.finfo(np.float64).tiny):
            break
        beta.append(b)
        q = w / b
    return Tridiagonal(np.asarray(alpha), np.asarray(beta))


def _start(start, n: int) -> np.ndarray:
    v = np.asarray(start)
    if v.dtype.kind not in "biuf" or v.shape != (n,):
        raise ValueError(f"start: expected a real vector of shape ({n},), got {v.dtype} {v.shape}")
    v = v.astype(np.float64)
    if not np.all(np.isfinite(v)) or not np.any(v):
        raise ValueError("start: expected a finite, non-zero vector")
    return v


def lanczos(operator, start, *, steps: int, n: int | None = None) -> Tridiagonal:
    """``steps`` steps of the symmetric Lanczos process from ``start``: ``A Q_m = Q_m T_m +
    β_m q_{m+1} e_mᵀ`` (Lanczos 1950; Saad 2011, Algorithm 6.15), with full reorthogonalisation.

    Holds the basis: ``steps · n`` numbers in the operator's precision. Stops early, with fewer steps, on breakdown
    (``β_j ≤ n ε max(|α|, |β|)``: ``start`` lies in an invariant subspace of dimension ``j``, and
    ``T_j``'s eigenvalues are exact eigenvalues of ``A``); ``steps > n`` runs at most ``n``.
    Products: one per step (``len(alpha)``).

    Returns:
        ``(alpha, beta)``, a :class:`Tridiagonal`.

    Raises:
        ValueError: a known non-symmetric operator, bad ``start``/``steps``, non-finite products.
    """
    steps = checks.count("steps", steps, minimum=1)
    lin = _symmetric(operator, n)
    return _lanczos(lin, _start(start, lin.n), steps)


def _gauss(tri: Tridiagonal) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of the Gauss rule of ``T`` (Golub & Welsch 1969)."""
    if tri.alpha.size == 1:
        return tri.alpha.copy(), np.ones(1)
    theta, y = scipy.linalg.eigh_tridiagonal(tri.alpha, tri.beta)
    return theta, y[0] ** 2


def slq(
    operator, *, probes: int = 8, steps: int = 80, seed: int = 0, n: int | None = None
) -> SLQResult:
    """Stochastic Lanczos quadrature: the Gauss rules of ``probes`` Lanczos runs from
    independent Rademacher vectors (module docstring; Ubaru, Chen & Saad 2017, Algorithm 1).

    Args:
        operator: a symmetric ``(n, n)`` array (checked), a
            :class:`~spectra.matvecs.MatrixFreeOperator` marked ``symmetric=True``, or a
            callable ``x -> A x`` (trusted to be symmetric; ``n`` required).
        probes: Lanczos runs; the density's statistical error falls as ``1/√(probes · n)``
            for smooth functions of the spectrum (Ubaru et al., Theorem 4.1).
        steps: Lanczos steps per probe (products per probe; capped at ``n``). ``m`` steps
            integrate polynomials of degree ``≤ 2m − 1`` exactly.
        seed: seeds the probes.
        n: the dimension (required for a bare callable, else checked).

    Products: ``probes · min(steps, n)`` at most; memory ``steps · n`` numbers in the
    operator's precision.
    """
    probes = checks.count("probes", probes, minimum=1)
    steps = checks.count("steps", steps, minimum=1)
    lin = _symmetric(operator, n)
    rng = np.random.default_rng([checks.count("seed", seed, minimum=0), _SLQ_STREAM])
    rules = [_gauss(_lanczos(lin, _rademacher(rng, lin.n), steps)) for _ in range(probes)]
    m = max(theta.size for theta, _ in rules)
    nodes, weights = np.zeros((probes, m)), np.zeros((probes, m))
    for row, (theta, tau) in enumerate(rules):
        nodes[row] = theta[-1]
        nodes[row, : theta.size], weights[row, : theta.size] = theta, tau
    used = np.array([theta.size for theta, _ in rules])
    return SLQResult(nodes, weights, used, lin.n, int(used.sum()))


# -- the density -------------------------------------------------------------------------------


def _check_result(result) -> SLQResult:
    if not isinstance(result, SLQResult):
        raise ValueError(f"slq_result: expected an SLQResult, got {type(result).__name__}")
    return result


def spectral_moments(slq_result: SLQResult, powers) -> np.ndarray:
    """``(1/n) tr(A^p)`` estimated for each ``p`` of ``powers``: the probes' Gauss rules
    averaged, ``(1/n_v) Σ_l Σ_k τ_k θ_k^p`` (exact per probe for ``p ≤ 2m − 1``)."""
    result = _check_result(slq_result)
    powers = np.asarray(powers)
    per_probe = (result.weights[None] * result.nodes[None] ** powers[:, None, None]).sum(-1)
    return per_probe.mean(-1)


def density(slq_result: SLQResult, grid, *, sigma: float) -> np.ndarray:
    """The spectral density ``φ_σ(t) = (1/n_v) Σ_l Σ_k τ_k^{(l)} g_σ(t − θ_k^{(l)})`` on
    ``grid``, ``g_σ`` the Gaussian of standard deviation ``σ`` (Lin, Saad & Yang 2016, eq. 3.6;
    Ghorbani et al. 2019, §2.2). Integrates to 1 over a grid reaching a few ``σ`` beyond the
    extreme nodes (:func:`default_grid`).

    Raises:
        ValueError: ``sigma ≤ 0`` or not finite, a grid with non-finite values.
    """
    result = _check_result(slq_result)
    sigma = checks.positive("sigma", sigma)
    t = np.asarray(grid, dtype=np.float64)
    if not np.all(np.isfinite(t)):
        raise ValueError("grid: expected finite values")
    nodes, weights = result.nodes.ravel(), result.weights.ravel() / result.nodes.shape[0]
    keep = weights > 0
    z = (t.reshape(-1, 1) - nodes[keep]) / sigma
    phi = np.exp(-0.5 * z**2) @ weights[keep] / (sigma * np.sqrt(2.0 * np.pi))
    return phi.reshape(t.shape)


def default_grid(
    slq_result: SLQResult, *, points: int = 1000, relative_sigma: float = 0.01
) -> tuple[np.ndarray, float]:
    """A grid and a width for :func:`density`: ``σ = relative_sigma ×`` the nodes' range
    (their largest magnitude if they are all equal, 1 if all zero), and ``points`` equally
    spaced values (more if needed for a spacing of at most ``σ/4``) from ``6σ`` below the
    smallest node to ``6σ`` above the largest, so the density integrates to 1 within ~1e-8.

    Returns:
        ``(grid, sigma)``.
    """
    result = _check_result(slq_result)
    points = checks.count("points", points, minimum=2)
    relative_sigma = checks.positive("relative_sigma", relative_sigma)
    used = result.nodes[result.weights > 0]
    lo, hi = float(used.min()), float(used.max())
    width = hi - lo or max(abs(lo), abs(hi)) or 1.0
    sigma = relative_sigma * width
    lo, hi = lo - 6.0 * sigma, hi + 6.0 * sigma
    points = max(points, int(np.ceil((hi - lo) / (sigma / 4.0))) + 1)
    return np.linspace(lo, hi, points), sigma
