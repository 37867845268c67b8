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
    with pytest.raises(ValueError, match="state: expected a flat vector of shape"):
        ops.jacobian(op, jnp.zeros(3))
    with pytest.raises(ValueError, match="w0: expected a flat vector of shape"):
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


# -- alternating momentum, per player ----------------------------------------------------------


def _alternating_momentum_jacobian(jac, n_phi, eta, beta, first):
    """∇F of alternating heavy ball on a linear field v = J w, derived by hand.

    With φ first: φ⁺ = φ − η_φ(Aφ + Bθ) + β_φ(φ − φ₋), then θ⁺ = θ − η_θ(Cφ⁺ + Dθ) + β_θ(θ − θ₋);
    the state is (φ, θ, φ₋, θ₋) ↦ (φ⁺, θ⁺, φ, θ). θ first is the mirror image."""
    n = jac.shape[0]
    k = n_phi
    idx = {"phi": np.arange(k), "theta": np.arange(k, n)}
    rate = {"phi": eta[0], "theta": eta[1]}
    mom = {"phi": beta[0], "theta": beta[1]}
    rows = {}
    order = ("phi", "theta") if first == "phi" else ("theta", "phi")
    for player in order:
        i = idx[player]
        row = np.zeros((i.size, 2 * n))
        row[:, i] += (1 + mom[player]) * np.eye(i.size)
        row[:, n + i] -= mom[player] * np.eye(i.size)
        # −η v_i(w_mid): the other player's block uses its new row if it moved first
        for other in ("phi", "theta"):
            block = jac[np.ix_(i, idx[other])]
            if other != player and other in rows:
                row -= rate[player] * block @ rows[other]
            else:
                row[:, idx[other]] -= rate[player] * block
        rows[player] = row
    top = np.vstack([rows["phi"], rows["theta"]])
    return np.vstack([top, np.hstack([np.eye(n), np.zeros((n, n))])])


@pytest.mark.parametrize("first", ["phi", "theta"])
def test_alternating_momentum_jacobian_is_hand_derived(first):
    """Per-player η and β, either order, on a general-sum game (no symmetry to hide a swap of
    the players' hyperparameters)."""
    rng = np.random.default_rng(11)
    jac = rng.normal(size=(5, 5))
    jac[:2, :2] = jac[:2, :2] + jac[:2, :2].T
    jac[2:, 2:] = jac[2:, 2:] + jac[2:, 2:].T
    game = zoo.quadratic_from_jacobian(jac, 2)
    eta, beta = (0.11, 0.07), (-0.35, 0.2)
    op = ops.momentum(game, eta=eta, beta=beta, alternating=True, first=first)
    state = jnp.asarray(rng.normal(size=10))
    expected = _alternating_momentum_jacobian(jac, 2, eta, beta, first)
    np.testing.assert_allclose(ops.jacobian(op, state), expected, atol=1e-12)
    # β = 0 without memory is the plain alternating operator: the top-left block
    plain = ops.alternating(game, eta=eta, first=first)
    reduced = _alternating_momentum_jacobian(jac, 2, eta, (0.0, 0.0), first)[:5, :5]
    np.testing.assert_allclose(ops.jacobian(plain, state[:5]), reduced, atol=1e-12)


# -- bad input ------------------------------------------------------------------------------


def test_states_and_hyperparameters_are_checked():
    game = zoo.bilinear(A_TABLE)
    op = ops.momentum(game, eta=0.1, beta=-0.2)
    w = game.point()
    with pytest.raises(ValueError, match=r"w_prev: expected a flat vector of shape \(4,\)"):
        ops.initial_state(op, w, jnp.zeros(3))  # used to return a state of length 7
    with pytest.raises(ValueError, match="w_prev: simultaneous has no memory"):
        ops.initial_state(ops.simultaneous(game, eta=0.1), w, w)
    with pytest.raises(ValueError, match=r"state: expected shape \(8,\) for momentum"):
        op(w)  # used to be a broadcasting TypeError from inside the operator
    with pytest.raises(ValueError, match="state: expected finite values"):
        ops.spectral_radius(op, jnp.full(8, jnp.nan))
    with pytest.raises(ValueError, match="steps: expected an integer >= 0, got 2.5"):
        ops.iterate(op, ops.initial_state(op, w), 2.5)  # used to run 2 steps
    states = ops.iterate(op, ops.initial_state(op, w + 0.1), 3)
    with pytest.raises(ValueError, match=r"w_star: expected a flat vector of shape \(4,\)"):
        ops.distances(op, states, jnp.zeros(3))
    with pytest.raises(ValueError, match=r"states: expected shape \(T, 8\)"):
        ops.distances(op, states[:, :4], w)
    for kwargs, word in (
        ({"eta": "0.1", "beta": 0.0}, "eta: expected a real number"),
        ({"eta": 0.1 + 0.1j, "beta": 0.0}, "eta: expected a real number"),
        ({"eta": 0.1, "beta": 0.2j}, "beta: expected a real number"),
        ({"eta": True, "beta": 0.0}, "eta: expected a real number"),
    ):
        with pytest.raises(ValueError, match=word):
            ops.momentum(game, **kwargs)
    with pytest.raises(ValueError, match="gamma"):
        ops.consensus(game, eta=0.1, gamma=0.5j)


@pytest.mark.parametrize(
    "dists, burn_in, word",
    [
        ([1.0, 0.5, 0.0, 0.0], 0, "dists: expected finite distances > 0"),  # reached ω*: log 0
        ([1.0, np.nan, 0.25], 0, "dists: expected finite distances > 0"),
        ([1.0, np.inf, 0.25], 0, "dists: expected finite distances > 0"),
        ([1.0], 0, "burn_in: expected at least 2 distances"),
        ([1.0, 0.5, 0.25], 2, "burn_in: expected at least 2 distances"),
        ([1.0, 0.5, 0.25], -1, "burn_in: expected an integer >= 0"),
        ([1.0, 0.5, 0.25], 0.5, "burn_in: expected an integer >= 0"),
        (np.ones((3, 3)), 0, "dists: expected a 1-D array"),  # used to return 1.0
    ],
)
def test_fitted_rate_bad_input(dists, burn_in, word):
    with pytest.raises(ValueError, match=word):
        ops.fitted_rate(jnp.asarray(dists), burn_in=burn_in)


def test_fitted_rate_is_the_geometric_ratio_and_jits():
    d = 3.0 * 0.9 ** np.arange(20.0)
    d[:5] *= 7.0  # a transient that burn_in skips
    assert float(ops.fitted_rate(d, burn_in=5)) == pytest.approx(0.9, rel=1e-12)
    jitted = jax.jit(ops.fitted_rate, static_argnames="burn_in")
    assert float(jitted(jnp.asarray(d), burn_in=5)) == pytest.approx(0.9, rel=1e-12)
