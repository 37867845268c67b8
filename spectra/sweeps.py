"""Maps of the local rate over (η, β) grids: from the closed form, or from the real operator.

- :func:`rate_map`: ``ρ(η, β) = max_k max(|μ₊(λ_k)|, |μ₋(λ_k)|)`` from paper Theorem 3
  (:func:`spectra.theory.momentum_spectral_radius`), for any number of eigenvalues.
- :func:`operator_rate_map`: the spectral radius of the dense autodiff Jacobian of an actual update
  operator at its fixed point (paper Theorem 1), for small games: the check of the closed form,
  and the route to Table 1 for methods without a closed form (alternating updates).

This is a driver: the grid is processed in chunks of rows (β values), each chunk by one jitted,
vmapped function (:func:`rate_map_chunk`, :func:`operator_rate_chunk`) whose parameters are
arguments, so it compiles once per chunk shape. Chunks bound memory and are the unit a caller
can distribute (e.g. shard the rows of a chunk over devices with ``jax.sharding``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator

import jax
import jax.numpy as jnp
import numpy as np

from spectra import operators, sharding, theory
from spectra.games import Game
from spectra.theory._inputs import host_numbers

Array = jax.Array

__all__ = [
    "rate_map",
    "rate_map_chunk",
    "operator_rate_map",
    "operator_rate_chunk",
    "chunks",
    "grid_argmin",
    "optimal_step_sizes",
]

#: Default bound on ``rows × len(etas) × len(eigenvalues)`` evaluated at once.
DEFAULT_BUDGET = 1 << 22


def _axis(x, name: str) -> Array:
    host_numbers(x, name, "iuf")  # η and β are real: a complex grid has no meaning
    x = jnp.asarray(x)
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"{name}: expected a non-empty 1-D array, got shape {x.shape}")
    if not bool(jnp.all(jnp.isfinite(x))):
        raise ValueError(f"{name}: expected finite values")
    return x


def _eigenvalues(x) -> Array:
    host_numbers(x, "eigenvalues", "iufc")
    lam = jnp.atleast_1d(jnp.asarray(x))
    if lam.ndim != 1 or lam.shape[0] == 0:
        raise ValueError(f"eigenvalues: expected a non-empty 1-D array, got shape {lam.shape}")
    if not bool(jnp.all(jnp.isfinite(lam))):
        raise ValueError("eigenvalues: expected finite values")
    return lam


def _check_grid(etas, betas) -> tuple[Array, Array]:
    etas, betas = _axis(etas, "etas"), _axis(betas, "betas")
    if not bool(jnp.all(etas > 0)):
        raise ValueError("etas: expected step sizes > 0")
    return etas, betas


def _check_chunk_rows(chunk_rows) -> None:
    if chunk_rows is None:
        return
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int | np.integer):
        raise ValueError(f"chunk_rows: expected an integer >= 1 or None, got {chunk_rows!r}")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows: expected an integer >= 1 or None, got {chunk_rows}")


def chunks(n_rows: int, chunk_rows: int) -> Iterator[slice]:
    """The row slices ``[0, c), [c, 2c), …`` that cover ``n_rows`` rows."""
    for start in range(0, n_rows, chunk_rows):
        yield slice(start, min(start + chunk_rows, n_rows))


def _use_devices(sharded: bool | None) -> int:
    """How many devices to split each chunk over: all of them unless ``sharded=False``."""
    if sharded is False:
        return 1
    return jax.device_count()


def _run_chunks(
    chunk_fn, args: tuple, betas, chunk_rows: int, progress: bool, devices: int = 1
) -> Array:
    """Apply the jitted ``chunk_fn(*args, betas_chunk) -> (rows, len(etas))`` over the rows; pad
    the last chunk to the common shape so that only one shape is ever compiled. ``args`` are
    passed as arguments (never closed over), so a new spectrum or grid does not recompile.

    With ``devices > 1`` each chunk's rows are split across a 1-D device mesh
    (:func:`spectra.sharding.map_sharded` places them; the jitted chunk follows the data), and the
    chunk size is rounded up to a multiple of the device count.
    """
    n = betas.shape[0]
    chunk_rows = max(1, min(int(chunk_rows), n))
    if devices > 1:
        chunk_rows = -(-chunk_rows // devices) * devices
    slices = list(chunks(n, chunk_rows))
    if progress:
        from tqdm.auto import tqdm

        slices = tqdm(slices, desc="rate map", unit="chunk")
    out = []
    for sl in slices:
        rows = betas[sl]
        pad = chunk_rows - rows.shape[0]
        if pad:
            rows = jnp.concatenate([rows, jnp.broadcast_to(rows[-1], (pad,))])
        if devices > 1:
            out.append(sharding.map_sharded(chunk_fn, rows, static=args)[: chunk_rows - pad])
        else:
            out.append(chunk_fn(*args, rows)[: chunk_rows - pad])
    return jnp.concatenate(out, axis=0)


@jax.jit
def rate_map_chunk(eigenvalues: Array, etas: Array, betas: Array) -> Array:
    """One chunk of :func:`rate_map`: ``(len(betas), len(etas))`` worst momentum rates.

    Jitted and vmapped over (β, η); the eigenvalues, step sizes and momenta are arguments, so a
    new grid or spectrum of the same shape reuses the compiled code. No input checks here.
    """

    def point(eta, beta):
        return theory.momentum_spectral_radius(eigenvalues, eta=eta, beta=beta)

    return jax.vmap(lambda b: jax.vmap(lambda e: point(e, b))(etas))(betas)


def rate_map(
    eigenvalues,
    etas,
    betas,
    *,
    chunk_rows: int | None = None,
    progress: bool = False,
    sharded: bool | None = None,
) -> Array:
    """``ρ(η, β) = ρ(∇F_{η,β}(ω*))`` from the closed form of paper Theorem 3, on a grid.

    Args:
        eigenvalues: the spectrum of ∇v at ω* (1-D, complex or real); conjugate pairs are
            merged first (:func:`spectra.theory.merge_conjugates`), as they have the same rate.
        etas: 1-D step sizes (> 0), the columns. betas: 1-D momenta, the rows.
        chunk_rows: rows per chunk; default keeps ``rows × len(etas) × len(eigenvalues)`` under
            :data:`DEFAULT_BUDGET`.
        progress: show a tqdm bar over the chunks.
        sharded: split each chunk's rows over every device (``jax.sharding``); default: whenever
            more than one device is present. Results equal the single-device ones.

    Returns:
        An array of shape ``(len(betas), len(etas))``; its dtype follows the inputs (float32 in,
        float32 out; float64 with ``jax_enable_x64``).
    """
    _check_chunk_rows(chunk_rows)
    lam = theory.merge_conjugates(_eigenvalues(eigenvalues))  # ρ is conjugation-blind
    etas, betas = _check_grid(etas, betas)
    dtype = jnp.result_type(jnp.real(lam).dtype, etas.dtype, betas.dtype)
    lam = lam.astype(jnp.result_type(dtype, jnp.complex64))
    etas, betas = etas.astype(dtype), betas.astype(dtype)
    if chunk_rows is None:
        chunk_rows = max(1, DEFAULT_BUDGET // (etas.shape[0] * lam.shape[0]))
    return _run_chunks(
        rate_map_chunk, (lam, etas), betas, chunk_rows, progress, _use_devices(sharded)
    )


MakeOperator = Callable[..., operators.UpdateOperator]


@functools.partial(jax.jit, static_argnums=0)
def operator_rate_chunk(
    make_operator: MakeOperator, game: Game, w_star: Array, etas: Array, betas: Array
) -> Array:
    """One chunk of :func:`operator_rate_map`: ``(len(betas), len(etas))`` spectral radii of the
    dense autodiff Jacobian of ``make_operator(game, eta=η, beta=β)`` at its fixed point.

    Jitted with ``make_operator`` static (pass the same function object to reuse the compiled
    code) and vmapped over (β, η).
    """

    def point(eta, beta):
        op = make_operator(game, eta=eta, beta=beta)
        return operators.spectral_radius(op, operators.fixed_point_state(op, w_star))

    return jax.vmap(lambda b: jax.vmap(lambda e: point(e, b))(etas))(betas)


def operator_rate_map(
    make_operator: MakeOperator,
    game: Game,
    w_star,
    etas,
    betas,
    *,
    chunk_rows: int | None = None,
    progress: bool = False,
) -> Array:
    """``ρ(∇F_{η,β}(ω*))`` on a grid, from the actual operator (paper Theorem 1), for small games.

    Args:
        make_operator: ``(game, *, eta, beta) -> UpdateOperator``, e.g.
            :func:`spectra.operators.momentum` or
            ``functools.partial(operators.momentum, alternating=True)``; for a method without
            momentum wrap it, e.g. ``lambda g, *, eta, beta: operators.simultaneous(g, eta=eta)``.
        game: the game; w_star: its stationary point (flat, length ``game.n``).
        etas, betas: 1-D grids, as in :func:`rate_map`.

    Returns:
        An array of shape ``(len(betas), len(etas))``: each entry one dense eigenvalue problem of
        size ``2n`` (or ``n``), so keep games small.
    """
    if not callable(make_operator):
        raise ValueError("make_operator: expected a callable (game, *, eta, beta) -> operator")
    if not isinstance(game, Game):
        raise ValueError(f"game: expected a spectra.games.Game, got {type(game).__name__}")
    _check_chunk_rows(chunk_rows)
    etas, betas = _check_grid(etas, betas)
    w_star = jnp.asarray(w_star, game.dtype)
    if w_star.shape != (game.n,):
        raise ValueError(f"w_star: expected shape ({game.n},), got {w_star.shape}")
    etas, betas = etas.astype(game.dtype), betas.astype(game.dtype)
    if chunk_rows is None:
        chunk_rows = max(1, DEFAULT_BUDGET // (etas.shape[0] * (2 * game.n) ** 2))
    return _run_chunks(
        functools.partial(operator_rate_chunk, make_operator),
        (game, w_star, etas),
        betas,
        chunk_rows,
        progress,
    )


def grid_argmin(values, etas, betas) -> tuple[float, float, float]:
    """``(η, β, value)`` at the smallest entry of a ``(len(betas), len(etas))`` map (NaN
    entries ignored), as :func:`rate_map` returns it: rows are β, columns η."""
    values = np.asarray(values)
    etas, betas = np.asarray(etas), np.asarray(betas)
    if etas.ndim != 1 or betas.ndim != 1:
        raise ValueError(f"etas, betas: expected 1-D grids, got shapes {etas.shape}, {betas.shape}")
    expected = (betas.shape[0], etas.shape[0])
    if values.shape != expected:
        raise ValueError(
            f"values: expected shape (len(betas), len(etas)) = {expected}, got {values.shape}"
        )
    if not np.any(np.isfinite(values)):
        raise ValueError("values: no finite entry to minimise")
    j, i = np.unravel_index(np.nanargmin(values), values.shape)
    return float(np.asarray(etas)[i]), float(np.asarray(betas)[j]), float(values[j, i])


@jax.jit
def _optimal_step_sizes_chunk(spectra: Array) -> tuple[Array, Array]:
    result = jax.vmap(theory.optimal_step_size)(spectra)
    return result.eta, result.rho


def optimal_step_sizes(spectra, *, sharded: bool | None = None) -> tuple[Array, Array]:
    """Paper Theorem 2's ``(η_best, ρ_max(η_best))`` for many spectra at once.

    Args:
        spectra: ``(S, m)`` eigenvalues, one spectrum per row (``Re λ > 0``).
        sharded: split the rows over every device (default: when more than one is present).

    Returns:
        ``(etas, rhos)``, each of shape ``(S,)``; equal to calling
        :func:`spectra.theory.optimal_step_size` on each row.
    """
    lam = jnp.asarray(spectra)
    if lam.ndim != 2 or 0 in lam.shape:
        raise ValueError(f"spectra: expected a non-empty 2-D array (S, m), got shape {lam.shape}")
    if not bool(jnp.all(jnp.isfinite(lam))):
        raise ValueError("spectra: expected finite eigenvalues")
    if not bool(jnp.all(jnp.real(lam) > 0)):
        raise ValueError("spectra: Theorem 2 assumes Re λ > 0 for every eigenvalue")
    lam = lam.astype(jnp.result_type(lam.dtype, jnp.complex64))
    if _use_devices(sharded) > 1:
        return sharding.map_sharded(_optimal_step_sizes_chunk, lam)
    return _optimal_step_sizes_chunk(lam)
