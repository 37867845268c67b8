"""Rate maps: the closed form (Theorem 3) against the real operators' Jacobians on small grids."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spectra import operators, sweeps, theory, zoo

LAM = np.array([1.0 + 2.0j, 0.3 + 0.5j, 2.0])
ETAS = np.linspace(0.05, 1.2, 9)
BETAS = np.linspace(-0.9, 0.9, 7)


@pytest.fixture(scope="module")
def game():
    return zoo.with_spectrum(LAM, key=jax.random.PRNGKey(0))


def test_rate_map_matches_the_momentum_operator(game):
    closed = sweeps.rate_map(LAM, ETAS, BETAS)
    actual = sweeps.operator_rate_map(operators.momentum, game, game.point(), ETAS, BETAS)
    assert closed.shape == actual.shape == (len(BETAS), len(ETAS))
    np.testing.assert_allclose(closed, actual, atol=1e-7)  # eig near collisions: ~√eps
    assert (closed < 1).any() and (closed > 1).any()


def test_operator_rate_map_of_gradient_descent(game):
    def gd(g, *, eta, beta):
        return operators.simultaneous(g, eta=eta)

    actual = sweeps.operator_rate_map(gd, game, game.point(), ETAS, BETAS[:2])
    expected = theory.gd_spectral_radius(LAM, eta=ETAS)
    np.testing.assert_allclose(actual, np.broadcast_to(expected, actual.shape), atol=1e-10)


def test_alternating_momentum_map_differs_from_simultaneous():
    """Table 1's bilinear game: simultaneous momentum never converges, alternating can."""
    game = zoo.bilinear(np.eye(2))
    alt = functools.partial(operators.momentum, alternating=True)
    etas, betas = np.linspace(0.1, 1.0, 5), np.linspace(-0.6, 0.0, 4)
    sim = sweeps.operator_rate_map(operators.momentum, game, game.point(), etas, betas)
    alternating = sweeps.operator_rate_map(alt, game, game.point(), etas, betas)
    assert np.all(sim >= 1 - 1e-12)
    assert (alternating < 1).any()
    np.testing.assert_allclose(sim, sweeps.rate_map([1j, -1j], etas, betas), atol=1e-7)


@pytest.mark.parametrize("chunk_rows", [1, 3, 100])
def test_chunking_does_not_change_the_map(chunk_rows):
    full = sweeps.rate_map(LAM, ETAS, BETAS)
    chunked = sweeps.rate_map(LAM, ETAS, BETAS, chunk_rows=chunk_rows, progress=True)
    np.testing.assert_allclose(full, chunked, rtol=1e-14)  # vector widths differ by 1 ulp


def test_chunk_function_is_a_single_compiled_unit():
    lam = jnp.asarray(LAM)
    a = sweeps.rate_map_chunk(lam, jnp.asarray(ETAS), jnp.asarray(BETAS[:3]))
    compiled = sweeps.rate_map_chunk._cache_size()
    b = sweeps.rate_map_chunk(lam * 1.1, jnp.asarray(ETAS) * 0.5, jnp.asarray(BETAS[3:6]))
    assert a.shape == b.shape == (3, len(ETAS))
    assert sweeps.rate_map_chunk._cache_size() == compiled  # new values, same shapes
    assert [s.stop for s in sweeps.chunks(7, 3)] == [3, 6, 7]


def test_rate_map_float32_follows_inputs():
    lam32 = LAM.astype(np.complex64)
    out = sweeps.rate_map(lam32, ETAS.astype(np.float32), BETAS.astype(np.float32))
    assert out.dtype == jnp.float32
    np.testing.assert_allclose(out, sweeps.rate_map(LAM, ETAS, BETAS), atol=1e-5)
    assert sweeps.rate_map(LAM, ETAS, BETAS).dtype == jnp.float64


def test_grid_argmin_agrees_with_optimal_momentum():
    etas = np.linspace(0.01, float(theory.momentum_step_bound(LAM)), 300)
    betas = np.linspace(-0.99, 0.99, 301)
    eta, beta, value = sweeps.grid_argmin(sweeps.rate_map(LAM, etas, betas), etas, betas)
    best = theory.optimal_momentum(LAM)
    assert best.rho <= value + 1e-12
    assert abs(eta - best.eta) < 0.05 and abs(beta - best.beta) < 0.05


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(etas=[0.0, 0.1]), "etas"),
        (dict(etas=[[0.1]]), "etas"),
        (dict(betas=[]), "betas"),
        (dict(betas=[np.nan]), "betas"),
        (dict(eigenvalues=[]), "eigenvalues"),
        (dict(eigenvalues=[np.inf]), "eigenvalues"),
    ],
)
def test_rate_map_bad_input(kwargs, word):
    args = dict(eigenvalues=LAM, etas=ETAS, betas=BETAS) | kwargs
    with pytest.raises(ValueError, match=word):
        sweeps.rate_map(**args)


def test_operator_rate_map_bad_input(game):
    with pytest.raises(ValueError, match="w_star"):
        sweeps.operator_rate_map(operators.momentum, game, np.zeros(3), ETAS, BETAS)
    with pytest.raises(ValueError, match="make_operator"):
        sweeps.operator_rate_map(None, game, game.point(), ETAS, BETAS)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(chunk_rows=0), "chunk_rows"),  # used to be clamped to 1 silently
        (dict(chunk_rows=-3), "chunk_rows"),
        (dict(chunk_rows=1.5), "chunk_rows"),
        (dict(etas=[0.1 + 1j]), "etas: expected real numbers"),  # used to be a copysign TypeError
        (dict(betas=[0.2j]), "betas: expected real numbers"),
        (dict(eigenvalues=["a"]), "eigenvalues: expected numbers"),
    ],
)
def test_rate_map_refuses_bad_chunks_and_non_real_grids(kwargs, word):
    args = dict(eigenvalues=LAM, etas=ETAS, betas=BETAS) | kwargs
    with pytest.raises(ValueError, match=word):
        sweeps.rate_map(**args)


def test_grid_argmin_checks_the_map_against_its_axes():
    """A map with rows and columns swapped used to return an (η, β) from the wrong axes."""
    values = np.array([[3.0, 2.0, 1.0], [4.0, 5.0, 6.0]])  # rows: 2 betas, columns: 3 etas
    etas, betas = [0.1, 0.2, 0.3], [-0.5, 0.5]
    assert sweeps.grid_argmin(values, etas, betas) == (0.3, -0.5, 1.0)
    with pytest.raises(ValueError, match=r"values: expected shape \(len\(betas\), len\(etas\)\)"):
        sweeps.grid_argmin(values.T, etas, betas)
    with pytest.raises(ValueError, match="values: no finite entry"):
        sweeps.grid_argmin(np.full((2, 3), np.nan), etas, betas)
    with_nan = values.copy()
    with_nan[0, 2] = np.nan
    assert sweeps.grid_argmin(with_nan, etas, betas) == (0.2, -0.5, 2.0)


def test_operator_rate_map_needs_a_game(game):
    with pytest.raises(ValueError, match="game: expected a spectra.games.Game"):
        sweeps.operator_rate_map(operators.momentum, "bilinear", game.point(), ETAS, BETAS)
    with pytest.raises(ValueError, match="chunk_rows"):
        sweeps.operator_rate_map(operators.momentum, game, game.point(), ETAS, BETAS, chunk_rows=0)
