"""The training driver: ``train(config, workdir)`` (flax-examples style).

It owns everything with side effects: the run folder, the jitted chunks of steps, metrics, sample
images, checkpoints, the progress bar, and resuming. Training proceeds in chunks of at most
``steps_per_call`` steps (one compiled call each), cut at every evaluation and checkpoint step.
Chunk boundaries depend only on the config, so a run resumed from a checkpoint replays exactly the
calls of an uninterrupted run and ends bit-identical to it.

After each chunk the summed losses are checked: a non-finite loss stops the run with
:class:`TrainingDiverged`; nothing is saved after the last finite state, so the last good
checkpoint is kept.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from spectra.gan import figures, metrics, rundir
from spectra.gan import step as step_lib
from spectra.gan.checkpoint import Checkpoint, CheckpointError, CheckpointStore
from spectra.gan.config import TrainConfig
from spectra.gan.data import Mixture
from spectra.progress import redraw_interval

__all__ = ["train", "TrainResult", "TrainingDiverged", "load_checkpoint", "RunCheckpoint"]


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; ``last_checkpoint`` is the last good saved step."""

    def __init__(self, step: int, last_checkpoint: int | None, run_dir: Path):
        self.step = step
        self.last_checkpoint = last_checkpoint
        kept = (
            f"the last good checkpoint (step {last_checkpoint}) is kept in {run_dir}"
            if last_checkpoint is not None
            else "no checkpoint was saved"
        )
        super().__init__(f"training diverged at step {step} (non-finite loss); {kept}")


class TrainResult(NamedTuple):
    run_dir: Path
    step: int
    metrics: dict[str, Any]
    state: step_lib.TrainState


class RunCheckpoint(NamedTuple):
    config: TrainConfig
    trainer: step_lib.Trainer
    checkpoint: Checkpoint


# -- compiled functions, shared by every run with the same architecture ----------------------
_chunk_rolled = jax.jit(step_lib.train_steps, static_argnums=0, static_argnames=("unroll",))
_chunk_unrolled = jax.jit(step_lib.train_steps, static_argnums=0, static_argnames=("n", "unroll"))


@jax.jit
def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in jax.tree_util.tree_leaves(tree)]))


def _eval_losses_impl(trainer, state, batch):
    losses = trainer.losses
    return (
        losses.discriminator(state.d_params, state.g_params, batch),
        losses.generator(state.d_params, state.g_params, batch),
    )


_eval_losses = jax.jit(_eval_losses_impl, static_argnums=0)
_generate = jax.jit(step_lib.generate, static_argnums=0)
_init_state = jax.jit(step_lib.init_state, static_argnums=0)
_eval_batch = jax.jit(step_lib.eval_batch, static_argnums=0)


def static_trainer(trainer: step_lib.Trainer) -> step_lib.Trainer:
    """The trainer with every config field that the compiled step does not read normalised, so
    runs differing only in seed, step sizes, momenta or schedule share one compilation."""
    c = trainer.config
    static = TrainConfig(
        data=c.data,
        loss=c.loss,
        updates=c.updates,
        d_optimizer=c.d_optimizer,
        g_optimizer=c.g_optimizer,
        batch_size=c.batch_size,
        latent_dim=c.latent_dim,
        hidden=c.hidden,
        depth=c.depth,
        channels=c.channels,
    )
    return trainer._replace(config=static)


def run_chunk(trainer, state, hyper, arrays, train_key, start: int, n: int):
    """Steps ``start … start + n − 1`` in one compiled call (MLPs rolled, conv nets unrolled)."""
    static = static_trainer(trainer)
    if trainer.config.is_image:
        return _chunk_unrolled(static, state, hyper, arrays, train_key, start, n=n, unroll=True)
    return _chunk_rolled(static, state, hyper, arrays, train_key, start, jnp.int32(n))


def generate_many(trainer, g_params, latent, *, batch: int = 250) -> np.ndarray:
    """Generator samples for a large latent batch, ``batch`` at a time."""
    static = static_trainer(trainer)
    parts = [
        np.asarray(_generate(static, g_params, latent[i : i + batch]))
        for i in range(0, latent.shape[0], batch)
    ]
    return np.concatenate(parts)


