"""Update operators: their autodiff Jacobians against hand-derived ones, Table 1, Theorem 1 rates."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spectra import games, zoo
from spectra import operators as ops


def _at_fixed_point(op, game):
    return ops.fixed_point_state(op, game.point())


def _radius(op, game):
    return float(ops.spectral_radius(op, _at_fixed_point(op, game)))


@pytest.fixture(scope="module")
def game():
    return zoo.with_spectrum([0.4 + 1.5j, 1.0 + 0.2j, 0.8], key=jax.random.PRNGKey(7))


def test_momentum_jacobian_is_paper_eq_6(game):
    eta, beta = 0.3, -0.4
    op = ops.momentum(game, eta=eta, beta=beta)
    rng = np.random.default_rng(0)
    state = jnp.asarray(rng.normal(size=2 * game.n))
    jac_v = np.asarray(games.jacobian(game, state[: game.n]))
    n = game.n
    eye, zero = np.eye(n), np.zeros((n, n))
    eq6 = (
        np.block([[eye, zero], [eye, zero]])
        - eta * np.block([[jac_v, zero], [zero, zero]])
        + beta * np.block([[eye, -eye], [zero, zero]])
    )
    np.testing.assert_allclose(ops.jacobian(op, state), eq6, atol=1e-12)


def test_simultaneous_extragradient_consensus_spectra(game):
    """Closed forms for linear fields: 1−ηλ; EG 1−ηλ+η²λ²; consensus I − η(J + γJᵀJ)."""
    lam = np.linalg.eigvals(np.asarray(games.jacobian(game, game.point())))
    eta = (0.2, 0.2)
    sim = ops.spectrum(ops.simultaneous(game, eta=eta), game.point())
    np.testing.assert_allclose(np.sort_complex(sim), np.sort_complex(1 - 0.2 * lam), atol=1e-10)
    eg = ops.spectrum(ops.extragradient(game, eta=0.2), game.point())
    expected = 1 - 0.2 * lam + 0.04 * lam**2
    np.testing.assert_allclose(np.sort_complex(eg), np.sort_complex(expected), atol=1e-10)
    jac = np.asarray(games.jacobian(game, game.point()))
    cons = ops.jacobian(ops.consensus(game, eta=0.2, gamma=0.5), game.point())
    np.testing.assert_allclose(cons, np.eye(game.n) - 0.2 * (jac + 0.5 * jac.T @ jac), atol=1e-10)


def test_optimistic_spectrum_solves_its_characteristic_polynomial(game):
    # ω_{t+1} = ω_t − 2ηJω_t + ηJω_{t−1}: μ² − (1 − 2ηλ)μ − ηλ = 0 for each λ.
    eta = 0.15
    mus = np.asarray(
        ops.spectrum(ops.optimistic(game, eta=eta), jnp.r_[game.point(), game.point()])
    )
    lam = np.linalg.eigvals(np.asarray(games.jacobian(game, game.point())))
    expected = np.concatenate([np.roots([1, -(1 - 2 * eta * lk), -eta * lk]) for lk in lam])
    np.testing.assert_allclose(np.sort_complex(mus), np.sort_complex(expected), atol=1e-9)


def test_per_player_step_sizes_and_alternating_order():
    game = zoo.bilinear(np.array([[2.0]]))
    w = jnp.array([1.0, 1.0])  # (phi, theta); v = (-2θ, 2φ)
    op = ops.alternating(game, eta=(0.1, 0.3))
    # phi first: φ⁺ = 1 + 0.1·2 = 1.2; θ⁺ = 1 − 0.3·2·1.2 = 0.28
    np.testing.assert_allclose(op(w), [1.2, 0.28])
    op = ops.alternating(game, eta=(0.1, 0.3), first="theta")
    # θ first: θ⁺ = 1 − 0.3·2 = 0.4; φ⁺ = 1 + 0.1·2·0.4 = 1.08
    np.testing.assert_allclose(op(w), [1.08, 0.4])
    op = ops.simultaneous(game, eta=(0.1, 0.3))
    np.testing.assert_allclose(op(w), [1.2, 0.4])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"eta": 0.0, "beta": 0.1}, "eta: expected a step size > 0"),
        ({"eta": -1.0, "beta": 0.1}, "eta"),
        ({"eta": float("nan"), "beta": 0.1}, "eta: expected a finite"),
        ({"eta": 0.1, "beta": float("inf")}, "beta: expected a finite"),
        ({"eta": (0.1, 0.2, 0.3), "beta": 0.1}, "eta: expected a scalar or a pair"),
        ({"eta": np.ones(3), "beta": 0.1}, "eta: expected a scalar"),
    ],
)
def test_bad_hyperparameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ops.momentum(zoo.bilinear(), **kwargs)


def test_bad_states():
    op = ops.momentum(zoo.bilinear(), eta=0.1, beta=0.1)
    with pytest.raises(ValueError, match="state: expected shape"):
        ops.jacobian(op, jnp.zeros(3))
    with pytest.raises(ValueError, match="w0: expected shape"):
        ops.initial_state(op, jnp.zeros(3))
    with pytest.raises(ValueError, match="first"):
        ops.alternating(zoo.bilinear(), eta=0.1, first="G")
    with pytest.raises(ValueError, match="gamma"):
        ops.consensus(zoo.bilinear(), eta=0.1, gamma=-1.0)


# -- Table 1 of Gidel et al. (2019): the bilinear game --------------------------------------

A_TABLE = np.array([[1.0, 0.5], [0.0, 1.5]])
ETAS = (0.05, 0.2, 0.5)
STEPS = 400


def _trajectory_distances(op, game):
    w0 = game.point() + 0.1
    states = ops.iterate(op, ops.initial_state(op, w0), STEPS)
    return np.asarray(ops.distances(op, states, game.point()))


@pytest.mark.parametrize("beta", [-0.5, -0.2, 0.0, 0.2, 0.5])
@pytest.mark.parametrize("eta", ETAS)
def test_table1_simultaneous_diverges_for_any_beta(eta, beta):
    game = zoo.bilinear(A_TABLE)
    op = ops.momentum(game, eta=eta, beta=beta)
    assert _radius(op, game) > 1.0 + 1e-6
    d = _trajectory_distances(op, game)
    assert d[-1] > d[0]


@pytest.mark.parametrize("beta", [0.1, 0.3, 0.6])
@pytest.mark.parametrize("eta", ETAS)
def test_table1_alternating_positive_beta_diverges(eta, beta):
    game = zoo.bilinear(A_TABLE)
    op = ops.momentum(game, eta=eta, beta=beta, alternating=True)
    rho = _radius(op, game)
    assert rho > 1.0 + 1e-6
    d = _trajectory_distances(op, game)
    assert d[-1] > d[0]
    np.testing.assert_allclose(ops.fitted_rate(d, burn_in=200), rho, rtol=2e-3)


@pytest.mark.parametrize("eta", ETAS)
def test_table1_alternating_zero_beta_bounded_not_convergent(eta):
    game = zoo.bilinear(A_TABLE)
    op = ops.momentum(game, eta=eta, beta=0.0, alternating=True)
    np.testing.assert_allclose(_radius(op, game), 1.0, atol=1e-9)
    d = _trajectory_distances(op, game)
    assert d.max() < 10 * d[0]  # bounded
    assert d[-50:].min() > 0.1 * d[0]  # does not converge


@pytest.mark.parametrize("eta, beta", [(0.2, -0.1), (0.5, -0.3), (0.5, -0.5), (0.8, -0.2)])
def test_table1_alternating_negative_beta_converges(eta, beta):
    game = zoo.bilinear(A_TABLE)
    op = ops.momentum(game, eta=eta, beta=beta, alternating=True)
    rho = _radius(op, game)
    assert rho < 1.0 - 1e-3
    d = _trajectory_distances(op, game)
    assert d[-1] < 0.5 * d[0]
    np.testing.assert_allclose(ops.fitted_rate(d, burn_in=200), rho, rtol=2e-3)


# -- Theorem 1 / Proposition 6: the fitted linear rate is the spectral radius ------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda g: ops.simultaneous(g, eta=0.3),
        lambda g: ops.momentum(g, eta=0.3, beta=-0.2),
        lambda g: ops.momentum(g, eta=(0.3, 0.2), beta=(0.1, -0.3), alternating=True),
        lambda g: ops.extragradient(g, eta=0.4),
        lambda g: ops.optimistic(g, eta=0.2),
        lambda g: ops.consensus(g, eta=0.2, gamma=0.5),
    ],
    ids=["sim", "momentum", "alt-momentum", "extragradient", "optimistic", "consensus"],
)
def test_fitted_rate_matches_spectral_radius_on_a_nonlinear_game(make):
    """A non-quadratic game (a Dirac-GAN with R1 penalty): the rate is local, near ω*."""
    game = zoo.dirac_gan(gradient_penalty=0.6)
    op = make(game)
    rho = _radius(op, game)
    assert rho < 1
    w0 = game.point() + 1e-4
    states = ops.iterate(op, ops.initial_state(op, w0), 300)
    d = np.asarray(ops.distances(op, states, game.point()))
    fitted = float(ops.fitted_rate(jnp.asarray(d), burn_in=100))
    np.testing.assert_allclose(fitted, rho, rtol=2e-2)


def test_operators_vmap_over_hyperparameters():
    game = zoo.bilinear(A_TABLE)
    w_star = game.point()

    def radius(eta, beta):
        op = ops.momentum(game, eta=eta, beta=beta, alternating=True)
        return ops.spectral_radius(op, ops.fixed_point_state(op, w_star))

    etas = jnp.array([0.2, 0.5, 0.5])
    betas = jnp.array([-0.1, 0.0, 0.5])
    radii = jax.jit(jax.vmap(radius))(etas, betas)
    expected = [radius(float(e), float(b)) for e, b in zip(etas, betas, strict=True)]
    np.testing.assert_allclose(radii, expected, rtol=1e-10)


def test_factories_accept_python_floats_inside_jit():
    game = zoo.dirac_gan(gradient_penalty=0.5)

    @jax.jit
    def radius(beta, eta):
        op = ops.momentum(game, eta=0.1, beta=beta)
        cons = ops.consensus(game, eta=eta, gamma=1.0)
        return ops.spectral_radius(
            op, ops.fixed_point_state(op, game.point())
        ), ops.spectral_radius(cons, game.point())

    r1, r2 = radius(0.2, 0.3)
    assert 0 < float(r1) < 1.5 and 0 < float(r2) < 1.5
