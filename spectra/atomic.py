"""Crash-safe file writes: a reader (or a run resumed after SIGKILL) sees the old file or the new one.

The payload goes to a temporary file in the same folder, is flushed and fsynced, given the usual
permissions (``mkstemp`` creates 0600), and renamed over the target with ``os.replace``, which is
atomic on POSIX. On any error the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "output_folder"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: str | os.PathLike, write: Callable[[io.BufferedWriter], None]) -> None:
    """Write ``path`` by calling ``write(handle)`` on a temporary file, then renaming it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, payload: bytes) -> None:
    """Write ``payload`` to ``path`` atomically."""
    atomic_write(path, lambda handle: handle.write(payload))


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write_bytes(path, text.encode())


def output_folder(
    path: str | os.PathLike,
    *,
    name: str = "out",
    holds: Callable[[Path], bool] | None = None,
    what: str = "",
) -> Path:
    """``path`` created as a folder to write into, checked before any work is done.

    Refused with a ``ValueError`` naming ``name``: an existing file; a folder that cannot be
    created; and, when ``holds`` is given, a non-empty folder for which ``holds(folder)`` is false
    (it holds something other than ``what``, which must not be mixed in or overwritten).
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{name}: {folder} exists and is not a folder")
    if holds is not None and folder.is_dir() and any(folder.iterdir()) and not holds(folder):
        raise ValueError(f"{name}: {folder} is not empty and does not hold {what}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"{name}: cannot create the folder {folder} ({err.strerror})") from None
    return folder
