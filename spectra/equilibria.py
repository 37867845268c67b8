"""Is a stationary point a local Nash equilibrium? Second-order tests, with the deciding eigenvalues.

- Zero-sum games (``L_θ = −L_φ``), lecture Lemma 9: the symmetric part of ∇v is positive
  (semi-)definite iff ``∇²_φ L_φ ⪰ 0`` and ``∇²_θ L_φ ⪯ 0`` (equivalently ``∇²_θ L_θ ⪰ 0``), because the
  off-diagonal blocks of ∇v are negatives of each other's transposes and cancel in ``(∇v + ∇vᵀ)/2``.
- Lecture Corollary 10: at a local Nash equilibrium that part is PSD; at a stationary point where
  it is positive definite the point is a (strict) local Nash equilibrium.
- General-sum games: a stationary point where each player's own Hessian is positive definite,
  ``∇²_φ L_φ ≻ 0`` and ``∇²_θ L_θ ≻ 0``, is a strict local Nash equilibrium (each player's loss has a
  strict local minimum in its own variables); if one of them has a negative eigenvalue it is not a
  local Nash equilibrium (that player can improve unilaterally).

The Hessians are built densely here: this module is for games small enough for that. For large
games, use the symmetric matrix-free solver of :mod:`spectra.eigensolvers` with
:func:`spectra.games.player_hvp`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from spectra.games import Game, jacobian, vector_field

__all__ = ["NashReport", "nash_report"]


class NashReport(NamedTuple):
    """What decides whether ``w`` is a local Nash equilibrium.

    Attributes:
        stationary: ``‖v(w)‖ ≤ atol``.
        grad_norm: ``‖v(w)‖``.
        hessian_phi_eigenvalues: eigenvalues of ``∇²_φ L_φ`` (ascending).
        hessian_theta_eigenvalues: eigenvalues of ``∇²_θ L_θ`` (ascending).
        symmetric_part_eigenvalues: eigenvalues of ``(∇v + ∇vᵀ)/2`` (ascending): Lemma 9's test.
        jacobian_eigenvalues: eigenvalues of ∇v (the spectrum the update rules see).
        local_nash: ``True`` (strict local Nash: the sufficient condition holds), ``False`` (the
            necessary condition fails, or not stationary), or ``None`` (undecided at second order:
            a Hessian is only semidefinite).
        reason: a sentence saying which condition decided it.
    """

    stationary: bool
    grad_norm: float
    hessian_phi_eigenvalues: np.ndarray
    hessian_theta_eigenvalues: np.ndarray
    symmetric_part_eigenvalues: np.ndarray
    jacobian_eigenvalues: np.ndarray
    local_nash: bool | None
    reason: str


def nash_report(game: Game, w: jax.Array | None = None, *, atol: float = 1e-8) -> NashReport:
    """Second-order test for a local Nash equilibrium at ``w`` (default: the game's point).

    Zero-sum games are decided by lecture Lemma 9 / Corollary 10 (the symmetric part of ∇v),
    general-sum games by the players' own Hessians; both criteria are reported.
    """
    if not isinstance(game, Game):
        raise ValueError(f"game: expected a spectra.games.Game, got {type(game).__name__}")
    if (
        isinstance(atol, bool)
        or not isinstance(atol, int | float | np.integer | np.floating)
        or not np.isfinite(atol)
        or atol <= 0
    ):
        raise ValueError(f"atol: expected a finite tolerance > 0, got {atol!r}")
    w = game.point() if w is None else jnp.asarray(w)
    v = np.asarray(vector_field(game, w))
    if not np.all(np.isfinite(v)):
        raise ValueError("w: the vector field is not finite there")
    jac = np.asarray(jacobian(game, w))
    k = game.n_phi
    h_phi = np.linalg.eigvalsh(0.5 * (jac[:k, :k] + jac[:k, :k].T))
    h_theta = np.linalg.eigvalsh(0.5 * (jac[k:, k:] + jac[k:, k:].T))
    sym = np.linalg.eigvalsh(0.5 * (jac + jac.T))
    grad_norm = float(np.linalg.norm(v))
    stationary = grad_norm <= atol
    scale = max(1.0, float(np.abs(jac).max()))
    tol = 1e3 * np.finfo(jac.dtype).eps * scale

    if not stationary:
        verdict, reason = False, f"not a stationary point: ‖v(w)‖ = {grad_norm:.3g} > {atol:g}"
    elif game.zero_sum:
        if sym.min() > tol:
            verdict, reason = True, "zero-sum, (∇v+∇vᵀ)/2 ≻ 0 (lecture Lemma 9, Corollary 10)"
        elif sym.min() < -tol:
            verdict, reason = False, "zero-sum, (∇v+∇vᵀ)/2 has a negative eigenvalue (Corollary 10)"
        else:
            verdict, reason = None, "zero-sum, (∇v+∇vᵀ)/2 is only semidefinite: undecided"
    elif min(h_phi.min(), h_theta.min()) > tol:
        verdict, reason = True, "general-sum, ∇²_φ L_φ ≻ 0 and ∇²_θ L_θ ≻ 0"
    elif min(h_phi.min(), h_theta.min()) < -tol:
        who = "φ" if h_phi.min() < -tol else "θ"
        verdict, reason = False, f"general-sum, player {who}'s Hessian has a negative eigenvalue"
    else:
        verdict, reason = None, "general-sum, a player's Hessian is only semidefinite: undecided"
    return NashReport(
        stationary,
        grad_norm,
        h_phi,
        h_theta,
        sym,
        np.linalg.eigvals(jac),
        verdict,
        reason,
    )
