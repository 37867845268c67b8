"""The discriminator (β, η) sweep of the paper's Fig. 3, on our data.

Gidel et al. 2019 (§4, Fig. 3) train saturating GANs with alternating updates on a grid of the
discriminator's momentum β and step size η, the generator fixed at β = 0.5, and show the score of
each cell and the samples of the best cell of each row. :func:`run_grid` does the same: every cell
of a seed starts from the same initialisation and sees the same batches (a function of the seed
and the step only), so cells differ only in (β, η). Cells run one after the other through the
trainer's own compiled chunk of steps (one compilation for the whole grid; on a 2-core CPU a
``vmap`` over cells measured no faster for MLPs, and it turns convolutions into slow grouped
ones). A cell whose loss becomes non-finite stops early and is marked ``diverged`` (score 0).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from spectra.atomic import atomic_write_text, output_folder
from spectra.gan import figures, metrics, rundir
from spectra.gan import step as step_lib
from spectra.gan.config import TrainConfig
from spectra.gan.data import Mixture
from spectra.gan.train import generate_many, run_chunk, static_trainer
from spectra.progress import redraw_interval

__all__ = ["GridResult", "run_grid", "write_grid", "summarize"]


class GridResult(NamedTuple):
    """Outcome of a sweep.

    Attributes:
        config: the base config (generator settings, loss, updates, steps).
        betas, lrs, seeds: the grid axes (discriminator β = rows, η = columns).
        scores: ``(len(betas), len(lrs), len(seeds))`` quality scores (0 where diverged).
        rows: one dict per cell and seed: β, η, seed, diverged, and every metric.
        samples: ``(len(betas), len(lrs), m, ...)`` samples of seed ``seeds[0]`` per cell.
    """

    config: TrainConfig
    betas: tuple[float, ...]
    lrs: tuple[float, ...]
    seeds: tuple[int, ...]
    scores: np.ndarray
    rows: list[dict[str, Any]]
    samples: np.ndarray


_init = jax.jit(step_lib.init_state, static_argnums=0)


def _check_axes(betas, lrs, seeds) -> None:
    for name, axis in (("betas", betas), ("lrs", lrs), ("seeds", seeds)):
        if not axis:
            raise ValueError(f"{name}: expected at least one value")
        if len(set(axis)) != len(axis):
            raise ValueError(f"{name}: values must be distinct, got {list(axis)}")
    for b in betas:
        if not -1.0 < b < 1.0:
            raise ValueError(f"betas: every momentum β must lie in (-1, 1), got {b}")
    for lr in lrs:
        if not lr > 0:
            raise ValueError(f"lrs: every step size η must be > 0, got {lr}")
    for s in seeds:
        if s < 0:
            raise ValueError(f"seeds: every seed must be >= 0, got {s}")


def _train_cell(trainer, config: TrainConfig, state, arrays, bar) -> tuple[Any, bool]:
    """Train one cell with the trainer's compiled chunks; stop early if it diverges."""
    keys = step_lib.run_keys(config.seed)
    hyper = step_lib.hyper_from_config(config)
    done = 0
    while done < config.steps:
        n = min(config.steps_per_call, config.steps - done)
        state, stats = run_chunk(trainer, state, hyper, arrays, keys.train, done, n)
        done += n
        bar.update(n)
        if int(stats.first_bad_step) != int(step_lib.NO_BAD_STEP):
            bar.update(config.steps - done)
            return state, True
    return state, False


def run_grid(
    config: TrainConfig,
    *,
    betas: Sequence[float],
    lrs: Sequence[float],
    seeds: Sequence[int] = (0,),
    n_samples: int = 500,
    progress: bool = True,
) -> GridResult:
    """Train every (β, η, seed) cell for ``config.steps`` steps; discriminator β, η vary.

    The generator's optimiser, the loss and the update order are taken from ``config``. A cell
    is exactly the run ``spectra train`` makes with ``config.replace(d_beta=β, d_lr=η,
    seed=seed)`` (same initialisation, batches and compiled step), and gets the same scores.
    """
    from tqdm import tqdm

    betas, lrs, seeds = tuple(map(float, betas)), tuple(map(float, lrs)), tuple(map(int, seeds))
    _check_axes(betas, lrs, seeds)
    trainer = step_lib.make_trainer(config)
    static = static_trainer(trainer)
    arrays = jax.tree_util.tree_map(jnp.asarray, trainer.dataset.arrays)
    inits = {s: _init(static, step_lib.run_keys(s).init) for s in seeds}
    scores = np.zeros((len(betas), len(lrs), len(seeds)))
    samples = np.zeros((len(betas), len(lrs), n_samples, *trainer.dataset.shape), np.float32)
    rows = []
    total = config.steps * len(betas) * len(lrs) * len(seeds)
    with tqdm(
        total=total,
        disable=not progress,
        unit="step",
        desc="grid",
        mininterval=redraw_interval(),
    ) as bar:
        for (i, b), (j, lr), (k, s) in itertools.product(
            enumerate(betas), enumerate(lrs), enumerate(seeds)
        ):
            cell = config.replace(d_beta=b, d_lr=lr, seed=s)
            state, diverged = _train_cell(trainer, cell, inits[s], arrays, bar)
            row: dict[str, Any] = {"d_beta": b, "d_lr": lr, "seed": s, "diverged": diverged}
            if diverged:
                row["score"] = 0.0
            else:
                latent = step_lib.metric_latent(trainer, step_lib.run_keys(s).metrics)
                generated = generate_many(trainer, state.g_params, latent)
                row.update(metrics.quality(trainer.dataset, generated))
                if k == 0:
                    samples[i, j] = np.nan_to_num(generated[:n_samples])
            scores[i, j, k] = row["score"]
            rows.append(row)
    return GridResult(config, betas, lrs, seeds, scores, rows, samples)


