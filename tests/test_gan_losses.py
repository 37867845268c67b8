"""Saturating and non-saturating losses: values, gradients at known points, stability."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spectra.games import Game, vector_field
from spectra.gan import losses, models
from spectra.gan.config import get_config


def _naive_d_loss(real_logits, fake_logits):
    sig = jax.nn.sigmoid
    return -jnp.mean(jnp.log(sig(real_logits))) - jnp.mean(jnp.log(1 - sig(fake_logits)))


def test_stable_forms_match_the_textbook_formulas():
    real = jnp.array([-2.0, 0.3, 1.7])
    fake = jnp.array([0.5, -1.2, 2.5, -0.1])
    np.testing.assert_allclose(
        losses.discriminator_loss_from_logits(real, fake), _naive_d_loss(real, fake), rtol=1e-12
    )
    sat = losses.generator_loss_from_logits("saturating", None, fake)
    np.testing.assert_allclose(sat, jnp.mean(jnp.log(1 - jax.nn.sigmoid(fake))), rtol=1e-12)
    nonsat = losses.generator_loss_from_logits("non-saturating", None, fake)
    np.testing.assert_allclose(nonsat, -jnp.mean(jnp.log(jax.nn.sigmoid(fake))), rtol=1e-12)


def test_generator_gradients_at_a_known_point():
    # d/dl of log(1 − σ(l)) is −σ(l); of −log σ(l) it is −(1 − σ(l)).
    fake = jnp.array([-8.0, -1.0, 0.0, 2.0])
    n = fake.size
    g_sat = jax.grad(lambda l: losses.generator_loss_from_logits("saturating", None, l))(fake)
    g_non = jax.grad(lambda l: losses.generator_loss_from_logits("non-saturating", None, l))(fake)
    np.testing.assert_allclose(g_sat, -jax.nn.sigmoid(fake) / n, rtol=1e-12)
    np.testing.assert_allclose(g_non, -(1 - jax.nn.sigmoid(fake)) / n, rtol=1e-12)
    # the saturating loss saturates where D confidently rejects the samples; the other does not
    assert abs(g_sat[0]) < 1e-3 * abs(g_non[0])


def test_losses_stay_finite_for_extreme_logits():
    big = jnp.array([-200.0, 200.0])
    for value in (
        losses.discriminator_loss_from_logits(big, big),
        losses.generator_loss_from_logits("saturating", big, big),
        losses.generator_loss_from_logits("non-saturating", None, big),
    ):
        assert np.isfinite(value)
    grads = jax.grad(lambda l: losses.discriminator_loss_from_logits(l, l))(big)
    assert np.all(np.isfinite(grads))


def test_unknown_loss():
    with pytest.raises(ValueError, match="saturating, non-saturating"):
        losses.generator_loss_from_logits("wasserstein", None, jnp.zeros(2))


@pytest.fixture(scope="module")
def tiny():
    config = get_config("mog8", hidden=8, depth=1, latent_dim=3)
    nets = models.build(config, (2,), jax.random.PRNGKey(0))
    key_x, key_z = jax.random.split(jax.random.PRNGKey(1))
    batch = {"real": jax.random.normal(key_x, (16, 2)), "latent": jax.random.normal(key_z, (16, 3))}
    return nets, batch


def test_saturating_game_is_zero_sum_and_the_train_loss_has_the_same_generator_gradient(tiny):
    nets, batch = tiny
    game = losses.make_losses("saturating", nets.d_graph, nets.g_graph)
    assert game.zero_sum
    d_value = game.discriminator(nets.d_params, nets.g_params, batch)
    np.testing.assert_allclose(game.generator(nets.d_params, nets.g_params, batch), -d_value)
    full = jax.grad(game.generator, argnums=1)(nets.d_params, nets.g_params, batch)
    step = jax.grad(game.generator_step, argnums=1)(nets.d_params, nets.g_params, batch)
    for a, b in zip(jax.tree_util.tree_leaves(full), jax.tree_util.tree_leaves(step), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    # the zero-sum vector field (one reverse pass of L_φ) is the two players' own gradients
    g = Game(game.discriminator, game.generator, nets.d_params, nets.g_params, batch, zero_sum=True)
    w = g.point()
    separate = jnp.concatenate([g.grad_phi(w), g.grad_theta(w)])
    np.testing.assert_allclose(vector_field(g, w), separate, rtol=1e-5, atol=1e-7)


def test_loss_is_a_batch_mean_so_minibatches_average(tiny):
    nets, batch = tiny
    game = losses.make_losses("non-saturating", nets.d_graph, nets.g_graph)
    assert not game.zero_sum
    whole = game.generator(nets.d_params, nets.g_params, batch)
    halves = [{k: v[s] for k, v in batch.items()} for s in (slice(0, 8), slice(8, 16))]
    parts = [game.generator(nets.d_params, nets.g_params, h) for h in halves]
    np.testing.assert_allclose(whole, np.mean(parts), rtol=1e-6)


def test_make_losses_is_cached_per_structure(tiny):
    nets, _ = tiny
    a = losses.make_losses("saturating", nets.d_graph, nets.g_graph)
    b = losses.make_losses("saturating", nets.d_graph, nets.g_graph)
    assert a.discriminator is b.discriminator
