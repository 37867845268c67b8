"""Generator and discriminator networks (flax ``nnx``), used as pure functions of their parameters.

* 2-D data: MLPs with ReLU (generator: latent → 2; discriminator: 2 → one logit).
* Images: small residual conv nets as in the paper's §4 (Gidel et al. 2019): each residual block
  holds two 3×3 convolutions with ReLU; the generator up-samples, the discriminator down-samples;
  no batch normalisation.

Up-sampling is nearest-neighbour repetition followed by a stride-1 convolution, and down-sampling
a 2×2 average pool after one: on XLA's CPU backend a transposed convolution (``lhs_dilation``)
measured about 16× slower than this form.

The trainer and :func:`spectra.gan.game_at` never hold modules: :func:`build` splits each network
into a static ``nnx.GraphDef`` and a plain nested ``dict`` of parameter arrays, and
:func:`apply` merges them back inside the traced function. Parameters are therefore ordinary
pytrees (what :class:`spectra.games.Game`, optax and orbax expect).
"""

from __future__ import annotations

import itertools
import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from flax import nnx

from spectra.gan.config import TrainConfig

Array = jax.Array
Params = dict[str, Any]

__all__ = [
    "MLPGenerator",
    "MLPDiscriminator",
    "ResNetGenerator",
    "ResNetDiscriminator",
    "Networks",
    "build",
    "graphs",
    "apply",
    "count_params",
]


class MLPGenerator(nnx.Module):
    """``z -> x``: ``depth`` hidden ReLU layers of width ``hidden``, linear output of size ``out``."""

    def __init__(self, latent_dim: int, hidden: int, depth: int, out: int, *, rngs: nnx.Rngs):
        sizes = [latent_dim] + [hidden] * depth
        self.hidden = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)])
        self.out = nnx.Linear(sizes[-1], out, rngs=rngs)

    def __call__(self, z: Array) -> Array:
        h = z
        for layer in self.hidden:
            h = jax.nn.relu(layer(h))
        return self.out(h)


class MLPDiscriminator(nnx.Module):
    """``x -> logit``: ``depth`` hidden ReLU layers of width ``hidden``; returns shape ``(n,)``."""

    def __init__(self, in_dim: int, hidden: int, depth: int, *, rngs: nnx.Rngs):
        sizes = [in_dim] + [hidden] * depth
        self.hidden = nnx.List([nnx.Linear(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)])
        self.out = nnx.Linear(sizes[-1], 1, rngs=rngs)

    def __call__(self, x: Array) -> Array:
        h = x.reshape(x.shape[0], -1)
        for layer in self.hidden:
            h = jax.nn.relu(layer(h))
        return self.out(h)[:, 0]


def upsample(x: Array) -> Array:
    """Nearest-neighbour ×2 up-sampling of an NHWC tensor."""
    n, h, w, c = x.shape
    x = jnp.broadcast_to(x[:, :, None, :, None, :], (n, h, 2, w, 2, c))
    return x.reshape(n, 2 * h, 2 * w, c)


def downsample(x: Array) -> Array:
    """2×2 average pooling of an NHWC tensor (even height and width)."""
    n, h, w, c = x.shape
    return x.reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def _conv(cin: int, cout: int, size: int, rngs: nnx.Rngs) -> nnx.Conv:
    return nnx.Conv(cin, cout, kernel_size=(size, size), padding="SAME", rngs=rngs)


class UpBlock(nnx.Module):
    """Residual block ``x -> up(x) + conv(relu(conv(up(relu(x)))))`` (two 3×3 convolutions)."""

    def __init__(self, channels: int, *, rngs: nnx.Rngs):
        self.conv1 = _conv(channels, channels, 3, rngs)
        self.conv2 = _conv(channels, channels, 3, rngs)

    def __call__(self, x: Array) -> Array:
        h = self.conv1(upsample(jax.nn.relu(x)))
        h = self.conv2(jax.nn.relu(h))
        return upsample(x) + h


class DownBlock(nnx.Module):
    """Residual block ``x -> pool(conv1x1(x)) + pool(conv(relu(conv(relu(x)))))``."""

    def __init__(self, cin: int, cout: int, *, rngs: nnx.Rngs):
        self.conv1 = _conv(cin, cout, 3, rngs)
        self.conv2 = _conv(cout, cout, 3, rngs)
        self.skip = _conv(cin, cout, 1, rngs)

    def __call__(self, x: Array) -> Array:
        h = self.conv1(jax.nn.relu(x))
        h = self.conv2(jax.nn.relu(h))
        return downsample(h) + downsample(self.skip(x))


