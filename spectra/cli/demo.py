"""``spectra demo``: the built-in demonstration (negative vs positive discriminator momentum).

Trains a 2-D mixture GAN twice — negative and positive heavy-ball momentum on the discriminator —
probes both runs at every checkpoint, and writes a Markdown report with eigenvalue-trajectory
figures and the theory's recommendations to OUT (default demo_out/, or demo_out_quick/ with
--quick). A few minutes on 2 cores; --quick is a seconds-long version. Re-running reuses the
finished training runs in OUT/runs.
"""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="train two GANs (β_D < 0 and > 0), probe their spectra, write a report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--out", default=None, metavar="DIR", help="output folder (demo_out, demo_out_quick)"
    )
    parser.add_argument("--quick", action="store_true", help="tiny version (seconds)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.set_defaults(func=run)


def run(args) -> int:
    from spectra.demo import run_demo

    out = args.out or ("demo_out_quick" if args.quick else "demo_out")
    result = run_demo(out, quick=args.quick, progress=not args.quiet)
    print(f"report: {result.report}")
    for path in result.figures:
        print(f"figure: {path}")
    return 0
