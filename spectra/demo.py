"""The built-in demonstration: negative vs positive discriminator momentum, seen by the probe.

:func:`run_demo` trains the same 2-D mixture GAN (8 Gaussians on a ring, saturating loss,
alternating updates, generator at β = 0.5 as in Gidel et al. 2019, §4) twice — with negative and
with positive heavy-ball momentum on the discriminator — using the trainer's library API
(:func:`spectra.gan.train.train`), probes both runs at every checkpoint
(:func:`spectra.probe.checkpoints.probe_run`: ∇v, both players' Hessians, the spectrum of each
run's own alternating update operator ∇F, and the theory's advice), and writes to a folder:

- ``report.md``: the setup, a table per run (mode coverage, sample quality, ‖v‖, spectral
  summaries, ρ(∇F)), the figures, and what the theory says at the last checkpoint;
- ``comparison.png``, ``trajectories_<run>.png``, ``spectrum_<run>.png``: the figures;
- ``probe_<run>.json``: every probed eigenvalue with its residual;
- ``runs/<run>/``: the two training runs (re-running the demo reuses finished runs).

The full demonstration takes a few minutes on 2 cores; ``quick=True`` is a seconds-long version
for tests.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["DemoResult", "demo_configs", "run_demo"]

BETAS = {"negative": -0.5, "positive": 0.5}


@dataclasses.dataclass
class DemoResult:
    """Where the demonstration wrote its report, and what it measured."""

    out: Path
    report: Path
    figures: list[Path]
    runs: dict[str, Path]
    summary: dict[str, Any]
    seconds: float


def demo_configs(*, quick: bool = False) -> dict[str, Any]:
    """The two training configurations (``negative``, ``positive``) and the probe settings."""
    from spectra.gan.config import get_config

    if quick:
        base = get_config("mog8").replace(
            hidden=8,
            depth=1,
            latent_dim=4,
            batch_size=64,
            steps=40,
            steps_per_call=20,
            checkpoint_every=20,
            eval_every=20,
            eval_batch_size=64,
            metric_samples=256,
        )
        probe = {"k": 3, "which": ("LM", "LI")}
    else:
        base = get_config("mog8").replace(
            hidden=24,
            depth=2,
            steps=4000,
            checkpoint_every=800,
            eval_every=800,
            eval_batch_size=512,
        )
        probe = {"k": 8, "which": ("LM", "LR", "SR", "LI")}
    configs = {
        label: base.replace(name=f"demo-{label}-momentum", d_beta=beta)
        for label, beta in BETAS.items()
    }
    return {"configs": configs, "probe": probe}


def run_demo(
    out="demo_out",
    *,
    quick: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> DemoResult:
    """Train, probe and report (module docstring). Returns where everything was written."""
    from spectra.gan.rundir import read_metrics
    from spectra.gan.train import train
    from spectra.probe import checkpoints, report, theory_advice

    start = time.perf_counter()
    out = _output_folder(Path(out))
    setup = demo_configs(quick=quick)
    series, runs, figures, metrics = {}, {}, [], {}
    for label, config in setup["configs"].items():
        run_dir = out / "runs" / config.name
        runs[label] = run_dir
        log(f"[demo] training {config.name} ({config.steps} steps, d_beta = {config.d_beta:+g})")
        train(config, run_dir, resume=True, progress=progress, log=lambda message: None)
        log(f"[demo] probing every checkpoint of {config.name}")
        results = checkpoints.probe_run(run_dir, progress=progress, advice=False, **setup["probe"])
        steps = [s for s, _ in results]
        probes = [r for _, r in results]
        final = probes[-1]  # the theory's verdict at the last checkpoint only
        final.advice = theory_advice(
            final.jacobian_eigenvalues(),
            final.update_rule,
            complete=final.jacobian_full is not None,
            which=tuple(final.jacobian),
            update_radius=final.update.spectral_radius,
        )
        final.advice["used"]["update_method"] = final.update.method
        series[f"{label} (β_D = {config.d_beta:+g})"] = (steps, probes)
        metrics[label] = {r["step"]: r for r in read_metrics(run_dir)}
        report.write_json(
            out / f"probe_{label}.json",
            {
                "run": str(run_dir),
                "config": config.to_dict(),
                "steps": steps,
                "results": [r.to_dict() for r in probes],
            },
        )
        fig = report.trajectory_figure(steps, probes, title=f"{config.name}: spectra over training")
        figures.append(report.save_figure(fig, out / f"trajectories_{label}.png"))
        fig = report.spectrum_figure(probes[-1], title=f"{config.name} at step {steps[-1]}")
        figures.append(report.save_figure(fig, out / f"spectrum_{label}.png"))
    fig = report.comparison_figure(series, title="negative vs positive discriminator momentum")
    figures.insert(0, report.save_figure(fig, out / "comparison.png"))
    seconds = time.perf_counter() - start
    summary = _summary(setup, series, metrics)
    for label, sample in _last_samples(out, runs).items():
        summary[label]["sample"] = sample
    text = _markdown(setup, series, metrics, summary, seconds, quick)
    report_path = out / "report.md"
    report.atomic_write_bytes(report_path, text.encode())
    log(f"[demo] wrote {report_path} ({seconds:.0f} s)")
    return DemoResult(out, report_path, figures, runs, summary, seconds)


def _output_folder(out: Path) -> Path:
    """``out``, created; refused if it holds something other than a demonstration (its runs
    live in ``out/runs`` and are reused, so a folder of anything else would be mixed in)."""
    from spectra.atomic import output_folder

    def holds_a_demo(folder: Path) -> bool:
        return any((folder / "runs").glob("demo-*")) or (folder / "report.md").is_file()

    return output_folder(out, holds=holds_a_demo, what="a spectra demo")


# -- the report ------------------------------------------------------------------------------------


def _row(step: int, result, record: dict) -> dict[str, Any]:
    from spectra.probe.advice import drop_null

    lam, _ = drop_null(result.jacobian_eigenvalues())
    return {
        "step": step,
        "modes": record.get("modes_covered"),
        "high_quality": record.get("high_quality_fraction"),
        "stationarity": result.stationarity,
        "max_abs": float(np.abs(lam).max()),
        "max_imag": float(np.abs(lam.imag).max()),
        "min_real": float(lam.real.min()),
        "n_negative": int((lam.real <= 0).sum()),
        "n_eigs": int(lam.size),
        "rho": result.update.spectral_radius if result.update is not None else float("nan"),
        "hess_phi": float(result.hessians["phi"].values.real.max()),
        "hess_theta": float(result.hessians["theta"].values.real.min()),
    }


def _summary(setup, series, metrics) -> dict[str, Any]:
    out = {}
    for (label, config), (_, (steps, probes)) in zip(
        setup["configs"].items(), series.items(), strict=True
    ):
        rows = [_row(s, r, metrics[label].get(s, {})) for s, r in zip(steps, probes, strict=True)]
        out[label] = {"config": config, "rows": rows, "final": probes[-1], "sample": None}
    return out


def _last_samples(out: Path, runs: dict[str, Path]) -> dict[str, str | None]:
    """The last sample figure the trainer wrote for each run, relative to ``out``."""
    found = {}
    for label, run_dir in runs.items():
        files = sorted((run_dir / "samples").glob("step_*.png"))
        found[label] = files[-1].relative_to(out).as_posix() if files else None
    return found


def _fmt(x, spec=".3g") -> str:
    if x is None:
        return "–"
    if isinstance(x, float) and not np.isfinite(x):
        return "–"
    return format(x, spec)


def _markdown(setup, series, metrics, summary, seconds: float, quick: bool) -> str:
    configs = setup["configs"]
    neg, pos = configs["negative"], configs["positive"]
    lines = [
        "# Negative vs positive discriminator momentum, seen through the game's spectrum",
        "",
        f"Generated by `spectra demo{' --quick' if quick else ''}` in {seconds:.0f} s. Two GANs "
        "were trained on the same data with the same seed and settings, except the "
        "discriminator's heavy-ball momentum β_D (Gidel et al. 2019 use negative momentum on the "
        "discriminator only). At every checkpoint, `spectra probe` rebuilt the game on the run's "
        "fixed evaluation batch and computed the eigenvalues of the game Jacobian ∇v, of both "
        "players' Hessians, and of the run's own update operator ∇F (alternating heavy-ball "
        "updates, differentiated by JAX), with the theory's verdict.",
        "",
        "## Setup",
        "",
        "| setting | negative | positive |",
        "|---|---|---|",
    ]
    for field in (
        "data",
        "loss",
        "updates",
        "d_lr",
        "d_beta",
        "g_lr",
        "g_beta",
        "hidden",
        "depth",
        "batch_size",
        "steps",
        "checkpoint_every",
        "eval_batch_size",
        "seed",
    ):
        lines.append(f"| {field} | {getattr(neg, field)} | {getattr(pos, field)} |")
    probe = setup["probe"]
    lines += [
        "",
        f"Probe: k = {probe['k']} eigenvalues per selection ({', '.join(probe['which'])}: "
        "LM the largest |λ|, LR and SR the largest and smallest Re λ, LI the largest |Im λ|); "
        "the game is small enough for a dense Jacobian, so the whole spectrum of ∇v is used.",
        "",
        "## What the probe measured",
        "",
        "Columns: modes covered (of 8) and the fraction of high-quality samples (within 3σ of a "
        "mode), ‖v‖ (zero at a stationary point), the largest |λ|, the largest |Im λ| "
        "(rotation) and the smallest Re λ of ∇v, how many eigenvalues have Re λ ≤ 0 (of those "
        "with |λ| > 1e-4·max|λ|; the others are null directions), the largest "
        "eigenvalue of the discriminator's Hessian and the smallest of the generator's, and the "
        "spectral radius ρ(∇F) of the run's update operator at the point (< 1: locally "
        "contracting).",
        "",
    ]
    for label, info in summary.items():
        config = info["config"]
        lines += [
            f"### {label} momentum (β_D = {config.d_beta:+g})",
            "",
            "| step | modes | high-quality | ‖v‖ | max abs λ | max abs Im λ | min Re λ "
            "| Re λ ≤ 0 | max λ(∇²L_φ) | min λ(∇²L_θ) | ρ(∇F) |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in info["rows"]:
            lines.append(
                f"| {r['step']} | {_fmt(r['modes'], 'd')} | {_fmt(r['high_quality'])} | "
                f"{_fmt(r['stationarity'])} | {_fmt(r['max_abs'])} | {_fmt(r['max_imag'])} | "
                f"{_fmt(r['min_real'])} | {r['n_negative']} of {r['n_eigs']} | "
                f"{_fmt(r['hess_phi'])} | {_fmt(r['hess_theta'])} | {_fmt(r['rho'], '.4f')} |"
            )
        lines.append("")
    lines += [
        "## Figures",
        "",
        "![comparison](comparison.png)",
        "",
        "*ρ(∇F), the largest |Im λ| and the smallest Re λ of ∇v over training, both runs.*",
        "",
    ]
    for label, info in summary.items():
        lines += [
            f"![trajectories, {label}](trajectories_{label}.png)",
            "",
            f"![spectrum at the last checkpoint, {label}](spectrum_{label}.png)",
            "",
        ]
        sample = info.get("sample")
        if sample:
            lines += [
                f"![samples at the last checkpoint, {label}]({sample})",
                "",
                f"*{label} momentum: generator samples (dots) and the 8 modes (crosses) at the "
                "last checkpoint.*",
                "",
            ]
    lines += ["## What the theory says at the last checkpoint", ""]
    for label, info in summary.items():
        final = info["final"]
        advice = final.advice or {}
        lines += [f"**{label} momentum.** " + advice.get("summary", "no advice computed."), ""]
        used = advice.get("used", {})
        if "update_spectral_radius" in used:
            lines += [
                f"Measured spectral radius of the run's own update operator: "
                f"{_fmt(used['update_spectral_radius'], '.4f')} ({used.get('update_method')}).",
                "",
            ]
    lines += ["## Reading the numbers", "", *_reading(summary), ""]
    lines += [
        "Every number here comes from `probe_<run>.json` (eigenvalues with their residuals). "
        "The theorems (Lemma 11, Theorems 2-4) are local results at a stable stationary point "
        "(every Re λ > 0); where the probe finds eigenvalues with Re λ ≤ 0 it says so rather than "
        "apply them, and any recommendation computed from the attracting directions only is "
        "labelled indicative.",
        "",
    ]
    return "\n".join(lines)


def _reading(summary) -> list[str]:
    """A few sentences comparing the two runs, from the numbers (no claims beyond them)."""
    neg, pos = summary["negative"]["rows"][-1], summary["positive"]["rows"][-1]
    out = []
    if neg["modes"] is not None and pos["modes"] is not None:
        better = (
            "negative"
            if neg["modes"] > pos["modes"]
            else ("positive" if pos["modes"] > neg["modes"] else None)
        )
        out.append(
            f"- At the last checkpoint the negative-momentum run covers {neg['modes']} modes and "
            f"the positive one {pos['modes']}"
            + (f": the {better}-momentum run covers more." if better else ": a tie.")
        )
    if np.isfinite(neg["rho"]) and np.isfinite(pos["rho"]):
        smaller = "negative" if neg["rho"] < pos["rho"] else "positive"
        out.append(
            f"- The local spectral radius of the update operator is {neg['rho']:.4f} (negative) "
            f"vs {pos['rho']:.4f} (positive): the {smaller}-momentum run's dynamics are the more "
            "contracting at its own last point"
            + (
                " (both > 1: neither point is locally attracting)."
                if min(neg["rho"], pos["rho"]) > 1
                else "."
            )
        )
    med = {
        label: float(np.nanmedian([r["rho"] for r in summary[label]["rows"]]))
        for label in ("negative", "positive")
    }
    best = {
        label: max((r["modes"] or 0) for r in summary[label]["rows"])
        for label in ("negative", "positive")
    }
    out.append(
        f"- Over all checkpoints, the median of ρ(∇F) is {med['negative']:.4f} (negative) vs "
        f"{med['positive']:.4f} (positive), and the most modes covered at a checkpoint "
        f"{best['negative']} vs {best['positive']}."
    )
    out.append(
        f"- Rotation (max |Im λ| of ∇v): {neg['max_imag']:.3g} (negative) vs "
        f"{pos['max_imag']:.3g} (positive); eigenvalues with Re λ ≤ 0: {neg['n_negative']} vs "
        f"{pos['n_negative']}."
    )
    out.extend(_verdict(summary))
    return out


def _verdict(summary) -> list[str]:
    """What the numbers do and do not support: both sample-quality metrics, convergence, seeds."""
    rows = {label: summary[label]["rows"] for label in ("negative", "positive")}
    quality = {
        label: [r["high_quality"] for r in rs if r["high_quality"] is not None]
        for label, rs in rows.items()
    }
    out = []
    if all(quality.values()):
        last = {label: q[-1] for label, q in quality.items()}
        best = {label: max(q) for label, q in quality.items()}
        out.append(
            f"- High-quality samples (within 3σ of a mode): {last['negative']:.3g} (negative) vs "
            f"{last['positive']:.3g} (positive) at the last checkpoint, at best "
            f"{best['negative']:.3g} vs {best['positive']:.3g} over the checkpoints."
        )
        modes = {label: rs[-1]["modes"] for label, rs in rows.items()}
        if None not in modes.values():
            by_modes = np.sign(modes["negative"] - modes["positive"])
            by_quality = np.sign(last["negative"] - last["positive"])
            if by_modes * by_quality < 0:
                out.append(
                    "- The two sample metrics disagree at the last checkpoint (modes covered "
                    "favour one run, the fraction of high-quality samples the other): neither "
                    "run is clearly better here."
                )
    rhos = [r["rho"] for rs in rows.values() for r in rs if np.isfinite(r["rho"])]
    if rhos and min(rhos) >= 1:
        out.append(
            f"- ρ(∇F) ≥ 1 at every checkpoint of both runs (smallest {min(rhos):.4f}): neither "
            "run reached a locally attracting point, so the theorems' local rates describe no "
            "convergence here, only which directions grow."
        )
    out.append(
        "- One seed per setting: differences of a mode or a few percent of samples are within "
        "seed-to-seed variation. Gidel et al.'s claim (negative discriminator momentum helps) is "
        "about averages over runs; `spectra grid` trains the (β, η) grid over several seeds."
    )
    return out
