"""Closed forms of the seed theorems on the spectrum of ∇v at a stationary point ω*.

Sign convention: gradient *descent*, ``F_η(ω) = ω − η v(ω)``, so ``∇F_η = I − η∇v`` and local
stability needs ``Re λ > 0`` for every eigenvalue λ of ∇v. Every function takes eigenvalues of
∇v (complex or real arrays; a complex conjugate gives the same rate, so either or both may be
passed) and the hyperparameters as keywords.

- Theorem 2 (Gidel et al. 2019): :func:`optimal_step_size`, :func:`limiting_eigenvalues`.
- Lemma 11 of the lecture (Lemma 4 of Mescheder et al. 2017): :func:`max_stable_step`.
- Theorem 3 (paper eq. 7): :func:`momentum_eigenvalues`, :func:`momentum_rate`.
- Theorem 4 (paper eq. 9): :func:`momentum_interval`, :func:`is_in_interval`,
  :func:`interval_intersection`.
- Optimal heavy-ball parameters for a spectrum (numerical, paper §3): :func:`optimal_momentum`.

Everything is ``jit``/``vmap``-able. With concrete inputs the assumptions are checked and a
violation raises a ``ValueError`` naming the argument; under tracing the checks are skipped and
quantities whose assumption fails come out as NaN rather than as a wrong number.
"""

from spectra.theory._inputs import merge_conjugates
from spectra.theory.momentum import (
    Interval,
    interval_intersection,
    is_in_interval,
    momentum_eigenvalues,
    momentum_interval,
    momentum_rate,
    momentum_spectral_radius,
    momentum_step_bound,
)
from spectra.theory.optimal_momentum import MomentumResult, optimal_momentum
from spectra.theory.step_size import (
    StepSizeResult,
    gd_rate,
    gd_spectral_radius,
    limiting_eigenvalues,
    max_stable_step,
    optimal_step_size,
)

__all__ = [
    "gd_rate",
    "gd_spectral_radius",
    "momentum_eigenvalues",
    "momentum_rate",
    "momentum_spectral_radius",
    "Interval",
    "momentum_interval",
    "is_in_interval",
    "interval_intersection",
    "StepSizeResult",
    "optimal_step_size",
    "limiting_eigenvalues",
    "max_stable_step",
    "momentum_step_bound",
    "merge_conjugates",
    "MomentumResult",
    "optimal_momentum",
]
