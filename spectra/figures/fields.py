"""The arrays behind the vector-field figures: lecture Fig. 2 (v, −∇½‖v‖², the consensus field)
on a 2-D game with several stationary points, and the Dirac-GAN (Mescheder et al. 2018)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from spectra import games, zoo
from spectra import operators as ops
from spectra.checks import count, finite, non_negative, positive
from spectra.equilibria import nash_report

__all__ = ["stationary_points", "fields_data", "dirac_gan_data"]

Data = dict[str, np.ndarray]


# -- 6. lecture Fig. 2 -----------------------------------------------------------------------------


def stationary_points(
    field: Callable[[jax.Array], jax.Array],
    *,
    box: float,
    n_starts: int = 13,
    iterations: int = 60,
    tol: float = 1e-9,
) -> np.ndarray:
    """Zeros of a 2-D field in ``[−box, box]²``: Newton's method (least-squares steps, so a
    singular Jacobian does not stop it) from a grid of starts, deduplicated. ``(p, 2)``."""
    jac = jax.jacfwd(field)

    def newton(w):
        def body(x, _):
            return x - jnp.linalg.lstsq(jac(x), field(x))[0], None

        w, _ = jax.lax.scan(body, w, None, length=iterations)
        return w, jnp.linalg.norm(field(w))

    axis = np.linspace(-box, box, n_starts)
    starts = jnp.asarray(np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2))
    ends, residual = (np.asarray(x) for x in jax.jit(jax.vmap(newton))(starts))
    keep = (residual < tol) & (np.max(np.abs(ends), axis=1) <= box)
    found: list[np.ndarray] = []
    for w in ends[keep]:
        if all(np.linalg.norm(w - p) > 1e-6 for p in found):
            found.append(w)
    found.sort(key=lambda p: (round(p[0], 6), round(p[1], 6)))
    return np.array(found).reshape(-1, 2)


def _attractive(field, w) -> bool:
    """Whether the flow ``−field`` attracts at its zero ``w``: every eigenvalue of ∇field has
    ``Re > 0`` (Theorem 1 for small steps)."""
    return bool(np.all(np.linalg.eigvals(np.asarray(jax.jacfwd(field)(jnp.asarray(w)))).real > 0))


def _grid_field(field, theta: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A field evaluated on the grid, as ``(θ-component, φ-component)``, each ``(ny, nx)``."""
    tt, pp = np.meshgrid(theta, phi)
    w = jnp.asarray(np.stack([pp.ravel(), tt.ravel()], axis=1))  # (φ, θ) order of the game
    values = np.asarray(jax.jit(jax.vmap(field))(w))
    return values[:, 1].reshape(tt.shape), values[:, 0].reshape(tt.shape)


def fields_data(
    *, damping: float = 0.2, gamma: float = 0.5, box: float = 2.5, n_grid: int = 41
) -> Data:
    """Lecture Fig. 2: ``v``, ``∇½‖v‖²`` and the consensus field ``v + γ∇½‖v‖²`` of
    :func:`spectra.zoo.sine_game`, their zeros, and which are attractive under each."""
    damping = finite("damping", damping)
    gamma = non_negative("gamma", gamma)
    box = positive("box", box)
    n_grid = count("n_grid", n_grid, minimum=2)
    game = zoo.sine_game(damping=damping)

    def v(w):
        return games.vector_field(game, w)

    def grad_half_norm(w):
        return jax.grad(lambda x: 0.5 * jnp.sum(games.vector_field(game, x) ** 2))(w)

    def combined(w):
        return ops.consensus_field(game, w, gamma=gamma)

    fields = (v, grad_half_norm, combined)
    axis = np.linspace(-box, box, n_grid)
    grids = [_grid_field(f, axis, axis) for f in fields]
    points = stationary_points(v, box=box)
    local_nash = [_local_nash(game, p) for p in points]
    attractive = np.array([[_attractive(f, p) for p in points] for f in fields])
    extra = []
    for i, f in enumerate(fields[1:], start=1):
        for z in stationary_points(f, box=box):
            if np.min(np.linalg.norm(points - z, axis=1)) > 1e-6:
                extra.append((z, i, _attractive(f, z)))
    return {
        "theta": axis,
        "phi": axis,
        "field_theta": np.array([g[0] for g in grids]),
        "field_phi": np.array([g[1] for g in grids]),
        "titles": np.array(["−v", "−∇½‖v‖²", f"−(v + γ∇½‖v‖²), γ = {gamma:g}"]),
        "point_phi": points[:, 0],
        "point_theta": points[:, 1],
        "local_nash": np.array(local_nash),
        "attractive": attractive,
        "extra_phi": np.array([e[0][0] for e in extra]),
        "extra_theta": np.array([e[0][1] for e in extra]),
        "extra_field": np.array([e[1] for e in extra], dtype=int),
        "extra_attractive": np.array([e[2] for e in extra], dtype=bool),
    }


