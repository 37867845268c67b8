"""Games: v and ∇v against hand-derived forms, matrix-free products against the dense Jacobian."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spectra import games, zoo
from spectra.equilibria import nash_report
from spectra.games import Game, jacobian, vector_field
from spectra.probe import StreamedOperator


def _sorted(z):
    z = np.asarray(z)
    return z[np.lexsort((np.round(z.imag, 9), np.round(z.real, 9)))]


def test_bilinear_vector_field_and_spectrum():
    A = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 3.0]])  # d_theta=3, d_phi=2
    game = zoo.bilinear(A)
    rng = np.random.default_rng(0)
    phi, theta = rng.normal(size=2), rng.normal(size=3)
    w = game.join(jnp.asarray(phi), jnp.asarray(theta))
    np.testing.assert_allclose(games.vector_field(game, w), np.r_[-A.T @ theta, A @ phi])
    jac = games.jacobian(game, w)
    expected = np.block([[np.zeros((2, 2)), -A.T], [A, np.zeros((3, 3))]])
    np.testing.assert_allclose(jac, expected)
    sigma = np.linalg.svd(A, compute_uv=False)
    eig = np.linalg.eigvals(np.asarray(jac))
    np.testing.assert_allclose(np.sort(np.abs(eig.imag))[-4:], np.sort(np.r_[sigma, sigma]))
    np.testing.assert_allclose(eig.real, 0, atol=1e-12)


def test_lecture_scalar_game_matches_eq_12():
    game = zoo.scalar_bilinear()
    w = jnp.array([0.7, -0.3])  # (phi, theta)
    np.testing.assert_allclose(games.vector_field(game, w), [-0.3, -0.7])  # (theta, -phi)
    np.testing.assert_allclose(games.jacobian(game, w), [[0, 1], [-1, 0]])


def test_with_spectrum_builds_the_prescribed_spectrum():
    lams = np.array([0.3 + 2j, 1.0 + 0.5j, 2.0 + 0j, 0.1 + 5j])
    game = zoo.with_spectrum(lams, key=jax.random.PRNGKey(3))
    jac = np.asarray(games.jacobian(game, game.point()))
    assert not np.allclose(jac, jac.T)
    expected = np.r_[lams, lams.conj()]
    np.testing.assert_allclose(_sorted(np.linalg.eigvals(jac)), _sorted(expected), atol=1e-10)
    # A game's diagonal blocks are player Hessians: symmetric.
    h_phi, h_theta = games.player_hessians(game, game.point())
    np.testing.assert_allclose(h_phi, np.asarray(h_phi).T, atol=1e-12)
    np.testing.assert_allclose(h_theta, np.asarray(h_theta).T, atol=1e-12)


def test_jvp_vjp_and_player_hvp_match_dense_jacobian():
    game = zoo.with_spectrum([0.5 + 1j, 2 + 3j, 1.0], key=jax.random.PRNGKey(1))
    rng = np.random.default_rng(1)
    w = jnp.asarray(rng.normal(size=game.n))
    t = jnp.asarray(rng.normal(size=game.n))
    jac = np.asarray(games.jacobian(game, w))
    np.testing.assert_allclose(games.jvp(game, w, t), jac @ np.asarray(t), atol=1e-12)
    np.testing.assert_allclose(games.vjp(game, w, t), jac.T @ np.asarray(t), atol=1e-12)
    k = game.n_phi
    tp, tt = t[:k], t[k:]
    np.testing.assert_allclose(
        games.player_hvp(game, w, tp, player="phi"), jac[:k, :k] @ np.asarray(tp), atol=1e-12
    )
    np.testing.assert_allclose(
        games.player_hvp(game, w, tt, player="theta"), jac[k:, k:] @ np.asarray(tt), atol=1e-12
    )
    with pytest.raises(ValueError, match="player"):
        games.player_hvp(game, w, tp, player="gen")


def test_player_hessians_do_not_differentiate_the_other_player():
    """A player's Hessian treats the other player as a constant: no tangent (not even a zero
    one) goes through the other's network. With θ = 0 under a square root, a zero tangent would
    meet sqrt'(0) = ∞ and turn the product into NaN (0·∞), and on a GAN it would run the other
    network's tangent for nothing."""

    def loss_phi(phi, theta):
        return jnp.sum(phi**2) * (1.0 + jnp.sqrt(theta[0]))

    def loss_theta(phi, theta):
        return jnp.sum(theta**2) * (1.0 + jnp.sqrt(phi[0]))

    game = Game(loss_phi, loss_theta, jnp.array([0.0, 1.0]), jnp.array([0.0, 2.0]))
    w = game.point()
    for player, size in (("phi", 2), ("theta", 2)):
        t = jnp.arange(1.0, size + 1.0)
        np.testing.assert_allclose(games.player_hvp(game, w, t, player=player), 2.0 * t)
        np.testing.assert_allclose(
            games.player_gradient(game, w, w[:2] if player == "phi" else w[2:], player=player),
            [0.0, 2.0] if player == "phi" else [0.0, 4.0],
        )
    with pytest.raises(ValueError, match="x: expected"):
        games.player_gradient(game, w, w, player="phi")
    # the probe's streamed Hessians, linearised and not
    for linearize in (True, False):
        for player in ("phi", "theta"):
            op = StreamedOperator(game, w, kind=player, linearize=linearize)
            np.testing.assert_allclose(op.dense(), 2.0 * np.eye(2))


