"""The pure train step: one update of each player, and several steps fused into one call.

One step ``t`` draws a batch ``{"real": x_t, "latent": z_t}`` from ``fold_in(train_key, t)`` and
updates both players with their own optax optimiser:

* **alternating** (the paper's §4 setting): the discriminator steps first, ``φ_{t+1} = F_φ(φ_t,
  θ_t)``, then the generator steps against the *new* discriminator, ``θ_{t+1} = F_θ(φ_{t+1}, θ_t)``;
* **simultaneous**: both gradients are taken at ``(φ_t, θ_t)``.

Both gradients use the same batch, so with simultaneous updates the trainer's gradient is exactly
the vector field ``v`` (Gidel et al. 2019, eq. 2) of the game ``Game(L_φ, L_θ, data=batch_t)``.
Because every batch is a function of ``(train_key, t)`` only, a run is a deterministic function
of its config, and it can be resumed at any step from the parameters and optimiser states alone.

Nothing here is jitted; the driver (:mod:`spectra.gan.train`, :mod:`spectra.gan.grid`) jits
:func:`train_steps`. Hyperparameters (η, β per player) are array arguments, so one compiled step
serves every (η, β), and a grid can ``vmap`` over them.
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from spectra.gan import data as data_lib
from spectra.gan import losses as losses_lib
from spectra.gan import models
from spectra.gan.config import TrainConfig
from spectra.gan.optim import make_optimizer

Array = jax.Array
PyTree = Any

__all__ = [
    "Trainer",
    "TrainState",
    "Hyper",
    "Keys",
    "StepStats",
    "make_trainer",
    "run_keys",
    "hyper_from_config",
    "init_state",
    "training_batch",
    "train_step",
    "train_steps",
    "eval_batch",
    "metric_latent",
    "generate",
]

NO_BAD_STEP = jnp.iinfo(jnp.int32).max


class Trainer(NamedTuple):
    """The static parts of a run: config, data set, network structures and losses."""

    config: TrainConfig
    dataset: data_lib.Dataset
    d_graph: Any
    g_graph: Any
    losses: losses_lib.GanLosses


class TrainState(NamedTuple):
    """What changes during training: both players' parameters and optimiser states."""

    d_params: PyTree
    g_params: PyTree
    d_opt_state: PyTree
    g_opt_state: PyTree


class Hyper(NamedTuple):
    """Per-player step sizes and momenta, float32 arrays (scalars, or batched for ``vmap``)."""

    d_lr: Array
    d_beta: Array
    g_lr: Array
    g_beta: Array


class Keys(NamedTuple):
    """Independent PRNG streams of a run, all derived from its seed."""

    init: Array
    train: Array
    eval: Array
    metrics: Array


class StepStats(NamedTuple):
    """Summary of a chunk of steps: summed losses and the first step with a non-finite loss."""

    d_loss_sum: Array
    g_loss_sum: Array
    first_bad_step: Array


def run_keys(seed: int) -> Keys:
    """The run's PRNG streams (raw uint32 keys, so they checkpoint as plain arrays)."""
    return Keys(*jax.random.split(jax.random.PRNGKey(seed), 4))


@functools.lru_cache(maxsize=16)
def _graphs(data: str, latent_dim: int, hidden: int, depth: int, channels: int):
    """The networks' ``GraphDef``s for an architecture (cached: a run's losses keep their
    identity across calls, so a jitted probe of several checkpoints compiles once)."""
    config = TrainConfig(
        data=data, latent_dim=latent_dim, hidden=hidden, depth=depth, channels=channels
    )
    return models.graphs(config, data_lib.load(data).shape)


def make_trainer(config: TrainConfig) -> Trainer:
    """Data set, network structures and losses of the run described by ``config``."""
    dataset = data_lib.load(config.data)
    d_graph, g_graph = _graphs(
        config.data, config.latent_dim, config.hidden, config.depth, config.channels
    )
    losses = losses_lib.make_losses(config.loss, d_graph, g_graph)
    return Trainer(config, dataset, d_graph, g_graph, losses)


def hyper_from_config(config: TrainConfig) -> Hyper:
    return Hyper(
        *(jnp.float32(v) for v in (config.d_lr, config.d_beta, config.g_lr, config.g_beta))
    )


def _optimizers(config: TrainConfig, hyper: Hyper):
    d_tx = make_optimizer(config.d_optimizer, lr=hyper.d_lr, beta=hyper.d_beta)
    g_tx = make_optimizer(config.g_optimizer, lr=hyper.g_lr, beta=hyper.g_beta)
    return d_tx, g_tx


