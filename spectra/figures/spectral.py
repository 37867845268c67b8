"""The arrays behind the spectral figures: paper Fig. 2 (Theorem 2), Theorem 3's μ±, the rate map
over (η, β) with Theorem 4's intervals, and lecture Fig. 1 (Lemma 11, consensus's shift)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import numpy as np

from spectra import games, sweeps, theory, zoo
from spectra import operators as ops
from spectra.checks import count, non_negative
from spectra.plots import fmt_complex

__all__ = [
    "step_size_data",
    "momentum_eigenvalues_data",
    "rate_map_data",
    "stability_data",
    "TANGENT_SPECTRUM",
    "CUT_SPECTRUM",
    "RATE_MAP_SPECTRUM",
    "STABILITY_SPECTRUM",
]

Data = dict[str, np.ndarray]


# -- 1. paper Fig. 2 ------------------------------------------------------------------------

TANGENT_SPECTRUM = (1 + 1.5j, 2 + 1j, 4.0)
CUT_SPECTRUM = (1 + 1.5j, 2 + 1j, 8.0)


def step_size_data(
    spectra: Sequence[Sequence[complex]] = (TANGENT_SPECTRUM, CUT_SPECTRUM),
    *,
    n_steps: int = 200,
) -> Data:
    """Paper Fig. 2: the paths ``1 − ηλᵢ`` for ``η ∈ [0, 2 η_best]`` and Theorem 2's optimum.

    The defaults differ in one real eigenvalue, 4 or 8: the first gives one limiting eigenvalue
    (tangent, left), the second two (cut, right), as :attr:`StepSizeResult.active` reports. With
    8 the cut is visible: ``η_best ≈ 0.230`` is well below the tangent point ``Re(1/λ₁) ≈ 0.308``
    of ``λ₁ = 1 + 1.5i``, and ``ρ ≈ 0.844 > sin ψ₁ ≈ 0.832``.
    """
    n_steps = count("n_steps", n_steps, minimum=2)
    rows = [np.atleast_1d(np.asarray(s, dtype=complex)) for s in spectra]
    if not rows or any(r.ndim != 1 or r.size != rows[0].size or r.size == 0 for r in rows):
        raise ValueError("spectra: expected one or more non-empty spectra of equal length")
    lams = np.array(rows)
    results = [theory.optimal_step_size(lam) for lam in lams]
    eta_best = np.array([float(r.eta) for r in results])
    etas = np.linspace(0.0, 2.0, n_steps)[None, :] * eta_best[:, None]
    paths = 1.0 - etas[:, :, None] * lams[:, None, :]
    return {
        "eigenvalues": lams,
        "paths": paths,
        "etas": etas,
        "eta_best": eta_best,
        "rho": np.array([float(r.rho) for r in results]),
        "at_best": 1.0 - eta_best[:, None] * lams,
        "active": np.array([np.asarray(r.active) for r in results]),
        "tangent": np.array([bool(r.tangent) for r in results]),
        "eta_bounds": np.array([np.asarray(r.eta_bounds, dtype=float) for r in results]),
        "rho_squared_bounds": np.array(
            [np.asarray(r.rho_squared_bounds, dtype=float) for r in results]
        ),
        "titles": np.array([f"Sp(∇v) = {{{', '.join(map(fmt_complex, s))}}}" for s in lams]),
    }


# -- 3. Theorem 3 ----------------------------------------------------------------------------


def momentum_eigenvalues_data(lam: complex = 1.0 + 1.5j, *, n_betas: int = 801) -> Data:
    """Theorem 3: ``μ±(β, η, λ)`` for β ∈ (−1, 1), at the optimal (η, β) for the spectrum
    ``{λ, conj λ}`` (:func:`spectra.theory.optimal_momentum`)."""
    n_betas = count("n_betas", n_betas, minimum=2)
    best = theory.optimal_momentum([lam])
    eta = float(best.eta)
    betas = np.linspace(-0.999, 0.999, n_betas)
    mu_plus, mu_minus = theory.momentum_eigenvalues(lam, eta=eta, beta=betas)
    return {
        "lam": np.complex128(lam),
        "eta": np.float64(eta),
        "betas": betas,
        "mu_plus": np.asarray(mu_plus),
        "mu_minus": np.asarray(mu_minus),
        "rate": np.asarray(theory.momentum_rate(lam, eta=eta, beta=betas)),
        "beta_star": np.float64(best.beta),
        "rho_star": np.float64(best.rho),
        "gd_eta": np.float64(best.gd_eta),
        "gd_rho": np.float64(best.gd_rho),
    }


# -- 4. the rate map ---------------------------------------------------------------------------

RATE_MAP_SPECTRUM = (1 + 1.5j, 2 + 1j, 3 + 0.5j)


def _rate_map(eigenvalues, etas, betas) -> np.ndarray:
    return np.asarray(sweeps.rate_map(eigenvalues, etas, betas))


def rate_map_data(
    eigenvalues: Sequence[complex] = RATE_MAP_SPECTRUM,
    *,
    n_eta: int = 161,
    n_beta: int = 121,
) -> Data:
    """The worst momentum rate over a grid of (η, β), the optimum, GD's optimum and ``I(λ)``."""
    n_eta = count("n_eta", n_eta, minimum=2)
    n_beta = count("n_beta", n_beta, minimum=2)
    lam = np.asarray(eigenvalues, dtype=complex)
    best = theory.optimal_momentum(lam)
    betas = np.linspace(-0.95, 0.95, n_beta)
    # No β ∈ (−1, 1) is stable beyond momentum_step_bound; crop to the stable columns + 15%.
    bound = float(theory.momentum_step_bound(lam))
    coarse = np.linspace(bound / n_eta, bound, n_eta)
    stable = np.flatnonzero(np.min(_rate_map(lam, coarse, betas), axis=0) < 1.0)
    eta_hi = min(bound, 1.15 * coarse[stable[-1]]) if stable.size else bound
    etas = np.linspace(eta_hi / n_eta, eta_hi, n_eta)
    lo, hi = theory.momentum_interval(lam)
    cap = theory.interval_intersection(lam)
    return {
        "etas": etas,
        "betas": betas,
        "rates": _rate_map(lam, etas, betas),
        "eta_star": np.float64(best.eta),
        "beta_star": np.float64(best.beta),
        "rho_star": np.float64(best.rho),
        "gd_eta": np.float64(best.gd_eta),
        "gd_rho": np.float64(best.gd_rho),
        "intervals": np.stack([np.asarray(lo), np.asarray(hi)], axis=1),
        "intersection": np.array([float(cap.lo), float(cap.hi)]),
        "eigenvalues": lam,
    }