def _local_nash(game: games.Game, w) -> bool:
    """Lecture Lemma 9 / Corollary 10 at a stationary point (``None`` counts as not Nash)."""
    return bool(nash_report(game, jnp.asarray(w), atol=1e-6).local_nash)


# -- 7. the Dirac-GAN -------------------------------------------------------------------------------


def dirac_gan_data(
    *,
    eta: float = 0.3,
    steps: int = 150,
    penalty: float = 0.3,
    gamma: float = 1.0,
    w0: Sequence[float] = (1.0, 1.0),
    box: float = 2.0,
    n_grid: int = 31,
    n_weights: int = 81,
) -> Data:
    """The Dirac-GAN (Mescheder et al. 2018): the fields and runs of simultaneous and
    alternating gradient descent without regularisation, with the R1 gradient penalty, and
    consensus optimization; and the eigenvalues of ∇v at the equilibrium against the weight."""
    eta = positive("eta", eta)
    steps = count("steps", steps, minimum=1)
    penalty = non_negative("penalty", penalty)
    gamma = non_negative("gamma", gamma)
    box = positive("box", box)
    n_grid = count("n_grid", n_grid, minimum=2)
    n_weights = count("n_weights", n_weights, minimum=2)
    plain = zoo.dirac_gan()
    r1 = zoo.dirac_gan(gradient_penalty=penalty)
    w_star = plain.point()
    start = jnp.asarray(w0, dtype=w_star.dtype)
    axis = np.linspace(-box, box, n_grid)
    panels = (
        (lambda w: games.vector_field(plain, w), "no regularisation"),
        (lambda w: games.vector_field(r1, w), f"gradient penalty γ = {penalty:g}"),
        (lambda w: ops.consensus_field(plain, w, gamma=gamma), f"consensus γ = {gamma:g}"),
    )
    grids = [_grid_field(f, axis, axis) for f, _ in panels]
    runs = (
        (0, "simultaneous", ops.simultaneous(plain, eta=eta)),
        (0, "alternating", ops.alternating(plain, eta=eta)),
        (1, "simultaneous", ops.simultaneous(r1, eta=eta)),
        (1, "alternating", ops.alternating(r1, eta=eta)),
        (2, "consensus", ops.consensus(plain, eta=eta, gamma=gamma)),
    )
    trajectories = [
        np.asarray(ops.iterate(op, ops.initial_state(op, start), steps)) for *_, op in runs
    ]
    trajectories = np.array(trajectories)  # (r, T+1, 2) columns (ψ, θ)
    weights = np.linspace(0.0, 2.0, n_weights)
    eig_penalty = np.array(
        [np.linalg.eigvals(np.asarray(games.jacobian(zoo.dirac_gan(gradient_penalty=g), w_star)))
         for g in weights]
    )  # fmt: skip
    consensus_jac = jax.jit(
        jax.vmap(lambda g: jax.jacfwd(lambda w: ops.consensus_field(plain, w, gamma=g))(w_star))
    )(jnp.asarray(weights))
    return {
        "theta": axis,
        "phi": axis,
        "field_theta": np.array([g[0] for g in grids]),
        "field_phi": np.array([g[1] for g in grids]),
        "titles": np.array([t for _, t in panels]),
        "traj_theta": trajectories[:, :, 1],
        "traj_phi": trajectories[:, :, 0],
        "traj_panel": np.array([r[0] for r in runs]),
        "traj_label": np.array([r[1] for r in runs]),
        "weights": weights,
        "eig_penalty": eig_penalty,
        "eig_consensus": np.linalg.eigvals(np.asarray(consensus_jac)),
        "eta": np.float64(eta),
    }
