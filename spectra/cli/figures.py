"""``spectra figures``: regenerate the seeds' figures (PNG, with the numbers beside as .npz/.csv).

Parses the names and the output directory, and calls :func:`spectra.figures.write_figure` for
each, with a progress bar on stderr.
"""

from __future__ import annotations

from spectra.atomic import output_folder
from spectra.cli import CLIError

# The names, as in spectra.figures.FIGURES (kept here so that --help does not import JAX).
NAMES = (
    "step_size",
    "bilinear",
    "momentum_eigenvalues",
    "rate_map",
    "stability",
    "fields",
    "dirac_gan",
    "rates",
)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "figures",
        help="regenerate the figures of the seeds (PNG + .npz/.csv data)",
        description=(
            "Regenerate the named figures (all by default) as OUT/<name>.png, with the arrays "
            "behind each in OUT/<name>.npz (and OUT/<name>.csv for tables). Figures: "
            + ", ".join(NAMES)
            + "."
        ),
        epilog="example: spectra figures --out /tmp/figs bilinear rates",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="figures to make (default: all)")
    parser.add_argument("--out", default="figures", metavar="DIR", help="output directory")
    parser.add_argument("--dpi", type=int, default=110, help="resolution of the PNGs (110)")
    parser.add_argument("--list", action="store_true", help="list the figures and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args) -> int:
    unknown = [n for n in args.names if n not in NAMES]
    if unknown:
        raise CLIError(f"unknown figure {unknown[0]!r}; expected one of {', '.join(NAMES)}")
    if args.dpi <= 0:
        raise CLIError(f"--dpi: expected a positive integer, got {args.dpi}")
    if not args.list:  # a bad --out fails here, in one line, before any figure is computed
        output_folder(args.out, name="--out")
    from tqdm import tqdm

    from spectra import figures

    if args.list:
        for name in figures.figure_names():
            print(f"{name:<22} {figures.FIGURES[name].caption}")
        return 0
    names = list(dict.fromkeys(args.names)) or list(figures.figure_names())
    bar = tqdm(names, desc="figures", unit="fig", disable=args.quiet)
    for name in bar:
        bar.set_postfix_str(name)
        paths = figures.write_figure(name, args.out, dpi=args.dpi)
        if not args.quiet:
            bar.write("  ".join(str(p) for p in paths))
    return 0
