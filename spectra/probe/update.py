"""The update rule a run used, and the spectrum of its operator ∇F at a point.

A run's optimiser is described by an :class:`UpdateRule`: per-player step sizes η and heavy-ball
momenta β (negative allowed), alternating or simultaneous updates. For heavy-ball SGD the update is
the fixed-point operator ``F`` of :func:`spectra.operators.momentum` on the augmented state
``(ω_t, ω_{t−1})`` (paper eq. 5), and its local rate is the spectral radius of ∇F (Theorem 1).

Two ways to its spectrum, chosen by :func:`update_spectrum`:

- **Theorem 3** (closed form): for *simultaneous* updates with one η and one β for both players,
  every eigenvalue λ of ∇v gives the two eigenvalues ``μ±(β, η, λ)`` of ∇F (paper eq. 7), so the
  eigenvalues of ∇v already computed give those of ∇F at no extra cost.
- **Matrix-free**: otherwise (alternating updates, where no closed form applies, or per-player
  η, β), ARPACK on the Jacobian-vector products of the *actual* update step
  (:func:`spectra.operators.momentum`), differentiated by JAX at the fixed-point state ``(ω, ω)``
  (the state at which the paper linearises, eq. 6).

Adam has no fixed linear update operator; :func:`update_spectrum` then reports why it skipped.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from spectra import operators, theory
from spectra.games import Game
from spectra.matvecs import MatrixFreeOperator
from spectra.probe.products import anonymous, padded_columns, split_batch

Array = jax.Array

__all__ = ["UpdateRule", "summed_game", "UpdateOperatorProducts", "theorem3_spectrum"]


def _pair(value, name: str) -> tuple[float, float]:
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name}: expected a scalar or a pair (for φ, for θ), got {value!r}")
        a, b = value
    else:
        a = b = value
    try:
        a, b = float(a), float(b)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: expected real numbers, got {value!r}") from None
    if not (np.isfinite(a) and np.isfinite(b)):
        raise ValueError(f"{name}: expected finite values, got {value!r}")
    return a, b


@dataclasses.dataclass(frozen=True)
class UpdateRule:
    """How a run updated its players (paper eq. 5, per player; Table 1 for the orders).

    Attributes:
        eta: step sizes ``(η_φ, η_θ)`` (a scalar means both), each > 0.
        beta: heavy-ball momenta ``(β_φ, β_θ)``, each in (−1, 1); negative allowed.
        alternating: the second player sees the first one's new parameters.
        first: who moves first when alternating: ``"phi"`` (the discriminator, as GANs do).
        optimizer: ``(kind_φ, kind_θ)`` with kinds ``"sgd"`` (heavy ball) or ``"adam"``.
    """

    eta: tuple[float, float]
    beta: tuple[float, float] = (0.0, 0.0)
    alternating: bool = False
    first: str = "phi"
    optimizer: tuple[str, str] = ("sgd", "sgd")

    def __post_init__(self):
        eta, beta = _pair(self.eta, "eta"), _pair(self.beta, "beta")
        if min(eta) <= 0:
            raise ValueError(f"eta: expected step sizes > 0, got {eta}")
        if not all(-1.0 < b < 1.0 for b in beta):
            raise ValueError(f"beta: expected momenta in (-1, 1), got {beta}")
        if self.first not in ("phi", "theta"):
            raise ValueError(f"first: expected 'phi' or 'theta', got {self.first!r}")
        opt = (self.optimizer,) * 2 if isinstance(self.optimizer, str) else tuple(self.optimizer)
        if len(opt) != 2 or any(o not in ("sgd", "adam") for o in opt):
            raise ValueError(
                f"optimizer: expected 'sgd' or 'adam' per player, got {self.optimizer!r}"
            )
        object.__setattr__(self, "eta", eta)
        object.__setattr__(self, "beta", beta)
        object.__setattr__(self, "alternating", bool(self.alternating))
        object.__setattr__(self, "optimizer", opt)

    @classmethod
    def from_config(cls, config: Any) -> UpdateRule:
        """From a trainer configuration (``d_lr, g_lr, d_beta, g_beta, updates, d_optimizer,
        g_optimizer``; φ is the discriminator, which moves first when alternating)."""
        return cls(
            eta=(config.d_lr, config.g_lr),
            beta=(config.d_beta, config.g_beta),
            alternating=config.updates == "alternating",
            first="phi",
            optimizer=(config.d_optimizer, config.g_optimizer),
        )

    @property
    def heavy_ball(self) -> bool:
        """Whether both players use heavy-ball SGD (the operator of paper eq. 5)."""
        return self.optimizer == ("sgd", "sgd")

    @property
    def theorem3_applies(self) -> bool:
        """Simultaneous heavy ball with one η and one β: paper Theorem 3 gives Sp(∇F)."""
        return (
            self.heavy_ball
            and not self.alternating
            and self.eta[0] == self.eta[1]
            and self.beta[0] == self.beta[1]
        )

    def describe(self) -> str:
        order = f"alternating ({self.first} first)" if self.alternating else "simultaneous"
        return (
            f"{order}; φ: {self.optimizer[0]} η={self.eta[0]:g} β={self.beta[0]:g}; "
            f"θ: {self.optimizer[1]} η={self.eta[1]:g} β={self.beta[1]:g}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "eta": list(self.eta),
            "beta": list(self.beta),
            "alternating": self.alternating,
            "first": self.first,
            "optimizer": list(self.optimizer),
        }


def theorem3_spectrum(eigenvalues, *, eta: float, beta: float) -> np.ndarray:
    """The eigenvalues ``μ₊, μ₋`` of ∇F_{η,β} that the given eigenvalues of ∇v become
    (paper Theorem 3, eq. 7), interleaved ``[μ₊(λ₁), μ₋(λ₁), μ₊(λ₂), …]``."""
    lam = np.asarray(eigenvalues, dtype=np.complex128)
    plus, minus = theory.momentum_eigenvalues(jnp.asarray(lam), eta=eta, beta=beta)
    return np.stack([np.asarray(plus), np.asarray(minus)], axis=1).reshape(-1)


# -- the game of a large batch, summed over minibatches ---------------------------------------


@functools.lru_cache(maxsize=64)
def _summed_losses(loss_phi: Callable, loss_theta: Callable, weights: tuple[float, ...]):
    """Loss functions ``(φ, θ, chunks) -> Σ_c w_c L(φ, θ, chunk_c)`` (cached: same objects for
    the same game, so jitted code keyed on them compiles once)."""

    def summed(loss):
        def total(phi, theta, chunks):
            out = 0.0
            for weight, chunk in zip(weights, chunks, strict=True):  # unrolled on purpose
                out = out + weight * loss(phi, theta, chunk)
            return out

        return total

    return summed(loss_phi), summed(loss_theta)


def summed_game(game: Game, minibatch: int | None) -> Game:
    """The same game whose losses sum minibatch losses (weights ``n_c / N``; exact for losses that
    are means over the batch). Lets any code built on ``vector_field`` — the update operators
    included — run on a batch too large to differentiate at once. The sum is an unrolled Python
    loop (XLA's CPU backend is slow on convolutions inside a rolled ``scan``)."""
    chunks = split_batch(game.data, minibatch)
    if len(chunks) == 1:
        return game
    weights = tuple(w for w, _ in chunks)
    loss_phi, loss_theta = _summed_losses(game.loss_phi, game.loss_theta, weights)
    return dataclasses.replace(
        game, loss_phi=loss_phi, loss_theta=loss_theta, data=tuple(c for _, c in chunks)
    )


# -- products of ∇F ------------------------------------------------------------------------------


@functools.partial(jax.jit, static_argnames=("alternating", "first"))
def _update_jvp(game, state, eta, beta, tangents, *, alternating, first):
    op = operators.momentum(game, eta=eta, beta=beta, alternating=alternating, first=first)
    return jax.vmap(lambda t: jax.jvp(op.apply, (state,), (t,))[1], in_axes=1, out_axes=1)(tangents)


class UpdateOperatorProducts:
    """Products with ∇F at the fixed-point state ``(ω, ω)``: JVPs of the actual update step.

    ``F = spectra.operators.momentum(game, eta=rule.eta, beta=rule.beta,
    alternating=rule.alternating)`` on the summed game (see :func:`summed_game`); the state has
    size ``2n``. Counts products in ``n_products``.
    """

    def __init__(
        self,
        game: Game,
        w: Array,
        rule: UpdateRule,
        *,
        minibatch: int | None = None,
        max_columns: int | None = None,
        on_product: Callable[[int], None] | None = None,
    ):
        if not rule.heavy_ball:
            raise ValueError(
                f"rule: the update operator is defined for heavy-ball SGD only, got optimizer "
                f"{rule.optimizer}"
            )
        self.game = summed_game(anonymous(game), minibatch)
        self.rule = rule
        self.dtype = jnp.dtype(game.dtype)
        w = jnp.asarray(w, self.dtype)
        self.state = jnp.concatenate([w, w])
        self.n = int(self.state.size)
        self.eta = tuple(jnp.asarray(e, self.dtype) for e in rule.eta)
        self.beta = tuple(jnp.asarray(b, self.dtype) for b in rule.beta)
        # several tangents per call share the primal passes; one at a time for big models
        self.max_columns = int(max_columns or (8 if self.n <= 200_000 else 1))
        self.on_product = on_product
        self.n_products = 0

    def _block(self, ts: np.ndarray) -> np.ndarray:
        return np.asarray(
            _update_jvp(
                self.game,
                self.state,
                self.eta,
                self.beta,
                jnp.asarray(ts, self.dtype),
                alternating=self.rule.alternating,
                first=self.rule.first,
            )
        )

    def _count(self, m: int) -> None:
        self.n_products += m
        if self.on_product is not None:
            self.on_product(self.n_products)

    def matmat(self, ts) -> np.ndarray:
        """``∇F T``, in calls of exactly ``max_columns`` tangents (padded: one compilation)."""
        ts = np.asarray(ts)
        if ts.ndim == 2 and ts.shape[1] == 1:  # one tangent: no padded columns to pay for
            return self.matvec(ts[:, 0])[:, None]
        return padded_columns(self._block, np.asarray(ts), self.max_columns, self._count)

    def matvec(self, t) -> np.ndarray:
        out = self._block(np.asarray(t).reshape(-1, 1))[:, 0]
        self._count(1)
        return out

    def as_matrix_free(self) -> MatrixFreeOperator:
        return MatrixFreeOperator(self.matvec, self.n, self.dtype, self.matmat)
