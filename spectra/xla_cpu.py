"""Which kernels XLA's CPU backend runs convolutions with, set before JAX starts its backend.

XLA 0.10's CPU backend hands every convolution to YNNPACK by default (a ``__ynn_fusion``). On
this project's 2-core AMD EPYC (AVX-512) those kernels ran at half of PyTorch's oneDNN speed, while
XLA's own (Eigen) convolution kernels nearly match it. Measured side by side, minibatch 20,
float32, 3×3 ``SAME`` layers of the benchmark's 1.73M-parameter conv GAN
(``python -m benchmarks --only conv_layers``, best of 9, ratio = PyTorch's time over XLA's):

=========================  ===============  ===================
kernel                     YNNPACK (XLA's   Eigen (with
                           default)         :data:`FLAG`, 2 runs)
=========================  ===============  ===================
G 256→64 14×14, forward    0.44×            0.85–0.92×
G 256→64, weight gradient  0.30×            0.68–0.74×
G 64→32 28×28, forward     0.55×            0.74–0.76×
G 64→32, weight gradient   0.26×            0.42–0.56×
one GAN gradient (20 img)  0.65×            0.84–0.86×
=========================  ===============  ===================

so :func:`configure` adds :data:`FLAG` to ``XLA_FLAGS``: it takes convolutions out of YNNPACK and
leaves every other default alone (matrix products stay YNNPACK's, so MLP games are unchanged).
Results change only in the last bits of float32 (relative 2e-7 on a product).

XLA reads ``XLA_FLAGS`` once, when JAX first creates its CPU backend, so the setting is made when
:mod:`spectra` is imported and only takes effect if no JAX computation has run before that. It is
skipped when

* ``SPECTRA_XLA_CPU_DEFAULTS=0`` (keep XLA's defaults);
* ``XLA_FLAGS`` already sets ``xla_cpu_experimental_ynn_fusion_type`` (the user's choice wins);
* the installed ``jaxlib`` is not one of :data:`TESTED_JAXLIB` (XLA aborts the whole process on a
  fusion type it does not know, so an untested version keeps its defaults);
* JAX's backends already exist (the flag could no longer take effect).

:func:`convolutions_use_ynnpack` tells which kernels this process really uses.
"""

from __future__ import annotations

import importlib.metadata
import os
import sys

__all__ = ["FLAG", "TESTED_JAXLIB", "OPT_OUT", "configure", "convolutions_use_ynnpack"]

FLAG = "--xla_cpu_experimental_ynn_fusion_type=-individual_convolution"
"""Removes convolutions from XLA's default list of YNNPACK fusions (and nothing else)."""

TESTED_JAXLIB = ("0.10.",)
"""Version prefixes of ``jaxlib`` whose XLA accepts :data:`FLAG`."""

OPT_OUT = "SPECTRA_XLA_CPU_DEFAULTS"
"""Set to ``0`` to leave ``XLA_FLAGS`` untouched."""

_FLAG_NAME = "xla_cpu_experimental_ynn_fusion_type"


def _jaxlib_version() -> str | None:
    try:
        return importlib.metadata.version("jaxlib")
    except importlib.metadata.PackageNotFoundError:
        return None


def _backends_started() -> bool:
    """Whether JAX has created its backends in this process (then ``XLA_FLAGS`` was read)."""
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge  # private: no public query exists

        return bool(getattr(xla_bridge, "_backends", {}))
    except Exception:  # noqa: BLE001 - an unknown JAX layout: assume started, change nothing
        return True


def configure(environ=None, *, jaxlib_version: str | None = "installed") -> bool:
    """Add :data:`FLAG` to ``environ["XLA_FLAGS"]`` (default ``os.environ``) unless one of the
    module docstring's exceptions applies; whether it was added.

    ``jaxlib_version`` (default: the installed one) is for tests.
    """
    env = os.environ if environ is None else environ
    if env.get(OPT_OUT, "1") == "0":
        return False
    flags = env.get("XLA_FLAGS", "")
    if _FLAG_NAME in flags:
        return False
    version = _jaxlib_version() if jaxlib_version == "installed" else jaxlib_version
    if version is None or not version.startswith(TESTED_JAXLIB):
        return False
    if environ is None and _backends_started():
        return False
    env["XLA_FLAGS"] = f"{flags} {FLAG}".strip()
    return True


def convolutions_use_ynnpack() -> bool:
    """Whether this process's XLA compiles a convolution into a YNNPACK fusion (CPU backend).

    Compiles one small convolution (tens of milliseconds; XLA keeps convolutions with fewer
    than about 32 channels out of YNNPACK anyway).
    """
    import jax
    import jax.numpy as jnp

    cpu = jax.devices("cpu")[0]
    x = jax.device_put(jnp.zeros((1, 8, 8, 64), jnp.float32), cpu)
    k = jax.device_put(jnp.zeros((3, 3, 64, 64), jnp.float32), cpu)
    conv = jax.jit(
        lambda x, k: jax.lax.conv_general_dilated(
            x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
        )
    )
    return "__ynn_fusion" in conv.lower(x, k).compile().as_text()