# -- 5. Lemma 11 and consensus ------------------------------------------------------------------

STABILITY_SPECTRUM = (0.15 + 1.0j, 0.6 + 0.4j)


def stability_data(
    eigenvalues: Sequence[complex] = STABILITY_SPECTRUM,
    *,
    gamma: float = 1.0,
    n_steps: int = 90,
    seed: int = 0,
) -> Data:
    """Lecture Fig. 1 / Lemma 11: the spectrum of ``I + hA`` (``A = −∇v``) as h grows, for
    gradient descent and for consensus optimization (``A = −∇(v + γ∇½‖v‖²)``), on a dense
    quadratic game with the given spectrum (:func:`spectra.zoo.with_spectrum`)."""
    n_steps = count("n_steps", n_steps, minimum=2)
    gamma = non_negative("gamma", gamma)
    game = zoo.with_spectrum(eigenvalues, key=jax.random.PRNGKey(seed))
    w_star = game.point()
    jac = games.jacobian(game, w_star)
    jac_consensus = jax.jacfwd(lambda w: ops.consensus_field(game, w, gamma=gamma))(w_star)
    bounds = np.array(
        [
            float(theory.max_stable_step(np.linalg.eigvals(np.asarray(j))))
            for j in (jac, jac_consensus)
        ]
    )
    steps = np.linspace(0.0, 1.3 * bounds.max(), n_steps + 1)[1:]
    # γ goes in as a jit argument: operators.consensus cannot check a Python float under jit.
    makers = (
        lambda h, g: ops.simultaneous(game, eta=h),
        lambda h, g: ops.consensus(game, eta=h, gamma=g),
    )
    spectra, radius = [], []
    for make in makers:
        sweep = jax.vmap(lambda h, g, make=make: ops.spectrum(make(h, g), w_star), (0, None))
        spec = jax.jit(sweep)(steps, gamma)
        spectra.append(np.asarray(spec))
        radius.append(np.max(np.abs(np.asarray(spec)), axis=1))
    return {
        "steps": steps,
        "spectra": np.array(spectra),
        "radius": np.array(radius),
        "max_stable_step": bounds,
        "jacobian_eigenvalues": np.array(
            [np.linalg.eigvals(np.asarray(j)) for j in (jac, jac_consensus)]
        ),
        "gamma": np.float64(gamma),
        "titles": np.array(["gradient descent: I − h∇v", f"consensus, γ = {gamma:g}"]),
    }
