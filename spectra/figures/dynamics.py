"""The arrays behind the figures of iterates: paper Fig. 1 and Table 1 (the bilinear game), and
measured rates against the spectral radius (Theorem 1 / Proposition 6)."""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from spectra import operators as ops
from spectra import theory, zoo
from spectra.checks import count, finite, positive

__all__ = ["bilinear_data", "bilinear_table", "rates_data", "rates_table", "RATES_SPECTRUM"]

Data = dict[str, np.ndarray]


# -- 2. paper Fig. 1 and Table 1 --------------------------------------------------------------


def bilinear_data(
    *,
    eta: float = 0.5,
    betas: Sequence[float] = (-0.5, 0.0, 0.3),
    steps: int = 120,
    w0: Sequence[float] = (1.0, 1.0),
) -> Data:
    """Paper Fig. 1 / Table 1: ``min_θ max_φ θφ`` under simultaneous and alternating momentum.

    Table 1's outcomes are measured on the runs: *bounded* if ``max_t ‖ω_t‖ ≤ 3‖ω_0‖``,
    *converges* if ``‖ω_T‖ ≤ 0.1‖ω_0‖``; the spectral radius at the equilibrium is reported too.
    ``w0`` must differ from the equilibrium ``(0, 0)``: from there every run stays put and the
    two tests above would call every method convergent.
    """
    eta = positive("eta", eta)
    steps = count("steps", steps, minimum=1)
    betas = tuple(finite("betas", b) for b in np.ravel(np.asarray(betas, dtype=object)))
    if not betas:
        raise ValueError("betas: expected at least one momentum value")
    game = zoo.bilinear()
    w_star = game.point()
    start = jnp.asarray(w0, dtype=w_star.dtype)
    if start.shape != w_star.shape:
        raise ValueError(f"w0: expected shape {w_star.shape}, got {start.shape}")
    if not bool(jnp.all(jnp.isfinite(start))) or float(jnp.linalg.norm(start - w_star)) == 0:
        raise ValueError(f"w0: expected a finite start away from the equilibrium (0, 0), got {w0}")
    runs = []
    for alternating in (False, True):
        for beta in betas:
            op = ops.momentum(game, eta=eta, beta=beta, alternating=alternating)
            states = ops.iterate(op, ops.initial_state(op, start), steps)
            rho = ops.spectral_radius(op, ops.fixed_point_state(op, w_star))
            runs.append((alternating, beta, states[:, : game.n], rho))
    points = np.array([np.asarray(r[2]) for r in runs])  # (k, T+1, 2), columns (φ, θ)
    distances = np.linalg.norm(points - np.asarray(w_star), axis=-1)
    d0 = distances[:, :1]
    return {
        "phi": points[:, :, 0],
        "theta": points[:, :, 1],
        "distances": distances,
        "betas": np.array([float(r[1]) for r in runs]),
        "alternating": np.array([r[0] for r in runs]),
        "spectral_radius": np.array([float(r[3]) for r in runs]),
        "bounded": np.max(distances, axis=1) <= 3.0 * d0[:, 0],
        "converges": distances[:, -1] <= 0.1 * d0[:, 0],
        "eta": np.float64(eta),
    }


def bilinear_table(data: Data) -> tuple[list[str], list[list]]:
    header = ["method", "beta", "spectral_radius", "bounded", "converges", "final_distance"]
    rows = [
        [
            "alternating" if data["alternating"][k] else "simultaneous",
            float(data["betas"][k]),
            float(data["spectral_radius"][k]),
            bool(data["bounded"][k]),
            bool(data["converges"][k]),
            float(data["distances"][k, -1]),
        ]
        for k in range(len(data["betas"]))
    ]
    return header, rows


# -- 8. measured rates ---------------------------------------------------------------------------

RATES_SPECTRUM = (0.3 + 1.2j, 1.0 + 0.3j, 0.7)


