"""Sample-quality metrics: mode coverage for 2-D mixtures, a classifier score for images.

**Mixtures.** Following Srivastava et al. 2017 (VEEGAN, §5.1; also Metz et al. 2017, Unrolled
GANs), a generated sample is *high quality* if it lies within three standard deviations of the
nearest mode centre, and a mode is *covered* when at least ``min_count`` high-quality samples are
nearest to it (VEEGAN counts a mode with at least one such sample). We also report the
*score* ``high_quality_fraction × modes_covered / n_modes`` ∈ [0, 1], one number that is 1 only for
samples that are all sharp and spread over every mode (used by the grid's heat map).

**Images.** A small MLP classifier is trained deterministically on the real images (full-batch
Adam from a fixed seed, 90 % of the data; its held-out accuracy is recorded) and cached on disk.
It gives an inception-score analogue (Salimans et al. 2016), ``exp(E_x KL(p(y|x) ‖ p(y)))``,
between 1 (collapsed or unrecognisable) and the number of classes, and a Fréchet distance
(Heusel et al. 2017) between Gaussian fits of the real and generated features of its last hidden
layer: ``‖μ_r − μ_g‖² + Tr(Σ_r + Σ_g − 2 (Σ_r Σ_g)^{1/2})``.

The cache lives in ``$SPECTRA_CACHE_DIR`` (default ``$XDG_CACHE_HOME/spectra`` or
``~/.cache/spectra``); the file name holds a fingerprint of the data and the training recipe, and
is written atomically. If the cache cannot be written, the classifier is simply retrained.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from spectra.gan.data import Dataset, ImageData, Mixture

Array = jax.Array

__all__ = [
    "mixture_quality",
    "Classifier",
    "classifier_for",
    "train_classifier",
    "classifier_score",
    "frechet_distance",
    "image_quality",
    "quality",
    "cache_dir",
]


# --------------------------------------------------------------------------- mixtures
def mixture_quality(
    samples, centres, sigma: float, *, n_sigma: float = 3.0, min_count: int = 1
) -> dict[str, float]:
    """Mode coverage and sample quality of 2-D ``samples`` against a Gaussian mixture.

    Returns ``modes_covered``, ``n_modes``, ``high_quality_fraction`` and ``score`` (module doc).
    Non-finite samples count as low quality.
    """
    samples = np.asarray(samples, dtype=np.float64)
    centres = np.asarray(centres, dtype=np.float64)
    if samples.ndim != 2 or samples.shape[1] != centres.shape[1]:
        raise ValueError(f"samples: expected shape (n, {centres.shape[1]}), got {samples.shape}")
    if not sigma > 0:
        raise ValueError(f"sigma: must be > 0, got {sigma}")
    dist = np.linalg.norm(samples[:, None, :] - centres[None, :, :], axis=-1)
    dist = np.where(np.isfinite(dist), dist, np.inf)
    nearest = dist.argmin(axis=1)
    good = dist.min(axis=1) <= n_sigma * sigma
    counts = np.bincount(nearest[good], minlength=len(centres))
    covered = int((counts >= min_count).sum())
    fraction = float(good.mean()) if len(samples) else 0.0
    return {
        "modes_covered": covered,
        "n_modes": len(centres),
        "high_quality_fraction": fraction,
        "score": fraction * covered / len(centres),
    }


# --------------------------------------------------------------------------- classifier
CLASSIFIER_RECIPE = {"hidden": (256, 128), "steps": 600, "lr": 3e-3, "seed": 0, "train": 0.9}


class Classifier(NamedTuple):
    """A trained classifier and the feature statistics of the real data."""

    params: dict[str, Array]
    accuracy: float
    real_mean: np.ndarray
    real_cov: np.ndarray


def _init_mlp(key, sizes):
    params = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        key, sub = jax.random.split(key)
        params[f"w{i}"] = jax.random.normal(sub, (a, b), jnp.float32) * jnp.sqrt(2.0 / a)
        params[f"b{i}"] = jnp.zeros((b,), jnp.float32)
    return params


def _features_and_logits(params, x):
    n_layers = len(params) // 2
    h = x.reshape(x.shape[0], -1)
    for i in range(n_layers - 1):
        h = jax.nn.relu(h @ params[f"w{i}"] + params[f"b{i}"])
    return h, h @ params[f"w{n_layers - 1}"] + params[f"b{n_layers - 1}"]


@jax.jit
def _predict(params, x):
    features, logits = _features_and_logits(params, x)
    return features, jax.nn.softmax(logits)


def _split(n: int, fraction: float, seed: int):
    order = np.random.default_rng(seed).permutation(n)
    cut = int(round(fraction * n))
    return order[:cut], order[cut:]


def train_classifier(images, labels, *, recipe: dict[str, Any] = CLASSIFIER_RECIPE) -> Classifier:
    """Train the MLP classifier deterministically (full batch, fixed seed and split)."""
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels, np.int32)
    n_classes = int(labels.max()) + 1
    train_idx, test_idx = _split(len(images), recipe["train"], recipe["seed"])
    x = jnp.asarray(images[train_idx].reshape(len(train_idx), -1))
    y = jnp.asarray(labels[train_idx])
    sizes = (x.shape[1], *recipe["hidden"], n_classes)
    params = _init_mlp(jax.random.PRNGKey(recipe["seed"]), sizes)
    tx = optax.adam(recipe["lr"])

    def loss(p):
        _, logits = _features_and_logits(p, x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    def body(_, carry):
        p, s = carry
        g = jax.grad(loss)(p)
        u, s = tx.update(g, s, p)
        return optax.apply_updates(p, u), s

    params, _ = jax.jit(lambda p: jax.lax.fori_loop(0, recipe["steps"], body, (p, tx.init(p))))(
        params
    )
    _, probs = _predict(params, jnp.asarray(images[test_idx]))
    accuracy = float(np.mean(np.asarray(probs).argmax(1) == labels[test_idx]))
    features, _ = _predict(params, jnp.asarray(images))
    mean, cov = _gaussian(np.asarray(features))
    return Classifier(params, accuracy, mean, cov)


def _gaussian(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    features = np.asarray(features, np.float64)
    return features.mean(axis=0), np.cov(features, rowvar=False)


def cache_dir() -> Path:
    """Where trained classifiers are cached."""
    if os.environ.get("SPECTRA_CACHE_DIR"):
        return Path(os.environ["SPECTRA_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "spectra"


def _cache_file(dataset: ImageData) -> Path:
    recipe = ",".join(f"{k}={CLASSIFIER_RECIPE[k]}" for k in sorted(CLASSIFIER_RECIPE))
    digest = hashlib.sha256((dataset.fingerprint() + recipe).encode()).hexdigest()[:16]
    return cache_dir() / f"classifier-{dataset.name}-{digest}.npz"


def _save(path: Path, clf: Classifier) -> None:
    from spectra.atomic import atomic_write_bytes

    buffer = io.BytesIO()
    arrays = {f"param_{k}": np.asarray(v) for k, v in clf.params.items()}
    np.savez(
        buffer, accuracy=clf.accuracy, real_mean=clf.real_mean, real_cov=clf.real_cov, **arrays
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, buffer.getvalue())


def _load(path: Path) -> Classifier | None:
    try:
        with np.load(path) as f:
            params = {k[6:]: jnp.asarray(f[k]) for k in f.files if k.startswith("param_")}
            return Classifier(params, float(f["accuracy"]), f["real_mean"], f["real_cov"])
    except (OSError, ValueError, KeyError):
        return None


@functools.lru_cache(maxsize=4)
def _classifier_cached(dataset: ImageData) -> Classifier:
    path = _cache_file(dataset)
    if path.exists():
        clf = _load(path)
        if clf is not None:
            return clf
    clf = train_classifier(dataset.images, dataset.labels)
    try:
        _save(path, clf)
    except OSError:
        pass  # an unwritable cache only costs a retraining next time
    return clf


def classifier_for(dataset: ImageData) -> Classifier:
    """The (cached) classifier of an image data set."""
    if not isinstance(dataset, ImageData):
        raise ValueError(f"dataset: a classifier needs an image data set, got {dataset.name!r}")
    return _classifier_cached(dataset)


def classifier_score(probs) -> float:
    """``exp(E_x KL(p(y|x) ‖ p(y)))`` from class probabilities ``(n, k)`` (Salimans et al. 2016)."""
    probs = np.clip(np.asarray(probs, np.float64), 1e-12, 1.0)
    marginal = probs.mean(axis=0, keepdims=True)
    kl = (probs * (np.log(probs) - np.log(marginal))).sum(axis=1)
    return float(np.exp(kl.mean()))


def frechet_distance(mean_a, cov_a, mean_b, cov_b) -> float:
    """Fréchet distance between two Gaussians (Heusel et al. 2017, FID's formula).

    ``Tr((Σ_a Σ_b)^{1/2})`` is computed as ``Σ √eig(Σ_a^{1/2} Σ_b Σ_a^{1/2})`` (a symmetric PSD
    matrix with the same eigenvalues), which stays accurate for singular covariances (collapse).
    """
    mean_a, mean_b = np.asarray(mean_a, np.float64), np.asarray(mean_b, np.float64)
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    root_a = _psd_sqrt(cov_a)
    middle = root_a @ cov_b @ root_a
    trace_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0, None)))
    value = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_root
    return float(max(value, 0.0))


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def image_quality(samples, classifier: Classifier) -> dict[str, float]:
    """``classifier_score`` and ``frechet`` (to the real data) of generated images."""
    samples = np.asarray(samples, np.float32)
    if not np.all(np.isfinite(samples)):
        return {"classifier_score": 1.0, "frechet": float("inf"), "score": 1.0}
    features, probs = _predict(classifier.params, jnp.asarray(samples))
    mean, cov = _gaussian(np.asarray(features))
    score = classifier_score(probs)
    fd = frechet_distance(classifier.real_mean, classifier.real_cov, mean, cov)
    return {"classifier_score": score, "frechet": fd, "score": score}


def quality(dataset: Dataset, samples) -> dict[str, float]:
    """The metrics of ``samples`` for ``dataset``; always includes a scalar ``score``."""
    if isinstance(dataset, Mixture):
        return mixture_quality(samples, dataset.centres, dataset.sigma)
    return image_quality(samples, classifier_for(dataset))
