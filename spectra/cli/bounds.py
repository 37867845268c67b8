"""``spectra bounds``: the seeds' step-size and momentum bounds for a spectrum of ∇v.

Parses eigenvalues (``--eigs``, ``--file`` or ``--game``), calls
:func:`spectra.bounds.bounds_report`, and prints it as a table or, with ``--json``, as JSON.
"""

from __future__ import annotations

import argparse
import json
import re
import textwrap
from pathlib import Path

import numpy as np

from spectra.cli import CLIError

EPILOG = """\
examples:
  spectra bounds --eigs "1+2j, 0.5+3j"
  spectra bounds --game dirac_gan_r1 --json
  spectra bounds --file eigenvalues.csv      # numbers like 1+2j, or columns "re,im"
"""

_SEPARATORS = re.compile(r"[,;\s]+")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "bounds",
        help="step-size and momentum bounds (Lemma 11, Theorems 2-4) for a spectrum of ∇v",
        description=textwrap.dedent("""\
            For the eigenvalues of ∇v at a stationary point, print: the largest stable step
            (Lemma 11), the best step size with its bounds and rate (Theorem 2), the interval
            I(λ) of each eigenvalue and their intersection (Theorem 4), and the optimal
            heavy-ball (η, β) against the best gradient descent (Theorem 3).
            All of these assume Re λ > 0 for every eigenvalue."""),
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--eigs",
        metavar="LIST",
        help='eigenvalues, e.g. "1+2j, 0.5+3j" (separated by commas, semicolons or spaces)',
    )
    source.add_argument(
        "--file",
        metavar="PATH",
        help="a .npy array, or a text/CSV file of numbers like 1+2j, or with a header "
        "re,im and two columns",
    )
    source.add_argument(
        "--game",
        metavar="NAME",
        help="a built-in game (spectra.zoo.by_name): the eigenvalues of ∇v at its equilibrium",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.set_defaults(func=run)


def _number(token: str) -> complex:
    text = re.sub(r"i$", "j", token.strip())  # 2i for 2j
    try:
        return complex(text)
    except ValueError:
        raise CLIError(
            f"malformed number {token.strip()!r} (expected e.g. 1.5, -2j, 1+2j)"
        ) from None


def parse_eigenvalues(text: str) -> np.ndarray:
    """``"1+2j, 0.5+3j"`` -> a complex array; ``i`` is accepted for ``j``."""
    tokens = [t for t in _SEPARATORS.split(text.strip()) if t]
    if not tokens:
        raise CLIError("no eigenvalues given")
    return np.array([_number(t) for t in tokens], dtype=complex)


def _two_real_columns(lines: list[str]) -> bool:
    """Every line is two real numbers separated by a comma: re, im columns without a header?"""
    rows = [[t.strip() for t in ln.split(",")] for ln in lines]
    if len(rows) < 2 or any(len(r) != 2 for r in rows):
        return False
    try:
        [float(t) for r in rows for t in r]
    except ValueError:
        return False
    return True


def load_eigenvalues(path: str) -> np.ndarray:
    """Eigenvalues from a ``.npy`` file (complex 1-D, or real ``(n, 2)`` as re, im columns) or a
    text/CSV file (numbers like ``1+2j``; or a header ``re,im`` then two columns; ``#`` comments)."""
    file = Path(path)
    if not file.exists():
        raise CLIError(f"no such file: {path}")
    if not file.is_file():
        raise CLIError(f"{path} is not a file")
    if file.suffix == ".npy":
        try:
            array = np.load(file, allow_pickle=False)
        except ValueError as err:
            raise CLIError(f"{path}: not a readable .npy array ({err})") from None
        if array.dtype.kind not in "iufc":
            raise CLIError(f"{path}: expected a numeric array, got dtype {array.dtype}")
        if array.ndim == 2 and array.shape[1] == 2 and not np.iscomplexobj(array):
            return array[:, 0] + 1j * array[:, 1]
        if array.ndim > 1:
            raise CLIError(f"{path}: expected a 1-D array or (n, 2) columns re, im")
        return array.astype(complex)
    try:
        lines = file.read_text().splitlines()
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text file (use .npy for binary arrays)") from None
    lines = [ln.split("#", 1)[0].strip() for ln in lines]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise CLIError(f"{path}: no eigenvalues found")
    header = [h.strip().lower() for h in lines[0].split(",")]
    if header == ["re", "im"]:
        rows = [parse_eigenvalues(ln).real for ln in lines[1:]]
        if not rows or any(r.size != 2 for r in rows):
            raise CLIError(f"{path}: expected two columns re, im on every line after the header")
        return np.array([r[0] + 1j * r[1] for r in rows])
    if _two_real_columns(lines):
        raise CLIError(
            f"{path}: every line holds two numbers: for columns of real and imaginary parts "
            "start the file with the header line re,im; for real eigenvalues put one per line"
        )
    return parse_eigenvalues(" ".join(lines))


def _eigenvalues(args) -> tuple[np.ndarray, str]:
    if args.eigs is not None:
        try:
            return parse_eigenvalues(args.eigs), "--eigs"
        except CLIError as err:
            raise CLIError(f"--eigs: {err}") from None
    if args.file is not None:
        try:
            return load_eigenvalues(args.file), args.file
        except CLIError as err:
            text = str(err)
            raise CLIError(text if args.file in text else f"--file {args.file}: {text}") from None
    if args.game is not None:
        from spectra import zoo
        from spectra.bounds import game_eigenvalues

        return game_eigenvalues(zoo.by_name(args.game)), f"game {args.game!r}"
    raise CLIError("give the eigenvalues with --eigs, --file or --game (see --help)")


def _c(z: list[float]) -> str:
    re_, im = z
    return f"{re_:.4g}{im:+.4g}j" if im else f"{re_:.4g}"


def _rate(rho: float) -> str:
    """A rate, with ``1 − ρ`` when six digits would round it to 1 (nearly imaginary spectra)."""
    if 0.9999995 <= rho < 1:
        return f"{rho:.6g} (1 − ρ = {1 - rho:.3g})"
    return f"{rho:.6g}" if rho >= 1e-12 else "0 (one step)"


def format_report(report: dict, source: str = "") -> str:
    """The report of :func:`spectra.bounds.bounds_report` as an aligned, readable table."""
    eigs = report["eigenvalues"]
    step, mi, mom = report["step_size"], report["momentum_intervals"], report["momentum"]
    lines = [f"eigenvalues of ∇v ({len(eigs)}{', ' + source if source else ''}):"]
    lines.append("  " + ", ".join(_c(z) for z in eigs))
    lines.append("")

    def row(label: str, value: str) -> None:
        lines.append(f"  {label:<34} {value}")

    lines.append("Lemma 11 (gradient descent is locally stable iff)")
    row("η <", f"{report['max_stable_step']:.6g}")
    lines.append("Theorem 2 (best step size of gradient descent)")
    lo, hi = step["eta_bounds"]
    row("η_best", f"{step['eta_best']:.6g}   (bounds [{lo:.6g}, {hi:.6g}])")
    r2lo, r2hi = step["rho_squared_bounds"]
    row(
        "rate ρ(η_best)",
        f"{_rate(step['rho'])}   (ρ² = {step['rho'] ** 2:.6g} in [{r2lo:.6g}, {r2hi:.6g}])",
    )
    limiting = ", ".join(_c(eigs[i]) for i in step["limiting"])
    row("limiting eigenvalues", f"{limiting}   ({step['case']})")
    lines.append("Theorem 4 (η in I(λ): a small β < 0 lowers λ's rate)")
    for z, (a, b) in zip(eigs, mi["intervals"], strict=True):
        row(f"I({_c(z)})", f"({a:.6g}, {b:.6g})" if a < b else "empty")
    cap = mi["intersection"]
    inside = "contains" if mi["eta_best_inside"] else "does not contain"
    row("intersection", f"({cap[0]:.6g}, {cap[1]:.6g}), {inside} η_best" if cap else "empty")
    lines.append("Optimal heavy-ball momentum (Theorem 3, optimised numerically)")
    row("η, β", f"{mom['eta']:.6g}, {mom['beta']:.6g}")
    row("rate ρ", _rate(mom["rho"]))
    row("gradient descent (β = 0)", f"η = {mom['gd_eta']:.6g}, ρ = {_rate(mom['gd_rho'])}")
    if mom["speedup"] is not None:
        row("iterations saved", f"{mom['speedup']:.3g}x fewer than gradient descent")
    return "\n".join(lines)


def run(args) -> int:
    import jax

    from spectra.bounds import bounds_report

    with jax.enable_x64(True):  # a built-in game is built in float64
        lam, source = _eigenvalues(args)
    try:
        report = bounds_report(lam)
    except ValueError as err:
        raise CLIError(f"{source}: {str(err).removeprefix('eigenvalues: ')}") from None
    print(json.dumps(report, indent=2) if args.json else format_report(report, source))
    return 0
