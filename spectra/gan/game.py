"""The game of a training run: ``game_at(run_dir, step)`` turns a checkpoint into a ``Game``.

The trainer and the probe share the same loss functions (:mod:`spectra.gan.losses`): player φ is
the discriminator, player θ the generator, and ``Game.data`` is the run's fixed evaluation batch
``{"real": x, "latent": z}``, passed to the losses as third argument. The vector field of this game
is therefore exactly the gradient the trainer would take on that batch (Gidel et al. 2019, eq. 2),
and ``spectra.games`` can compute its Jacobian's spectrum at any saved step.

Both losses are means over the batch: a large batch may be split into minibatches and their
(size-weighted) mean taken, with the same value and derivatives.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from spectra.games import Game
from spectra.gan import step as step_lib
from spectra.gan.config import TrainConfig

__all__ = ["game_from_state", "game_at"]


def _cast(tree: Any, dtype) -> Any:
    if dtype is None:
        return tree
    dtype = jnp.dtype(dtype)
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise ValueError("dtype: float64 needs jax.config.update('jax_enable_x64', True) first")
    return jax.tree_util.tree_map(
        lambda a: (
            jnp.asarray(a, dtype) if jnp.issubdtype(jnp.asarray(a).dtype, jnp.floating) else a
        ),
        tree,
    )


def game_from_state(
    config: TrainConfig,
    d_params: Any,
    g_params: Any,
    batch: dict[str, Any],
    *,
    dtype=None,
    name: str | None = None,
) -> Game:
    """The ``Game`` of a run with ``config`` at the point ``(φ, θ) = (d_params, g_params)``.

    ``batch`` is ``{"real": ..., "latent": ...}``; ``dtype`` (e.g. ``jnp.float64``) casts the
    point and the batch, for a more accurate spectrum.
    """
    trainer = step_lib.make_trainer(config)
    return Game(
        loss_phi=trainer.losses.discriminator,
        loss_theta=trainer.losses.generator,
        phi=_cast(d_params, dtype),
        theta=_cast(g_params, dtype),
        data=_cast(dict(batch), dtype),
        name=name or f"gan-{config.data}-{config.loss}",
        zero_sum=trainer.losses.zero_sum,
    )


def game_at(run_dir, step: int | None = None, *, dtype=None) -> Game:
    """The game of the run in ``run_dir`` at checkpoint ``step`` (default: the latest).

    φ and θ are the checkpoint's discriminator and generator parameters, ``data`` the run's
    evaluation batch. The checkpoint is verified against its manifest first (a corrupted one
    raises :class:`~spectra.gan.checkpoint.CheckpointError`).
    """
    from spectra.gan.train import load_checkpoint

    loaded = load_checkpoint(run_dir, step)
    ckpt = loaded.checkpoint
    return game_from_state(
        loaded.config,
        ckpt.state["d_params"],
        ckpt.state["g_params"],
        ckpt.eval_batch,
        dtype=dtype,
        name=f"{loaded.config.name}@{ckpt.step}",
    )
