"""``spectra density RUN``: the players' Hessian eigenvalue densities and traces at a checkpoint.

Restores a checkpoint of a run folder written by ``spectra train`` (like ``spectra probe``),
rebuilds the game of the run (same losses, the run's fixed evaluation batch) and, for each
player's Hessian (``∇²_φ L_φ``, ``∇²_θ L_θ``), estimates:

- its trace by Hutchinson's estimator (Rademacher probes, one product each), with a standard
  error; with both players, their sum is ``tr ∇v``, the sum of the game Jacobian's eigenvalues;
- its eigenvalue density by stochastic Lanczos quadrature (Ghorbani, Krishnan & Xiao 2019; Lin,
  Saad & Yang 2016): ``--probes`` Lanczos runs of ``--steps`` steps (capped at the player's
  size; then the nodes are its exact eigenvalues), smoothed by Gaussians of width 1% of the
  spectrum's range. See :mod:`spectra.density`.

Products are streamed over minibatches of the evaluation batch (``--minibatch``). Lanczos keeps
its basis: ``4 · steps · n`` bytes per player (``8 · steps · n`` with ``--float64``).

Writes to OUT (default RUN/density): density_step<N>.json (traces, nodes and weights, the grid
and the density, the settings) and density_step<N>.png (log-scale densities; the top Hessian
eigenvalues of ``spectra probe``, when RUN/probe/probe_step<N>.json exists, marked).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from spectra.atomic import output_folder
from spectra.cli import CLIError

EPILOG = """examples:
  spectra density runs/mog8 --step 2000
  spectra density runs/mog8 --player theta --probes 16 --steps 120 --float64"""

PLAYERS = ("phi", "theta")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "density",
        help="Hessian eigenvalue densities (SLQ) and traces (Hutchinson) at a checkpoint",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run", metavar="RUN", help="a run folder written by `spectra train`")
    parser.add_argument("--step", type=int, default=None, help="checkpoint step (default: latest)")
    parser.add_argument("--player", default="phi,theta", help="phi, theta or phi,theta (both)")
    parser.add_argument("--probes", type=int, default=8, help="SLQ probes (8)")
    parser.add_argument("--steps", type=int, default=80, help="Lanczos steps per probe (80)")
    parser.add_argument(
        "--trace-samples", type=int, default=32, help="Hutchinson probes for the trace (32)"
    )
    parser.add_argument(
        "--minibatch", type=int, default=None, help="stream the evaluation batch in minibatches"
    )
    parser.add_argument("--float64", action="store_true", help="compute in float64")
    parser.add_argument("--seed", type=int, default=0, help="seeds the random probes (0)")
    parser.add_argument("--out", default=None, metavar="DIR", help="output folder (RUN/density)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _players(text: str) -> tuple[str, ...]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or any(p not in PLAYERS for p in parts):
        raise CLIError(f"--player: expected phi, theta or phi,theta, got {text!r}")
    return tuple(dict.fromkeys(parts))


def _check_counts(args) -> None:
    for flag, value, low in (
        ("--probes", args.probes, 1),
        ("--steps", args.steps, 1),
        ("--trace-samples", args.trace_samples, 1),
        ("--seed", args.seed, 0),
    ):
        if value < low:
            raise CLIError(f"{flag}: expected an integer >= {low}, got {value}")
    if args.minibatch is not None and args.minibatch < 1:
        raise CLIError(f"--minibatch: expected an integer >= 1, got {args.minibatch}")


def _top_eigenvalues(path: Path, players) -> dict:
    """The converged Hessian eigenvalues of a ``spectra probe`` JSON, by player (none if the
    file is missing or unreadable: the marks are optional)."""
    try:
        record = json.loads(path.read_text())
        hessians = record.get("hessians", {})
        return {
            p: [v for v, ok in zip(h["real"], h["converged"], strict=True) if ok]
            for p, h in hessians.items()
            if p in players
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


class _Bar:
    """A tqdm bar over products, redrawn every 0.1 s on a terminal, 10 s otherwise."""

    def __init__(self, enabled: bool, total: int):
        from tqdm.auto import tqdm

        from spectra.progress import redraw_interval

        self.bar = tqdm(
            total=total,
            unit="product",
            desc="density",
            leave=False,
            mininterval=redraw_interval(),
            disable=not enabled,
        )

    def counter(self, player: str):
        """``on_product`` for one operator (it reports its running total)."""
        self.bar.set_description(f"density: {player}")
        seen = [0]

        def on_product(total: int) -> None:
            self.bar.update(total - seen[0])
            seen[0] = total

        return on_product

    def close(self) -> None:
        self.bar.close()


def run(args) -> int:
    players = _players(args.player)  # every bad argument fails before any work
    _check_counts(args)
    if args.float64:
        import jax

        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from spectra.probe import checkpoints
    from spectra.probe.density import player_density

    run_dir = Path(args.run)
    checkpoints.run_config(run_dir)  # a missing run fails here, in one line
    step = checkpoints.resolve_step(run_dir, args.step)
    out = output_folder(Path(args.out) if args.out else run_dir / "density", name="--out")

    from spectra.gan import game_at
    from spectra.plots.density import spectral_density
    from spectra.probe import report
    from spectra.probe.result import HESSIAN_NAMES

    game = game_at(run_dir, step, dtype=jnp.float64 if args.float64 else None)
    w = game.point()
    sizes = {"phi": game.n_phi, "theta": game.n_theta}
    budget = sum(args.trace_samples + args.probes * min(args.steps, sizes[p]) for p in players)
    bar = _Bar(not args.quiet, budget)
    results = {}
    try:
        for p in players:
            results[p] = player_density(
                game,
                w,
                player=p,
                probes=args.probes,
                steps=args.steps,
                trace_samples=args.trace_samples,
                minibatch=args.minibatch,
                seed=args.seed,
                on_product=bar.counter(p),
            )
    finally:
        bar.close()
    record = {
        "run": str(run_dir),
        "step": step,
        "dtype": str(jnp.dtype(game.dtype)),
        "settings": {
            "players": list(players),
            "probes": args.probes,
            "steps": args.steps,
            "trace_samples": args.trace_samples,
            "minibatch": args.minibatch,
            "seed": args.seed,
            "probe_vectors": "rademacher",
            "relative_sigma": 0.01,
        },
        "players": results,
    }
    if len(players) == 2:
        a, b = (results[p]["trace"] for p in PLAYERS)
        record["game_jacobian_trace"] = {
            "value": a["value"] + b["value"],
            "stderr": (a["stderr"] ** 2 + b["stderr"] ** 2) ** 0.5,
        }
    json_path = report.write_json(out / f"density_step{step}.json", record)
    top = _top_eigenvalues(run_dir / "probe" / f"probe_step{step}.json", players)
    labels = {p: f"{HESSIAN_NAMES[p]} (n={results[p]['n']})" for p in players}
    fig = spectral_density(
        {labels[p]: results[p]["grid"] for p in players},
        {labels[p]: results[p]["density"] for p in players},
        top={labels[p]: v for p, v in top.items()},
        notes={
            labels[p]: f"trace {r['trace']['value']:.4g} ± {r['trace']['stderr']:.2g}"
            for p, r in results.items()
        },
        title=f"{run_dir.name} at step {step}: Hessian eigenvalue density (SLQ)",
    )
    png_path = report.save_figure(fig, out / f"density_step{step}.png")
    for p, r in results.items():
        print(
            f"{HESSIAN_NAMES[p]} (n={r['n']}): trace {r['trace']['value']:.6g} ± "
            f"{r['trace']['stderr']:.2g} ({r['trace']['samples']} samples); SLQ nodes in "
            f"[{r['slq']['min_node']:.6g}, {r['slq']['max_node']:.6g}]; "
            f"{r['products']} products, {r['seconds']:.2f} s"
        )
    if "game_jacobian_trace" in record:
        g = record["game_jacobian_trace"]
        print(f"tr ∇v = Σ λ(∇v): {g['value']:.6g} ± {g['stderr']:.2g}")
    print(f"wrote {json_path} and {png_path}")
    sys.stdout.flush()
    return 0
