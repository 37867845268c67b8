"""Probe any game at any point: the spectra that govern its local training dynamics.

:func:`probe_game` computes, at a point ``w = (φ, θ)`` of a :class:`~spectra.games.Game`:

1. ``k`` eigenvalues of the game Jacobian ∇v (paper eq. 2) for each selection in ``which``
   (largest magnitude, largest / smallest real part, largest imaginary part): dense LAPACK when
   ``n ≤ dense_max`` (then the whole spectrum), otherwise Krylov–Schur (:mod:`spectra.krylov`)
   or ARPACK on forward-over-reverse Jacobian-vector products streamed over minibatches
   (:mod:`spectra.probe.products`);
2. the ``k`` largest-magnitude eigenvalues of each player's Hessian ``∇²_φ L_φ`` and ``∇²_θ L_θ``
   (symmetric: ``eigh`` or Lanczos);
3. the spectrum and spectral radius of the update operator ∇F that the run used
   (:mod:`spectra.probe.update`: Theorem 3 for simultaneous momentum, otherwise the JVP of the
   actual update step);
4. what the theory says about it (:mod:`spectra.probe.advice`).

Every eigenvalue comes with its relative residual ``‖Ax − λx‖ / (‖A‖ ‖x‖)``: exact from the
Krylov relation (Krylov–Schur, no extra product) or recomputed from fresh products (ARPACK, dense);
see :func:`spectra.eigensolvers.eigenvalues`. When the solver stops before ``k`` values converge,
the ones that did are kept, marked, and the failure is listed in ``errors``.

The probe knows nothing about GANs: :func:`spectra.probe.checkpoints.probe_run` rebuilds a run's
game from a checkpoint and calls this function.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

import jax
import jax.numpy as jnp
import numpy as np
from threadpoolctl import threadpool_limits

from spectra.eigensolvers import (
    WHICH,
    ConvergenceError,
    EigResult,
    eigenvalues,
    rank_eigenvalues,
)
from spectra.games import Game
from spectra.probe import advice as advice_lib
from spectra.probe.products import DEFAULT_MEMORY_BUDGET, StreamedOperator, streamed_vector_field
from spectra.probe.result import HESSIAN_NAMES, ProbeResult, Spectrum
from spectra.probe.update import UpdateOperatorProducts, UpdateRule, theorem3_spectrum
from spectra.progress import redraw_interval

Array = jax.Array

__all__ = ["Spectrum", "ProbeResult", "probe_game", "cast_game", "check_which", "DEFAULT_WHICH"]

DEFAULT_WHICH = ("LM", "LR", "SR", "LI")


# -- input checks ----------------------------------------------------------------------------------


def cast_game(game: Game, dtype) -> Game:
    """The game with its point and data's floating leaves cast to ``dtype``."""
    dtype = jnp.dtype(dtype)
    if not jnp.issubdtype(dtype, jnp.floating):
        raise ValueError(f"dtype: expected a floating dtype, got {dtype}")
    if dtype == jnp.float64 and not jax.config.jax_enable_x64:
        raise ValueError(
            "dtype: float64 needs jax.config.update('jax_enable_x64', True) before any array "
            "is created (the CLI's --float64 does this)"
        )

    def cast(x):
        x = jnp.asarray(x)
        return x.astype(dtype) if jnp.issubdtype(x.dtype, jnp.floating) else x

    return dataclasses.replace(
        game,
        phi=jax.tree_util.tree_map(cast, game.phi),
        theta=jax.tree_util.tree_map(cast, game.theta),
        data=jax.tree_util.tree_map(cast, game.data),
    )


def check_which(which) -> tuple[str, ...]:
    if isinstance(which, str):
        which = tuple(part.strip() for part in which.split(",") if part.strip())
    which = tuple(which)
    if not which:
        raise ValueError(f"which: expected at least one of {WHICH}")
    for w in which:
        if w not in WHICH:
            raise ValueError(f"which: unknown selection {w!r}; expected one of {', '.join(WHICH)}")
    return tuple(dict.fromkeys(which))