class ResNetGenerator(nnx.Module):
    """``z -> image``: linear to a ``base`` grid, ``n_up`` up-sampling blocks, 3×3 conv, tanh."""

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        base: tuple[int, int],
        n_up: int,
        out_channels: int,
        *,
        rngs: nnx.Rngs,
    ):
        self.base = base
        self.channels = channels
        self.project = nnx.Linear(latent_dim, base[0] * base[1] * channels, rngs=rngs)
        self.blocks = nnx.List([UpBlock(channels, rngs=rngs) for _ in range(n_up)])
        self.out = _conv(channels, out_channels, 3, rngs)

    def __call__(self, z: Array) -> Array:
        h = self.project(z).reshape(z.shape[0], *self.base, self.channels)
        for block in self.blocks:
            h = block(h)
        return jnp.tanh(self.out(jax.nn.relu(h)))


class ResNetDiscriminator(nnx.Module):
    """``image -> logit``: ``n_down`` down-sampling blocks, ReLU, global average, linear."""

    def __init__(self, in_channels: int, channels: int, n_down: int, *, rngs: nnx.Rngs):
        sizes = [in_channels] + [channels] * n_down
        self.blocks = nnx.List([DownBlock(a, b, rngs=rngs) for a, b in itertools.pairwise(sizes)])
        self.out = nnx.Linear(channels, 1, rngs=rngs)

    def __call__(self, x: Array) -> Array:
        h = x
        for block in self.blocks:
            h = block(h)
        h = jax.nn.relu(h).mean(axis=(1, 2))
        return self.out(h)[:, 0]


class Networks(NamedTuple):
    """Both players' static structure and initial parameters.

    Attributes:
        d_graph, g_graph: ``nnx.GraphDef`` of the discriminator and the generator (static).
        d_params, g_params: their parameters as nested dicts of float32 arrays.
    """

    d_graph: Any
    g_graph: Any
    d_params: Params
    g_params: Params


def _image_layout(shape: tuple[int, ...]) -> tuple[tuple[int, int], int]:
    """Base grid and number of ×2 stages: 8×8 -> 2×2 and 2 stages; 28×28 -> 7×7 and 2 stages."""
    h, w, _ = shape
    n = 2
    if h % 2**n or w % 2**n:
        raise ValueError(f"images: height and width must be divisible by {2**n}, got {h}×{w}")
    return (h // 2**n, w // 2**n), n


def _modules(config: TrainConfig, data_shape: tuple[int, ...], key: Array):
    rngs = nnx.Rngs(params=key)
    if len(data_shape) == 1:
        g = MLPGenerator(config.latent_dim, config.hidden, config.depth, data_shape[0], rngs=rngs)
        d = MLPDiscriminator(data_shape[0], config.hidden, config.depth, rngs=rngs)
        return d, g
    base, n = _image_layout(data_shape)
    g = ResNetGenerator(config.latent_dim, config.channels, base, n, data_shape[-1], rngs=rngs)
    d = ResNetDiscriminator(data_shape[-1], config.channels, n, rngs=rngs)
    return d, g


def build(config: TrainConfig, data_shape: tuple[int, ...], key: Array) -> Networks:
    """Both networks for ``config`` and samples of ``data_shape``, initialised from ``key``."""
    d, g = _modules(config, tuple(data_shape), key)
    d_graph, d_state = nnx.split(d, nnx.Param)
    g_graph, g_state = nnx.split(g, nnx.Param)
    return Networks(d_graph, g_graph, nnx.to_pure_dict(d_state), nnx.to_pure_dict(g_state))


def graphs(config: TrainConfig, data_shape: tuple[int, ...]) -> tuple[Any, Any]:
    """The two networks' ``GraphDef``s only (abstract evaluation: no parameter is computed)."""
    d, g = nnx.eval_shape(lambda: _modules(config, tuple(data_shape), jax.random.PRNGKey(0)))
    return nnx.graphdef(d), nnx.graphdef(g)


def apply(graph: Any, params: Params, x: Array) -> Array:
    """Run the network ``graph`` with ``params`` on a batch ``x`` (pure; trace-time merge only)."""
    return nnx.merge(graph, params)(x)


def count_params(params: Params) -> int:
    """Number of scalar parameters in a parameter pytree."""
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(params))