def _next_boundary(step: int, config: TrainConfig) -> int:
    candidates = [config.steps]
    for every in (config.steps_per_call, config.eval_every, config.checkpoint_every):
        candidates.append((step // every + 1) * every)
    return min(candidates)


def _templates(trainer: step_lib.Trainer, keys: step_lib.Keys):
    state = jax.eval_shape(
        lambda: step_lib.init_state(static_trainer(trainer), keys.init)._asdict()
    )
    batch = jax.eval_shape(lambda: step_lib.eval_batch(trainer, keys.eval))
    return state, batch, jax.eval_shape(lambda: keys._asdict())


def _restore(store, trainer, step: int) -> Checkpoint:
    keys = step_lib.run_keys(trainer.config.seed)
    state_t, batch_t, keys_t = _templates(trainer, keys)
    return store.restore(step, state_template=state_t, batch_template=batch_t, keys_template=keys_t)


def load_checkpoint(run_dir, step: int | None = None) -> RunCheckpoint:
    """Verify and load checkpoint ``step`` (default: the latest complete one) of a run folder."""
    config = rundir.read_run_config(run_dir)
    trainer = step_lib.make_trainer(config)
    store = CheckpointStore(run_dir)
    try:
        if step is None:
            step = store.latest_step()
            if step is None:
                raise CheckpointError(f"{run_dir} holds no complete checkpoint")
        return RunCheckpoint(config, trainer, _restore(store, trainer, int(step)))
    finally:
        store.close()


def _same_arrays(a, b) -> bool:
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    return len(leaves_a) == len(leaves_b) and all(
        np.array_equal(np.asarray(x), np.asarray(y))
        for x, y in zip(leaves_a, leaves_b, strict=True)
    )


def _sample_figure(trainer, samples, step: int):
    title = f"{trainer.config.data} · step {step}"
    if isinstance(trainer.dataset, Mixture):
        return figures.scatter_samples(samples[:2000], trainer.dataset.centres, title=title)
    return figures.image_grid(samples[:64], title=title)


def _evaluate(trainer, state, batch, metric_latent, step, stats, n, run_dir) -> dict[str, Any]:
    static = static_trainer(trainer)
    eval_d, eval_g = _eval_losses(static, state, batch)
    samples = generate_many(trainer, state.g_params, metric_latent)
    record: dict[str, Any] = {"step": step}
    if stats is not None:
        record["d_loss"] = float(stats.d_loss_sum) / n
        record["g_loss"] = float(stats.g_loss_sum) / n
    record["eval_d_loss"] = float(eval_d)
    record["eval_g_loss"] = float(eval_g)
    record.update(metrics.quality(trainer.dataset, samples))
    samples_dir = Path(run_dir) / "samples"
    samples_dir.mkdir(exist_ok=True)
    rundir.atomic_savefig(
        _sample_figure(trainer, samples, step), samples_dir / f"step_{step:07d}.png"
    )
    return record


def _default_log(message: str) -> None:
    from tqdm import tqdm

    tqdm.write(message, file=sys.stderr)


def train(
    config: TrainConfig,
    workdir,
    *,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> TrainResult:
    """Train the GAN of ``config`` in the run folder ``workdir``.

    ``resume=True`` continues a run folder holding the same configuration from its last complete
    checkpoint (``steps`` may be raised to train longer). Raises ``ValueError`` for a bad folder,
    :class:`~spectra.gan.checkpoint.CheckpointError` for a corrupted checkpoint, and
    :class:`TrainingDiverged` if a loss becomes non-finite.
    """
    from tqdm import tqdm

    log = log or _default_log
    run_dir = Path(workdir)
    resumed = rundir.prepare_run_dir(run_dir, config, resume=resume)
    trainer = step_lib.make_trainer(config)
    keys = step_lib.run_keys(config.seed)
    batch = _eval_batch(trainer, keys.eval)
    metric_latent = step_lib.metric_latent(trainer, keys.metrics)
    hyper = step_lib.hyper_from_config(config)
    arrays = jax.tree_util.tree_map(jnp.asarray, trainer.dataset.arrays)

    with CheckpointStore(run_dir, writable=True, log=log) as store:
        state, step = None, 0
        if resumed:
            store.discard_incomplete()
            latest = store.latest_step()
            if latest is not None:
                try:
                    ckpt = _restore(store, trainer, latest)
                except CheckpointError as err:
                    raise CheckpointError(
                        f"{err}; to resume from the previous checkpoint, delete "
                        f"{store.directory / str(latest)} and {store.manifests / f'{latest}.json'}"
                    ) from None
                if not (
                    _same_arrays(ckpt.eval_batch, batch) and _same_arrays(ckpt.keys, keys._asdict())
                ):
                    raise CheckpointError(
                        f"checkpoint at step {latest} in {run_dir} does not match its configuration"
                    )
                state, step = step_lib.TrainState(**ckpt.state), latest
                log(f"resuming {run_dir} from step {step}")
            rundir.truncate_metrics(run_dir, step if state is not None else -1)
        if state is None:
            state = _init_state(static_trainer(trainer), keys.init)
            record = _evaluate(trainer, state, batch, metric_latent, 0, None, 0, run_dir)
            rundir.append_metrics(run_dir, record)
            _save(store, 0, state, batch, keys, config)
        record = (rundir.read_metrics(run_dir) or [{}])[-1]

        bar = tqdm(
            total=config.steps,
            initial=step,
            disable=not progress,
            unit="step",
            desc=run_dir.name,
            dynamic_ncols=True,
            mininterval=redraw_interval(),
        )
        with bar:
            while step < config.steps:
                end = _next_boundary(step, config)
                new_state, stats = run_chunk(
                    trainer, state, hyper, arrays, keys.train, step, end - step
                )
                bad = int(stats.first_bad_step)
                if bad != int(step_lib.NO_BAD_STEP) or not bool(_all_finite(new_state)):
                    raise TrainingDiverged(min(bad, end - 1), store.latest_step(), run_dir)
                state, n, step = new_state, end - step, end
                bar.set_postfix(
                    d_loss=f"{float(stats.d_loss_sum) / n:.3f}",
                    g_loss=f"{float(stats.g_loss_sum) / n:.3f}",
                    refresh=False,  # drawn by update, at most every mininterval
                )
                bar.update(n)
                if step % config.eval_every == 0 or step == config.steps:
                    record = _evaluate(
                        trainer, state, batch, metric_latent, step, stats, n, run_dir
                    )
                    rundir.append_metrics(run_dir, record)
                if step % config.checkpoint_every == 0 or step == config.steps:
                    _save(store, step, state, batch, keys, config)
    return TrainResult(run_dir, step, record, state)


def _save(store, step, state, batch, keys, config) -> None:
    if step in store.steps():
        return
    store.save(
        step,
        state=state._asdict(),
        eval_batch=batch,
        keys=keys._asdict(),
        config=config.to_dict(),
    )