def test_pytree_players_float32_and_data_argument():
    """Players are pytrees; the data batch is a third loss argument; float32 stays float32."""

    def loss_phi(phi, theta, data):
        return jnp.sum((phi["a"] * data - theta[0]) ** 2) + jnp.sum(phi["b"] ** 2)

    def loss_theta(phi, theta, data):
        return -jnp.sum((phi["a"] * data - theta[0]) ** 2) + 0.5 * jnp.sum(theta[1] ** 2)

    phi = {"a": jnp.ones(3, jnp.float32), "b": jnp.zeros((2, 2), jnp.float32)}
    theta = (jnp.ones(3, jnp.float32), jnp.ones(1, jnp.float32))
    game = Game(loss_phi, loss_theta, phi, theta, data=jnp.arange(3.0, dtype=jnp.float32))
    assert (game.n_phi, game.n_theta, game.n) == (7, 4, 11)
    w = game.point()
    assert w.dtype == jnp.float32
    v = games.vector_field(game, w)
    assert v.dtype == jnp.float32 and v.shape == (11,)
    jac = games.jacobian(game, w)
    assert jac.shape == (11, 11) and jac.dtype == jnp.float32
    # The game is a pytree: it passes through jit as an argument, data and point as leaves.
    jitted = jax.jit(games.vector_field)
    np.testing.assert_allclose(jitted(game, w), v)
    game2 = game.with_data(jnp.arange(3.0, dtype=jnp.float32) + 1)
    assert not np.allclose(jitted(game2, w), v)
    with pytest.raises(ValueError, match="w: expected a flat vector"):
        game.split(jnp.zeros(5))


def test_dirac_gan_jacobian_at_equilibrium():
    for gamma in (0.0, 0.7):
        game = zoo.dirac_gan(gradient_penalty=gamma)
        jac = np.asarray(games.jacobian(game, game.point()))
        # f(t) = -log(1 + e^{-t}), f'(0) = 1/2.
        np.testing.assert_allclose(jac, [[gamma, -0.5], [0.5, 0.0]], atol=1e-14)
    wgan = zoo.dirac_gan("wgan")
    np.testing.assert_allclose(games.jacobian(wgan, wgan.point()), [[0, -1], [1, 0]])
    with pytest.raises(ValueError, match="f: expected"):
        zoo.dirac_gan("hinge")
    with pytest.raises(ValueError, match="gradient_penalty"):
        zoo.dirac_gan(gradient_penalty=-1)


def test_quadratic_rejects_non_symmetric_player_hessian():
    with pytest.raises(ValueError, match="A: a player's Hessian block must be symmetric"):
        zoo.quadratic([[1, 2], [0, 1]], np.eye(2), np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="B: expected shape"):
        zoo.quadratic(np.eye(2), np.eye(3), np.eye(2), np.eye(2))
    with pytest.raises(ValueError, match="game: unknown name"):
        zoo.by_name("nope")


def _zero_sum_quadratic(a, b, d):
    """``L_φ = ½φᵀaφ + φᵀbθ − ½θᵀdθ`` and ``L_θ = −L_φ``: ∇v = [[a, b], [−bᵀ, d]]."""

    def loss_phi(phi, theta):
        return 0.5 * phi @ a @ phi + phi @ b @ theta - 0.5 * theta @ d @ theta

    def loss_theta(phi, theta):
        return -loss_phi(phi, theta)

    zero_phi, zero_theta = jnp.zeros(a.shape[0]), jnp.zeros(d.shape[0])
    return Game(loss_phi, loss_theta, zero_phi, zero_theta, zero_sum=True)


