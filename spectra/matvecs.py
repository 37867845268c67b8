"""Matrix-free operators from JAX: Jacobian-vector products of a map, of a game's vector field,
and of one player's gradient, as :class:`MatrixFreeOperator` for :func:`spectra.eigenvalues`.

Each product is jitted once, at import, and compiled once per shape: the point, the data and the
game are arguments of the jitted function (never closed over), so a new point or a new data batch
of the same shapes reuses the compiled product. ``matmat`` pushes several tangents through one
vmapped call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from spectra import games
from spectra.games import Game

Array = jax.Array

__all__ = ["MatrixFreeOperator", "jvp_matvec", "game_jacobian_operator", "player_hessian_operator"]


class MatrixFreeOperator(NamedTuple):
    """A linear map ``R^n -> R^n`` given by its products.

    Attributes:
        matvec: ``x -> A x`` for ``x`` of shape ``(n,)``; casts ``x`` to ``dtype`` itself.
        n: the dimension.
        dtype: the precision the products are computed in.
        matmat: optional ``X -> A X`` for ``X`` of shape ``(n, m)`` (several products per call).
        symmetric: whether ``A`` is symmetric (then :func:`spectra.eigenvalues` uses Lanczos / ``eigh``).
    """

    matvec: Callable[[Any], Any]
    n: int
    dtype: Any
    matmat: Callable[[Any], Any] | None = None
    symmetric: bool = False


def _columns(product: Callable) -> Callable:
    """``product(*prefix, t)`` -> the same product on each column of ``T`` (one vmapped call)."""

    def batched(*args):
        *prefix, tangents = args
        return jax.vmap(lambda t: product(*prefix, t), in_axes=1, out_axes=1)(tangents)

    return batched


def _jvp_product(f, w, args, tangent):
    return jax.jvp(lambda x: f(x, *args), (w,), (tangent,))[1]


def _player_product(player, game, w, tangent):
    return games.player_hvp(game, w, tangent, player=player)


# Jitted once at import; ``f`` and ``player`` are static (hashed by identity / value), points,
# data and games are arguments, so a new point of the same shape reuses the compiled product.
_JVP = jax.jit(_jvp_product, static_argnums=0)
_JVP_COLUMNS = jax.jit(_columns(_jvp_product), static_argnums=0)
_GAME_JVP = jax.jit(games.jvp)
_GAME_JVP_COLUMNS = jax.jit(_columns(games.jvp))
_PLAYER_HVP = jax.jit(_player_product, static_argnums=0)
_PLAYER_HVP_COLUMNS = jax.jit(_columns(_player_product), static_argnums=0)


def _bound(product, product_columns, prefix, n, dtype, symmetric=False) -> MatrixFreeOperator:
    def matvec(x):
        return product(*prefix, jnp.asarray(x, dtype))

    def matmat(x):
        return product_columns(*prefix, jnp.asarray(x, dtype))

    return MatrixFreeOperator(matvec, n, jnp.dtype(dtype), matmat, symmetric)


def _point(w, n: int | None, dtype, name: str) -> Array:
    w = jnp.asarray(w) if dtype is None else jnp.asarray(w, dtype)
    if w.ndim != 1 or (n is not None and w.shape != (n,)):
        want = "a flat vector" if n is None else f"shape ({n},)"
        raise ValueError(f"{name}: expected {want}, got shape {w.shape}")
    if not jnp.issubdtype(w.dtype, jnp.floating):
        raise ValueError(f"{name}: expected a floating-point vector, got dtype {w.dtype}")
    if not np.all(np.isfinite(np.asarray(w))):
        raise ValueError(f"{name}: expected finite values")
    return w


def jvp_matvec(f: Callable[..., Array], w, *args) -> MatrixFreeOperator:
    """The Jacobian ``∇f(w)`` of ``f: R^n -> R^n`` as a matrix-free operator (forward mode).

    ``f(w, *args)`` is differentiated in ``w``; ``args`` (data, hyperparameters: any pytrees) are
    passed through. The product is jitted once per ``(f, shapes)``: ``w`` and ``args`` are jit
    arguments, so calling again with a new point or new data of the same shapes does not recompile
    (``f`` is static: pass the same function object, not a fresh lambda, to reuse it). Products
    are computed in ``w``'s dtype; ``matmat`` pushes several tangents through one vmapped call.
    """
    if not callable(f):
        raise ValueError(f"f: expected a callable R^n -> R^n, got {type(f).__name__}")
    w = _point(w, None, None, "w")
    return _bound(_JVP, _JVP_COLUMNS, (f, w, tuple(args)), int(w.size), w.dtype)


def game_jacobian_operator(game: Game, w=None) -> MatrixFreeOperator:
    """∇v(w) of a :class:`~spectra.games.Game` as a matrix-free operator (:func:`games.jvp`).

    ``w`` defaults to the game's reference point. The game itself (a pytree whose points and data
    are leaves) is a jit argument: a new point, or the same losses on a new data batch, reuses the
    compiled product.
    """
    if not isinstance(game, Game):
        raise ValueError(f"game: expected a spectra.games.Game, got {type(game).__name__}")
    w = _point(game.point() if w is None else w, game.n, game.dtype, "w")
    return _bound(_GAME_JVP, _GAME_JVP_COLUMNS, (game, w), game.n, game.dtype)


def player_hessian_operator(game: Game, w=None, *, player: str) -> MatrixFreeOperator:
    """One player's Hessian ``∇²_φ L_φ`` (``player="phi"``) or ``∇²_θ L_θ`` (``"theta"``).

    The diagonal blocks of ∇v (paper eq. 2), symmetric, so :func:`eigenvalues` uses Lanczos
    (``eigsh``) on them. Built on :func:`games.player_hvp`, jitted like
    :func:`game_jacobian_operator`.
    """
    if not isinstance(game, Game):
        raise ValueError(f"game: expected a spectra.games.Game, got {type(game).__name__}")
    if player not in ("phi", "theta"):
        raise ValueError(f"player: expected 'phi' or 'theta', got {player!r}")
    w = _point(game.point() if w is None else w, game.n, game.dtype, "w")
    size = game.n_phi if player == "phi" else game.n_theta
    prefix = (player, game, w)
    return _bound(_PLAYER_HVP, _PLAYER_HVP_COLUMNS, prefix, size, game.dtype, symmetric=True)
