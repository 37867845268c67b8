"""Every bound the seeds give for a spectrum of ∇v, in one report.

:func:`bounds_report` collects, for the eigenvalues of ∇v at a stationary point ω*:

- the largest stable step of gradient descent (lecture Lemma 11; Mescheder et al. 2017, Lemma 4),
- the best step size with its bounds and rate (Gidel et al. 2019, Theorem 2),
- the interval ``I(λ)`` of each eigenvalue and their intersection (Theorem 4),
- the optimal heavy-ball ``(η, β)`` and its rate against the best gradient descent (Theorem 3).

All of them assume ``Re λ > 0`` for every eigenvalue (ω* is then a point where gradient descent
with a small step converges); a spectrum that violates it gets a ``ValueError`` saying so.
:func:`game_eigenvalues` gives the spectrum of ∇v at a game's reference point.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import numpy as np

from spectra import theory
from spectra.games import Game, jacobian

__all__ = ["bounds_report", "game_eigenvalues", "ASSUMPTION"]

ASSUMPTION = "Lemma 11 and Theorems 2-4 assume Re λ > 0 for every eigenvalue of ∇v"


def _fmt(z: complex) -> str:
    z = complex(z.real + 0.0, z.imag + 0.0)  # no "-0"
    return f"{z.real:.6g}{z.imag:+.6g}j" if z.imag else f"{z.real:.6g}"


def _spectrum(eigenvalues) -> np.ndarray:
    try:
        lam = np.atleast_1d(np.asarray(eigenvalues, dtype=complex))
    except (TypeError, ValueError):
        raise ValueError("eigenvalues: expected numbers (complex allowed)") from None
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError(f"eigenvalues: expected a non-empty 1-D sequence, got shape {lam.shape}")
    if not np.all(np.isfinite(lam)):
        raise ValueError("eigenvalues: expected finite values")
    bad = lam[lam.real <= 0]
    if bad.size:
        shown = ", ".join(_fmt(z) for z in bad[:4]) + (", ..." if bad.size > 4 else "")
        why = ""
        if np.all(bad == 0):
            why = " (λ = 0: a flat direction, along which no step size contracts)"
        elif np.all(bad.real == 0) and np.all(bad.imag != 0):
            why = " (purely imaginary: gradient descent diverges for every step size)"
        raise ValueError(f"eigenvalues: {ASSUMPTION}; got {shown}{why}")
    return lam


def game_eigenvalues(game: Game, *, rtol: float = 1e-12) -> np.ndarray:
    """The eigenvalues of ∇v at the game's reference point (for the zoo, its equilibrium).

    Real and imaginary parts below ``rtol · max |λ|`` are rounding noise of the dense eigensolver
    and are set to exactly 0, so that a purely imaginary spectrum (a bilinear game) is reported
    as such rather than as ``Re λ = ±1e-17``.
    """
    with jax.enable_x64(True):
        jac = np.asarray(jacobian(game, game.point()), dtype=float)
    lam = np.linalg.eigvals(jac)
    tol = rtol * max(1.0, float(np.max(np.abs(lam))))
    return np.where(np.abs(lam.real) < tol, 0.0, lam.real) + 1j * np.where(
        np.abs(lam.imag) < tol, 0.0, lam.imag
    )


def bounds_report(eigenvalues) -> dict[str, Any]:
    """The seeds' bounds for a spectrum of ∇v, as a JSON-ready ``dict``.

    Keys:
        ``eigenvalues``: ``[[Re λ, Im λ], ...]`` as given.
        ``max_stable_step``: Lemma 11: gradient descent is locally stable iff η is below it.
        ``step_size``: Theorem 2: ``eta_best``, ``eta_bounds`` ``[Re(1/λ₁), 2Re(1/λ₁)]``, ``rho``
            (the spectral radius at ``eta_best``, not squared), ``rho_squared_bounds``,
            ``limiting`` (indices of the eigenvalues on the circle of radius ρ) and ``case``
            (``"tangent"`` or ``"cut"``, paper Fig. 2).
        ``momentum_intervals``: Theorem 4: ``intervals`` ``[[lo, hi], ...]`` (``I(λ)`` per
            eigenvalue; ``lo == hi`` for a real λ: empty), ``intersection`` (``[lo, hi]`` or
            ``None`` if empty) and ``eta_best_inside`` (whether Theorem 2's ``eta_best`` lies in it,
            so that a small β < 0 improves on the best gradient descent).
        ``momentum``: Theorem 3, optimised numerically: ``eta``, ``beta``, ``rho``, with
            ``gd_eta``, ``gd_rho`` (Theorem 2) and ``speedup = log ρ / log ρ_GD`` (how many times
            fewer iterations momentum needs for the same accuracy).

    Raises:
        ValueError: empty, non-finite or non-numeric input, or an eigenvalue with ``Re λ ≤ 0``.
    """
    lam = _spectrum(eigenvalues)
    with jax.enable_x64(True):
        max_step = float(theory.max_stable_step(lam))
        step = theory.optimal_step_size(lam)
        lo, hi = (np.asarray(x, dtype=float) for x in theory.momentum_interval(lam))
        cap = theory.interval_intersection(lam)
        best = theory.optimal_momentum(lam)
    eta_best, rho = float(step.eta), float(step.rho)
    cap_lo, cap_hi = float(cap.lo), float(cap.hi)
    intersection = [cap_lo, cap_hi] if cap_lo < cap_hi else None
    gd_rho, mom_rho = float(best.gd_rho), float(best.rho)
    tiny = 1e-12  # a rate this small converges in one step: no meaningful ratio of logs
    speedup = math.log(mom_rho) / math.log(gd_rho) if tiny < gd_rho < 1 and mom_rho > tiny else None
    return {
        "eigenvalues": [[float(z.real), float(z.imag)] for z in lam],
        "max_stable_step": max_step,
        "step_size": {
            "eta_best": eta_best,
            "eta_bounds": [float(x) for x in step.eta_bounds],
            "rho": rho,
            "rho_squared_bounds": [float(x) for x in step.rho_squared_bounds],
            "limiting": [int(i) for i in np.flatnonzero(np.asarray(step.active))],
            "case": "tangent" if bool(step.tangent) else "cut",
        },
        "momentum_intervals": {
            "intervals": [[float(a), float(b)] for a, b in zip(lo, hi, strict=True)],
            "intersection": intersection,
            "eta_best_inside": bool(intersection and cap_lo < eta_best < cap_hi),
        },
        "momentum": {
            "eta": float(best.eta),
            "beta": float(best.beta),
            "rho": mom_rho,
            "gd_eta": float(best.gd_eta),
            "gd_rho": gd_rho,
            "speedup": speedup,
        },
    }
