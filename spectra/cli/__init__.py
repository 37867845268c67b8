"""The ``spectra`` command line: one subcommand per module of this package.

Each module ``spectra/cli/<name>.py`` exposes ``register(subparsers)``, which adds its parser and
sets ``func`` to a ``run(args) -> int`` that parses, calls one library function, and prints or
writes. Heavy imports happen inside ``run`` so that ``spectra --help`` stays fast.

Errors a user can cause (``ValueError``, a missing file, a :class:`CLIError`) end in one line on
stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = ("bounds", "figures", "train", "grid", "probe", "demo")


class CLIError(Exception):
    """An error to report to the user in one line, with a non-zero exit."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spectra",
        description="Spectral analysis of update rules in games (GAN training dynamics).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"spectra.cli.{name}")
        except ModuleNotFoundError as err:
            if err.name == f"spectra.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.func(args)
    except (CLIError, ValueError, FileNotFoundError, FileExistsError, PermissionError) as err:
        print(f"spectra {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spectra {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
