"""Scale-out over devices with :mod:`jax.sharding`: no scheduler of our own.

Two patterns, both "computation follows data" under ``jax.jit``:

- **Embarrassingly parallel maps** (sweeps over (η, β) grids, many spectra): the leading axis of
  the inputs is split over a 1-D device mesh (axis ``"data"``), padded to a multiple of the number
  of devices, the vectorised function runs under ``jit`` on each shard, and the padding is dropped.
  See :func:`map_sharded`.
- **Data-parallel products** (the probe's JVPs over an evaluation batch): the batch is split over
  the mesh, the parameters and tangents are replicated, and the loss is a *mean over the batch*;
  XLA inserts the cross-device sum. See :func:`shard_batch` and :func:`replicate`.

On one device every function here is the identity placement, so the same code runs on a laptop,
on 8 simulated CPU devices (``XLA_FLAGS=--xla_force_host_platform_device_count=8``, set before jax
is imported), on a GPU/TPU host, or across hosts after ``jax.distributed.initialize()``
(see ``docs/distributed.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

AXIS = "data"

__all__ = ["AXIS", "data_mesh", "map_sharded", "shard_batch", "replicate", "device_count"]


def device_count(mesh: Mesh | None = None) -> int:
    """Number of devices in ``mesh`` (default: all devices, across hosts)."""
    return int(mesh.devices.size) if mesh is not None else jax.device_count()


def data_mesh(devices: Sequence[jax.Device] | None = None) -> Mesh:
    """A 1-D mesh with axis ``"data"`` over ``devices`` (default: every device of every host)."""
    devs = np.asarray(jax.devices() if devices is None else list(devices))
    if devs.size == 0:
        raise ValueError("devices: expected at least one device")
    return Mesh(devs.reshape(-1), (AXIS,))


def _pad_leading(x: jax.Array, multiple: int) -> jax.Array:
    n = x.shape[0]
    pad = (-n) % multiple
    if pad == 0:
        return x
    filler = jnp.repeat(x[-1:], pad, axis=0)  # a valid input, so padding cannot produce NaN
    return jnp.concatenate([x, filler], axis=0)


def map_sharded(
    fn: Callable[..., Any],
    *xs: jax.Array,
    mesh: Mesh | None = None,
    static: tuple = (),
) -> Any:
    """Apply a function vectorised over the leading axis, with that axis split across devices.

    Args:
        fn: ``fn(*static, *xs) -> pytree of arrays``, each output with the same leading axis as
            the ``xs`` (it is typically a ``vmap``). It must be pure.
        xs: arrays sharing their leading dimension ``N``.
        mesh: a 1-D mesh (default :func:`data_mesh`).
        static: leading arguments passed to ``fn`` replicated on every device (arrays, such as the
            spectrum a sweep is evaluated for).

    Returns:
        ``fn``'s outputs, with leading dimension ``N``, equal to the single-device result.
    """
    if not xs:
        raise ValueError("xs: expected at least one array to map over")
    n = xs[0].shape[0]
    if any(x.shape[0] != n for x in xs):
        raise ValueError(f"xs: expected the same leading dimension, got {[x.shape for x in xs]}")
    mesh = data_mesh() if mesh is None else mesh
    k = device_count(mesh)
    split = NamedSharding(mesh, PartitionSpec(AXIS))
    padded = [jax.device_put(_pad_leading(jnp.asarray(x), k), split) for x in xs]
    rep = [replicate(s, mesh) for s in static]
    out = _jitted(fn)(*rep, *padded)
    return jax.tree_util.tree_map(lambda y: y[:n], out)


_JIT_CACHE: dict[Callable, Callable] = {}


def _jitted(fn: Callable) -> Callable:
    # One compiled function per Python function: sweeps call this in a loop over chunks.
    if fn not in _JIT_CACHE:
        _JIT_CACHE[fn] = jax.jit(fn)
    return _JIT_CACHE[fn]


def replicate(tree: Any, mesh: Mesh | None = None) -> Any:
    """Place every leaf of ``tree`` on every device of ``mesh`` (parameters, tangents)."""
    mesh = data_mesh() if mesh is None else mesh
    return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def shard_batch(tree: Any, mesh: Mesh | None = None, *, axis: int = 0) -> Any:
    """Split every leaf of a data batch along ``axis`` across the mesh (data parallelism).

    The batch size must be a multiple of the number of devices: padding would change a mean over
    the batch, so an indivisible batch is an error rather than a silently different loss.
    """
    mesh = data_mesh() if mesh is None else mesh
    k = device_count(mesh)

    def place(x):
        x = jnp.asarray(x)
        if x.ndim <= axis:
            raise ValueError(f"data: a leaf of shape {x.shape} has no batch axis {axis}")
        if x.shape[axis] % k:
            raise ValueError(
                f"data: batch axis {axis} has size {x.shape[axis]}, not a multiple of the "
                f"{k} devices; choose an evaluation batch divisible by {k}"
            )
        spec = PartitionSpec(*([None] * axis), AXIS)
        return jax.device_put(x, NamedSharding(mesh, spec))

    return jax.tree_util.tree_map(place, tree)
