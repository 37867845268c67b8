"""Eigen-solvers held against matrices and games built with a known spectrum."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
import scipy.sparse.linalg as spla

from spectra import eigensolvers as es
from spectra import games, operators, zoo

# -- matrices with a known spectrum -------------------------------------------------------------

# Eigenvalues (one of each conjugate pair) chosen so that the best six per `which` are separated
# from the rest by a clear gap; the rest (the "bulk") lies in the disc |λ| ≤ 0.8.
PAIRS = [6 + 1j, -5.5 + 2j, 0.3 + 5.2j, 4 + 0.5j, -3.6 + 3j]
REALS = [4.5, 3.5, -4.0, -3.0]
EXPECTED = {
    "LM": [6 + 1j, 6 - 1j, -5.5 + 2j, -5.5 - 2j, 0.3 + 5.2j, 0.3 - 5.2j],
    "LR": [6 + 1j, 6 - 1j, 4.5, 4 + 0.5j, 4 - 0.5j, 3.5],
    "SR": [-5.5 + 2j, -5.5 - 2j, -4.0, -3.6 + 3j, -3.6 - 3j, -3.0],
    "LI": [0.3 + 5.2j, 0.3 - 5.2j, -3.6 + 3j, -3.6 - 3j, -5.5 + 2j, -5.5 - 2j],
}


def _rotation(lam: complex) -> np.ndarray:
    """The real 2×2 block with eigenvalues λ, λ̄."""
    return np.array([[lam.real, lam.imag], [-lam.imag, lam.real]])


def real_matrix_with_spectrum(pairs, reals, n, *, seed, bulk_radius=0.8):
    """``(S D S⁻¹, spectrum)`` with ``D`` block-diagonal: the given pairs and reals plus a random
    bulk in the disc of radius ``bulk_radius``; ``spectrum`` lists all ``n`` eigenvalues."""
    rng = np.random.default_rng(seed)
    blocks = [_rotation(complex(p)) for p in pairs] + [np.array([[float(r)]]) for r in reals]
    free = n - 2 * len(pairs) - len(reals)
    for _ in range(free // 2):
        lam = bulk_radius * np.sqrt(rng.uniform()) * np.exp(1j * rng.uniform(0.05, np.pi - 0.05))
        blocks.append(_rotation(lam))
    blocks += [np.array([[rng.uniform(-bulk_radius, bulk_radius)]])] * (free % 2)
    d = scipy.linalg.block_diag(*blocks)
    s = rng.standard_normal((n, n))
    return s @ d @ np.linalg.inv(s), np.linalg.eigvals(d)


@pytest.fixture(scope="module")
def matrix():
    return real_matrix_with_spectrum(PAIRS, REALS, 60, seed=1)[0]


@pytest.mark.parametrize("which", ["LM", "LR", "SR", "LI"])
def test_dense_recovers_known_spectrum(matrix, which):
    result = es.eigenvalues(matrix, k=6, which=which)
    assert result.method == "dense" and result.n_matvecs == 0
    np.testing.assert_allclose(result.values, EXPECTED[which], rtol=1e-9)
    assert result.converged.all() and result.residuals.max() < 1e-13


@pytest.mark.parametrize("which", ["LM", "LR", "SR", "LI"])
def test_arpack_matches_dense(matrix, which):
    dense = es.eigenvalues(matrix, k=6, which=which)
    arpack = es.eigenvalues(matrix, k=6, which=which, method="arpack")
    assert arpack.method == "arpack" and arpack.n_matvecs > 0
    np.testing.assert_allclose(arpack.values, dense.values, rtol=1e-8)
    np.testing.assert_allclose(arpack.values, EXPECTED[which], rtol=1e-8)
    assert arpack.converged.all() and arpack.residuals.max() < 1e-10


def test_conjugate_pair_split_at_k_keeps_the_upper_half(matrix):
    # k = 4 for LR cuts the pair 4 ± 0.5i: both paths keep 4 + 0.5i.
    want = [6 + 1j, 6 - 1j, 4.5, 4 + 0.5j]
    for method in ("dense", "arpack"):
        result = es.eigenvalues(matrix, k=4, which="LR", method=method)
        np.testing.assert_allclose(result.values, want, rtol=1e-8)
        assert result.converged.all()


def test_residuals_are_relative_to_a_lower_bound_of_the_norm(matrix):
    result = es.eigenvalues(matrix, k=6, which="LM", method="arpack", return_vectors=True)
    x, lam = result.vectors, result.values
    np.testing.assert_allclose(np.linalg.norm(x, axis=0), 1.0, rtol=1e-12)
    direct = np.linalg.norm(matrix @ x - x * lam, axis=0)
    np.testing.assert_allclose(
        result.residuals * result.norm_estimate,
        direct,
        rtol=1e-6,
        atol=1e-14 * result.norm_estimate,
    )
    two_norm = np.linalg.norm(matrix, 2)
    assert np.abs(lam).max() <= result.norm_estimate <= two_norm * (1 + 1e-12)


def test_clustered_spectrum():
    # Eight real eigenvalues 2.00, 2.01, ..., 2.07 above a bulk of radius 1.5: the six largest
    # are resolved from the cluster, not just somewhere inside it.
    cluster = 2.0 + 0.01 * np.arange(8)
    a, _ = real_matrix_with_spectrum([], cluster, 100, seed=3, bulk_radius=1.5)
    want = cluster[::-1][:6]
    dense = es.eigenvalues(a, k=6)
    np.testing.assert_allclose(dense.values, want, rtol=1e-10)
    arpack = es.eigenvalues(a, k=6, method="arpack")
    np.testing.assert_allclose(arpack.values, want, rtol=1e-8)
    assert arpack.converged.all()


def test_default_ncv_finds_the_set_that_ncv_2k_plus_1_missed():
    # Twelve pairs clustered near 1 ± i under a bulk reaching |Im λ| = 1.35: with ncv = 21 = 2k + 1
    # ARPACK (SciPy 1.17) returned a wrong set of ten for "LI", each with a tiny residual.
    rng = np.random.default_rng(18)
    pairs = 1.0 + 0.01 * rng.standard_normal(12) + 1j * (1 + 0.01 * rng.standard_normal(12))
    a, spectrum = real_matrix_with_spectrum(pairs, [], 150, seed=18, bulk_radius=1.35)
    upper = sorted(spectrum[spectrum.imag > 0], key=lambda z: z.imag, reverse=True)[:5]
    want = [z for lam in upper for z in (lam, np.conj(lam))]
    result = es.eigenvalues(a, k=10, which="LI", method="arpack")
    np.testing.assert_allclose(result.values, want, rtol=1e-8)
    assert result.converged.all()


# -- the symmetric path -------------------------------------------------------------------------

SYMMETRIC_SPECTRUM = np.concatenate(
    [
        [9.0, 7.5, 7.0, -8.0, -6.5, 0.05, -0.1, 0.2],
        np.linspace(1.0, 5.0, 26),
        -np.linspace(1, 5, 26),
    ]
)
SYMMETRIC_EXPECTED = {
    "LM": [9.0, -8.0, 7.5],
    "SM": [0.05, -0.1, 0.2],
    "LA": [9.0, 7.5, 7.0],
    "SA": [-8.0, -6.5, -5.0],
}


@pytest.fixture(scope="module")
def symmetric_matrix():
    q = np.linalg.qr(np.random.default_rng(2).standard_normal((60, 60)))[0]
    return q @ np.diag(SYMMETRIC_SPECTRUM) @ q.T


@pytest.mark.parametrize("method", ["arpack", "krylov", "auto"])
@pytest.mark.parametrize("which", ["LM", "SM", "LA", "SA"])
def test_symmetric_arpack_matches_eigh(symmetric_matrix, which, method):
    if method == "krylov" and which == "SM":
        pytest.skip("Krylov–Schur finds exterior eigenvalues only (SM raises, tested elsewhere)")
    dense = es.eigenvalues(symmetric_matrix, k=3, which=which, symmetric=True)
    op = spla.aslinearoperator(symmetric_matrix)
    arpack = es.eigenvalues(op, k=3, which=which, symmetric=True, method=method)
    # auto: Krylov–Schur for a real matrix-free operator, ARPACK for SM
    expected = method if method != "auto" else ("arpack" if which == "SM" else "krylov")
    assert arpack.method == expected
    np.testing.assert_allclose(dense.values, SYMMETRIC_EXPECTED[which], rtol=1e-10)
    np.testing.assert_allclose(arpack.values, dense.values, rtol=1e-8)
    np.testing.assert_array_equal(arpack.values.imag, 0.0)
    assert arpack.converged.all()


def test_symmetric_aliases_and_checks(symmetric_matrix):
    la = es.eigenvalues(symmetric_matrix, k=3, which="LA", symmetric=True)
    lr = es.eigenvalues(symmetric_matrix, k=3, which="LR", symmetric=True)
    np.testing.assert_array_equal(la.values, lr.values)
    with pytest.raises(ValueError, match="which"):
        es.eigenvalues(symmetric_matrix, k=3, which="LI", symmetric=True)
    with pytest.raises(ValueError, match="symmetric"):
        es.eigenvalues(symmetric_matrix + np.triu(np.ones((60, 60)), 1), k=3, symmetric=True)


# -- failures -----------------------------------------------------------------------------------


def test_non_convergence_carries_the_converged_values():
    rng = np.random.default_rng(3)
    spectrum = np.concatenate([[10.0, 8.0], rng.uniform(-1, 1, 58)])
    s = rng.standard_normal((60, 60))
    a = s @ np.diag(spectrum) @ np.linalg.inv(s)
    with pytest.raises(es.ConvergenceError) as info:
        es.eigenvalues(a, k=4, method="arpack", ncv=8, maxiter=3)
    err = info.value
    assert isinstance(err, ValueError)
    partial = err.result
    assert 0 < partial.values.size < 4 and partial.n_matvecs > 0
    np.testing.assert_allclose(partial.values, [10.0, 8.0][: partial.values.size], rtol=1e-10)
    assert partial.converged.all() and err.residuals.max() < 1e-10
    # Starved completely: nothing converges, still a ConvergenceError with an empty result.
    with pytest.raises(es.ConvergenceError) as info:
        es.eigenvalues(a, k=4, method="arpack", ncv=6, maxiter=1)
    assert info.value.values.size == info.value.residuals.size


def test_k_too_large_for_arpack():
    a = np.diag(np.arange(1.0, 11.0))
    with pytest.raises(ValueError, match=r"k=9 and n=10.*dense"):
        es.eigenvalues(a, k=9, method="arpack")
    with pytest.raises(ValueError, match=r"k=10 and n=10"):
        es.eigenvalues(a, k=10, method="arpack", symmetric=True)
    es.eigenvalues(a, k=9, method="arpack", symmetric=True)  # eigsh allows k = n - 1
    np.testing.assert_allclose(es.eigenvalues(a, k=10).values, np.arange(10.0, 0.0, -1))
    with pytest.raises(ValueError, match="k"):
        es.eigenvalues(a, k=11)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"which": "XX"}, "which"),
        ({"which": "LA"}, "which"),
        ({"method": "lanczos"}, "method"),
        ({"k": 0}, "k"),
        ({"tol": -1.0}, "tol"),
        ({"ncv": 3, "method": "arpack"}, "ncv"),
        ({"n": 5}, "n"),
        ({"v0": np.zeros(20), "method": "arpack"}, "v0"),
        ({"seed": "a"}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"tol": "tight"}, "tol"),
        ({"residual_tol": "a"}, "residual_tol"),
    ],
)
def test_bad_arguments(kwargs, match):
    a = np.random.default_rng(0).standard_normal((20, 20))
    with pytest.raises(ValueError, match=match):
        es.eigenvalues(a, **{"k": 2, **kwargs})


def test_bad_operators():
    with pytest.raises(ValueError, match="square"):
        es.eigenvalues(np.ones((3, 4)), k=1)
    with pytest.raises(ValueError, match="finite"):
        es.eigenvalues(np.array([[1.0, np.nan], [0.0, 1.0]]), k=1)
    with pytest.raises(ValueError, match="n: required"):
        es.eigenvalues(lambda x: x, k=1)
    with pytest.raises(ValueError, match="non-finite"):
        es.eigenvalues(lambda x: np.where(x > 0, np.inf, x), n=20, k=2)
    with pytest.raises(ValueError, match="shape"):
        es.eigenvalues(lambda x: x[:-1], n=20, k=2)
    with pytest.raises(ValueError, match="operator: expected a square .* matrix of numbers"):
        es.eigenvalues(np.array([["a", "b"], ["c", "d"]]), k=1)
    with pytest.raises(ValueError, match="operator: expected a square .* matrix of numbers"):
        es.eigenvalues([[1.0, 2.0], [3.0]], k=1)  # ragged


# -- other operator types -----------------------------------------------------------------------


def test_callable_sparse_and_linear_operator_agree(matrix):
    want = es.eigenvalues(matrix, k=6).values
    for operator, n in [
        (lambda x: matrix @ x, 60),
        (scipy.sparse.csr_matrix(matrix), None),
        (spla.aslinearoperator(matrix), None),
        (jnp.asarray(matrix), None),
    ]:
        got = es.eigenvalues(operator, k=6, n=n)
        np.testing.assert_allclose(got.values, want, rtol=1e-8)


def test_float32_matrix_is_solved_exactly_in_float64(matrix):
    single = matrix.astype(np.float32)
    for method in ("dense", "arpack"):
        got = es.eigenvalues(single, k=6, method=method)
        want = np.linalg.eigvals(single.astype(np.float64))
        want = sorted(want, key=lambda z: (-abs(z), -z.imag))[:6]
        np.testing.assert_allclose(got.values, want, rtol=1e-8)
        assert got.residuals.max() < 1e-10  # the float64 copy is exact: float64 residuals


def test_dense_method_materialises_a_matvec(matrix):
    result = es.eigenvalues(lambda x: matrix @ x, n=60, k=6, which="LI", method="dense")
    assert result.method == "dense" and result.n_matvecs == 60
    np.testing.assert_allclose(result.values, EXPECTED["LI"], rtol=1e-9)


# -- matvecs from JAX, games --------------------------------------------------------------------

# One of each pair λ, λ̄ of a 40-dimensional game; distinct moduli and imaginary parts.
# fmt: off
GAME_SPECTRUM = np.array([
    0.3 + 2.5j, 0.8 + 0.2j, 0.1 + 1.9j, 1.2 + 0.0j, 0.5 + 1.0j, 0.9 + 0.7j, 0.2 + 0.3j,
    0.6 + 1.5j, 1.1 + 0.4j, 0.4 + 0.6j, 0.7 + 2.2j, 0.35 + 1.2j, 0.25 + 0.8j, 0.45 + 0.1j,
    1.0 + 0.9j, 0.15 + 0.5j, 0.55 + 1.7j, 0.65 + 0.05j, 0.75 + 1.3j, 0.85 + 0.6j,
])
# fmt: on


def _best(prescribed, key, pairs):
    """The ``pairs`` prescribed eigenvalues with the largest ``key``, each followed by its conjugate."""
    top = sorted(prescribed, key=key, reverse=True)[:pairs]
    return [z for lam in top for z in (lam, np.conj(lam))]


@pytest.mark.parametrize("dtype", [jnp.float64, jnp.float32])
def test_game_jacobian_recovers_prescribed_spectrum(dtype):
    game = zoo.with_spectrum(GAME_SPECTRUM, key=jax.random.PRNGKey(0), dtype=dtype)
    op = es.game_jacobian_operator(game)
    assert op.n == 40 and op.dtype == jnp.dtype(dtype)
    rtol = 1e-10 if dtype == jnp.float64 else 2e-6
    for which, key in [("LI", lambda z: z.imag), ("LM", abs)]:
        result = es.eigenvalues(op, k=6, which=which)
        np.testing.assert_allclose(result.values, _best(GAME_SPECTRUM, key, 3), rtol=rtol)
        assert result.converged.all()
        assert result.values.dtype == np.complex128
    radius = es.spectral_radius(op)
    np.testing.assert_allclose(radius, np.abs(GAME_SPECTRUM).max(), rtol=rtol)


def test_float32_products_limit_the_residuals():
    game = zoo.with_spectrum(GAME_SPECTRUM, key=jax.random.PRNGKey(0), dtype=jnp.float32)
    op = es.game_jacobian_operator(game)
    result = es.eigenvalues(op, k=4, which="LI")
    # The products are really float32: residuals at float32 level, flagged under a float64 bar.
    assert 1e-9 < result.residuals.max() < 1e-4 and result.converged.all()
    strict = es.eigenvalues(op, k=4, which="LI", residual_tol=1e-10)
    assert not strict.converged.any()


def _counting_game(traces: dict, d: int = 12) -> games.Game:
    """A nonlinear game (∇v depends on the point and the data) that counts its traces."""

    def loss_phi(phi, theta, data):
        traces["n"] += 1
        return jnp.sum(jnp.tanh(phi) * (data @ theta)) + 0.5 * jnp.sum(phi**2 * (1 + theta**2))

    def loss_theta(phi, theta, data):
        return -jnp.sum(jnp.tanh(phi) * (data @ theta)) + 0.25 * jnp.sum(theta**4 + theta**2)

    rng = np.random.default_rng(5)
    return games.Game(
        loss_phi,
        loss_theta,
        jnp.zeros(d),
        jnp.zeros(d),
        data=jnp.asarray(rng.standard_normal((d, d))),
    )


def test_game_operator_compiles_once_across_points_and_data():
    traces = {"n": 0}
    game = _counting_game(traces)
    rng = np.random.default_rng(6)
    points = [jnp.asarray(rng.standard_normal(game.n)) for _ in range(3)]
    datas = [game.data, game.data, jnp.asarray(rng.standard_normal(game.data.shape))]
    new_traces = []
    for w, data in zip(points, datas, strict=True):
        g = game.with_data(data)
        before = traces["n"]
        result = es.eigenvalues(es.game_jacobian_operator(g, w), k=4, which="LM")
        new_traces.append(traces["n"] - before)
        want = es.eigenvalues(np.asarray(games.jacobian(g, w)), k=4, which="LM")  # eager
        np.testing.assert_allclose(result.values, want.values, rtol=1e-8)
    assert new_traces[0] > 0 and new_traces[1:] == [0, 0]


def _counted_map(x, a):
    _counted_map.traces += 1
    return jnp.tanh(a @ x) + 0.1 * x**3


_counted_map.traces = 0


def test_jvp_matvec_compiles_once_and_matches_jacfwd():
    rng = np.random.default_rng(7)
    n = 30
    new_traces = []
    for _ in range(3):
        w = jnp.asarray(rng.standard_normal(n))
        a = jnp.asarray(rng.standard_normal((n, n)) / np.sqrt(n))
        before = _counted_map.traces
        op = es.jvp_matvec(_counted_map, w, a)
        tangents = rng.standard_normal((n, 5))
        columns = np.stack([np.asarray(op.matvec(t)) for t in tangents.T], axis=1)
        np.testing.assert_allclose(np.asarray(op.matmat(tangents)), columns, rtol=1e-12)
        result = es.eigenvalues(op, k=4, which="LR")
        new_traces.append(_counted_map.traces - before)
        jac = np.asarray(jax.jacfwd(_counted_map)(w, a))  # eager: traces, not counted above
        np.testing.assert_allclose(
            result.values, es.eigenvalues(jac, k=4, which="LR").values, rtol=1e-8
        )
    assert new_traces[0] > 0 and new_traces[1:] == [0, 0]


def test_player_hessian_operator_is_symmetric_and_matches_dense():
    traces = {"n": 0}
    game = _counting_game(traces)
    w = jnp.asarray(np.random.default_rng(8).standard_normal(game.n))
    h_phi, h_theta = games.player_hessians(game, w)
    for player, h in (("phi", h_phi), ("theta", h_theta)):
        op = es.player_hessian_operator(game, w, player=player)
        assert op.symmetric and op.n == 12
        result = es.eigenvalues(op, k=3, which="LA")
        want = np.sort(np.linalg.eigvalsh(np.asarray(h)))[::-1][:3]
        np.testing.assert_allclose(result.values, want, rtol=1e-8)
        assert result.converged.all() and result.method == "krylov"
    with pytest.raises(ValueError, match="player"):
        es.player_hessian_operator(game, w, player="gen")


def test_spectral_radius_of_momentum_operator_matches_autodiff_jacobian():
    game = zoo.with_spectrum(GAME_SPECTRUM[:10], key=jax.random.PRNGKey(1))
    op = operators.momentum(game, eta=0.3, beta=-0.2)
    state = operators.fixed_point_state(op, game.point())
    want = float(operators.spectral_radius(op, state))
    got = es.spectral_radius(es.jvp_matvec(op.apply, state))
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_operator_builders_check_their_point():
    game = zoo.with_spectrum(GAME_SPECTRUM[:3])
    with pytest.raises(ValueError, match="w"):
        es.game_jacobian_operator(game, jnp.zeros(5))
    with pytest.raises(ValueError, match="w"):
        es.jvp_matvec(jnp.sin, jnp.array([0.0, jnp.nan]))
    with pytest.raises(ValueError, match="f"):
        es.jvp_matvec("sin", jnp.zeros(3))
