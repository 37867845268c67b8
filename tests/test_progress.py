"""Progress bars redraw often on a terminal and rarely into a log file."""

import io

from spectra.progress import redraw_interval


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_redraw_interval_depends_on_the_stream():
    assert redraw_interval(_Terminal()) == 0.1
    assert redraw_interval(io.StringIO()) == 10.0  # a file: a line per redraw, so few of them
    assert redraw_interval(object()) == 10.0  # no isatty at all
