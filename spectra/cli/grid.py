"""``spectra grid``: the discriminator (β, η) sweep of the paper's Fig. 3 on our data.

Example::

    spectra grid --data mog8 --betas=-0.5,-0.25,0,0.25,0.5 --lrs 0.05,0.1,0.2 --seeds 2 \\
        --steps 3000 --out grids/mog8

Saturating loss, alternating updates and the generator at β = 0.5 by default (flags may change
them). Writes ``grid.csv``, ``grid.json``, ``heatmap.png`` and ``best.png`` to ``--out`` and prints,
for each β, the best η and its mean score over the seeds.
"""

from __future__ import annotations

import argparse

from spectra.cli.train import add_config_flags, config_from_args

DEFAULT_BETAS = "-0.5,-0.25,0,0.25,0.5"
DEFAULT_LRS = "0.02,0.05,0.1,0.2"


def _floats(text: str, name: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"{name}: expected comma-separated numbers, got {text!r}") from None
    if not values:
        raise ValueError(f"{name}: expected at least one value")
    return values


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "grid",
        help="sweep the discriminator's (β, η) as in the paper's Fig. 3",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_config_flags(parser, players=False)
    parser.add_argument("--betas", default=DEFAULT_BETAS, help="discriminator momenta (rows)")
    parser.add_argument("--lrs", default=DEFAULT_LRS, help="discriminator step sizes (columns)")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per cell (0, 1, …)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    betas = _floats(args.betas, "betas")
    lrs = _floats(args.lrs, "lrs")
    if args.seeds < 1:
        raise ValueError(f"seeds: expected an integer >= 1, got {args.seeds}")
    config = config_from_args(args)
    if args.g_beta is None:
        config = config.replace(g_beta=0.5)
    first = config.seed
    from spectra.gan.grid import (
        check_output_folder,
        diverged_counts,
        run_grid,
        summarize,
        write_grid,
    )

    check_output_folder(args.out)  # before any training
    result = run_grid(
        config,
        betas=betas,
        lrs=lrs,
        seeds=range(first, first + args.seeds),
        progress=not args.no_progress,
    )
    paths = write_grid(result, args.out)
    print(f"{config.data}, {config.loss} loss, {config.updates} updates, {config.steps} steps")
    diverged = diverged_counts(result)
    for i, line in enumerate(summarize(result)):
        spread = f" ± {line['std']:.3g}" if len(result.seeds) > 1 else ""
        n_div = int(diverged[i, result.lrs.index(line["best_d_lr"])])
        note = f" ({n_div} of {len(result.seeds)} seeds diverged, counted as 0)" if n_div else ""
        print(
            f"  D β={line['d_beta']:+g}: best η={line['best_d_lr']:g}, "
            f"score {line['mean_score']:.3g}{spread}{note}"
        )
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
