"""A block Krylov–Schur eigensolver for real operators given by block products ``X -> A X``.

Stewart's Krylov–Schur method (G. W. Stewart, *A Krylov–Schur algorithm for large
eigenproblems*, SIAM J. Matrix Anal. Appl. 23(3), 2001), in its block form. It keeps the relation

.. math::

    A V_j = V_j H_j + R\\, B_j, \\qquad [V_j, R] \\text{ orthonormal},

with ``V_j`` the ``j`` basis vectors, ``H_j = V_jᵀ A V_j`` and ``R`` a block of ``b`` residual
vectors. Each step applies ``A`` to ``R`` (``b`` products in **one call**, so a vmapped JAX product
shares its primal passes between the ``b`` tangents), orthogonalises the result against the basis
(classical Gram–Schmidt, repeated when it cancels) and grows ``j`` by ``b``. When the basis is full it restarts: a real
Schur form ``H_m = Z T Zᵀ`` sorted with the wanted Ritz values first, truncated to the leading
``p`` Schur vectors — an exact relation of the same form with ``V_p = V_m Z_p``.

Why not ARPACK: ARPACK checks convergence only when its basis is full (``ncv`` products per
cycle) and needs ``k`` fresh products afterwards for the residuals. Here convergence is tested
every few products on the small matrix, and each Ritz pair's residual is exact from the relation
without any product,

.. math::

    \\lVert A x - θ x \\rVert = \\lVert B_j y \\rVert
    \\qquad (x = V_j y,\\ H_j y = θ y,\\ \\lVert y \\rVert = 1),

so a spectrum that converges early costs only the products it needed. The basis is stored in the
operator's precision (float32 operators keep a float32 basis: half the memory of ARPACK's float64
one); the small matrices are float64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import scipy.linalg

from spectra import hostmem

__all__ = ["KrylovResult", "krylov_schur"]

RELEASE_BYTES = 64 * 2**20
"""Bases of at least this many bytes are allocated after handing the free heap back
(:func:`spectra.hostmem.release`); below it the trim (about 10 ms) costs more than it saves."""

_ROWS = 1 << 16  # rows per chunk when the basis is rotated in place


class KrylovResult(NamedTuple):
    """The Ritz pairs selected after the last step.

    Attributes:
        values: ``(k,)`` complex128 Ritz values, best first per the ``order`` given.
        residuals: ``(k,)`` absolute residuals ``‖A x − θ x‖`` of the unit Ritz vectors, exact
            from the Krylov relation.
        scale: the largest ``|θ|`` over all current Ritz values (a lower bound of ``‖A‖₂``).
        vectors: ``(n, k)`` complex128 unit Ritz vectors if asked for, else ``None``.
        n_products: products used (block columns count one each).
        converged: whether every selected residual is ``≤ tol · scale``.
        restarts: how many times the basis was truncated.
        max_dim: the largest basis used.
    """

    values: np.ndarray
    residuals: np.ndarray
    scale: float
    vectors: np.ndarray | None
    n_products: int
    converged: bool
    restarts: int
    max_dim: int


def _orthonormalise(w: np.ndarray, basis: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """``(coeffs, r)`` and ``w`` overwritten by ``q`` with ``w₀ = basis·coeffs + q·r``.

    Classical Gram–Schmidt against ``basis`` (orthonormal columns), repeated once when it cancels
    (DGKS criterion), then a QR of the block (a normalisation for one column).
    Columns that are (numerically) in the span are replaced by random orthonormal directions with
    a zero row in ``r``: the relation stays exact.
    """
    coeffs = np.zeros((basis.shape[1], w.shape[1]))
    scale = np.linalg.norm(w, axis=0)
    norm = scale
    for _ in range(2):
        if not basis.shape[1]:
            break
        h = basis.T @ w
        w -= basis @ h
        coeffs += h
        # Daniel–Gragg–Kaufman–Stewart: a second pass only when a column lost more than
        # 1/√2 of its norm (cancellation); otherwise one pass is already orthogonal to ε
        before, norm = norm, np.linalg.norm(w, axis=0)
        if np.all(norm > 0.7071 * before):
            break
    if w.shape[1] == 1:  # one column: its norm is its QR (LAPACK's QR costs more here)
        q = w.astype(np.float64)
        r = np.linalg.norm(q).reshape(1, 1)
        if r[0, 0] > 0:
            q /= r[0, 0]
    else:
        q, r = np.linalg.qr(w.astype(np.float64, copy=False))
    small = np.abs(np.diag(r)) <= 50 * np.finfo(w.dtype).eps * np.maximum(scale, 1e-300)
    if np.any(small):
        full = np.concatenate([basis, q[:, ~small].astype(w.dtype)], axis=1)
        for j in np.flatnonzero(small):
            fresh = rng.standard_normal(w.shape[0]).astype(w.dtype)
            for _ in range(2):
                fresh -= full @ (full.T @ fresh)
            fresh /= np.linalg.norm(fresh)
            q[:, j] = fresh
            r[j, :] = 0.0
            full = np.concatenate([full, fresh[:, None]], axis=1)
        q, r2 = np.linalg.qr(q)
        r = r2 @ r
    w[...] = q
    return coeffs, r


def _ritz(h: np.ndarray, symmetric: bool) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues and unit eigenvectors of the projected matrix."""
    if symmetric:
        values, vectors = np.linalg.eigh(0.5 * (h + h.T))
        return values.astype(np.complex128), vectors.astype(np.complex128)
    values, vectors = scipy.linalg.eig(h)
    return values, vectors / np.linalg.norm(vectors, axis=0)


