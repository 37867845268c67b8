"""Quality metrics: real data scores well, collapsed samples score badly."""

import jax
import numpy as np
import pytest
import scipy.linalg

from spectra.gan import data, metrics


def test_real_mixture_samples_cover_every_mode():
    ds = data.load("mog25")
    x = ds.sample(jax.random.PRNGKey(0), 5000)
    q = metrics.mixture_quality(x, ds.centres, ds.sigma)
    assert q["modes_covered"] == 25 and q["n_modes"] == 25
    # within 3σ of the mode in 2-D: P(χ²₂ ≤ 9) = 1 − e^{−4.5} ≈ 0.989
    assert q["high_quality_fraction"] == pytest.approx(1 - np.exp(-4.5), abs=0.01)


def test_collapsed_and_blurry_mixture_samples_score_badly():
    ds = data.load("mog8")
    collapsed = np.repeat(ds.centres[:1], 1000, axis=0) + 0.001
    q = metrics.mixture_quality(collapsed, ds.centres, ds.sigma)
    assert q["modes_covered"] == 1 and q["high_quality_fraction"] == 1.0
    assert q["score"] == pytest.approx(1 / 8)
    blurry = np.asarray(jax.random.normal(jax.random.PRNGKey(0), (1000, 2)))
    assert metrics.mixture_quality(blurry, ds.centres, ds.sigma)["score"] < 0.05
    nan = metrics.mixture_quality(np.full((10, 2), np.nan), ds.centres, ds.sigma)
    assert nan["score"] == 0.0


def test_min_count_decides_when_a_mode_is_covered():
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    samples = np.array([[0.0, 0.0]] * 5 + [[10.0, 0.0]])
    assert metrics.mixture_quality(samples, centres, 1.0)["modes_covered"] == 2
    assert metrics.mixture_quality(samples, centres, 1.0, min_count=2)["modes_covered"] == 1


def test_frechet_distance_against_scipy_sqrtm():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    cov_a, cov_b = a @ a.T, b @ b.T
    mean_a, mean_b = rng.normal(size=6), rng.normal(size=6)
    root = np.real(scipy.linalg.sqrtm(cov_a @ cov_b))
    expected = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * root)
    assert metrics.frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(expected)
    assert metrics.frechet_distance(mean_a, cov_a, mean_a, cov_a) == pytest.approx(0, abs=1e-8)


def test_classifier_score_limits():
    k = 10
    confident_and_diverse = np.eye(k)[np.arange(100) % k]
    assert metrics.classifier_score(confident_and_diverse) == pytest.approx(k, rel=1e-6)
    collapsed = np.eye(k)[np.zeros(100, int)]
    assert metrics.classifier_score(collapsed) == pytest.approx(1.0)
    uniform = np.full((100, k), 1 / k)
    assert metrics.classifier_score(uniform) == pytest.approx(1.0)


@pytest.fixture(scope="module")
def digits_classifier(tmp_path_factory):
    import os

    cache = tmp_path_factory.mktemp("cache")
    old = os.environ.get("SPECTRA_CACHE_DIR")
    os.environ["SPECTRA_CACHE_DIR"] = str(cache)
    metrics._classifier_cached.cache_clear()
    try:
        ds = data.load("digits")
        yield ds, metrics.classifier_for(ds), cache
    finally:
        metrics._classifier_cached.cache_clear()
        if old is None:
            os.environ.pop("SPECTRA_CACHE_DIR")
        else:
            os.environ["SPECTRA_CACHE_DIR"] = old


def test_image_metrics_real_versus_collapsed(digits_classifier):
    ds, clf, _ = digits_classifier
    assert clf.accuracy > 0.9  # held-out accuracy of the deterministic classifier
    real = metrics.image_quality(ds.images[:900], clf)
    collapsed = metrics.image_quality(np.repeat(ds.images[:1], 900, axis=0), clf)
    noise = metrics.image_quality(np.random.default_rng(0).uniform(-1, 1, (900, 8, 8, 1)), clf)
    assert real["classifier_score"] > 8.0
    assert collapsed["classifier_score"] < 1.1
    assert real["frechet"] < 0.05 * min(collapsed["frechet"], noise["frechet"])


def test_classifier_is_cached_and_deterministic(digits_classifier):
    ds, clf, cache = digits_classifier
    files = list(cache.glob("classifier-digits-*.npz"))
    assert len(files) == 1
    metrics._classifier_cached.cache_clear()
    loaded = metrics.classifier_for(ds)  # from the file
    retrained = metrics.train_classifier(ds.images, ds.labels)  # from scratch
    for name in clf.params:
        np.testing.assert_array_equal(loaded.params[name], clf.params[name])
        np.testing.assert_array_equal(retrained.params[name], clf.params[name])