def init_state(trainer: Trainer, key: Array) -> TrainState:
    """Initial parameters (from ``key``) and zero optimiser states."""
    nets = models.build(trainer.config, trainer.dataset.shape, key)
    d_tx, g_tx = _optimizers(trainer.config, hyper_from_config(trainer.config))
    return TrainState(
        nets.d_params, nets.g_params, d_tx.init(nets.d_params), g_tx.init(nets.g_params)
    )


def training_batch(trainer: Trainer, arrays: PyTree, train_key: Array, step) -> dict[str, Array]:
    """The batch of step ``step``: a pure function of ``(train_key, step)``."""
    k_real, k_latent = jax.random.split(jax.random.fold_in(train_key, step))
    n = trainer.config.batch_size
    return {
        "real": data_lib.sample_real(trainer.dataset, arrays, k_real, n),
        "latent": data_lib.sample_latent(k_latent, n, trainer.config.latent_dim),
    }


def eval_batch(trainer: Trainer, eval_key: Array) -> dict[str, Array]:
    """The run's fixed evaluation batch (stored in every checkpoint for the probe)."""
    k_real, k_latent = jax.random.split(eval_key)
    n = trainer.config.eval_batch_size
    return {
        "real": trainer.dataset.sample(k_real, n),
        "latent": data_lib.sample_latent(k_latent, n, trainer.config.latent_dim),
    }


def train_step(
    trainer: Trainer, state: TrainState, hyper: Hyper, arrays: PyTree, train_key: Array, step
) -> tuple[TrainState, tuple[Array, Array]]:
    """One update of each player (alternating or simultaneous, per the config)."""
    d_tx, g_tx = _optimizers(trainer.config, hyper)
    batch = training_batch(trainer, arrays, train_key, step)
    d_loss, d_grad = jax.value_and_grad(trainer.losses.discriminator)(
        state.d_params, state.g_params, batch
    )
    d_updates, d_opt_state = d_tx.update(d_grad, state.d_opt_state, state.d_params)
    d_params = optax.apply_updates(state.d_params, d_updates)
    d_seen = d_params if trainer.config.updates == "alternating" else state.d_params
    g_loss, g_grad = jax.value_and_grad(trainer.losses.generator_step, argnums=1)(
        d_seen, state.g_params, batch
    )
    g_updates, g_opt_state = g_tx.update(g_grad, state.g_opt_state, state.g_params)
    g_params = optax.apply_updates(state.g_params, g_updates)
    return TrainState(d_params, g_params, d_opt_state, g_opt_state), (d_loss, g_loss)


def _accumulate(stats: StepStats, step, losses) -> StepStats:
    d_loss, g_loss = losses
    finite = jnp.isfinite(d_loss) & jnp.isfinite(g_loss)
    bad = jnp.where(finite, NO_BAD_STEP, jnp.asarray(step, jnp.int32))
    return StepStats(
        stats.d_loss_sum + d_loss,
        stats.g_loss_sum + g_loss,
        jnp.minimum(stats.first_bad_step, bad),
    )


def _zero_stats() -> StepStats:
    return StepStats(jnp.float32(0), jnp.float32(0), jnp.int32(NO_BAD_STEP))


def train_steps(
    trainer: Trainer,
    state: TrainState,
    hyper: Hyper,
    arrays: PyTree,
    train_key: Array,
    start,
    n,
    *,
    unroll: bool = False,
) -> tuple[TrainState, StepStats]:
    """Steps ``start, …, start + n − 1``.

    ``unroll=False``: a ``fori_loop`` whose trip count ``n`` may be traced (one compilation for
    every chunk length; used for MLPs). ``unroll=True``: a Python loop over a static ``n`` (used for
    conv nets, for which XLA's CPU backend runs a rolled loop much slower).
    """

    def body(i, carry):
        s, stats = carry
        s, losses = train_step(trainer, s, hyper, arrays, train_key, i)
        return s, _accumulate(stats, i, losses)

    carry = (state, _zero_stats())
    if unroll:
        for i in range(int(n)):
            carry = body(start + i, carry)
        return carry
    start = jnp.asarray(start, jnp.int32)
    return jax.lax.fori_loop(start, start + jnp.asarray(n, jnp.int32), body, carry)


def metric_latent(trainer: Trainer, metrics_key: Array) -> Array:
    """The fixed latents whose samples the quality metrics score (comparable across steps)."""
    config = trainer.config
    return data_lib.sample_latent(metrics_key, config.metric_samples, config.latent_dim)


def generate(trainer: Trainer, g_params: PyTree, latent: Array) -> Array:
    """Generator samples for the given latent batch."""
    return models.apply(trainer.g_graph, g_params, latent)
