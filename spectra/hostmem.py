"""Return the host memory freed by XLA's compiler to the operating system.

Compiling a large JAX program (a convolutional GAN's Jacobian-vector product) allocates a few
hundred megabytes of small objects that are freed afterwards but stay in the C heap, counted in the
process's resident memory. An eigensolver that then allocates its basis would stack it on top of
that freed memory. :func:`release` asks glibc to give the free heap back (``malloc_trim(0)``):
measured on a 1.7M-parameter conv GAN, resident memory 596 MB → 445 MB after the first product.
A no-op where glibc is not the C library (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

__all__ = ["release"]


@functools.cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def release() -> bool:
    """Give freed heap memory back to the OS; whether it could be asked (glibc only)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
