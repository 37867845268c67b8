"""Two-player differentiable games: the vector field v and its Jacobian ∇v.

A :class:`Game` holds two losses over pytrees of parameters, ``loss_phi(phi, theta)`` for
player φ (the discriminator in a GAN) and ``loss_theta(phi, theta)`` for player θ (the
generator). Both players *minimise* their own loss. The joint parameters are handled as one flat
vector ``w = (φ, θ)`` (flattened once, here, with :func:`jax.flatten_util.ravel_pytree`), and

.. math::

    v(w) = \\begin{bmatrix} \\nabla_\\varphi \\mathcal{L}^{(\\varphi)}(\\varphi, \\theta) \\\\
                            \\nabla_\\theta \\mathcal{L}^{(\\theta)}(\\varphi, \\theta) \\end{bmatrix}

is the game's gradient vector field (lecture eq. 9, Gidel et al. 2019 eq. 2). Its Jacobian ∇v is
not symmetric in general, so its eigenvalues are complex.

A game is a pytree: its reference point and its ``data`` are leaves, its losses are static. It can
therefore be passed as an argument to a jitted function, so a new point or a new data batch does not
recompile. When ``data`` is not ``None`` the losses are called as ``loss(phi, theta, data)``.

Everything here is pure and ``jit``/``vmap``-able; nothing is jitted here (the drivers do that).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

PyTree = Any
Array = jax.Array

__all__ = [
    "Game",
    "vector_field",
    "jacobian",
    "jvp",
    "vjp",
    "player_hessians",
    "player_gradient",
    "player_hvp",
    "stationarity",
    "flat_vector",
]


@jax.tree_util.register_pytree_node_class
@dataclasses.dataclass(frozen=True)
class Game:
    """A two-player game; each player minimises its own loss.

    Args:
        loss_phi: ``(phi, theta[, data]) -> scalar``, minimised by player φ.
        loss_theta: ``(phi, theta[, data]) -> scalar``, minimised by player θ.
        phi: a point of player φ's parameters (a pytree); fixes the structure and dtype, and is
            the game's reference point (for the zoo, its equilibrium).
        theta: the same for player θ.
        data: optional pytree passed to both losses as a third argument (a GAN's evaluation batch).
        name: a label.
        zero_sum: whether ``loss_theta == -loss_phi`` (up to a term without θ). It decides which
            equilibrium test applies, and :func:`vector_field` then takes both players'
            gradients from one reverse pass of ``loss_phi``: declare it only when it holds.
    """

    loss_phi: Callable[..., Array]
    loss_theta: Callable[..., Array]
    phi: PyTree
    theta: PyTree
    data: PyTree = None
    name: str = "game"
    zero_sum: bool = False

    def __post_init__(self):
        _check_game(self)

    # -- pytree protocol: points and data are leaves, losses are static -------------------
    def tree_flatten(self):
        return (self.phi, self.theta, self.data), (
            self.loss_phi,
            self.loss_theta,
            self.name,
            self.zero_sum,
        )

    @classmethod
    def tree_unflatten(cls, aux, children):
        # Not through __init__: JAX rebuilds pytrees with placeholder leaves (None, object())
        # that the checks of a user-built game would reject.
        game = object.__new__(cls)
        values = (*aux[:2], *children, *aux[2:])
        names = ("loss_phi", "loss_theta", "phi", "theta", "data", "name", "zero_sum")
        for field, value in zip(names, values, strict=True):
            object.__setattr__(game, field, value)
        return game

    # -- flattening (done once, at the edge) -----------------------------------------------
    @property
    def n_phi(self) -> int:
        """Number of scalar parameters of player φ."""
        return int(ravel_pytree(self.phi)[0].size)

    @property
    def n_theta(self) -> int:
        """Number of scalar parameters of player θ."""
        return int(ravel_pytree(self.theta)[0].size)

    @property
    def n(self) -> int:
        """Dimension of the joint parameter vector w = (φ, θ)."""
        return self.n_phi + self.n_theta

    @property
    def dtype(self):
        return ravel_pytree(self.phi)[0].dtype

    def point(self) -> Array:
        """The reference point as one flat vector w = (φ, θ)."""
        return jnp.concatenate([ravel_pytree(self.phi)[0], ravel_pytree(self.theta)[0]])

    def split(self, w: Array) -> tuple[PyTree, PyTree]:
        """Flat ``w`` -> ``(phi, theta)`` pytrees shaped like the reference point."""
        w = jnp.asarray(w)
        if w.shape != (self.n,):
            raise ValueError(f"w: expected a flat vector of shape ({self.n},), got {w.shape}")
        _, unravel_phi = ravel_pytree(self.phi)
        _, unravel_theta = ravel_pytree(self.theta)
        return unravel_phi(w[: self.n_phi]), unravel_theta(w[self.n_phi :])

    def join(self, phi: PyTree, theta: PyTree) -> Array:
        """``(phi, theta)`` pytrees -> flat ``w``."""
        return jnp.concatenate([ravel_pytree(phi)[0], ravel_pytree(theta)[0]])

    def with_point(self, phi: PyTree, theta: PyTree) -> Game:
        """The same game with another reference point."""
        return dataclasses.replace(self, phi=phi, theta=theta)

    def with_data(self, data: PyTree) -> Game:
        """The same game with another data batch."""
        return dataclasses.replace(self, data=data)

    # -- the losses on flat vectors ---------------------------------------------------------
    def _call(self, loss, phi, theta):
        out = loss(phi, theta) if self.data is None else loss(phi, theta, self.data)
        if jnp.shape(out) != ():  # static: free under jit, and clearer than jax.grad's error
            name = "loss_theta" if loss is self.loss_theta else "loss_phi"
            raise ValueError(f"{name}: expected a scalar loss, got shape {jnp.shape(out)}")
        return out

    def losses(self, w: Array) -> tuple[Array, Array]:
        """``(L_phi(w), L_theta(w))``."""
        phi, theta = self.split(w)
        return self._call(self.loss_phi, phi, theta), self._call(self.loss_theta, phi, theta)

    def grad_phi(self, w: Array) -> Array:
        """∇_φ L_φ at w, flat (player φ's part of v)."""
        w = jnp.asarray(w)
        return player_gradient(self, w, w[: self.n_phi], player="phi")

    def grad_theta(self, w: Array) -> Array:
        """∇_θ L_θ at w, flat (player θ's part of v)."""
        w = jnp.asarray(w)
        return player_gradient(self, w, w[self.n_phi :], player="theta")


def _player_dtype(params: PyTree, name: str):
    leaves = jax.tree_util.tree_leaves(params)
    if not leaves:
        raise ValueError(f"{name}: expected a pytree with at least one parameter, got {params!r}")
    dtypes = {jnp.result_type(leaf) for leaf in leaves}
    bad = sorted(str(d) for d in dtypes if not jnp.issubdtype(d, jnp.floating))
    if bad:
        raise ValueError(f"{name}: expected real floating-point parameters, got {', '.join(bad)}")
    if len(dtypes) > 1:
        got = ", ".join(sorted(str(d) for d in dtypes))
        raise ValueError(f"{name}: expected one floating dtype for all parameters, got {got}")
    return dtypes.pop()


def _check_game(game: Game) -> None:
    """A game's losses are callables and both players' parameters share one real float dtype
    (flattening them together would otherwise promote one player silently)."""
    for name in ("loss_phi", "loss_theta"):
        if not callable(getattr(game, name)):
            kind = type(getattr(game, name)).__name__
            raise ValueError(
                f"{name}: expected a callable (phi, theta[, data]) -> scalar, got {kind}"
            )
    d_phi, d_theta = _player_dtype(game.phi, "phi"), _player_dtype(game.theta, "theta")
    if d_phi != d_theta:
        raise ValueError(
            f"phi, theta: expected both players' parameters in one dtype, got {d_phi} (phi) and "
            f"{d_theta} (theta); cast one of them"
        )


def flat_vector(x, size: int, name: str) -> Array:
    """``x`` as a flat real vector of ``size`` entries, or a ``ValueError`` naming ``name``: its
    shape and dtype always (static, free under ``jit``), its values, when concrete, finite."""
    x = jnp.asarray(x)
    if x.shape != (size,):
        raise ValueError(f"{name}: expected a flat vector of shape ({size},), got {x.shape}")
    if not jnp.issubdtype(x.dtype, jnp.floating):
        raise ValueError(f"{name}: expected a real floating-point vector, got dtype {x.dtype}")
    if not isinstance(x, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(x))):
        raise ValueError(f"{name}: expected finite values (got NaN or inf)")
    return x


def _check_vector(game: Game, x, name: str, size: int | None = None) -> Array:
    """``x`` as a point or tangent of ``game`` (``size`` entries, default ``game.n``)."""
    return flat_vector(x, game.n if size is None else size, name)


def vector_field(game: Game, w: Array) -> Array:
    """The game's vector field v(w) = (∇_φ L_φ, ∇_θ L_θ) (lecture eq. 9; paper eq. 2).

    For a zero-sum game (``game.zero_sum``: ``L_θ = −L_φ``) both parts come from one reverse
    pass of ``L_φ``, ``v = (∇_φ L_φ, −∇_θ L_φ)``: a GAN's generator and discriminator passes are
    then shared by the two players (measured on a 10,502-parameter MLP GAN: a product with ∇v
    1.3× faster linearised, 2× faster forward over reverse).

    ``w`` must have shape ``(game.n,)``; when concrete it must be finite (a ``ValueError``
    otherwise; under ``jit`` only the shape can be checked).
    """
    w = _check_vector(game, w, "w")
    if game.zero_sum:
        return _zero_sum_field(game, w)
    return jnp.concatenate([game.grad_phi(w), game.grad_theta(w)])


def _zero_sum_field(game: Game, w: Array) -> Array:
    phi, theta = game.split(w)
    g_phi, g_theta = jax.grad(lambda p, t: game._call(game.loss_phi, p, t), argnums=(0, 1))(
        phi, theta
    )
    return jnp.concatenate(
        [_flatten(g_phi), _flatten(jax.tree_util.tree_map(jnp.negative, g_theta))]
    )


def _flatten(tree: PyTree) -> Array:
    """``ravel_pytree(tree)[0]`` behind an optimisation barrier (the same values, derivatives
    included).

    Without it, XLA's CPU backend fuses the layout transposes of the weight gradients (a
    convolution's weight gradient comes out in another layout than its ``HWIO`` kernel) into the
    one loop that builds the flat vector, and that loop runs far below memory speed: in a
    forward-over-reverse product of the benchmark's 1.73M-parameter conv GAN over 20 images it
    took 19.5 of 80 ms (XLA profile); with the barrier the product takes 62 ms, bit-identical.
    """
    return ravel_pytree(jax.lax.optimization_barrier(tree))[0]


def jacobian(game: Game, w: Array) -> Array:
    """Dense ∇v(w), an ``(n, n)`` matrix, by forward-mode autodiff of :func:`vector_field`.

    Row blocks are the players, column blocks the parameters (paper eq. 2):
    ``[[∇²_φ L_φ, ∇_θ∇_φ L_φ], [∇_φ∇_θ L_θ, ∇²_θ L_θ]]``.
    """
    w = _check_vector(game, w, "w")
    return jax.jacfwd(lambda x: vector_field(game, x))(w)


def jvp(game: Game, w: Array, tangent: Array) -> Array:
    """Matrix-free ∇v(w) @ tangent (forward over reverse); costs about two gradients.

    ``tangent`` has the shape of ``w``, ``(game.n,)``, and is used in ``w``'s dtype.
    """
    w = _check_vector(game, w, "w")
    tangent = _check_vector(game, tangent, "tangent").astype(w.dtype)
    return jax.jvp(lambda x: vector_field(game, x), (w,), (tangent,))[1]


def vjp(game: Game, w: Array, cotangent: Array) -> Array:
    """Matrix-free ∇v(w)ᵀ @ cotangent (reverse over reverse); ``cotangent`` of shape ``(game.n,)``."""
    w = _check_vector(game, w, "w")
    cotangent = _check_vector(game, cotangent, "cotangent")
    _, pullback = jax.vjp(lambda x: vector_field(game, x), w)
    return pullback(cotangent.astype(w.dtype))[0]


def player_hessians(game: Game, w: Array) -> tuple[Array, Array]:
    """Dense ``(∇²_φ L_φ, ∇²_θ L_θ)``: the diagonal blocks of ∇v, each symmetric."""
    jac = jacobian(game, w)
    n_phi = game.n_phi
    return jac[:n_phi, :n_phi], jac[n_phi:, n_phi:]


def player_gradient(game: Game, w: Array, x: Array, *, player: str) -> Array:
    """One player's own gradient as a function of its own flat parameters ``x``, the other
    player held at its part of ``w``: ``∇_φ L_φ(x, θ)`` (``player="phi"``) or ``∇_θ L_θ(φ, x)``.

    The other player's parameters enter as constants, never concatenated with ``x``: a
    concatenation gives them an explicit zero tangent that forward-mode autodiff pushes through
    the other network. That costs time (on the benchmark's 10,502-parameter MLP GAN a
    ``∇²_φ L_φ`` product also ran the generator's tangent: 2.5 ms against 1.2–1.5 ms without)
    and can be wrong: a zero tangent through ``sqrt`` at 0 gives ``0 · ∞ = NaN``.
    """
    if player not in ("phi", "theta"):
        raise ValueError(f"player: expected 'phi' or 'theta', got {player!r}")
    size = game.n_phi if player == "phi" else game.n_theta
    if jnp.shape(x) != (size,):
        raise ValueError(f"x: expected player {player}'s flat parameters, shape ({size},)")
    phi, theta = game.split(w)
    if player == "phi":
        own = ravel_pytree(game.phi)[1](x)
        return _flatten(jax.grad(lambda p: game._call(game.loss_phi, p, theta))(own))
    own = ravel_pytree(game.theta)[1](x)
    return _flatten(jax.grad(lambda t: game._call(game.loss_theta, phi, t))(own))


def player_hvp(game: Game, w: Array, tangent: Array, *, player: str) -> Array:
    """Matrix-free Hessian-vector product of one player's own loss.

    ``player="phi"``: ∇²_φ L_φ @ tangent (tangent of size ``n_phi``);
    ``player="theta"``: ∇²_θ L_θ @ tangent (tangent of size ``n_theta``).
    """
    if player not in ("phi", "theta"):
        raise ValueError(f"player: expected 'phi' or 'theta', got {player!r}")
    w = _check_vector(game, w, "w")
    own = w[: game.n_phi] if player == "phi" else w[game.n_phi :]
    tangent = _check_vector(game, tangent, "tangent", own.shape[0]).astype(own.dtype)
    g = functools.partial(player_gradient, game, w, player=player)
    return jax.jvp(g, (own,), (tangent,))[1]


def stationarity(game: Game, w: Array) -> Array:
    """‖v(w)‖₂: zero exactly at the stationary points of the game (fixed points of every F_η)."""
    return jnp.linalg.norm(vector_field(game, w))
