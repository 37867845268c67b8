"""``spectra train``: train a GAN with per-player optimisers and crash-safe checkpoints.

Example::

    spectra train --data mog8 --loss saturating --d-beta -0.5 --d-lr 0.05 --steps 5000 \\
        --out runs/mog8-neg

A named config (``--config``, default: the one named like ``--data``) gives every setting; flags
override it. ``--resume`` continues the run in ``--out`` with its own saved settings (given
without ``--config``/``--data``, flags change them: ``--steps`` to train further).
Exit status: 0 done, 2 bad input (one line on stderr), 3 the run diverged (last good checkpoint
kept).
"""

from __future__ import annotations

import argparse
import sys

# flag -> TrainConfig field (flags left unset keep the named config's value)
OVERRIDES = {
    "data": "data",
    "loss": "loss",
    "updates": "updates",
    "d_opt": "d_optimizer",
    "d_lr": "d_lr",
    "d_beta": "d_beta",
    "g_opt": "g_optimizer",
    "g_lr": "g_lr",
    "g_beta": "g_beta",
    "batch_size": "batch_size",
    "latent_dim": "latent_dim",
    "hidden": "hidden",
    "depth": "depth",
    "channels": "channels",
    "steps": "steps",
    "steps_per_call": "steps_per_call",
    "checkpoint_every": "checkpoint_every",
    "eval_every": "eval_every",
    "eval_batch_size": "eval_batch_size",
    "seed": "seed",
}


def add_config_flags(parser: argparse.ArgumentParser, *, players: bool = True) -> None:
    """The flags shared by ``train`` and ``grid`` that override a named config."""
    parser.add_argument(
        "--config",
        help="named config: mog8, mog25, digits, mnist (default: the one named like --data, "
        "else mog8); it sets every flag left out (see --print-config)",
    )
    parser.add_argument("--data", help="data set: mog8, mog25, digits, mnist")
    parser.add_argument("--loss", help="saturating (default) or non-saturating")
    parser.add_argument("--updates", help="alternating (default) or simultaneous")
    if players:
        parser.add_argument("--d-opt", help="discriminator optimiser: sgd or adam")
        parser.add_argument("--d-lr", type=float, help="discriminator step size η > 0")
        parser.add_argument(
            "--d-beta",
            type=float,
            help="discriminator momentum β in (-1, 1): heavy ball for sgd, b1 for adam",
        )
    parser.add_argument("--g-opt", help="generator optimiser: sgd or adam")
    parser.add_argument("--g-lr", type=float, help="generator step size η > 0")
    parser.add_argument(
        "--g-beta",
        type=float,
        help="generator momentum β in (-1, 1): heavy ball for sgd, b1 for adam",
    )
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--latent-dim", type=int)
    parser.add_argument("--hidden", type=int, help="MLP width (2-D data)")
    parser.add_argument("--depth", type=int, help="MLP hidden layers (2-D data)")
    parser.add_argument("--channels", type=int, help="conv width (images)")
    parser.add_argument("--steps", type=int, help="training steps")
    parser.add_argument("--steps-per-call", type=int, help="steps fused in one compiled call")
    parser.add_argument("--seed", type=int)


def config_from_args(args: argparse.Namespace):
    """The named config (``--config``, else the one named like ``--data``) with flag overrides."""
    from spectra.gan.config import DATASETS, get_config

    if args.config is None and args.data is not None and args.data not in DATASETS:
        raise ValueError(
            f"data: unknown data set {args.data!r}; expected one of {', '.join(DATASETS)}"
        )
    name = args.config or args.data or "mog8"
    return get_config(name, **_overrides(args))


def _overrides(args: argparse.Namespace) -> dict:
    return {
        field: getattr(args, flag)
        for flag, field in OVERRIDES.items()
        if getattr(args, flag, None) is not None
    }


def _resumed_config(args: argparse.Namespace):
    """With --resume on an existing run and no --config/--data: the run's own configuration
    with the flags given on top (so a resume needs only the flags that change, like --steps)."""
    from pathlib import Path

    from spectra.gan.rundir import CONFIG_FILE, read_run_config

    if not (args.resume and args.config is None and args.data is None):
        return None
    if not (Path(args.out) / CONFIG_FILE).is_file():
        return None
    return read_run_config(args.out).replace(**_overrides(args))


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a GAN (flax/optax) with checkpoints",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(parser)
    parser.add_argument("--checkpoint-every", type=int, help="steps between checkpoints")
    parser.add_argument("--eval-every", type=int, help="steps between metrics and samples")
    parser.add_argument("--eval-batch-size", type=int, help="evaluation batch kept for the probe")
    parser.add_argument("--out", required=True, help="run folder")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue the run in --out (its own settings; flags given change them, e.g. --steps)",
    )
    parser.add_argument(
        "--print-config", action="store_true", help="print the resolved settings and exit"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = _resumed_config(args) or config_from_args(args)
    if args.print_config:
        import json

        print(json.dumps(config.to_dict(), indent=1))
        return 0
    from spectra.gan.train import TrainingDiverged, train

    try:
        result = train(config, args.out, resume=args.resume, progress=not args.no_progress)
    except TrainingDiverged as err:
        print(f"spectra train: error: {err}", file=sys.stderr)
        return 3
    summary = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in result.metrics.items()
        if k != "step"
    )
    print(f"{result.run_dir}: step {result.step}: {summary}")
    if result.step > config.steps:
        print(
            f"spectra train: note: the run was already at step {result.step}, beyond --steps "
            f"{config.steps}: nothing was trained (ask for more steps to continue it)",
            file=sys.stderr,
        )
    return 0
