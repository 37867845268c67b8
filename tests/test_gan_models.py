"""Networks: shapes, ranges, and the fast up/down-sampling against plain numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from spectra.gan import models
from spectra.gan.config import get_config


def test_upsample_and_downsample():
    x = jnp.arange(2 * 3 * 4 * 5, dtype=jnp.float32).reshape(2, 3, 4, 5)
    up = models.upsample(x)
    np.testing.assert_array_equal(up, np.repeat(np.repeat(np.asarray(x), 2, axis=1), 2, axis=2))
    # average pooling undoes nearest-neighbour up-sampling exactly
    np.testing.assert_array_equal(models.downsample(up), x)


@pytest.mark.parametrize(("name", "shape"), [("mog8", (2,)), ("digits", (8, 8, 1))])
def test_networks_map_latents_to_data_and_data_to_logits(name, shape):
    config = get_config(name, channels=8, hidden=16)
    nets = models.build(config, shape, jax.random.PRNGKey(0))
    z = jax.random.normal(jax.random.PRNGKey(1), (5, config.latent_dim), jnp.float32)
    x = models.apply(nets.g_graph, nets.g_params, z)
    assert x.shape == (5, *shape) and x.dtype == jnp.float32
    if len(shape) == 3:
        assert float(jnp.abs(x).max()) <= 1.0  # tanh output, like the data
    logits = models.apply(nets.d_graph, nets.d_params, x)
    assert logits.shape == (5,)
    # parameters are plain nested dicts (what Game, optax and orbax expect)
    assert isinstance(nets.d_params, dict) and models.count_params(nets.g_params) > 0
    # same key, same parameters
    again = models.build(config, shape, jax.random.PRNGKey(0))
    for a, b in zip(jax.tree_util.tree_leaves(nets), jax.tree_util.tree_leaves(again), strict=True):
        np.testing.assert_array_equal(a, b)


def test_graphs_match_built_networks():
    config = get_config("digits", channels=8)
    d_graph, g_graph = models.graphs(config, (8, 8, 1))
    nets = models.build(config, (8, 8, 1), jax.random.PRNGKey(0))
    assert d_graph == nets.d_graph and g_graph == nets.g_graph


def test_image_sizes_must_allow_two_downsamplings():
    with pytest.raises(ValueError, match="divisible by 4"):
        models.build(get_config("digits"), (6, 6, 1), jax.random.PRNGKey(0))