def test_zero_sum_vector_field_is_one_reverse_pass_of_the_same_field():
    """For ``L_θ = −L_φ`` the joint gradient gives the same v and ∇v as the two separate ones."""
    rng = np.random.default_rng(3)
    games = [zoo.bilinear(), zoo.scalar_bilinear(), zoo.dirac_gan(), zoo.sine_game()]
    a, d = rng.normal(size=(2, 2)), rng.normal(size=(3, 3))
    games.append(_zero_sum_quadratic(a + a.T, rng.normal(size=(2, 3)), d + d.T))
    for game in games:
        assert game.zero_sum
        w = jnp.asarray(rng.normal(size=game.n))
        separate = lambda x, g=game: jnp.concatenate([g.grad_phi(x), g.grad_theta(x)])  # noqa: E731
        np.testing.assert_allclose(vector_field(game, w), separate(w), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            jacobian(game, w), jax.jacfwd(separate)(w), rtol=1e-12, atol=1e-12
        )


def test_nash_report_zero_sum_and_general_sum():
    # Zero-sum quadratic with strictly convex-concave loss: a strict local Nash equilibrium.
    A, D = np.diag([1.0, 2.0]), np.diag([0.5, 3.0])
    B = np.array([[0.3, -1.0], [2.0, 0.1]])
    cvx = zoo.quadratic(A, B, -B.T, D)
    cvx = Game(cvx.loss_phi, cvx.loss_theta, cvx.phi, cvx.theta, zero_sum=False)
    rep = nash_report(cvx)
    assert rep.stationary and rep.local_nash is True
    np.testing.assert_allclose(rep.hessian_phi_eigenvalues, [1.0, 2.0])
    # Symmetric part equals blockdiag(A, D) because coupling blocks cancel (Lemma 9).
    np.testing.assert_allclose(rep.symmetric_part_eigenvalues, [0.5, 1.0, 2.0, 3.0])
    # The bilinear game: only semidefinite -> undecided at second order.
    assert nash_report(zoo.bilinear()).local_nash is None
    # A saddle for player phi: not a local Nash equilibrium.
    bad = zoo.quadratic(np.diag([1.0, -1.0]), B, -B.T, D)
    rep = nash_report(bad)
    assert rep.local_nash is False and "φ" in rep.reason
    # Not stationary.
    rep = nash_report(cvx, jnp.ones(4))
    assert rep.local_nash is False and not rep.stationary
    # Lemma 9 on random zero-sum games: sym part PSD <=> Hessians of L_phi PSD and NSD.
    rng = np.random.default_rng(0)
    for _ in range(20):
        a = rng.normal(size=(2, 2))
        d = rng.normal(size=(2, 2))
        a, d = a @ a.T * rng.choice([1, -1]), d @ d.T * rng.choice([1, -1])
        game = _zero_sum_quadratic(a, B, d)
        np.testing.assert_allclose(
            jacobian(game, game.point()),
            jacobian(zoo.quadratic(a, B, -B.T, d), game.point()),
            atol=1e-12,
        )
        rep = nash_report(game)
        lemma9 = np.linalg.eigvalsh(a).min() > 0 and np.linalg.eigvalsh(d).min() > 0
        assert (rep.symmetric_part_eigenvalues.min() > 0) == lemma9
        assert rep.local_nash == lemma9


def test_game_checks_its_players_and_losses():
    """Mismatched players (float32 φ with float64 θ was silently promoted to float64 by the
    joint flattening), non-float or empty players and non-callable losses are refused at once;
    a non-scalar loss names the loss instead of JAX's ``grad`` TypeError."""

    def loss(phi, theta):
        return jnp.sum(phi * theta)

    f32, f64 = jnp.zeros(2, jnp.float32), jnp.zeros(2, jnp.float64)
    with pytest.raises(ValueError, match=r"phi, theta: .* one dtype, got float32 \(phi\)"):
        Game(loss, loss, f32, f64)
    with pytest.raises(ValueError, match="phi: expected real floating-point parameters"):
        Game(loss, loss, jnp.zeros(2, jnp.int32), f64)
    with pytest.raises(ValueError, match="theta: expected real floating-point parameters"):
        Game(loss, loss, f64, jnp.zeros(2, jnp.complex128))
    with pytest.raises(ValueError, match="theta: expected one floating dtype"):
        Game(loss, loss, f64, {"a": f32, "b": f64})
    with pytest.raises(ValueError, match="phi: expected a pytree with at least one parameter"):
        Game(loss, loss, {}, f64)
    with pytest.raises(ValueError, match="loss_theta: expected a callable"):
        Game(loss, 3.0, f64, f64)
    vector_loss = Game(loss, lambda phi, theta: phi * theta, f64, f64)
    with pytest.raises(ValueError, match=r"loss_theta: expected a scalar loss, got shape \(2,\)"):
        vector_field(vector_loss, jnp.zeros(4))
    # JAX rebuilds games from leaves (tree_map, jit, vmap): that still works.
    game = Game(loss, loss, f64, f64)
    doubled = jax.tree_util.tree_map(lambda x: x + 1.0, game)
    assert isinstance(doubled, Game) and float(doubled.phi[0]) == 1.0
    assert jax.tree_util.tree_structure(game).num_leaves == 2