def _wanted_schur(
    h: np.ndarray, values: np.ndarray, keep: np.ndarray, symmetric: bool
) -> tuple[np.ndarray, int]:
    """An orthogonal ``Z`` whose leading ``p`` columns span the invariant subspace of ``h`` for
    the eigenvalues ``values[keep]`` (``values`` from :func:`_ritz`, same order), and ``p``."""
    if symmetric:
        values, vectors = np.linalg.eigh(0.5 * (h + h.T))
        order = np.concatenate([np.flatnonzero(keep), np.flatnonzero(~keep)])
        return vectors[:, order], int(keep.sum())
    t, z = scipy.linalg.schur(h, output="real")
    select = _block_flags(t, keep, values)
    _, zz, _, _, _, _, _, info = scipy.linalg.lapack.dtrsen(select.astype(np.int32), t, z, job="N")
    if info != 0:  # pragma: no cover - LAPACK reordering failure (ill-conditioned swap)
        raise np.linalg.LinAlgError(f"dtrsen failed with info={info}")
    return zz, int(select.sum())


def _block_flags(t: np.ndarray, keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per diagonal position of the real Schur form ``t``: whether its eigenvalue is wanted.

    Each 1×1 or 2×2 diagonal block's eigenvalue is matched to the nearest one of ``values``
    (the eigenvalues of the same matrix) and takes that one's flag; a 2×2 block is flagged as a
    whole."""
    m = t.shape[0]
    flags = np.zeros(m, dtype=bool)
    free = np.ones(values.size, dtype=bool)
    i = 0
    while i < m:
        two = i + 1 < m and t[i + 1, i] != 0.0
        if two:
            block = t[i : i + 2, i : i + 2]
            lam = scipy.linalg.eigvals(block)[0]
        else:
            lam = complex(t[i, i])
        candidates = np.flatnonzero(free)
        j = candidates[np.argmin(np.abs(values[candidates] - lam))]
        free[j] = False
        if two:  # its conjugate
            rest = np.flatnonzero(free)
            free[rest[np.argmin(np.abs(values[rest] - np.conj(lam)))]] = False
        flags[i : i + (2 if two else 1)] = keep[j]
        i += 2 if two else 1
    return flags


def _rotate(basis: np.ndarray, z: np.ndarray) -> None:
    """``basis[:, :p] = basis[:, :m] @ z`` in place, ``z`` of shape ``(m, p)``, by row chunks
    (no ``n × p`` temporary)."""
    zc = z.astype(basis.dtype)
    m, p = z.shape
    for start in range(0, basis.shape[0], _ROWS):
        rows = slice(start, start + _ROWS)
        basis[rows, :p] = basis[rows, :m] @ zc


def krylov_schur(
    matmat: Callable[[np.ndarray], np.ndarray],
    n: int,
    *,
    k: int,
    order: Callable[[np.ndarray], np.ndarray],
    symmetric: bool = False,
    block: int = 1,
    max_dim: int | None = None,
    keep: int | None = None,
    tol: float = 1e-10,
    max_restarts: int = 300,
    check_every: int | None = None,
    min_dim: int | None = None,
    dtype=np.float64,
    start: np.ndarray | None = None,
    seed: int = 0,
    return_vectors: bool = False,
) -> KrylovResult:
    """The ``k`` wanted eigenvalues of a real ``n × n`` operator.

    Args:
        matmat: ``X -> A X`` for ``X`` of shape ``(n, block)`` in ``dtype``.
        n: the dimension.
        k: how many eigenvalues.
        order: ``values -> indices`` sorting Ritz values best first (the selection ``which``);
            it must give a conjugate pair adjacent positions.
        symmetric: ``A`` is symmetric (real Ritz values, Rayleigh–Ritz with ``eigh``).
        block: products per step (one call of ``matmat``).
        max_dim: the largest basis (default ``max(4k, 20, 2k + 8·block)``, at most ``n − block``).
        keep: Ritz vectors kept at a restart (default ``(max_dim + k) / 2``).
        tol: converged when every selected residual is ``≤ tol · scale`` (``scale``: the largest
            ``|θ|``).
        max_restarts: the solver stops (``converged=False``) after this many restarts.
        check_every: test convergence every this many new vectors (default
            ``max(block, max_dim // 20)``; a fixed schedule keeps results reproducible).
        min_dim: no convergence test below this basis size (default ``max(2k, k + 10)``, at
            most ``max_dim``: like ARPACK's ``ncv``, a guard against accepting a converged set
            that a few more products would show to miss a wanted eigenvalue).
        dtype: the basis precision (the operator's).
        start: ``(n,)`` or ``(n, block)`` start vector(s); random otherwise.
        seed: seeds the random start and breakdown replacements.
        return_vectors: also return the unit Ritz vectors.
    """
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    block = int(block)
    if max_dim is None:
        max_dim = max(4 * k, 20, 2 * k + 8 * block)
    max_dim = min(int(max_dim), n - block)
    max_dim -= max_dim % block if max_dim > block else 0
    if max_dim < k + block:
        raise ValueError(
            f"max_dim: need at least k + block = {k + block} basis vectors below n = {n}, "
            f"got {max_dim}"
        )
    keep = (max_dim + k) // 2 if keep is None else int(keep)
    keep = min(max(keep, k), max_dim - block)
    if min_dim is None:
        min_dim = k + max(k, 10)
    min_dim = max(k, min(int(min_dim), max_dim))
    every = max(block, max_dim // 20) if check_every is None else max(int(check_every), 1)

    first = rng.standard_normal((n, block))
    if start is not None:
        s = np.asarray(start, dtype=np.float64).reshape(n, -1)
        first[:, : min(block, s.shape[1])] = s[:, :block]
    first = first.astype(dtype)
    _orthonormalise(first, first[:, :0], rng)
    # the first product (which may compile the operator) before the basis exists, and the
    # compiler's freed memory handed back, so that the basis does not stack on top of it
    w = np.array(matmat(first), dtype=dtype).reshape(n, block)
    if n * (max_dim + block) * dtype.itemsize >= RELEASE_BYTES:  # a trim costs ~10 ms
        hostmem.release()
    basis = np.zeros((n, max_dim + block), dtype=dtype, order="F")  # columns contiguous
    basis[:, :block] = first
    del first
    h = np.zeros((max_dim + block, max_dim))
    j, products, restarts, last_check = 0, 0, 0, 0
    while True:
        if products:
            residual = basis[:, j : j + block]
            w = np.array(matmat(np.ascontiguousarray(residual)), dtype=dtype).reshape(n, block)
        products += block
        if not np.all(np.isfinite(w)):
            raise ValueError("operator: the product returned non-finite values (NaN or inf)")
        coeffs, r = _orthonormalise(w, basis[:, : j + block], rng)
        h[: j + block, j : j + block] = coeffs
        h[j + block : j + 2 * block, j : j + block] = r
        basis[:, j + block : j + 2 * block] = w
        j += block
        full = j + block > max_dim
        if j >= min_dim and (full or j - last_check >= every):
            last_check = j
            result = _select(h, j, block, k, order, symmetric, tol)
            if result[-1] or (full and restarts >= max_restarts):
                return _finish(basis, result, j, products, restarts, return_vectors, max_dim)
        if full:
            values, _ = _ritz(h[:j, :j], symmetric)
            ranked = order(values)
            p = keep
            if p < values.size and _pair_split(values, ranked, p):
                p += 1
            flags = np.zeros(values.size, dtype=bool)
            flags[ranked[:p]] = True
            z, p = _wanted_schur(h[:j, :j], values, flags, symmetric)
            z = z[:, :p]
            tail = h[j : j + block, :j] @ z
            t = z.T @ h[:j, :j] @ z
            _rotate(basis[:, :j], z)
            basis[:, p : p + block] = basis[:, j : j + block]
            h[:] = 0.0
            h[:p, :p] = t
            h[p : p + block, :p] = tail
            j, last_check = p, p
            restarts += 1


def _pair_split(values: np.ndarray, ranked: np.ndarray, p: int) -> bool:
    """Whether keeping ``ranked[:p]`` would separate a conjugate pair."""
    a, b = values[ranked[p - 1]], values[ranked[p]]
    return a.imag != 0.0 and np.isclose(b, np.conj(a), rtol=1e-12, atol=0.0)


def _select(h, j, block, k, order, symmetric, tol):
    values, vectors = _ritz(h[:j, :j], symmetric)
    ranked = order(values)
    chosen = ranked[:k]
    if k < values.size and _pair_split(values, ranked, k):
        chosen = ranked[: k + 1]
    tail = h[j : j + block, :j]
    residuals = np.linalg.norm(tail @ vectors[:, chosen], axis=0)
    scale = float(np.abs(values).max(initial=0.0))
    ok = bool(np.all(residuals <= tol * max(scale, np.finfo(float).tiny)))
    return values[chosen], vectors[:, chosen], residuals, scale, ok


def _finish(basis, result, j, products, restarts, return_vectors, max_dim) -> KrylovResult:
    values, y, residuals, scale, ok = result
    vectors = None
    if return_vectors:
        vectors = basis[:, :j].astype(np.float64) @ y
        vectors /= np.linalg.norm(vectors, axis=0)
    return KrylovResult(values, residuals, scale, vectors, products, ok, restarts, max_dim)
