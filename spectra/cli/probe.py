"""``spectra probe RUN``: the spectra that govern a training run at its checkpoints.

Restores a checkpoint of a run folder written by ``spectra train``, rebuilds exactly the game that
was being optimised (same losses, the run's fixed evaluation batch) and computes: the top-k
eigenvalues of the game Jacobian ∇v for each selection, the top-k eigenvalues of both players'
Hessians, the spectrum and spectral radius of the run's update operator ∇F, and what the theory
says (Lemma 11, Theorems 2-4, the recommended (η, β) next to the configuration used). With
``--path-angle A,B`` it also computes the path-angle between two checkpoints (Berard et al. 2020);
given alone (without --step or --all) it computes only the path-angle.

With --all, a checkpoint that cannot be read is reported and skipped: the others are still probed
and summarised, and the command exits non-zero. Without --which SR the assumption Re λ > 0 of the
theory is not checked, and the advice says so.

Writes to OUT (default RUN/probe): probe_step<N>.json (every eigenvalue with its residual) and
spectrum_step<N>.png (∇v in the complex plane, the Hessians, ∇F with the unit circle); with
--all also probe_all.json and trajectories.png (the spectra over training steps).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from spectra.atomic import output_folder
from spectra.cli import CLIError

EPILOG = """examples:
  spectra probe runs/mog8 --step 2000 --k 10
  spectra probe runs/mog8 --all --which LM,LI --float64
  spectra probe runs/mog8 --path-angle 1000,2000
  spectra probe runs/mog8 --step 2000 --path-angle 1000,2000 --no-hessians --which LM"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="eigenvalues of ∇v, the player Hessians and ∇F at a run's checkpoints",
        description=__doc__,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("run", metavar="RUN", help="a run folder written by `spectra train`")
    when = parser.add_mutually_exclusive_group()
    when.add_argument("--step", type=int, default=None, help="checkpoint step (default: latest)")
    when.add_argument("--all", action="store_true", help="probe every checkpoint")
    parser.add_argument("--k", type=int, default=20, help="eigenvalues per selection (20)")
    parser.add_argument(
        "--which", default="LM,LR,SR,LI", help="selections of ∇v: LM,SM,LR,SR,LI (LM,LR,SR,LI)"
    )
    parser.add_argument("--float64", action="store_true", help="compute in float64")
    parser.add_argument("--out", default=None, metavar="DIR", help="output folder (RUN/probe)")
    parser.add_argument(
        "--minibatch", type=int, default=None, help="stream the evaluation batch in minibatches"
    )
    parser.add_argument("--no-hessians", action="store_true", help="skip the player Hessians")
    parser.add_argument("--no-update", action="store_true", help="skip the update operator ∇F")
    parser.add_argument(
        "--path-angle",
        default=None,
        metavar="A,B",
        help="path-angle between steps A and B (alone: only the path-angle)",
    )
    parser.add_argument(
        "--solver",
        choices=("krylov", "arpack"),
        default="krylov",
        help="matrix-free eigensolver: Krylov–Schur (default) or ARPACK",
    )
    parser.add_argument("--tol", type=float, default=None, help="eigensolver tolerance")
    parser.add_argument("--ncv", type=int, default=None, help="eigensolver basis size")
    parser.add_argument("--maxiter", type=int, default=None, help="eigensolver restarts")
    parser.add_argument("--dense-max", type=int, default=2000, help="dense LAPACK up to this n")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _steps_pair(text: str, run_dir: Path) -> tuple[int, int]:
    """``--path-angle A,B`` as two different checkpoint steps of the run (checked before any
    work, so a typo does not cost a probe)."""
    from spectra.probe import checkpoints

    parts = [p.strip() for p in text.split(",")]
    try:
        a, b = (int(p) for p in parts)
    except ValueError:
        raise CLIError(f"--path-angle: expected two steps A,B, got {text!r}") from None
    if a == b:
        raise CLIError(f"--path-angle: expected two different steps, got {a} twice")
    try:
        return checkpoints.resolve_step(run_dir, a), checkpoints.resolve_step(run_dir, b)
    except ValueError as err:
        raise CLIError(f"--path-angle: {str(err).removeprefix('step: ')}") from None