def _check_k(k, n: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k: expected an integer >= 1, got {k!r}")
    if k >= n - 1:
        raise ValueError(
            f"k: expected k < n - 1 = {n - 1} (the game has n = {n} parameters), got k = {k}"
        )
    return int(k)


# -- selection from a full spectrum ----------------------------------------------------------------


def _select(full: EigResult, which: str, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    index = rank_eigenvalues(full.values, which, True)[:k]  # the solvers' own ranking
    return full.values[index], full.residuals[index], full.converged[index]


# -- the probe ---------------------------------------------------------------------------------


class _Cancelled(RuntimeError):
    """Raised in a solve's thread when another solve failed or the user interrupted."""


class _Progress:
    """A tqdm bar counting products (or nothing when disabled). Redrawn at most every 0.1 s on
    a terminal, every 10 s otherwise (a log file gets a line per redraw)."""

    def __init__(self, enabled: bool, total_stages: int):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total_stages, unit="spectrum", desc="probe", leave=False)
        self.interval = redraw_interval()
        self.last = time.monotonic()
        self.products = 0
        self._lock = threading.Lock()  # solves may run in several threads
        self.cancelled = False

    def stage(self, name: str) -> None:
        if self.bar is not None:
            self.bar.set_description(f"probe: {name}")

    def cancel(self) -> None:
        """Make every solve still running stop at its next product."""
        self.cancelled = True

    def product(self, _count: int) -> None:
        if self.cancelled:
            raise _Cancelled("probe: cancelled")
        with self._lock:
            self.products += 1
            now = time.monotonic()
            if self.bar is not None and now - self.last >= self.interval:
                self.last = now
                self.bar.set_postfix(products=self.products, refresh=False)
                self.bar.refresh()

    def done_stage(self) -> None:
        if self.bar is not None:
            with self._lock:
                self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _solve(op, *, operator: str, which: str, k: int, solver: dict, counter) -> Spectrum:
    """ARPACK on a matrix-free operator; a convergence failure keeps what converged."""
    start = time.perf_counter()
    before = _products(counter)
    error = None
    if solver.get("ncv") is not None:
        solver = {**solver, "ncv": min(int(solver["ncv"]), op.n)}
    else:
        solver = {
            **solver,
            "ncv": _default_ncv(op.n, k, solver["memory_budget"], np.dtype(op.dtype).itemsize),
        }
    solver = {key: value for key, value in solver.items() if key != "memory_budget"}
    if which == "SM":  # Krylov–Schur finds exterior eigenvalues only
        solver["method"] = "arpack"
    try:
        result = eigenvalues(op.as_matrix_free(), k=k, which=which, **solver)
    except ConvergenceError as err:
        result = err.result
        error = (
            f"{operator} ({which}): {result.values.size} of {k} eigenvalues converged after "
            f"{_products(counter) - before} products; raise maxiter or ncv, or loosen tol"
        )
    if error is None and not result.converged.all():
        bad = int((~result.converged).sum())
        error = (
            f"{operator} ({which}): {bad} of {k} eigenvalues above the residual tolerance "
            f"(max relative residual {result.residuals.max():.2e})"
        )
    return Spectrum(
        operator=operator,
        which=which,
        values=result.values,
        residuals=result.residuals,
        converged=result.converged,
        method=result.method,
        n_products=_products(counter) - before,
        seconds=time.perf_counter() - start,
        size=op.n,
        error=error,
    )


def _hessian(game, w, player: str, *, k: int, dense_max: int, solver: dict, common: dict):
    """The ``k`` largest-magnitude eigenvalues of one player's Hessian (symmetric)."""
    op = StreamedOperator(game, w, kind=player, **common)
    try:
        # top-k of a symmetric block: Lanczos needs about 8k products, dense needs n
        if op.n <= dense_max and (op.n <= 8 * k or min(k, op.n) >= op.n - 1):
            spectra, _ = _dense_spectra(
                op, operator=f"hessian_{player}", whiches=("LM",), k=min(k, op.n), symmetric=True
            )
            return spectra[0]
        return _solve(
            op,
            operator=f"hessian_{player}",
            which="LM",
            k=min(k, op.n - 1),
            solver=solver,
            counter=op,
        )
    finally:
        op.release()


def _use_threads(concurrent: bool | None, jac_op: StreamedOperator, tasks, budget: int) -> bool:
    """Whether to run the independent solves concurrently (``concurrent=None``: decide).

    Products of an MLP GAN's cached linearisation leave part of a CPU idle (element-wise work
    between the matrix products): three solves side by side measured 1.3× faster on 2 cores.
    Products that recompute their linearisation (convolutions, batches too large to cache)
    already keep every core busy and would each hold a minibatch's activations, so they run in
    turn, as do solves whose linearisations (the game's and, about as large, each Hessian's)
    would not fit in the memory budget together.
    """
    if concurrent is not None:
        return bool(concurrent) and len(tasks) > 1
    if len(tasks) < 2 or (os.cpu_count() or 1) < 2 or not jac_op.linearized:
        return False
    return 3 * jac_op.held_bytes <= budget


def _run_in_turn(tasks, bar) -> dict:
    done = {}
    for key, task in tasks.items():
        bar.stage(_stage_name(key))
        done[key] = task()
        bar.done_stage()
    return done


def _run_concurrently(tasks, bar) -> dict:
    """Each task in its own thread (JAX and LAPACK release the GIL while they compute). BLAS
    stays single-threaded for the whole group: per-call limits would restore one another's.
    When a task fails (or on Ctrl-C) the others stop at their next product (through ``bar``,
    which every product reports to) and the first error is raised."""
    done = {}
    with threadpool_limits(1), ThreadPoolExecutor(max_workers=len(tasks)) as pool:
        futures = {pool.submit(task): key for key, task in tasks.items()}
        try:
            for future in as_completed(futures):
                done[futures[future]] = future.result()
                bar.done_stage()
        except BaseException:  # a failed solve or Ctrl-C: the others stop at their next product
            bar.cancel()
            raise
    return done


def _stage_name(key: tuple[str, str]) -> str:
    kind, name = key
    if kind == "jacobian":
        return f"∇v ({name})"
    return HESSIAN_NAMES[name]


def _products(counter) -> int:
    """Products so far from this thread (an operator shared by concurrent solves counts each
    thread's), or in all for an operator used by one solve at a time."""
    if isinstance(counter, StreamedOperator):
        return counter.thread_products
    return counter.n_products


def _default_ncv(n: int, k: int, memory_budget: int, itemsize: int = 8) -> int:
    """The solver's basis size: ``max(4k, 20)`` (as :func:`spectra.eigensolvers.eigenvalues`),
    capped so that the basis (``ncv · n · itemsize`` bytes: Krylov–Schur keeps it in the
    operator's precision) fits in half of ``memory_budget`` when the operator is large, but
    never below ``2k + 2``."""
    cap = max(int(memory_budget) // (2 * itemsize * n), 2 * k + 2)
    return int(min(n, max(4 * k, 20), cap))


def _dense_spectra(
    op, *, operator: str, whiches: Sequence[str], k: int, symmetric: bool
) -> tuple[list[Spectrum], EigResult]:
    start = time.perf_counter()
    matrix = op.dense()
    if symmetric:
        matrix = 0.5 * (matrix + matrix.T)
    full = eigenvalues(matrix, k=op.n, which="LM", symmetric=symmetric)
    seconds = time.perf_counter() - start
    out = []
    for i, which in enumerate(whiches):
        values, residuals, converged = _select(full, which, k)
        error = None
        if not converged.all():
            error = (
                f"{operator} ({which}): dense residuals above tolerance (max {residuals.max():.2e})"
            )
        out.append(
            Spectrum(
                operator,
                which,
                values,
                residuals,
                converged,
                "dense",
                op.n_products if i == 0 else 0,  # one matrix for every selection: counted once
                seconds,
                op.n,
                error,
            )
        )
    return out, full


def probe_game(
    game: Game,
    w=None,
    *,
    k: int = 20,
    which: Sequence[str] | str = DEFAULT_WHICH,
    dtype=None,
    update: UpdateRule | None = None,
    minibatch: int | None = None,
    hessians: bool = True,
    dense_max: int = 2000,
    tol: float | None = None,
    ncv: int | None = None,
    maxiter: int | None = None,
    seed: int = 0,
    solver: str = "krylov",
    linearize: bool | str = "auto",
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    advice: bool = True,
    progress: bool = True,
    sharded: bool | None = None,
    concurrent: bool | None = None,
) -> ProbeResult:
    """Probe ``game`` at ``w`` (default: its reference point); see the module docstring.

    Args:
        game: any two-player game; a GAN's evaluation batch is its ``data``.
        w: the point, a flat vector ``(φ, θ)``.
        k: eigenvalues per selection; needs ``k < n − 1``.
        which: selections of ∇v's eigenvalues, from ``LM, SM, LR, SR, LI`` (or a comma list).
        dtype: compute in this precision (``jnp.float64`` needs x64 enabled); default the game's.
        update: the update rule that was used; ``None`` skips ∇F and the comparison.
        minibatch: stream the batch in minibatches of this many samples (losses must be means).
        hessians: also probe both players' Hessians (``k`` largest magnitude each; dense when
            the block has at most ``min(dense_max, 8k)`` rows, about what Lanczos would need).
        dense_max: operators of at most this size are materialised and solved by LAPACK.
        tol, ncv, maxiter: the eigensolver's relative accuracy (default 1e-4 in float32, 1e-10
            in float64), basis size (default ``max(4k, 20)``, capped so that the basis fits in
            half of ``memory_budget`` but at least ``2k + 2``) and restarts (see
            :func:`spectra.eigensolvers.eigenvalues`).
        seed: seeds the solver's start vector (and ARPACK's residual probes).
        solver: ``"krylov"`` (block Krylov–Schur, :mod:`spectra.krylov`: convergence tested
            every few products, residuals exact from the Krylov relation without extra
            products, basis in the operator's precision) or ``"arpack"`` (residuals from
            ``k + 2`` fresh products). ``which="SM"`` always uses ARPACK.
        linearize, memory_budget: cache linearisations up to this many bytes
            (:class:`spectra.probe.products.StreamedOperator`).
        advice: also compute the theory's advice (:mod:`spectra.probe.advice`).
        sharded: split each minibatch of the evaluation batch over every device (data
            parallelism with ``jax.sharding``; default: when more than one device is present).
        progress: show a progress bar.
        concurrent: run the independent solves (each ``which`` of ∇v, each Hessian) in
            threads side by side; default: when their products use a cached linearisation
            that fits in ``memory_budget`` three times over and there are several CPU cores
            (see :func:`_use_threads`). Results do not depend on it.

    Raises:
        ValueError: bad arguments (unknown ``which``, ``k ≥ n − 1``, a bad point or dtype).
    """
    start = time.perf_counter()
    if not isinstance(game, Game):
        raise ValueError(f"game: expected a spectra.games.Game, got {type(game).__name__}")
    if dtype is not None:
        game = cast_game(game, dtype)
    whiches = check_which(which)
    n, n_phi, n_theta = game.n, game.n_phi, game.n_theta
    k = _check_k(k, n)
    w = game.point() if w is None else jnp.asarray(w, game.dtype)
    if w.shape != (n,):
        raise ValueError(f"w: expected a flat vector of shape ({n},), got {w.shape}")
    if not bool(jnp.all(jnp.isfinite(w))):
        raise ValueError("w: expected finite parameters (the checkpoint holds NaN or inf)")
    if update is not None and not isinstance(update, UpdateRule):
        raise ValueError(f"update: expected an UpdateRule or None, got {type(update).__name__}")
    double = jnp.dtype(game.dtype) == jnp.float64
    if solver not in ("krylov", "arpack"):
        raise ValueError(f"solver: expected 'krylov' or 'arpack', got {solver!r}")
    if isinstance(dense_max, bool) or not isinstance(dense_max, int | np.integer) or dense_max < 0:
        raise ValueError(f"dense_max: expected an integer >= 0, got {dense_max!r}")
    solver = {
        "method": solver,
        "tol": (1e-10 if double else 1e-4) if tol is None else float(tol),
        "ncv": ncv,
        "maxiter": maxiter,
        "seed": seed,
        "memory_budget": memory_budget,
    }
    stages = len(whiches) + 2 * bool(hessians) + (update is not None)
    bar = _Progress(progress, stages)
    common = {
        "minibatch": minibatch,
        "linearize": linearize,
        "memory_budget": memory_budget,
        "on_product": bar.product,
        "sharded": sharded,
    }
    notes: list[str] = []
    try:
        bar.stage("v(w)")
        v = streamed_vector_field(game, w, minibatch=minibatch)
        stationarity = float(jnp.linalg.norm(v))
        if not np.isfinite(stationarity):
            raise ValueError("w: the vector field is not finite at this point (NaN or inf loss)")

        # 1. the game Jacobian
        jac_op = StreamedOperator(game, w, kind="game", **common)
        linearized = jac_op.linearized
        jacobian: dict[str, Spectrum] = {}
        full = None
        jac_tasks: dict[tuple[str, str], Callable[[], Spectrum]] = {}
        if n <= dense_max:
            bar.stage("∇v (dense)")
            spectra, full = _dense_spectra(
                jac_op, operator="jacobian", whiches=whiches, k=k, symmetric=False
            )
            jacobian = {s.which: s for s in spectra}
            for _ in whiches:
                bar.done_stage()
        else:
            for wh in whiches:
                jac_tasks[("jacobian", wh)] = functools.partial(
                    _solve,
                    jac_op,
                    operator="jacobian",
                    which=wh,
                    k=k,
                    solver=solver,
                    counter=jac_op,
                )

        # 2. the player Hessians
        hess_tasks: dict[tuple[str, str], Callable[[], Spectrum]] = {}
        if hessians:
            for player, size in (("phi", n_phi), ("theta", n_theta)):
                if size < 2:
                    notes.append(f"hessian_{player}: skipped (size {size})")
                    bar.done_stage()
                    continue
                hess_tasks[("hessian", player)] = functools.partial(
                    _hessian,
                    game,
                    w,
                    player,
                    k=k,
                    dense_max=dense_max,
                    solver=solver,
                    common=common,
                )

        if _use_threads(concurrent, jac_op, {**jac_tasks, **hess_tasks}, memory_budget):
            bar.stage("∇v and Hessians, concurrently")
            done = _run_concurrently({**jac_tasks, **hess_tasks}, bar)
            jac_op.release()
        else:
            done = _run_in_turn(jac_tasks, bar)
            jac_op.release()  # its residuals are not needed any more
            done.update(_run_in_turn(hess_tasks, bar))
        jacobian.update({wh: done[("jacobian", wh)] for wh in whiches if ("jacobian", wh) in done})
        hess = {player: done[(kind, player)] for kind, player in hess_tasks}

        # 3. the update operator
        upd = None
        if update is not None:
            bar.stage("∇F")
            upd = _update_spectrum(
                game,
                w,
                update,
                jacobian,
                full,
                k=k,
                dense_max=dense_max,
                solver=solver,
                minibatch=minibatch,
                on_product=bar.product,
                notes=notes,
            )
            bar.done_stage()
    finally:
        bar.close()

    # 4. the theory
    lam = full.values if full is not None else _union(jacobian)
    verdict = None
    if advice and lam.size:
        verdict = advice_lib.theory_advice(
            lam,
            update,
            complete=full is not None,
            which=whiches,
            update_radius=None if upd is None else upd.spectral_radius,
        )
        if upd is not None and "used" in verdict:
            verdict["used"]["update_method"] = upd.method
    errors = [s.error for s in [*jacobian.values(), *hess.values()] if s.error]
    if upd is not None and upd.error:
        errors.append(upd.error)
    settings = {
        **{key: solver[key] for key in ("method", "tol", "ncv", "maxiter", "seed")},
        "which": list(whiches),
        "minibatch": minibatch,
        "linearized": linearized,
        "dense_max": dense_max,
    }
    return ProbeResult(
        game=game.name,
        n_phi=n_phi,
        n_theta=n_theta,
        dtype=str(jnp.dtype(game.dtype)),
        k=k,
        stationarity=stationarity,
        jacobian=jacobian,
        hessians=hess,
        update=upd,
        update_rule=update,
        advice=verdict,
        settings=settings,
        seconds=time.perf_counter() - start,
        notes=notes,
        errors=errors,
        jacobian_full=None if full is None else full.values,
    )


def _union(jacobian: dict[str, Spectrum]) -> np.ndarray:
    parts = [s.values[s.converged] for s in jacobian.values()]
    return advice_lib.distinct(np.concatenate(parts)) if parts else np.zeros(0, complex)


def _update_spectrum(
    game,
    w,
    rule: UpdateRule,
    jacobian,
    full,
    *,
    k,
    dense_max,
    solver,
    minibatch,
    on_product,
    notes,
) -> Spectrum | None:
    """Sp(∇F): Theorem 3 from ∇v's eigenvalues when it applies, else JVPs of the update step."""
    if not rule.heavy_ball:
        notes.append("update: Adam has no fixed linear update operator; ∇F not computed")
        return None
    if rule.theorem3_applies:
        start = time.perf_counter()
        if full is not None:
            lam, res = full.values, full.residuals
        else:
            spectra = list(jacobian.values())
            lam = np.concatenate([s.values[s.converged] for s in spectra])
            res = np.concatenate([s.residuals[s.converged] for s in spectra])
            keep = _first_occurrences(lam)
            lam, res = lam[keep], res[keep]
            notes.append(
                "update: Theorem 3 applied to the probed eigenvalues of ∇v only; eigenvalues of "
                "∇v near 0 (not probed) map to μ₊ ≈ 1 and μ₋ ≈ β"
            )
        if lam.size == 0:
            notes.append("update: no converged eigenvalue of ∇v to map through Theorem 3")
            return None
        mu = theorem3_spectrum(lam, eta=rule.eta[0], beta=rule.beta[0])
        res2 = np.repeat(res, 2)
        order = np.argsort(-np.abs(mu), kind="stable")
        size = 2 * game.n
        return Spectrum(
            "update",
            "LM",
            mu[order],
            res2[order],
            np.ones(mu.size, bool),
            "theorem3",
            0,
            time.perf_counter() - start,
            size,
        )
    op = UpdateOperatorProducts(game, w, rule, minibatch=minibatch, on_product=on_product)
    if op.n <= dense_max:
        spectra, _ = _dense_update(op, k=k)
        return spectra
    return _solve(op, operator="update", which="LM", k=k, solver=solver, counter=op)


def _dense_update(op: UpdateOperatorProducts, *, k: int):
    start = time.perf_counter()
    matrix = op.matmat(np.eye(op.n))
    full = eigenvalues(matrix, k=op.n, which="LM")
    values, residuals, converged = _select(full, "LM", k)
    error = None if converged.all() else "update (LM): dense residuals above tolerance"
    return Spectrum(
        "update",
        "LM",
        values,
        residuals,
        converged,
        "dense",
        op.n_products,
        time.perf_counter() - start,
        op.n,
        error,
    ), full


def _first_occurrences(values: np.ndarray) -> np.ndarray:
    kept = advice_lib.distinct(values)
    index = []
    for lam in kept:
        index.append(int(np.argmin(np.abs(values - lam))))
    return np.asarray(index, dtype=int)
