"""Running a ``spectra`` subcommand in-process from a test: its status, stdout and stderr."""

from spectra.cli import main


def run_cli(command: str, argv, capsys) -> tuple[int, str, str]:
    """``spectra COMMAND ARGV --quiet`` (arguments turned into strings), captured by ``capsys``."""
    status = main([command, *map(str, argv), "--quiet"])
    captured = capsys.readouterr()
    return status, captured.out, captured.err
