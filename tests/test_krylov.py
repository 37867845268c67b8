"""The block Krylov–Schur solver against LAPACK, and its residuals against fresh products."""

import numpy as np
import pytest

from spectra.eigensolvers import ConvergenceError, MatrixFreeOperator, eigenvalues
from spectra.krylov import krylov_schur


def _matrix(n=300, seed=0, symmetric=False):
    """A random matrix (circular law, radius ~1) with a few outliers, as a GAN Jacobian has."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n)) / np.sqrt(n)
    a[:6, :6] += np.diag([4.0, 3.0, -3.5, 2.5, 2.2, -2.0])
    a[6:8, 6:8] += np.array([[1.5, 2.0], [-2.0, 1.5]])  # a complex pair 1.5 ± 2i
    return 0.5 * (a + a.T) if symmetric else a


def _key(values, which):
    return {
        "LM": -np.abs(values),
        "LR": -values.real,
        "LA": -values.real,
        "SR": values.real,
        "SA": values.real,
        "LI": -np.abs(values.imag),
    }[which]


def _top(values, which, k):
    values = np.asarray(values, dtype=complex)
    return values[np.lexsort((-values.real, -values.imag, _key(values, which)))][:k]


def _distance(a, b):
    """Largest distance from either set to the other."""
    d = np.abs(np.asarray(a)[:, None] - np.asarray(b)[None, :])
    return max(d.min(axis=0).max(), d.min(axis=1).max())


@pytest.mark.parametrize("block", [1, 3])
@pytest.mark.parametrize("which", ["LM", "LR", "SR", "LI"])
def test_general_operator_matches_lapack(which, block):
    a = _matrix()
    k = 6
    result = eigenvalues(
        MatrixFreeOperator(lambda x: a @ x, a.shape[0], np.float64, lambda x: a @ x),
        k=k,
        which=which,
        method="krylov",
        block=block,
        tol=1e-12,
    )
    expected = _top(np.linalg.eigvals(a), which, k)
    scale = np.abs(expected).max()
    assert result.method == "krylov"
    assert result.converged.all()
    # the selected set, with each conjugate pair represented by its Im > 0 member when split
    assert _distance(result.values, np.concatenate([expected, expected.conj()])) < 1e-9 * scale
    assert np.allclose(np.sort(np.abs(result.values)), np.sort(np.abs(expected)), atol=1e-9)
    assert result.residuals.max() < 1e-11


@pytest.mark.parametrize("which", ["LM", "LR", "SR"])
def test_symmetric_operator_matches_eigh(which):
    a = _matrix(symmetric=True)
    k = 5
    result = eigenvalues(
        MatrixFreeOperator(lambda x: a @ x, a.shape[0], np.float64, symmetric=True),
        k=k,
        which=which,
        method="krylov",
        tol=1e-12,
    )
    sym_which = {"LR": "LA", "SR": "SA"}.get(which, which)
    expected = _top(np.linalg.eigvalsh(a), sym_which, k)
    assert np.all(result.values.imag == 0)
    assert np.allclose(result.values, expected, atol=1e-10)


def test_residuals_from_the_relation_equal_fresh_products():
    a = _matrix(seed=3)
    out = krylov_schur(
        lambda x: a @ x,
        a.shape[0],
        k=8,
        order=lambda v: np.argsort(-np.abs(v), kind="stable"),
        tol=1e-6,
        return_vectors=True,
    )
    fresh = np.linalg.norm(a @ out.vectors - out.vectors * out.values, axis=0)
    assert np.allclose(out.residuals, fresh, rtol=1e-6, atol=1e-12)
    assert fresh.max() <= 1e-6 * out.scale * (1 + 1e-9)


def test_a_small_invariant_subspace_does_not_break_it():
    """A rank-4 operator: the Krylov space is exhausted after 4 products (breakdown)."""
    rng = np.random.default_rng(1)
    u = np.linalg.qr(rng.standard_normal((80, 4)))[0]
    a = u @ np.diag([5.0, -3.0, 2.0, 1.0]) @ u.T
    out = krylov_schur(
        lambda x: a @ x, 80, k=3, order=lambda v: np.argsort(-np.abs(v), kind="stable"), tol=1e-12
    )
    assert out.converged
    assert np.allclose(np.sort(out.values.real), [-3.0, 2.0, 5.0], atol=1e-12)


def test_float32_operator_keeps_a_float32_basis_and_converges_to_its_precision():
    a = _matrix(n=400, seed=5)
    a32 = a.astype(np.float32)
    seen = []

    def matmat(x):
        seen.append(x.dtype)
        return (a32 @ x.astype(np.float32)).astype(np.float32)

    out = krylov_schur(
        matmat,
        400,
        k=6,
        order=lambda v: np.argsort(-np.abs(v), kind="stable"),
        tol=1e-5,
        dtype=np.float32,
    )
    assert set(seen) == {np.dtype(np.float32)}
    assert out.converged
    expected = _top(np.linalg.eigvals(a), "LM", 6)
    assert _distance(out.values, np.concatenate([expected, expected.conj()])) < 1e-4


def test_the_same_seed_gives_the_same_numbers():
    a = _matrix(seed=7)
    op = MatrixFreeOperator(lambda x: a @ x, a.shape[0], np.float64, lambda x: a @ x)
    first = eigenvalues(op, k=5, method="krylov", seed=3)
    second = eigenvalues(op, k=5, method="krylov", seed=3)
    assert np.array_equal(first.values, second.values)
    assert first.n_matvecs == second.n_matvecs


def test_fewer_products_than_arpack_with_its_residual_check():
    """Convergence is tested every few products and residuals cost no product."""
    a = _matrix(n=500, seed=2)
    counts = {}
    for method in ("krylov", "arpack"):
        calls = [0]

        def matmat(x, calls=calls):
            calls[0] += x.shape[1]
            return a @ x

        op = MatrixFreeOperator(lambda x, m=matmat: m(x[:, None])[:, 0], 500, np.float64, matmat)
        eigenvalues(op, k=4, method=method, tol=1e-8, ncv=40)
        counts[method] = calls[0]
    assert counts["krylov"] < counts["arpack"]


def test_non_convergence_raises_with_what_converged():
    a = _matrix(n=300, seed=4)
    op = MatrixFreeOperator(lambda x: a @ x, 300, np.float64, lambda x: a @ x)
    with pytest.raises(ConvergenceError, match="Krylov–Schur did not converge") as info:
        eigenvalues(op, k=12, which="LI", method="krylov", ncv=30, maxiter=1, tol=1e-14)
    partial = info.value.result
    assert partial.values.size < 12
    assert np.all(partial.residuals <= 1e-14 * 1.0001 + 1e-300) or partial.values.size == 0


def test_bad_arguments_name_the_argument():
    a = _matrix(n=50)
    op = MatrixFreeOperator(lambda x: a @ x, 50, np.float64, lambda x: a @ x)
    with pytest.raises(ValueError, match="which: 'SM' needs method='arpack'"):
        eigenvalues(op, k=3, which="SM", method="krylov")
    with pytest.raises(ValueError, match="k: method='krylov' needs k"):
        eigenvalues(op, k=45, method="krylov", block=4)
    with pytest.raises(ValueError, match="block: expected an integer >= 1"):
        eigenvalues(op, k=3, method="krylov", block=0)
    with pytest.raises(ValueError, match="ncv: expected an integer"):
        eigenvalues(op, k=3, method="krylov", ncv=2)
    c = a.astype(complex)
    with pytest.raises(ValueError, match="method: 'krylov' needs a real operator"):
        eigenvalues(MatrixFreeOperator(lambda x: c @ x, 50, np.complex128), k=3, method="krylov")


def test_host_memory_release_is_safe_to_call():
    from spectra import hostmem

    assert hostmem.release() in (True, False)
    assert hostmem.release() == hostmem.release()


def test_freed_memory_is_kept_for_reuse_until_released():
    """After ``keep_freed_memory`` a freed 64 MB buffer stays in the process (the next product's
    buffers reuse it instead of being faulted in again); ``release`` hands it back."""
    import os

    from spectra import hostmem

    if not hostmem.keep_freed_memory():
        pytest.skip("not glibc")

    def resident_mb():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    hostmem.release()
    buffer = np.ones(16 * 2**20, dtype=np.float32)  # 64 MB, written: resident
    with_buffer = resident_mb()
    del buffer
    assert resident_mb() > with_buffer - 8  # kept (by default glibc would unmap it)
    hostmem.release()
    assert resident_mb() < with_buffer - 48  # handed back
    assert hostmem.keep_freed_memory.__wrapped__() is True  # idempotent