def _cosine_at(pa, alpha: float) -> float:
    return float(pa.cosine[int(abs(pa.alphas - alpha).argmin())])


def run(args) -> int:
    if args.float64:
        import jax

        jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    from spectra.probe import checkpoints, report
    from spectra.probe.core import check_which

    which = check_which(args.which)  # every bad argument fails before any work
    if args.k < 1:
        raise CLIError(f"--k: expected an integer >= 1, got {args.k}")
    if args.dense_max < 0:
        raise CLIError(f"--dense-max: expected an integer >= 0, got {args.dense_max}")
    run_dir = Path(args.run)
    checkpoints.run_config(run_dir)  # a missing run fails here, in one line
    pair = None if args.path_angle is None else _steps_pair(args.path_angle, run_dir)
    step = None
    if not args.all and (pair is None or args.step is not None):
        step = checkpoints.resolve_step(run_dir, args.step)
    # created now, so a bad --out fails before the probe, not after it
    out = output_folder(Path(args.out) if args.out else run_dir / "probe", name="--out")
    dtype = jnp.float64 if args.float64 else None
    rule = None if args.no_update else checkpoints.run_update_rule(run_dir)
    options = {
        "k": args.k,
        "which": which,
        "minibatch": args.minibatch,
        "hessians": not args.no_hessians,
        "update": rule,
        "tol": args.tol,
        "ncv": args.ncv,
        "maxiter": args.maxiter,
        "solver": args.solver,
        "dense_max": args.dense_max,
        "progress": not args.quiet,
    }
    errors: list[str] = []

    def write(step, result):
        record = {"run": str(run_dir), "step": step, **result.to_dict()}
        path = report.write_json(out / f"probe_step{step}.json", record)
        fig = report.spectrum_figure(result, title=f"{run_dir.name} at step {step}")
        report.save_figure(fig, out / f"spectrum_step{step}.png")
        for line in report.summary_lines(result, label=f"step {step}"):
            print(line)
        print(f"  wrote {path}")
        errors.extend(f"step {step}: {e}" for e in result.errors)

    def skip(step, err):
        print(f"step {step}: skipped, {err}", file=sys.stderr)
        errors.append(f"step {step}: {err}")

    if args.all:
        results = checkpoints.probe_run(
            run_dir, dtype=dtype, on_result=write, on_error=skip, **options
        )
        if not results:
            raise CLIError(f"no checkpoint of {run_dir} could be read: {errors[0]}")
        steps = [s for s, _ in results]
        record = {
            "run": str(run_dir),
            "steps": steps,
            "results": [r.to_dict() for _, r in results],
        }
        report.write_json(out / "probe_all.json", record)
        fig = report.trajectory_figure(steps, [r for _, r in results], title=run_dir.name)
        report.save_figure(fig, out / "trajectories.png")
        print(f"wrote {out / 'probe_all.json'} and {out / 'trajectories.png'}")
    elif step is not None:
        write(step, checkpoints.probe_checkpoint(run_dir, step, dtype=dtype, **options))

    if pair is not None:
        a, b = pair
        pa = checkpoints.run_path_angle(run_dir, a, b, dtype=dtype, minibatch=args.minibatch)
        report.write_json(
            out / f"path_angle_{a}_{b}.json", {"run": str(run_dir), "steps": [a, b], **pa.to_dict()}
        )
        fig = report.path_angle_figure(pa, title=f"{run_dir.name}: path-angle {a} → {b}")
        report.save_figure(fig, out / f"path_angle_{a}_{b}.png")
        print(
            f"path-angle {a} → {b}: cosine {_cosine_at(pa, 0.0):.3f} at step {a}, "
            f"{_cosine_at(pa, 1.0):.3f} at step {b} (range {pa.cosine.min():.3f} to "
            f"{pa.cosine.max():.3f} along the line); wrote {out / f'path_angle_{a}_{b}.json'}"
        )

    if errors:
        extra = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise CLIError(
            f"{errors[0]}{extra}; what converged is written to {out} and marked per eigenvalue"
        )
    sys.stdout.flush()
    return 0