def summarize(result: GridResult) -> list[dict[str, Any]]:
    """Per discriminator β: the best η (by mean score over seeds), its mean and std score."""
    mean = result.scores.mean(axis=2)
    std = result.scores.std(axis=2)
    lines = []
    for i, b in enumerate(result.betas):
        j = int(np.argmax(mean[i]))
        lines.append(
            {"d_beta": b, "best_d_lr": result.lrs[j], "mean_score": mean[i, j], "std": std[i, j]}
        )
    return lines


def check_output_folder(out_dir) -> Path:
    """The grid's output folder, created: refused if it is a file, or holds anything but an
    earlier grid's files (call it before training, so a bad folder costs nothing)."""
    return output_folder(
        out_dir, holds=lambda folder: (folder / "grid.json").is_file(), what="a spectra grid"
    )


def diverged_counts(result: GridResult) -> np.ndarray:
    """``(len(betas), len(lrs))``: how many seeds of each cell diverged."""
    counts = np.zeros((len(result.betas), len(result.lrs)), dtype=int)
    for row in result.rows:
        if row["diverged"]:
            counts[result.betas.index(row["d_beta"]), result.lrs.index(row["d_lr"])] += 1
    return counts


def write_grid(result: GridResult, out_dir) -> dict[str, Path]:
    """Write ``grid.csv``, ``grid.json``, ``heatmap.png`` and ``best_samples.png`` (atomically)."""
    out = check_output_folder(out_dir)
    fields = sorted({k for row in result.rows for k in row}, key=_column_order)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    writer.writerows(result.rows)
    paths = {name: out / name for name in ("grid.csv", "grid.json", "heatmap.png", "best.png")}
    try:
        atomic_write_text(paths["grid.csv"], buffer.getvalue())
        payload = {
            "config": result.config.to_dict(),
            "betas": result.betas,
            "lrs": result.lrs,
            "seeds": result.seeds,
            "rows": result.rows,
            "best_per_beta": summarize(result),
        }
        atomic_write_text(paths["grid.json"], json.dumps(payload, indent=1))
        label = "score" if _is_mixture(result) else "classifier score"
        title = (
            f"{result.config.data}: {result.config.loss}, {result.config.updates}; "
            f"G: β={result.config.g_beta:g}, η={result.config.g_lr:g}; "
            f"mean of {len(result.seeds)} seed(s), {result.config.steps} steps"
        )
        heat = figures.heatmap(
            result.scores.mean(axis=2),
            rows=result.betas,
            cols=result.lrs,
            label=label,
            title=title,
            diverged=diverged_counts(result),
            n_seeds=len(result.seeds),
        )
        rundir.atomic_savefig(heat, paths["heatmap.png"])
        best = summarize(result)
        panels = [
            result.samples[i, result.lrs.index(line["best_d_lr"])] for i, line in enumerate(best)
        ]
        titles = [
            f"β={line['d_beta']:g}, η={line['best_d_lr']:g}: {line['mean_score']:.3g}"
            for line in best
        ]
        centres = _centres(result)
        rundir.atomic_savefig(figures.best_rows(panels, titles, centres=centres), paths["best.png"])
    except OSError as err:
        raise ValueError(f"out: cannot write to {out}: {err.strerror or err}") from None
    return paths


def _column_order(name: str):
    first = ["d_beta", "d_lr", "seed", "diverged", "score"]
    return (first.index(name) if name in first else len(first), name)


def _is_mixture(result: GridResult) -> bool:
    return result.config.data in ("mog8", "mog25")


def _centres(result: GridResult):
    from spectra.gan.data import load

    dataset = load(result.config.data)
    return dataset.centres if isinstance(dataset, Mixture) else None
