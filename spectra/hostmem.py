"""How the C heap (glibc malloc) treats the memory of repeated XLA executions.

Two measured effects on a 1.7M-parameter conv GAN's Jacobian-vector products (XLA's CPU backend):

* **Compiler garbage.** Compiling a large JAX program allocates a few hundred megabytes of small
  objects that are freed afterwards but stay in the heap, counted in the process's resident
  memory. An eigensolver that then allocates its basis would stack it on top of that freed memory.
  :func:`release` asks glibc to give the free heap back (``malloc_trim(0)``): resident memory
  596 MB → 445 MB after the first product.
* **Page faults on every execution.** By default glibc serves requests above its (dynamic, at most
  32 MB) mmap threshold with a fresh ``mmap`` and unmaps them on ``free``, and trims a free heap
  top above its trim threshold. A product's temporary buffers are then faulted in and zeroed by
  the kernel on every execution: products ran 0.81 s per 200 images, and 0.98 s once
  :func:`release` had removed the free chunks they were being served from.
  :func:`keep_freed_memory` makes glibc serve every request from the heap and keep freed memory
  for reuse: 0.67–0.72 s, before and after :func:`release`. Its cost is memory: the heap keeps
  what it once held and fragments, growing from about 640 to 900 MB over a 32-product probe of
  1,000 images (120–170 MB more at the peak than without it).

Measured again on the same GAN (1,000 images, minibatches of 20, one process each): products
3.5–3.7 s with :func:`keep_freed_memory` against 4.8–5.0 s without. Handing the heap back after
every product instead (a :func:`release` per product) held a k = 20 probe to 1,007–1,011 MB
against 1,073–1,085 MB, but made its products 15% slower (4.2 against 3.6 s over 53 products,
two runs each), so it is not done.

Both are process-wide settings of the C library, made only by the probe's product operators
(``SPECTRA_KEEP_FREED_MEMORY=0`` turns :func:`keep_freed_memory` off), and no-ops where glibc is
not the C library (macOS, Windows, musl).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os

__all__ = ["release", "keep_freed_memory"]

_M_TRIM_THRESHOLD = -1  # glibc <malloc.h>
_M_MMAP_MAX = -4


@functools.cache
def _libc():
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
        libc.malloc_trim, libc.mallopt  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        return None
    return libc


def release() -> bool:
    """Give freed heap memory back to the OS; whether it could be asked (glibc only)."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


@functools.cache
def keep_freed_memory() -> bool:
    """Serve every allocation from the heap and keep freed memory for reuse (once per process);
    whether it was set. Memory is still handed back by :func:`release`."""
    libc = _libc()
    if libc is None or os.environ.get("SPECTRA_KEEP_FREED_MEMORY", "1") == "0":
        return False
    ok = libc.mallopt(_M_MMAP_MAX, 0) == 1
    return bool(libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30) == 1 and ok)