def rates_data(
    eigenvalues: Sequence[complex] = RATES_SPECTRUM,
    *,
    steps: int = 200,
    seed: int = 0,
    floor: float = 1e-12,
    burn_in: int = 10,
) -> Data:
    """``‖ω_t − ω*‖`` for several methods on a dense quadratic game with the given spectrum, the
    rate fitted to each (:func:`spectra.operators.fitted_rate`, on ``d_t > floor · d_0``) and the
    spectral radius of each operator at ω* (Theorem 1 / Proposition 6).

    Step sizes: gradient descent at Theorem 2's ``η_best``; momentum at the optimal (η, β)
    (:func:`spectra.theory.optimal_momentum`) and at ``η_best`` with β = +0.2; extragradient,
    optimistic gradient and consensus (γ = 0.6) at fixed steps.
    """
    burn_in = count("burn_in", burn_in, minimum=0)
    steps = count("steps", steps, minimum=burn_in + 2, why="burn_in + 2")
    floor = positive("floor", floor)
    if floor >= 1:
        raise ValueError(f"floor: expected a fraction of ‖ω_0 − ω*‖ in (0, 1), got {floor:g}")
    game = zoo.with_spectrum(eigenvalues, key=jax.random.PRNGKey(seed))
    w_star = game.point()
    gd = theory.optimal_step_size(np.asarray(eigenvalues, dtype=complex))
    best = theory.optimal_momentum(np.asarray(eigenvalues, dtype=complex))
    eta_gd = float(gd.eta)
    methods = (
        (f"GD, η_best = {eta_gd:.3f}", ops.simultaneous(game, eta=eta_gd)),
        (
            f"momentum η = {float(best.eta):.3f}, β = {float(best.beta):.3f}",
            ops.momentum(game, eta=float(best.eta), beta=float(best.beta)),
        ),
        ("momentum η_best, β = +0.2", ops.momentum(game, eta=eta_gd, beta=0.2)),
        ("extragradient η = 0.4", ops.extragradient(game, eta=0.4)),
        ("optimistic η = 0.3", ops.optimistic(game, eta=0.3)),
        ("consensus η = 0.4, γ = 0.6", ops.consensus(game, eta=0.4, gamma=0.6)),
    )
    direction = jax.random.normal(jax.random.PRNGKey(seed + 1), (game.n,), w_star.dtype)
    start = w_star + direction / jnp.linalg.norm(direction)
    distances, rho, fitted = [], [], []
    for name, op in methods:
        states = ops.iterate(op, ops.initial_state(op, start), steps)
        d = np.asarray(ops.distances(op, states, w_star))
        usable = d > floor * d[0]
        stop = int(np.argmin(usable)) if not usable.all() else d.size
        if stop < burn_in + 2:
            raise ValueError(
                f"burn_in: {name} reaches the floor {floor:g} · d_0 after {stop} steps, leaving "
                f"fewer than 2 distances to fit after burn_in = {burn_in}; lower burn_in or floor"
            )
        fitted.append(float(ops.fitted_rate(jnp.asarray(d[:stop]), burn_in=burn_in)))
        distances.append(np.where(usable, d, np.nan))
        rho.append(float(ops.spectral_radius(op, ops.fixed_point_state(op, w_star))))
    return {
        "methods": np.array([m for m, _ in methods]),
        "distances": np.array(distances),
        "spectral_radius": np.array(rho),
        "fitted_rate": np.array(fitted),
        "burn_in": np.int64(burn_in),
        "eigenvalues": np.asarray(eigenvalues, dtype=complex),
    }


def rates_table(data: Data) -> tuple[list[str], list[list]]:
    header = ["method", "spectral_radius", "fitted_rate"]
    rows = [
        [str(m), float(r), float(f)]
        for m, r, f in zip(
            data["methods"], data["spectral_radius"], data["fitted_rate"], strict=True
        )
    ]
    return header, rows