def test_products_check_their_vectors():
    """Wrong tangent shapes used to surface as JAX errors about "primal and tangent shapes"
    (naming no argument), and a NaN point gave a NaN field silently."""
    game = zoo.with_spectrum([0.5 + 1j, 2.0], key=jax.random.PRNGKey(0))
    w = game.point()
    with pytest.raises(ValueError, match=r"tangent: expected a flat vector of shape \(4,\)"):
        games.jvp(game, w, jnp.zeros(3))
    with pytest.raises(ValueError, match=r"cotangent: expected a flat vector of shape \(4,\)"):
        games.vjp(game, w, jnp.zeros((4, 1)))
    with pytest.raises(ValueError, match=r"tangent: expected a flat vector of shape \(2,\)"):
        games.player_hvp(game, w, jnp.zeros(4), player="theta")
    bad = w.at[1].set(jnp.nan)
    for call in (
        lambda: vector_field(game, bad),
        lambda: jacobian(game, bad),
        lambda: games.jvp(game, w, bad),
        lambda: games.player_hvp(game, bad, jnp.ones(2), player="phi"),
    ):
        with pytest.raises(ValueError, match="expected finite values"):
            call()
    with pytest.raises(ValueError, match="w: expected a real floating-point vector"):
        vector_field(game, jnp.zeros(4, jnp.int32))
    # Under jit only the shape is static: values are not checked, shapes still are.
    assert np.isnan(jax.jit(vector_field)(game, bad)).any()
    with pytest.raises(ValueError, match="tangent"):
        jax.jit(games.jvp)(game, w, jnp.zeros(5))


def test_dirac_gan_fields_match_their_derivation():
    """v of the Dirac-GAN away from the equilibrium (Mescheder et al. 2018, §2), from
    ``f(t) = −log(1 + e^{−t})``, ``f'(t) = σ(−t)``: ``v_ψ = −θ f'(ψθ) + γψ`` and
    ``v_θ = ψ f'(ψθ)`` (saturating) or ``ψ f'(−ψθ)`` (non-saturating: θ minimises −f(−ψθ))."""

    def fprime(t):
        return 1.0 / (1.0 + np.exp(t))

    rng = np.random.default_rng(4)
    for loss, gamma in (("saturating", 0.0), ("saturating", 0.3), ("non_saturating", 0.3)):
        game = zoo.dirac_gan(loss=loss, gradient_penalty=gamma)
        for psi, theta in rng.normal(size=(3, 2)):
            t = psi * theta
            v_theta = psi * fprime(t) if loss == "saturating" else psi * fprime(-t)
            expected = [-theta * fprime(t) + gamma * psi, v_theta]
            np.testing.assert_allclose(
                vector_field(game, jnp.array([psi, theta])), expected, rtol=1e-12
            )
        # at the equilibrium both losses give the same ∇v (f'(0) = 1/2)
        np.testing.assert_allclose(
            jacobian(game, game.point()), [[gamma, -0.5], [0.5, 0.0]], atol=1e-14
        )


def test_zoo_rejects_complex_and_malformed_input():
    with pytest.raises(ValueError, match="A: expected a real matrix"):
        zoo.bilinear(np.array([[1.0 + 1j]]))  # used to fail deep inside jax.grad
    with pytest.raises(ValueError, match="n_phi: expected an integer"):
        zoo.quadratic_from_jacobian(np.eye(3), 1.5)  # used to be a slicing TypeError


def test_nash_report_general_sum_checks_both_players():
    """A general-sum stationary point where θ's own Hessian is indefinite is not a local Nash
    equilibrium, whatever φ's Hessian (the θ player can improve unilaterally)."""
    B = np.array([[0.3, -1.0], [2.0, 0.1]])
    game = zoo.quadratic(np.diag([1.0, 2.0]), B, B.T, np.diag([0.5, -3.0]))
    rep = nash_report(game)
    assert rep.stationary and rep.local_nash is False and "θ" in rep.reason
    np.testing.assert_allclose(rep.hessian_theta_eigenvalues, [-3.0, 0.5])
    with pytest.raises(ValueError, match="game: expected a spectra.games.Game"):
        nash_report("bilinear")
    with pytest.raises(ValueError, match="atol"):
        nash_report(game, atol="1e-8")
