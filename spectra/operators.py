"""Update rules as fixed-point operators ``F: state -> state``, and their Jacobians.

Every gradient method for a game is the repeated application of an operator ``F``; near a fixed
point ``ω*`` its local linear rate is the spectral radius of ``∇F(ω*)`` (Gidel et al. 2019,
Theorem 1; lecture Proposition 6). Methods with memory (heavy-ball momentum, optimistic
gradient) act on the augmented state ``(ω_t, ω_{t−1})``, stacked as one flat vector of length
``2n``, so their Jacobian is square and its spectrum is the one the theorems speak of (paper eq. 6).

Each factory takes a :class:`~spectra.games.Game` and keyword-only hyperparameters and returns an
:class:`UpdateOperator`. Step sizes ``eta`` and momenta ``beta`` are per player: a scalar (both
players) or a pair ``(for φ, for θ)``. They may be traced values, so a factory can be called inside
``jit``/``vmap`` (a sweep over η and β does exactly that).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from spectra import checks
from spectra.games import Game, flat_vector, vector_field

Array = jax.Array

__all__ = [
    "UpdateOperator",
    "simultaneous",
    "alternating",
    "momentum",
    "extragradient",
    "optimistic",
    "consensus",
    "consensus_field",
    "initial_state",
    "current_point",
    "fixed_point_state",
    "jacobian",
    "spectrum",
    "spectral_radius",
    "iterate",
    "distances",
    "fitted_rate",
]


class UpdateOperator(NamedTuple):
    """A fixed-point operator on a flat state.

    Attributes:
        apply: ``state -> state``; pure, ``jit``/``vmap``-able.
        n: dimension of the game (``len(ω)``).
        memory: whether the state is the augmented ``(ω_t, ω_{t−1})`` of length ``2n``.
        name: a label.
    """

    apply: Callable[[Array], Array]
    n: int
    memory: bool
    name: str

    def __call__(self, state: Array) -> Array:
        if jnp.shape(state) != (self.state_size,):  # static: free under jit
            raise ValueError(
                f"state: expected shape ({self.state_size},) for {self.name}, got {jnp.shape(state)}"
            )
        return self.apply(state)

    @property
    def state_size(self) -> int:
        return 2 * self.n if self.memory else self.n


def _per_player(game: Game, value, name: str, *, positive: bool) -> tuple[Array, Array]:
    """Split a scalar-or-pair hyperparameter into per-coordinate vectors for φ and θ."""
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name}: expected a scalar or a pair (for φ, for θ), got {value!r}")
        v_phi, v_theta = value
    else:
        v_phi = v_theta = value
    for v, who in ((v_phi, "φ"), (v_theta, "θ")):
        if isinstance(v, jax.core.Tracer):
            continue
        arr = np.asarray(v)  # concrete: check on the host, so this also works inside jit
        if arr.dtype.kind not in "iuf":
            raise ValueError(f"{name}: expected a real number for player {who}, got {v!r}")
        if arr.ndim != 0:
            raise ValueError(f"{name}: expected a scalar for player {who}, got shape {arr.shape}")
        if not np.isfinite(arr):
            raise ValueError(f"{name}: expected a finite value for player {who}, got {v}")
        if positive and not arr > 0:
            raise ValueError(f"{name}: expected a step size > 0 for player {who}, got {v}")
    dtype = game.dtype
    return jnp.asarray(v_phi, dtype), jnp.asarray(v_theta, dtype)


def _coordinatewise(game: Game, pair: tuple[Array, Array]) -> Array:
    a, b = pair
    return jnp.concatenate([jnp.full(game.n_phi, a), jnp.full(game.n_theta, b)])


def _split_state(n: int, state: Array) -> tuple[Array, Array]:
    return state[:n], state[n:]


def simultaneous(game: Game, *, eta) -> UpdateOperator:
    """Simultaneous gradient descent ``F_η(ω) = ω − η v(ω)`` (paper eq. 3; lecture eq. 10)."""
    eta_vec = _coordinatewise(game, _per_player(game, eta, "eta", positive=True))

    def apply(w):
        return w - eta_vec * vector_field(game, w)

    return UpdateOperator(apply, game.n, False, "simultaneous")


def alternating(game: Game, *, eta, first: str = "phi") -> UpdateOperator:
    """Alternating gradient descent: one player steps, then the other sees its new parameters.

    With ``first="phi"`` (the discriminator first, as in GAN training):
    ``φ⁺ = φ − η_φ ∇_φ L_φ(φ, θ)``, then ``θ⁺ = θ − η_θ ∇_θ L_θ(φ⁺, θ)``.
    """
    return _alternating_momentum(game, eta=eta, beta=0.0, first=first, memory=False)


def momentum(game: Game, *, eta, beta, alternating: bool = False, first: str = "phi"):
    """Heavy-ball momentum on the augmented state ``(ω_t, ω_{t−1})`` (paper eq. 5; lecture eq. 17).

    ``ω_{t+1} = ω_t − η v(ω_t) + β (ω_t − ω_{t−1})`` with ``β ∈ ℝ``, negative allowed. With
    ``alternating=True`` the second player's gradient is taken at the first player's new
    parameters (the alternating method of the paper's Table 1), each player keeping its own
    momentum term. The Jacobian of the simultaneous form is paper eq. 6, whose eigenvalues
    are given in closed form by Theorem 3 (:func:`spectra.theory.momentum_eigenvalues`).
    """
    if alternating:
        return _alternating_momentum(game, eta=eta, beta=beta, first=first, memory=True)
    eta_vec = _coordinatewise(game, _per_player(game, eta, "eta", positive=True))
    beta_vec = _coordinatewise(game, _per_player(game, beta, "beta", positive=False))
    n = game.n

    def apply(state):
        w, w_prev = _split_state(n, state)
        w_next = w - eta_vec * vector_field(game, w) + beta_vec * (w - w_prev)
        return jnp.concatenate([w_next, w])

    return UpdateOperator(apply, n, True, "momentum")


def _alternating_momentum(game: Game, *, eta, beta, first: str, memory: bool) -> UpdateOperator:
    if first not in ("phi", "theta"):
        raise ValueError(f"first: expected 'phi' or 'theta', got {first!r}")
    eta_phi, eta_theta = _per_player(game, eta, "eta", positive=True)
    beta_phi, beta_theta = _per_player(game, beta, "beta", positive=False)
    n, n_phi = game.n, game.n_phi

    def step(w, w_prev):
        phi, theta = w[:n_phi], w[n_phi:]
        phi_prev, theta_prev = w_prev[:n_phi], w_prev[n_phi:]
        if first == "phi":
            phi = phi - eta_phi * game.grad_phi(w) + beta_phi * (phi - phi_prev)
            w_mid = jnp.concatenate([phi, theta])
            theta = theta - eta_theta * game.grad_theta(w_mid) + beta_theta * (theta - theta_prev)
        else:
            theta = theta - eta_theta * game.grad_theta(w) + beta_theta * (theta - theta_prev)
            w_mid = jnp.concatenate([phi, theta])
            phi = phi - eta_phi * game.grad_phi(w_mid) + beta_phi * (phi - phi_prev)
        return jnp.concatenate([phi, theta])

    if memory:

        def apply(state):
            w, w_prev = _split_state(n, state)
            return jnp.concatenate([step(w, w_prev), w])

        return UpdateOperator(apply, n, True, "alternating_momentum")

    def apply_plain(w):
        return step(w, w)

    return UpdateOperator(apply_plain, n, False, "alternating")


def extragradient(game: Game, *, eta) -> UpdateOperator:
    """Extragradient (Korpelevich 1976): ``ω⁺ = ω − η v(ω − η v(ω))``."""
    eta_vec = _coordinatewise(game, _per_player(game, eta, "eta", positive=True))

    def apply(w):
        w_half = w - eta_vec * vector_field(game, w)
        return w - eta_vec * vector_field(game, w_half)

    return UpdateOperator(apply, game.n, False, "extragradient")


def optimistic(game: Game, *, eta) -> UpdateOperator:
    """Optimistic gradient (Daskalakis et al. 2018) on ``(ω_t, ω_{t−1})``:
    ``ω_{t+1} = ω_t − 2η v(ω_t) + η v(ω_{t−1})``."""
    eta_vec = _coordinatewise(game, _per_player(game, eta, "eta", positive=True))
    n = game.n

    def apply(state):
        w, w_prev = _split_state(n, state)
        w_next = w - 2.0 * eta_vec * vector_field(game, w) + eta_vec * vector_field(game, w_prev)
        return jnp.concatenate([w_next, w])

    return UpdateOperator(apply, n, True, "optimistic")


def consensus_field(game: Game, w: Array, *, gamma) -> Array:
    """The consensus field ``v + γ ∇(½‖v‖²) = v + γ ∇vᵀ v`` (lecture eq. 15; Mescheder et al. 2017).

    ``∇(½‖v‖²)`` is computed matrix-free as one vector-Jacobian product.
    """
    v, pullback = jax.vjp(lambda x: vector_field(game, x), w)
    return v + gamma * pullback(v)[0]


def consensus(game: Game, *, eta, gamma) -> UpdateOperator:
    """Consensus optimization: ``ω⁺ = ω − η (v + γ ∇½‖v‖²)(ω)`` (lecture eq. 15)."""
    eta_vec = _coordinatewise(game, _per_player(game, eta, "eta", positive=True))
    if not isinstance(gamma, jax.core.Tracer):
        g = np.asarray(gamma)
        if g.dtype.kind not in "iuf" or g.ndim != 0 or not np.isfinite(g) or g < 0:
            raise ValueError(f"gamma: expected a finite scalar >= 0, got {gamma!r}")

    def apply(w):
        return w - eta_vec * consensus_field(game, w, gamma=gamma)

    return UpdateOperator(apply, game.n, False, "consensus")


# -- states -------------------------------------------------------------------------------


def initial_state(op: UpdateOperator, w0: Array, w_prev: Array | None = None) -> Array:
    """The operator's state at ``ω_0`` (with ``ω_{−1} = ω_0`` unless given, for memory)."""
    w0 = flat_vector(w0, op.n, "w0")
    if not op.memory:
        if w_prev is not None:
            raise ValueError(f"w_prev: {op.name} has no memory; its state is ω_t alone")
        return w0
    w_prev = w0 if w_prev is None else flat_vector(w_prev, op.n, "w_prev").astype(w0.dtype)
    return jnp.concatenate([w0, w_prev])


def current_point(op: UpdateOperator, state: Array) -> Array:
    """``ω_t`` from a state (the first half of an augmented state)."""
    return state[: op.n]


def fixed_point_state(op: UpdateOperator, w_star: Array) -> Array:
    """The fixed point of ``F`` that corresponds to a stationary point ``ω*``: ``(ω*, ω*)``."""
    return initial_state(op, w_star)


# -- Jacobians and spectra ------------------------------------------------------------------


def _check_state(op: UpdateOperator, state: Array) -> Array:
    return flat_vector(state, op.state_size, "state")


def jacobian(op: UpdateOperator, state: Array) -> Array:
    """Dense ``∇F(state)`` by forward-mode autodiff of the operator itself."""
    state = _check_state(op, state)
    return jax.jacfwd(op.apply)(state)


def spectrum(op: UpdateOperator, state: Array) -> Array:
    """Eigenvalues of ``∇F(state)`` (dense; for large games use :mod:`spectra.eigensolvers`)."""
    return jnp.linalg.eigvals(jacobian(op, state))


def spectral_radius(op: UpdateOperator, state: Array) -> Array:
    """``ρ(∇F(state)) = max |μ|``: the local linear rate (paper Theorem 1)."""
    return jnp.max(jnp.abs(spectrum(op, state)))


# -- iteration ------------------------------------------------------------------------------


def iterate(op: UpdateOperator, state: Array, steps: int) -> Array:
    """The states ``F^t(state)`` for ``t = 0 .. steps``, shape ``(steps + 1, state_size)``."""
    state = _check_state(op, state)
    steps = checks.count("steps", steps, minimum=0)

    def body(s, _):
        s_next = op.apply(s)
        return s_next, s_next

    _, states = jax.lax.scan(body, state, None, length=int(steps))
    return jnp.concatenate([state[None], states])


def distances(op: UpdateOperator, states: Array, w_star: Array) -> Array:
    """``‖ω_t − ω*‖`` along a trajectory of states (``(T, state_size)``, as :func:`iterate`)."""
    states = jnp.asarray(states)
    if states.ndim != 2 or states.shape[1] != op.state_size:
        raise ValueError(
            f"states: expected shape (T, {op.state_size}) as from iterate, got {states.shape}"
        )
    w_star = flat_vector(w_star, op.n, "w_star")
    return jnp.linalg.norm(states[:, : op.n] - w_star[None], axis=1)


def _positive_finite(x: np.ndarray) -> bool:
    return x.dtype.kind in "iuf" and bool(np.all(np.isfinite(x) & (x > 0)))


def fitted_rate(dists: Array, *, burn_in: int = 0) -> Array:
    """The linear rate fitted to ``‖ω_t − ω*‖``: ``exp`` of the least-squares slope of its log.

    Compare with ``spectral_radius`` (Theorem 1 / Proposition 6); ``burn_in`` skips the transient.
    ``dists`` is 1-D with at least two entries after ``burn_in``; concrete distances must be finite
    and > 0 there (a log is fitted: a trajectory that reached ω* exactly, or overflowed, has no
    rate), else a ``ValueError``. Under ``jit`` only the shapes are checked.
    """
    d = jnp.asarray(dists)
    if d.ndim != 1:
        raise ValueError(f"dists: expected a 1-D array of distances, got shape {d.shape}")
    burn_in = checks.count("burn_in", burn_in, minimum=0)
    if d.shape[0] - burn_in < 2:
        raise ValueError(
            f"burn_in: expected at least 2 distances after it, got burn_in={burn_in} of "
            f"{d.shape[0]} distances"
        )
    if not isinstance(d, jax.core.Tracer) and not _positive_finite(np.asarray(d)[burn_in:]):
        raise ValueError(
            "dists: expected finite distances > 0 after burn_in (their log is fitted); the "
            "trajectory reached ω* exactly, overflowed or holds NaN"
        )
    d = d[burn_in:]
    d = d.astype(jnp.result_type(d.dtype, jnp.float32))
    t = jnp.arange(d.shape[0], dtype=d.dtype)
    y = jnp.log(d)
    t_c, y_c = t - t.mean(), y - y.mean()
    return jnp.exp(jnp.sum(t_c * y_c) / jnp.sum(t_c * t_c))
