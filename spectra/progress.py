"""How often progress bars redraw: often on a terminal, rarely into a log file.

A tqdm bar redrawn into a file (CI logs, ``2> log``) leaves a line per redraw; every progress
bar of ``spectra`` (training, grids, probes) takes its interval from :func:`redraw_interval`.
"""

from __future__ import annotations

import sys

__all__ = ["redraw_interval"]


def redraw_interval(stream=None) -> float:
    """Seconds between redraws: 0.1 on a terminal, 10 otherwise (``stream``: default stderr)."""
    stream = sys.stderr if stream is None else stream
    tty = getattr(stream, "isatty", lambda: False)()
    return 0.1 if tty else 10.0
