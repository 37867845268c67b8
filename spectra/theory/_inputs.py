"""Input checks shared by the closed forms: concrete inputs are validated, traced ones are not."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

Array = jax.Array


# -- input handling -----------------------------------------------------------------------


def _traced(*xs) -> bool:
    return any(isinstance(x, jax.core.Tracer) for x in xs)


def _complex(x) -> Array:
    x = jnp.asarray(x)
    return x if jnp.iscomplexobj(x) else x.astype(jnp.result_type(x.dtype, jnp.complex64))


def _check_finite(x, name: str, *, real: bool = False) -> None:
    """Concrete ``x`` holds finite numbers (real ones if ``real``: η and β of the theorems are
    real; a complex one would silently give the wrong roots)."""
    if _traced(x):
        if real and jnp.iscomplexobj(x):  # the dtype is static: checkable under jit too
            raise ValueError(f"{name}: expected real values, got dtype {x.dtype}")
        return
    array = host_numbers(x, name)
    if real and array.dtype.kind == "c":
        raise ValueError(f"{name}: expected real values, got dtype {array.dtype}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name}: expected finite values")


def host_numbers(x, name: str, kinds: str = "biufc") -> np.ndarray:
    """``x`` on the host as numbers of the NumPy dtype ``kinds`` (default any; ``"iuf"``: real),
    or a ``ValueError`` naming ``name``."""
    what = "real numbers" if "c" not in kinds else "numbers"
    try:
        array = np.asarray(x)
    except (TypeError, ValueError):  # ragged nested sequences
        raise ValueError(f"{name}: expected {what}, got {type(x).__name__}") from None
    if array.dtype.kind not in kinds:
        raise ValueError(f"{name}: expected {what}, got {array.dtype}")
    return array


def _check_eta(eta) -> None:
    _check_finite(eta, "eta", real=True)
    if not _traced(eta) and not np.all(np.asarray(eta) > 0):
        raise ValueError("eta: expected a step size > 0")


def _check_beta(beta) -> None:
    _check_finite(beta, "beta", real=True)


def _check_broadcast(**arrays) -> None:
    try:
        np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError:
        shapes = ", ".join(f"{k} {np.shape(a)}" for k, a in arrays.items())
        raise ValueError(f"{', '.join(arrays)}: shapes do not broadcast ({shapes})") from None


def _check_stable_half_plane(lam, name: str, source: str) -> None:
    if not _traced(lam) and not np.all(np.real(np.asarray(lam)) > 0):
        raise ValueError(f"{name}: {source} assumes Re λ > 0 for every eigenvalue")


def _spectrum(eigenvalues, source: str | None) -> Array:
    """A validated 1-D complex spectrum: non-empty, finite and, if ``source`` names the result
    that assumes it, with ``Re λ > 0`` (checked when concrete)."""
    if not _traced(eigenvalues):
        host_numbers(eigenvalues, "eigenvalues")
    lam = _complex(eigenvalues)
    if lam.ndim == 0:
        lam = lam[None]
    if lam.ndim != 1:
        raise ValueError(f"eigenvalues: expected a 1-D sequence, got shape {lam.shape}")
    if lam.shape[0] == 0:
        raise ValueError("eigenvalues: expected a non-empty spectrum")
    _check_finite(lam, "eigenvalues")
    if source is not None:
        _check_stable_half_plane(lam, "eigenvalues", source)
    return lam


def _canonical(lam: Array) -> Array:
    """``Re λ + i|Im λ|``: one representative per conjugate pair (rates are conjugation-blind)."""
    return lam.real + 1j * jnp.abs(lam.imag)


def merge_conjugates(eigenvalues) -> Array:
    """One representative ``Re λ + i|Im λ|`` per conjugate pair, exact duplicates removed.

    Every rate here is the same for λ and its conjugate (real η, β), so a real ∇v's spectrum
    needs only half the work. Duplicates are removed only for concrete input (under tracing the
    shape must stay fixed, so only the representatives are taken). Order: sorted.
    """
    lam = _spectrum(eigenvalues, None)
    if _traced(lam):
        return _canonical(lam)
    host = np.asarray(lam)  # on the host: nothing here is compiled for each new length
    re, im = host.real + 0.0, np.abs(host.imag)  # + 0.0: −0 → +0, as in _canonical
    pairs = np.unique(np.stack([re, im], axis=1), axis=0)
    return jax.device_put((pairs[:, 0] + 1j * pairs[:, 1]).astype(lam.dtype))


def _bucket(n: int) -> int:
    """The padded length for ``n`` eigenvalues: the next power of two, and at least 8.

    One eigenvalue stays alone: XLA inlines a loop of one trip (``_radius_squared``), which
    changes the rounding of the optimal momentum in the last bits, so padding would too.
    """
    return 1 if n == 1 else max(8, 1 << (n - 1).bit_length())


def _pad_spectrum(lam) -> tuple[Array, int]:
    """A concrete 1-D spectrum padded to :func:`_bucket` length, and its original length.

    Jitted code is compiled once per input shape; padding makes spectra of nearby sizes share
    one compilation. The padding repeats the last eigenvalue: every result here is a max, min or
    ``all`` over eigenvalues, which a duplicate leaves unchanged (a function that selects a few
    eigenvalues must also be told the original length, see ``_optimal_step_size``). Padding is
    done on the host so that it compiles nothing itself.
    """
    host = np.asarray(lam)
    n = host.shape[0]
    padded = np.concatenate([host, np.repeat(host[-1:], _bucket(n) - n)])
    return jax.device_put(padded), n


def _nan_unless(ok, x):
    return jnp.where(ok, x, jnp.nan)


# -- gradient descent: |1 − ηλ| -----------------------------------------------------------
