"""Probe the checkpoints of a training run: the bridge between :mod:`spectra.gan` and the probe.

The probe itself knows nothing about GANs. This module rebuilds the exact game a run was
optimising at a saved step — same losses, same fixed evaluation batch, the checkpoint's
parameters — with :func:`spectra.gan.game_at`, reads the run's update rule from its configuration,
and hands both to :func:`spectra.probe.core.probe_game`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from spectra.probe.core import ProbeResult, probe_game
from spectra.probe.path_angle import PathAngle, path_angle
from spectra.probe.update import UpdateRule

if TYPE_CHECKING:
    from spectra.gan.checkpoint import CheckpointError

__all__ = [
    "run_config",
    "run_steps",
    "run_update_rule",
    "probe_checkpoint",
    "probe_run",
    "run_path_angle",
    "resolve_step",
]


def run_config(run_dir):
    """The run's :class:`~spectra.gan.config.TrainConfig`; a missing run raises
    ``FileNotFoundError`` naming the folder."""
    from spectra.gan.rundir import read_run_config

    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"run folder {run_dir} does not exist")
    return read_run_config(run_dir)


def run_steps(run_dir) -> list[int]:
    """The complete checkpoints of a run, ascending."""
    from spectra.gan.checkpoint import CheckpointStore

    run_config(run_dir)
    if not (Path(run_dir) / "checkpoints").is_dir():
        return []
    store = CheckpointStore(run_dir)
    try:
        return store.steps()
    finally:
        store.close()


def run_update_rule(run_dir) -> UpdateRule:
    """The update rule of a run (per-player η, β, optimiser; alternating or simultaneous)."""
    return UpdateRule.from_config(run_config(run_dir))


def resolve_step(run_dir, step: int | None) -> int:
    steps = run_steps(run_dir)
    if not steps:
        raise ValueError(f"{run_dir} holds no complete checkpoint")
    if step is None:
        return steps[-1]
    if step not in steps:
        raise ValueError(
            f"step: no checkpoint at step {step} in {run_dir} "
            f"(available: {', '.join(map(str, steps))})"
        )
    return int(step)


def probe_checkpoint(run_dir, step: int | None = None, *, dtype=None, **kwargs) -> ProbeResult:
    """:func:`probe_game` on the game of ``run_dir`` at checkpoint ``step`` (default: latest),
    with the run's update rule. ``kwargs`` go to :func:`probe_game`."""
    from spectra.gan import game_at

    step = resolve_step(run_dir, step)
    game = game_at(run_dir, step, dtype=dtype)
    kwargs.setdefault("update", run_update_rule(run_dir))
    return probe_game(game, **kwargs)


def probe_run(
    run_dir,
    steps: Sequence[int] | None = None,
    *,
    dtype=None,
    on_result: Callable[[int, ProbeResult], None] | None = None,
    on_error: Callable[[int, CheckpointError], None] | None = None,
    **kwargs,
) -> list[tuple[int, ProbeResult]]:
    """Probe several checkpoints (default: all); the compiled products are shared by all.

    A checkpoint that cannot be read (:class:`~spectra.gan.checkpoint.CheckpointError`) raises,
    unless ``on_error`` is given: it is then called with the step and the error, and the other
    checkpoints are still probed (their results are not lost to one corrupted file)."""
    from spectra.gan.checkpoint import CheckpointError

    available = run_steps(run_dir)
    if not available:
        raise ValueError(f"{run_dir} holds no complete checkpoint")
    steps = available if steps is None else [resolve_step(run_dir, s) for s in steps]
    out = []
    for step in steps:
        try:
            result = probe_checkpoint(run_dir, step, dtype=dtype, **kwargs)
        except CheckpointError as err:
            if on_error is None:
                raise
            on_error(step, err)
            continue
        if on_result is not None:
            on_result(step, result)
        out.append((step, result))
    return out


def run_path_angle(
    run_dir, step0: int, step1: int, *, dtype=None, alphas=None, minibatch: int | None = None
) -> PathAngle:
    """The path-angle between two checkpoints of a run, on the run's evaluation batch."""
    from spectra.gan import game_at

    step0, step1 = resolve_step(run_dir, step0), resolve_step(run_dir, step1)
    if step0 == step1:
        raise ValueError(f"path-angle: expected two different steps, got {step0} twice")
    g0 = game_at(run_dir, step0, dtype=dtype)
    g1 = game_at(run_dir, step1, dtype=dtype)
    return path_angle(g1, g0.point(), g1.point(), alphas=alphas, minibatch=minibatch)
