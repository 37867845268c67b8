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
import os
import sys

COMMANDS = ("bounds", "figures", "train", "grid", "probe", "demo", "density")


class CLIError(Exception):
    """An error to report to the user in one line, with a non-zero exit."""


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line (the usage block is one ``--help`` away)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
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


# options whose value may start with "-" without being a plain number (argparse would take
# "--eigs -1+2j" for two options): given as "--eigs=-1+2j" before parsing
_SIGNED_VALUES = ("--eigs",)


def _glue_signed_values(argv: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(argv):
        value = argv[i + 1] if i + 1 < len(argv) else ""
        if argv[i] in _SIGNED_VALUES and value[:1] == "-" and value[1:2] in "0123456789.":
            out.append(f"{argv[i]}={value}")
            i += 2
            continue
        out.append(argv[i])
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_glue_signed_values(sys.argv[1:] if argv is None else list(argv)))
    try:
        status = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`spectra bounds ... | head -1`)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except (CLIError, ValueError, FileNotFoundError, FileExistsError, PermissionError) as err:
        print(f"spectra {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"spectra {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
