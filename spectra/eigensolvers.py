"""Eigenvalues of a dense matrix or of a matrix-free operator, with residuals: one interface.

The local linear rate of a gradient method is the spectral radius of its operator's Jacobian
(Gidel et al. 2019, Theorem 1; lecture Proposition 6), and the eigenvalues of ∇v with a large
imaginary part are those that slow it down (paper §3). :func:`eigenvalues` finds ``k`` of them:

- **dense**: LAPACK (``scipy.linalg.eig``, or ``eigh`` when ``symmetric=True``) on an ``(n, n)``
  array, or on a matrix-free operator materialised with ``n`` products (``method="dense"``);
- **matrix-free**: block Krylov–Schur (:mod:`spectra.krylov`; the default for a real operator:
  convergence tested every few products, residuals exact from the Krylov relation, no extra
  product) or ARPACK's implicitly restarted Arnoldi / Lanczos method (Lehoucq, Sorensen & Yang,
  *ARPACK Users' Guide*, SIAM 1998) through ``scipy.sparse.linalg.eigs`` / ``eigsh`` (complex
  operators, ``which="SM"``, or ``method="arpack"``), on a ``matvec``: a
  :class:`~spectra.matvecs.MatrixFreeOperator`, such as those :mod:`spectra.matvecs` builds from
  JAX (re-exported here: :func:`jvp_matvec`, :func:`game_jacobian_operator`,
  :func:`player_hessian_operator`).

Both report, for each eigenpair ``(λ, x)``, the relative residual

.. math::

    r = \\frac{\\lVert A x - \\lambda x \\rVert}{\\widehat{\\lVert A \\rVert} \\, \\lVert x \\rVert},
    \\qquad
    \\widehat{\\lVert A \\rVert} = \\max\\Big(\\max_j |\\lambda_j|,\\ \\max_j
    \\frac{\\lVert A x_j \\rVert}{\\lVert x_j \\rVert},\\ \\max_p
    \\frac{\\lVert A u_p \\rVert}{\\lVert u_p \\rVert}\\Big),

recomputed from fresh products with the operator itself (the eigenvectors and two seeded random
probes ``u_p``, in one batched call), not taken from ARPACK's own estimates. Krylov–Schur's
residuals come from its relation ``A V = V H + R B`` (exact up to rounding, no product), relative
to ``‖A‖^ = max |θ|`` over its Ritz values. Every term of
``‖A‖^`` is a lower bound of ``‖A‖₂``, so ``r`` errs on the side of reporting a larger residual.
A value is ``converged`` when ``r ≤ residual_tol``.

Precision. ARPACK always runs in float64 (complex128 for complex operators): a float32 matvec
receives its input cast to float32 and its output is cast back. Its results are then only as
accurate as the float32 products (relative residuals ~1e-7), which is why ``tol`` is never taken
below the operator's machine epsilon and ``residual_tol`` defaults to ``max(tol, 1000 ε)``.

Threads. ARPACK runs under ``threadpoolctl.threadpool_limits(1)``: its BLAS threads would otherwise
fight XLA's threads (that compute the matvec) for the same few cores.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as spla
from threadpoolctl import threadpool_limits

from spectra import checks
from spectra.krylov import KrylovResult, krylov_schur
from spectra.matvecs import (
    MatrixFreeOperator,
    game_jacobian_operator,
    jvp_matvec,
    player_hessian_operator,
)

__all__ = [
    "WHICH",
    "SYMMETRIC_WHICH",
    "METHODS",
    "EigResult",
    "ConvergenceError",
    "MatrixFreeOperator",
    "LinearView",
    "as_linear",
    "check_symmetric",
    "eigenvalues",
    "rank_eigenvalues",
    "spectral_radius",
    "jvp_matvec",
    "game_jacobian_operator",
    "player_hessian_operator",
]

WHICH = ("LM", "SM", "LR", "SR", "LI")
"""Selections for a general operator: largest / smallest magnitude, largest / smallest real part,
largest imaginary part (for a real operator: largest ``|Im λ|``, each pair ``λ, λ̄`` together)."""

SYMMETRIC_WHICH = ("LM", "SM", "LA", "SA", "LR", "SR")
"""Selections for a symmetric (Hermitian) operator; ``LR``/``SR`` are ``LA``/``SA``."""

METHODS = ("auto", "dense", "arpack", "krylov")

_N_PROBES = 2


class EigResult(NamedTuple):
    """``k`` eigenvalues with their residuals.

    Attributes:
        values: ``(k,)`` complex128, sorted per ``which`` (ties: positive imaginary part first).
        residuals: ``(k,)`` relative residuals ``‖Ax − λx‖ / (‖A‖^ ‖x‖)`` (module docstring).
        converged: ``(k,)`` bool, ``residuals <= residual_tol``.
        n_matvecs: products the solver needed: ARPACK's count, ``n`` for a materialised operator,
            0 for a dense array. The residual check's ``k + 2`` (or ``2k + 2``) products are extra.
        method: ``"dense"``, ``"arpack"`` or ``"krylov"``.
        norm_estimate: ``‖A‖^``, the scale of ``residuals``.
        vectors: ``(n, k)`` complex128 unit eigenvectors if ``return_vectors``, else ``None``.
    """

    values: np.ndarray
    residuals: np.ndarray
    converged: np.ndarray
    n_matvecs: int
    method: str
    norm_estimate: float
    vectors: np.ndarray | None = None


class ConvergenceError(ValueError):
    """ARPACK stopped before ``k`` eigenvalues converged.

    ``result`` is an :class:`EigResult` with the eigenvalues that did converge (possibly none),
    sorted per ``which``, with their residuals, so a caller can still report them.
    """

    def __init__(self, message: str, result: EigResult):
        super().__init__(message)
        self.result = result

    @property
    def values(self) -> np.ndarray:
        return self.result.values

    @property
    def residuals(self) -> np.ndarray:
        return self.result.residuals


class LinearView(NamedTuple):
    """An operator normalised for the solvers: float64 / complex128 products, checked outputs."""

    op: spla.LinearOperator
    n: int
    real: bool
    precision: np.dtype
    matrix: np.ndarray | None
    symmetric: bool


# -- the public interface ----------------------------------------------------------------------


def eigenvalues(
    operator,
    *,
    k: int = 6,
    which: str = "LM",
    n: int | None = None,
    symmetric: bool | None = None,
    method: str = "auto",
    tol: float = 1e-10,
    residual_tol: float | None = None,
    ncv: int | None = None,
    maxiter: int | None = None,
    seed: int = 0,
    v0=None,
    return_vectors: bool = False,
    block: int = 1,
) -> EigResult:
    """``k`` eigenvalues of ``operator`` selected by ``which``, with relative residuals.

    Args:
        operator: an ``(n, n)`` array (NumPy or JAX), a :class:`MatrixFreeOperator`, a SciPy
            ``LinearOperator`` or sparse matrix, or a callable ``x -> A x`` (then ``n`` is
            required; it receives float64 vectors and must return real ``(n,)`` vectors).
        k: how many eigenvalues; ARPACK needs ``k ≤ n − 2`` (``k ≤ n − 1`` when symmetric).
        which: one of :data:`WHICH`, or of :data:`SYMMETRIC_WHICH` when symmetric.
        n: the dimension (required for a bare callable, else checked).
        symmetric: use ``eigh`` / Lanczos; ``None`` takes the operator's own flag
            (:class:`MatrixFreeOperator`), else ``False``. A dense matrix is checked for symmetry.
        method: ``"auto"`` (dense for arrays; Krylov–Schur for a real matrix-free operator
            unless ``which="SM"``; ARPACK otherwise), ``"dense"`` (a
            matrix-free operator is materialised with ``n`` products), ``"arpack"``, or
            ``"krylov"`` (:func:`spectra.krylov.krylov_schur`: block Krylov–Schur for a real
            operator, convergence tested every few products, residuals exact from the Krylov
            relation with no extra product; ``ncv`` is its largest basis, ``maxiter`` its
            restarts; not for ``which="SM"``).
        tol: ARPACK's relative accuracy (Ritz estimate ``≤ tol·|λ|``), at least the operator's ε.
        residual_tol: the residual below which a value counts as converged; default
            ``max(tol, 1000 ε)`` with ε the machine epsilon of the operator's products.
        ncv: ARPACK's number of Lanczos/Arnoldi vectors; default ``min(n, max(4k, 20))``.
            (With ``ncv = 2k + 1`` ARPACK can return a wrong set, with tiny residuals, on a
            clustered spectrum.)
        maxiter: ARPACK's number of restarts (SciPy's default ``10 n``).
        seed: seeds the default start vector ``v0`` and the residual probes.
        v0: ARPACK's start vector, shape ``(n,)``.
        return_vectors: also return the unit eigenvectors.
        block: ``"krylov"`` only: products per step, in one ``matmat`` call (a vmapped JAX
            product shares its primal passes between them).

    Raises:
        ValueError: for bad arguments; :class:`ConvergenceError` (a ``ValueError``) when ARPACK
            does not converge, carrying the eigenvalues that did.
    """
    if method not in METHODS:
        raise ValueError(f"method: expected one of {METHODS}, got {method!r}")
    lin = as_linear(operator, n)
    symmetric = lin.symmetric if symmetric is None else bool(symmetric)
    allowed = SYMMETRIC_WHICH if symmetric else WHICH
    if which not in allowed:
        kind = "a symmetric" if symmetric else "a general"
        raise ValueError(f"which: expected one of {allowed} for {kind} operator, got {which!r}")
    k = checks.count("k", k, minimum=1)
    tol = _check_real(tol, "tol")
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"tol: expected a finite value >= 0, got {tol}")
    eps = float(np.finfo(lin.precision).eps)
    if residual_tol is None:
        residual_tol = max(tol, 1000.0 * eps)
    elif not np.isfinite(_check_real(residual_tol, "residual_tol")) or residual_tol <= 0:
        raise ValueError(f"residual_tol: expected a finite value > 0, got {residual_tol}")
    rng = np.random.default_rng(checks.count("seed", seed, minimum=0))
    start = _start_vector(v0, rng, lin)
    probes = rng.standard_normal((lin.n, _N_PROBES))
    if method == "auto":
        if lin.matrix is not None:
            method = "dense"
        elif lin.real and which != "SM" and k + 2 <= lin.n:
            method = "krylov"
        else:
            method = "arpack"
    finish = _Finisher(lin, which, k, float(residual_tol), probes, return_vectors)
    if method == "dense":
        return _dense(lin, finish, k=k, symmetric=symmetric)
    if method == "krylov":
        return _krylov(
            lin,
            finish,
            k=k,
            symmetric=symmetric,
            tol=max(tol, 10 * eps),
            ncv=ncv,
            maxiter=maxiter,
            v0=start,
            seed=seed,
            block=checks.count("block", block, minimum=1),
        )
    arpack_tol = max(tol, eps)
    return _arpack(
        lin,
        finish,
        k=k,
        symmetric=symmetric,
        tol=arpack_tol,
        ncv=ncv,
        maxiter=maxiter,
        v0=start,
        seed=seed,
    )


def spectral_radius(
    operator,
    *,
    n: int | None = None,
    k: int = 2,
    method: str = "auto",
    tol: float = 1e-10,
    ncv: int | None = None,
    maxiter: int | None = None,
    seed: int = 0,
) -> float:
    """``ρ(A) = max |λ|``, from the ``k`` largest-magnitude eigenvalues (``which="LM"``).

    For ``A = ∇F(ω*)`` this is the local linear rate of the method ``F`` (Gidel et al. 2019,
    Theorem 1; lecture Proposition 6). ``k = 2`` lets ARPACK converge a dominant complex pair
    ``λ, λ̄`` together. Raises :class:`ConvergenceError` if the largest value's residual is above
    tolerance.
    """
    result = eigenvalues(
        operator,
        k=k,
        which="LM",
        n=n,
        method=method,
        tol=tol,
        ncv=ncv,
        maxiter=maxiter,
        seed=seed,
    )
    if not result.converged[0]:
        raise ConvergenceError(
            f"spectral_radius: the largest-magnitude eigenvalue did not converge "
            f"(relative residual {result.residuals[0]:.2e}); raise maxiter or ncv",
            result,
        )
    return float(np.abs(result.values[0]))


# -- normalising the operator ------------------------------------------------------------------


def _check_real(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{name}: expected a real number, got {value!r}")
    return float(value)


def as_linear(operator, n: int | None = None) -> LinearView:
    """Any operator the solvers accept (a square array, a :class:`MatrixFreeOperator`, a SciPy
    operator or sparse matrix, or a callable ``x -> A x`` with ``n``) as a :class:`LinearView`:
    ``op`` gives float64 / complex128 products whose shapes and finiteness are checked
    (``ValueError`` otherwise), with ``n``, ``real``, the operator's own ``precision``, the dense
    ``matrix`` if there is one, and whether it is known to be ``symmetric``.

    Raises:
        ValueError: a non-square or empty operator, a callable without ``n``, or ``n`` that
            disagrees with the operator.
    """
    if n is not None:
        n = checks.count("n", n, minimum=1)
    if isinstance(operator, MatrixFreeOperator):
        dim, dtype = operator.n, np.dtype(operator.dtype)
        real = not np.issubdtype(dtype, np.complexfloating)
        op = _checked(operator.matvec, operator.matmat, dim, dtype, real)
        lin = LinearView(op, dim, real, dtype, None, bool(operator.symmetric))
    elif isinstance(operator, spla.LinearOperator) or scipy.sparse.issparse(operator):
        base = spla.aslinearoperator(operator)
        if base.shape[0] != base.shape[1]:
            raise ValueError(f"operator: expected a square operator, got shape {base.shape}")
        dim, dtype = base.shape[0], np.dtype(base.dtype)
        real = not np.issubdtype(dtype, np.complexfloating)
        lin = LinearView(
            _checked(base.matvec, base.matmat, dim, dtype, real), dim, real, dtype, None, False
        )
    elif callable(operator):
        if n is None:
            raise ValueError("n: required when the operator is a bare matvec callable")
        dtype = np.dtype(np.float64)
        lin = LinearView(_checked(operator, None, n, dtype, True), n, True, dtype, None, False)
    else:
        lin = _from_matrix(operator)
    if n is not None and n != lin.n:
        raise ValueError(f"n: got n={n} but the operator has dimension {lin.n}")
    if lin.n < 1:
        raise ValueError("operator: expected dimension n >= 1")
    return lin


def _from_matrix(operator) -> LinearView:
    try:
        a = np.asarray(operator)
    except (TypeError, ValueError):  # ragged nested sequences
        raise ValueError("operator: expected a square (n, n) matrix of numbers") from None
    if a.dtype.kind not in "biufc":
        raise ValueError(
            f"operator: expected a square (n, n) matrix of numbers, a matrix-free operator or a "
            f"callable, got {type(operator).__name__} of dtype {a.dtype}"
        )
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"operator: expected a square (n, n) matrix, got shape {a.shape}")
    real = not np.iscomplexobj(a)
    a = a.astype(np.float64 if real else np.complex128)  # exact for float32 input
    if not np.all(np.isfinite(a)):
        raise ValueError("operator: expected a matrix with finite entries")
    return LinearView(spla.aslinearoperator(a), a.shape[0], real, a.dtype, a, False)


def _checked(matvec, matmat, n: int, dtype, real: bool) -> spla.LinearOperator:
    """A float64 (complex128) LinearOperator that casts inputs to ``dtype`` and checks outputs.

    Its ``native_matmat`` attribute is the same checked product left in ``dtype`` (Krylov–Schur
    keeps its basis in the operator's precision: no round trip through float64)."""
    out = np.float64 if real else np.complex128

    def check(y, shape, to=out):
        y = np.asarray(y)
        if y.shape != shape:
            raise ValueError(f"operator: the matvec returned shape {y.shape}, expected {shape}")
        if real and np.iscomplexobj(y):
            raise ValueError("operator: the matvec returned complex values for a real operator")
        if not np.all(np.isfinite(y)):
            raise ValueError("operator: the matvec returned non-finite values (NaN or inf)")
        return y.astype(to, copy=False)

    def mv(x, to=out):
        x = np.asarray(x).reshape(-1)
        return check(matvec(x.astype(dtype)), (n,), to)

    def mm(x, to=out):
        if matmat is None:
            return np.stack([mv(col, to) for col in np.asarray(x).T], axis=1)
        return check(matmat(np.asarray(x).astype(dtype)), (n, x.shape[1]), to)

    op = spla.LinearOperator((n, n), matvec=mv, matmat=mm, dtype=out)
    op.native_matmat = functools.partial(mm, to=dtype)
    return op


def _start_vector(v0, rng: np.random.Generator, lin: LinearView) -> np.ndarray:
    default = rng.standard_normal(lin.n)  # always drawn: the probes do not depend on v0
    if v0 is None:
        return default
    v0 = np.asarray(v0)
    if v0.shape != (lin.n,) or not np.all(np.isfinite(v0)) or not np.any(v0):
        raise ValueError(f"v0: expected a finite non-zero vector of shape ({lin.n},)")
    if lin.real and np.iscomplexobj(v0):
        raise ValueError("v0: expected a real vector for a real operator")
    return v0


class _Counted(spla.LinearOperator):
    """Counts the products the solver asks for."""

    def __init__(self, op: spla.LinearOperator):
        super().__init__(op.dtype, op.shape)
        self.base, self.count = op, 0

    def _matvec(self, x):
        self.count += 1
        return self.base.matvec(x)

    def _matmat(self, x):
        self.count += x.shape[1]
        return self.base.matmat(x)


# -- solvers -----------------------------------------------------------------------------------


def _dense(lin: LinearView, finish: _Finisher, *, k: int, symmetric: bool) -> EigResult:
    if k > lin.n:
        raise ValueError(f"k: expected k <= n, got k={k} and n={lin.n}")
    matrix, n_matvecs = lin.matrix, 0
    if matrix is None:
        matrix, n_matvecs = lin.op.matmat(np.eye(lin.n, dtype=lin.op.dtype)), lin.n
    if symmetric:
        check_symmetric(matrix, np.finfo(lin.precision).eps)
        values, vectors = scipy.linalg.eigh(matrix)
    else:
        values, vectors = scipy.linalg.eig(matrix)
    return finish(values, vectors, n_matvecs=n_matvecs, method="dense")


def check_symmetric(
    matrix: np.ndarray, eps: float, *, name: str = "symmetric", hint: str = "pass symmetric=False"
) -> None:
    """Refuse a matrix that is not symmetric (Hermitian) to ``√ε`` of its largest entry
    (``eigh`` and Lanczos read it as symmetric): a ``ValueError`` naming ``name``, with ``hint``."""
    asymmetry = np.abs(matrix - matrix.conj().T).max(initial=0.0)
    if asymmetry > np.sqrt(eps) * np.abs(matrix).max(initial=0.0):
        raise ValueError(
            f"{name}: the operator is not symmetric (Hermitian): max |A - Aᴴ| = "
            f"{asymmetry:.2e}; {hint}"
        )


def _arpack(lin, finish, *, k, symmetric, tol, ncv, maxiter, v0, seed) -> EigResult:
    n = lin.n
    limit = n - 1 if symmetric else n - 2
    if k > limit:
        solver = "eigsh (symmetric)" if symmetric else "eigs"
        bound = "k < n" if symmetric else "k < n - 1"
        raise ValueError(
            f"k: ARPACK's {solver} needs {bound}, got k={k} and n={n}; "
            f"use method='dense' (LAPACK; materialises the n×n matrix with n products)"
        )
    if ncv is None:
        ncv = min(n, max(4 * k, 20))
    low = k + 1 if symmetric else k + 2
    if isinstance(ncv, bool) or not isinstance(ncv, int | np.integer) or not low <= ncv <= n:
        raise ValueError(f"ncv: expected an integer with {low} <= ncv <= n={n}, got {ncv!r}")
    if maxiter is not None:
        maxiter = checks.count("maxiter", maxiter, minimum=1)
    which = finish.which
    counted = _Counted(lin.op)
    if symmetric:
        which = {"LR": "LA", "SR": "SA"}.get(which, which)
        solve = spla.eigsh
    else:
        solve = spla.eigs
    v0 = np.asarray(v0, dtype=lin.op.dtype)
    try:
        with threadpool_limits(1):
            values, vectors = solve(
                counted,
                k=k,
                which=which,
                v0=v0,
                ncv=int(ncv),
                maxiter=maxiter,
                tol=tol,
                rng=seed,
            )
    except spla.ArpackNoConvergence as err:
        partial = finish(
            err.eigenvalues, err.eigenvectors, n_matvecs=counted.count, method="arpack"
        )
        raise ConvergenceError(
            f"ARPACK did not converge: {partial.values.size} of k={k} eigenvalues after "
            f"{counted.count} products (ncv={ncv}, maxiter={maxiter}); raise maxiter or ncv, or "
            f"loosen tol; the converged ones are in .result",
            partial,
        ) from err
    except spla.ArpackError as err:
        raise ValueError(f"operator: ARPACK failed: {err}") from err
    return finish(values, vectors, n_matvecs=counted.count, method="arpack")


def _krylov(lin, finish, *, k, symmetric, tol, ncv, maxiter, v0, seed, block) -> EigResult:
    n = lin.n
    if not lin.real:
        raise ValueError("method: 'krylov' needs a real operator; use method='arpack'")
    if finish.which == "SM":
        raise ValueError("which: 'SM' needs method='arpack' (Krylov–Schur finds exterior values)")
    if k + 2 * block > n:
        raise ValueError(
            f"k: method='krylov' needs k + 2·block <= n, got k={k}, block={block} and n={n}; "
            f"use method='dense'"
        )
    max_dim = None
    if ncv is not None:
        low = k + block
        if isinstance(ncv, bool) or not isinstance(ncv, int | np.integer) or not low <= ncv <= n:
            raise ValueError(f"ncv: expected an integer with {low} <= ncv <= n={n}, got {ncv!r}")
        max_dim = int(ncv)
    else:
        max_dim = None  # krylov_schur's default, max(4k, 20, 2k + 8·block)
    restarts = 300 if maxiter is None else checks.count("maxiter", maxiter, minimum=1)
    which = {"LR": "LA", "SR": "SA"}.get(finish.which, finish.which) if symmetric else finish.which
    with threadpool_limits(1):
        out = krylov_schur(
            getattr(lin.op, "native_matmat", lin.op.matmat),
            n,
            k=k,
            order=lambda values: rank_eigenvalues(values, which, True),
            symmetric=symmetric,
            block=block,
            max_dim=max_dim,
            tol=tol,
            max_restarts=restarts,
            dtype=lin.precision,
            start=v0,
            seed=seed,
            return_vectors=finish.return_vectors,
        )
    result = finish.from_relation(out)
    if not out.converged:
        good = result.converged
        partial = result._replace(
            values=result.values[good],
            residuals=result.residuals[good],
            converged=result.converged[good],
            vectors=None if result.vectors is None else result.vectors[:, good],
        )
        raise ConvergenceError(
            f"Krylov–Schur did not converge: {int(good.sum())} of k={k} eigenvalues after "
            f"{out.n_products} products ({out.restarts} restarts, basis {out.max_dim}); raise maxiter "
            f"or ncv, or loosen tol; the converged ones are in .result",
            partial,
        )
    return result


# -- selection, residuals ----------------------------------------------------------------------


def rank_eigenvalues(values: np.ndarray, which: str, real: bool) -> np.ndarray:
    """Indices sorting ``values`` best-first per ``which``; ties: larger imaginary, real part.

    For a real operator ``λ`` and ``λ̄`` have bitwise-equal keys (LAPACK and ARPACK return exact
    conjugates), so a pair always sorts as ``λ`` (Im > 0) then ``λ̄``.
    """
    v = np.asarray(values, dtype=np.complex128)
    key = {
        "LM": -np.abs(v),
        "SM": np.abs(v),
        "LR": -v.real,
        "LA": -v.real,
        "SR": v.real,
        "SA": v.real,
        "LI": -np.abs(v.imag) if real else -v.imag,
    }[which]
    return np.lexsort((-v.real, -v.imag, key))


def _upper_half(values: np.ndarray, vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a real operator: a value with Im < 0 whose conjugate is absent (ARPACK kept the wrong
    half of a pair split at ``k``) becomes its conjugate, an eigenpair too (``A x̄ = λ̄ x̄``)."""
    values, vectors = values.copy(), vectors.copy()
    for j, lam in enumerate(values):
        if lam.imag < 0 and not np.any(values == np.conj(lam)):
            values[j], vectors[:, j] = np.conj(lam), np.conj(vectors[:, j])
    return values, vectors


def _residuals(op, values, x, probes, *, real: bool, real_vectors: bool):
    """Relative residuals and ``‖A‖^`` (module docstring), from one batched product.

    For a real operator a complex ``x`` is applied as ``A Re x + i A Im x``. The block's width
    (``k + 2``, or ``2k + 2`` unless the solver returns real vectors) depends only on the solver
    and ``k``, so a jitted ``matmat`` compiles once for all points.
    """
    k = values.size
    if real:
        blocks = [x.real] if real_vectors else [x.real, x.imag]
        y = op.matmat(np.concatenate([*blocks, probes], axis=1))
        ax = y[:, :k] + (0.0 if real_vectors else 1j * y[:, k : 2 * k])
    else:
        y = op.matmat(np.concatenate([x, probes.astype(np.complex128)], axis=1))
        ax = y[:, :k]
    ap = y[:, -probes.shape[1] :]
    norm = max(
        np.abs(values).max(initial=0.0),
        np.linalg.norm(ax, axis=0).max(initial=0.0),
        (np.linalg.norm(ap, axis=0) / np.linalg.norm(probes, axis=0)).max(),
    )
    scale = norm if norm > 0 else 1.0
    return np.linalg.norm(ax - x * values, axis=0) / scale, float(norm)


class _Finisher(NamedTuple):
    """Sorts, selects ``k``, fixes split conjugate pairs, and computes residuals (or takes the
    exact ones of a Krylov relation: :meth:`from_relation`)."""

    lin: LinearView
    which: str
    k: int
    residual_tol: float
    probes: np.ndarray
    return_vectors: bool

    def __call__(self, values, vectors, *, n_matvecs: int, method: str) -> EigResult:
        real_vectors = np.isrealobj(vectors)  # eigh / eigsh on a real operator
        values = np.asarray(values, dtype=np.complex128)
        vectors = np.asarray(vectors, dtype=np.complex128).reshape(self.lin.n, values.size)
        index = rank_eigenvalues(values, self.which, self.lin.real)[: self.k]
        values, vectors = values[index], vectors[:, index]
        if self.lin.real and method == "arpack":
            values, vectors = _upper_half(values, vectors)
            index = rank_eigenvalues(values, self.which, True)
            values, vectors = values[index], vectors[:, index]
        unit = vectors / np.maximum(np.linalg.norm(vectors, axis=0), np.finfo(float).tiny)
        residuals, norm = _residuals(
            self.lin.op, values, unit, self.probes, real=self.lin.real, real_vectors=real_vectors
        )
        return EigResult(
            values=values,
            residuals=residuals,
            converged=residuals <= self.residual_tol,
            n_matvecs=int(n_matvecs),
            method=method,
            norm_estimate=norm,
            vectors=unit if self.return_vectors else None,
        )

    def from_relation(self, out: KrylovResult) -> EigResult:
        """The ``k`` best Ritz pairs of a Krylov–Schur run, residuals relative to its scale."""
        index = rank_eigenvalues(out.values, self.which, True)[: self.k]
        scale = out.scale if out.scale > 0 else 1.0
        residuals = out.residuals[index] / scale
        return EigResult(
            values=out.values[index],
            residuals=residuals,
            converged=residuals <= self.residual_tol,
            n_matvecs=int(out.n_products),
            method="krylov",
            norm_estimate=float(out.scale),
            vectors=None if out.vectors is None else out.vectors[:, index],
        )
