"""Matrix-free products of a game's linear maps at a point, streamed over minibatches.

The probe needs three linear maps at a point ``w = (φ, θ)`` of a :class:`~spectra.games.Game`:
the game Jacobian ∇v (paper eq. 2) and its two diagonal blocks, the player Hessians ``∇²_φ L_φ``
and ``∇²_θ L_θ``. Each product is a forward-over-reverse Jacobian-vector product of the gradient
(about the cost of two gradients, never the ``n × n`` matrix).

**Streaming.** A GAN's evaluation batch of thousands of samples is split into minibatches along
the leading axis of every data leaf, and a product is the weighted sum of the minibatch products,
``∇v·t = Σ_c (n_c / N) ∇v_c·t``. This is exact when the losses are *means over the batch* (as
the trainer's are), and memory then scales with one minibatch, not with the batch.

**Caching the linearisation.** When the residuals of the linearisation of every minibatch fit in
``memory_budget`` bytes (and the map has no convolutions: :func:`has_convolutions`), they are
computed once (:func:`jax.linearize`) and each product only evaluates the linear part, skipping
the primal forward and backward passes (measured 2.5× faster on an MLP GAN); residuals that
:func:`jax.linearize` returns several times are held once (:class:`SharedResiduals`). Otherwise
each product recomputes them minibatch by minibatch.

**Compilation.** The jitted functions below are module-level and take the game (a pytree whose
point and data are leaves) as an argument: a new point, a new checkpoint or a new minibatch of the
same shapes reuses the compiled code, so a probe over many checkpoints compiles once.
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import math
import threading
from collections.abc import Callable, Iterable
from typing import Any

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np

from spectra import hostmem, sharding
from spectra.games import Game, player_gradient, vector_field
from spectra.matvecs import MatrixFreeOperator

Array = jax.Array

__all__ = [
    "KINDS",
    "split_batch",
    "batch_size",
    "StreamedOperator",
    "streamed_vector_field",
    "residual_bytes",
    "padded_columns",
    "anonymous",
    "has_convolutions",
    "SharedResiduals",
]

KINDS = ("game", "phi", "theta")
"""``"game"``: ∇v (``n × n``); ``"phi"``: ``∇²_φ L_φ``; ``"theta"``: ``∇²_θ L_θ``."""

DEFAULT_MEMORY_BUDGET = 512 * 2**20


# -- minibatches -----------------------------------------------------------------------------


def batch_size(data) -> int | None:
    """The common leading dimension of the data leaves (``None`` for a game without data)."""
    leaves = jax.tree_util.tree_leaves(data)
    if not leaves:
        return None
    sizes = {int(np.shape(x)[0]) if np.ndim(x) else -1 for x in leaves}
    if len(sizes) != 1 or -1 in sizes:
        raise ValueError(
            "minibatch: every data leaf must have the same leading (batch) dimension to be split, "
            f"got leading sizes {sorted(sizes)}"
        )
    return sizes.pop()


def split_batch(data, minibatch: int | None) -> list[tuple[float, Any]]:
    """``[(n_c / N, chunk_c)]``: the data cut into minibatches of ``minibatch`` samples.

    Valid for losses that are means over the leading axis: the full-batch loss is then
    ``Σ_c (n_c / N) L(chunk_c)``, and so are all its derivatives. ``minibatch=None`` (or a
    game without data) gives one chunk of weight 1.
    """
    if minibatch is not None and (
        isinstance(minibatch, bool) or not isinstance(minibatch, int | np.integer) or minibatch < 1
    ):
        raise ValueError(f"minibatch: expected an integer >= 1 or None, got {minibatch!r}")
    total = batch_size(data) if minibatch is not None else None
    if minibatch is None or total is None or minibatch >= total:
        return [(1.0, data)]
    chunks = []
    for start in range(0, total, int(minibatch)):
        stop = min(start + int(minibatch), total)
        chunk = jax.tree_util.tree_map(lambda x, a=start, b=stop: x[a:b], data)
        chunks.append(((stop - start) / total, chunk))
    return chunks


# -- the maps and their jitted products --------------------------------------------------------


def _restrict(kind: str, game: Game, w: Array) -> Array:
    n_phi = game.n_phi
    return {"game": w, "phi": w[:n_phi], "theta": w[n_phi:]}[kind]


def _field(kind: str, game: Game, w: Array, x: Array) -> Array:
    """The map whose Jacobian is wanted, as a function of its own variables ``x``."""
    if kind == "game":
        return vector_field(game, x)
    return player_gradient(game, w, x, player=kind)


@functools.partial(jax.jit, static_argnames="kind")
def _linearize(kind: str, game: Game, w: Array):
    """The linear map at ``w`` as a :class:`jax.tree_util.Partial` holding its residuals."""
    return jax.linearize(functools.partial(_field, kind, game, w), _restrict(kind, game, w))[1]


class SharedResiduals:
    """A linearisation's residuals with the repeated ones stored once.

    :func:`jax.linearize` returns one residual per use: on a GAN the same activation or mask
    comes out several times as separate, identical buffers (the MLP GAN's ∇v: 41 residuals, 22
    distinct, 48 MB → 26 MB). Holding each once halves the memory, and the compiled linear map
    then reads each buffer once per product (measured 9–11% faster products).

    A residual whose entries are all equal (the zeros a ReLU's derivative selects from, a
    batch mean's ``1/N``) is held as one scalar and broadcast inside the compiled product, so
    XLA fuses it instead of reading a buffer (the MLP GAN's 4 MB of zeros per map; measured side
    by side: its Hessian products 1.12–1.14× faster, ∇v's unchanged). Which residuals are uniform
    is static (part of the compiled code), their values are not.
    """

    def __init__(self, linear):
        leaves, self.treedef = jax.tree_util.tree_flatten(linear)
        # a fingerprint per array (its sum and three entries) only narrows down: each leaf's
        # candidate twin (the first leaf with the same shape, dtype and fingerprint) and each
        # candidate uniform array (sum = size · first entry) are confirmed exactly, in one call
        prints = np.asarray(_fingerprints(leaves)) if leaves else np.zeros((0, 4))
        first: dict[tuple, int] = {}
        twin = [
            first.setdefault((x.shape, x.dtype, *f.tolist()), i)
            for i, (x, f) in enumerate(zip(leaves, prints, strict=True))
        ]
        pairs = tuple((i, j) for i, j in enumerate(twin) if i != j)
        maybe = tuple(
            i
            for i, (x, f) in enumerate(zip(leaves, prints, strict=True))
            if x.size > 1 and np.isclose(f[0], x.size * f[1], rtol=1e-3, atol=0.0)
        )
        equal, uniform = _exact_checks(pairs, maybe, leaves) if pairs or maybe else ((), ())
        confirmed = dict(zip(pairs, np.asarray(equal), strict=True))
        flat = {i for i, ok in zip(maybe, np.asarray(uniform), strict=True) if ok}
        slot: dict[int, int] = {}
        kept: list[int] = []
        index = []
        for i, j in enumerate(twin):
            if i != j and confirmed[(i, j)]:
                index.append(slot[j])
                continue
            slot[i] = len(kept)
            kept.append(i)
            index.append(slot[i])
        self.index = tuple(index)
        self.shapes = tuple(tuple(leaves[i].shape) if i in flat else None for i in kept)
        self.unique: list[Array] = [
            leaves[i] if shape is None else leaves[i].ravel()[0]
            for i, shape in zip(kept, self.shapes, strict=True)
        ]

    @property
    def nbytes(self) -> int:
        return sum(int(x.nbytes) for x in self.unique)

    def __call__(self, t: Array) -> Array:
        return _apply(self.treedef, self.index, self.shapes, self.unique, t)

    def columns(self, ts: Array) -> Array:
        return _apply_columns(self.treedef, self.index, self.shapes, self.unique, ts)


@functools.partial(jax.jit, static_argnums=(0, 1))
def _exact_checks(pairs: tuple, maybe: tuple, leaves) -> tuple[Array, Array]:
    """Whether ``leaves[i] == leaves[j]`` for each ``(i, j)`` of ``pairs``, and whether each
    ``leaves[i]`` of ``maybe`` has all its entries equal (exactly; NaN never does)."""
    equal = [jnp.array_equal(leaves[i], leaves[j]) for i, j in pairs]
    uniform = [jnp.all(leaves[i] == jnp.ravel(leaves[i])[0]) for i in maybe]
    return jnp.asarray(equal, dtype=bool), jnp.asarray(uniform, dtype=bool)


@jax.jit
def _fingerprints(leaves) -> Array:
    """Four numbers per array, its sum and its first, middle and last entries: equal arrays
    have equal ones, and a uniform array's sum is its size times its first entry (one cheap
    pass over each array)."""

    def one(x):
        x = jnp.ravel(x).astype(jnp.float32)
        if not x.size:
            return jnp.zeros(4, jnp.float32)
        return jnp.stack([jnp.sum(x), x[0], x[x.size // 2], x[-1]])

    return jnp.stack([one(x) for x in leaves])


def _rebuild(treedef, index, shapes, unique):
    full = [
        u if shape is None else jnp.broadcast_to(u, shape)
        for u, shape in zip(unique, shapes, strict=True)
    ]
    return jax.tree_util.tree_unflatten(treedef, [full[i] for i in index])


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _apply(treedef, index, shapes, unique, t: Array) -> Array:
    return _rebuild(treedef, index, shapes, unique)(t)


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def _apply_columns(treedef, index, shapes, unique, ts: Array) -> Array:
    return jax.vmap(_rebuild(treedef, index, shapes, unique), in_axes=1, out_axes=1)(ts)


@functools.partial(jax.jit, static_argnames="kind")
def _jvp(kind: str, game: Game, w: Array, t: Array) -> Array:
    f = functools.partial(_field, kind, game, w)
    return jax.jvp(f, (_restrict(kind, game, w),), (t,))[1]


@functools.partial(jax.jit, static_argnames="kind")
def _jvp_columns(kind: str, game: Game, w: Array, ts: Array) -> Array:
    f = functools.partial(_field, kind, game, w)
    x = _restrict(kind, game, w)
    return jax.vmap(lambda t: jax.jvp(f, (x,), (t,))[1], in_axes=1, out_axes=1)(ts)


_vector_field = jax.jit(vector_field)


def residual_bytes(kind: str, game: Game, w: Array) -> int:
    """Bytes held by the linearisation of one product's map at ``w`` (traced, not computed)."""
    shapes = jax.eval_shape(_linearize, kind, game, w)
    return sum(math.prod(x.shape) * x.dtype.itemsize for x in jax.tree_util.tree_leaves(shapes))


def _primitives(jaxpr) -> set[str]:
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            names |= _primitives(sub)
    return names


def has_convolutions(kind: str, game: Game, w: Array) -> bool:
    """Whether the map's products involve convolutions (traced, not computed).

    Caching the linearisation pays on dense layers (an MLP GAN's product measured 2.5× faster:
    the primal passes are skipped) but not on convolutions, where XLA's CPU backend runs the
    fused forward-over-reverse product faster than the linear part alone on stored residuals
    (measured 0.72 s against 0.78 s per 100 images of a 1.7M-parameter conv GAN)."""
    t = jnp.zeros(_restrict(kind, game, w).shape, w.dtype)
    closed = jax.make_jaxpr(functools.partial(_jvp, kind))(game, w, t)
    return "conv_general_dilated" in _primitives(closed.jaxpr)


def anonymous(game: Game) -> Game:
    """The game with a fixed name: the name is static in the pytree, so a per-checkpoint label
    (``"run@1000"``) would otherwise make every jitted product recompile at every checkpoint."""
    return game if game.name == "game" else dataclasses.replace(game, name="game")


AHEAD = 1  # minibatches that may wait behind the running one in weighted_sum


def weighted_sum(chunks: Iterable[tuple[float, Any]], compute: Callable[[Any], Array]) -> Array:
    """``Σ weight · compute(chunk)`` over ``(weight, chunk)`` pairs, with at most one minibatch
    queued behind the one running.

    JAX dispatches asynchronously, so a plain loop queues every minibatch at once, and XLA's CPU
    client then runs the queued (independent) executions side by side: they compete for the
    cores and each holds its temporaries. Measured on the benchmark's conv GAN (1.7M parameters,
    50 minibatches of 20 images, four products beside a 42-vector float32 basis): peak memory
    1.18–1.27 GB unbounded against 1.07–1.09 GB bounded, at the same speed (3.6 s per product).
    """
    total, queued = None, collections.deque()
    for weight, chunk in chunks:
        part = compute(chunk)
        part = part if weight == 1.0 else weight * part
        total = part if total is None else total + part
        queued.append(total)
        if len(queued) > AHEAD:
            queued.popleft().block_until_ready()
    if total is None:
        raise ValueError("chunks: expected at least one minibatch, got none")
    return total


def streamed_vector_field(game: Game, w: Array, *, minibatch: int | None = None) -> Array:
    """``v(w)`` as the weighted sum over minibatches (see :func:`split_batch`)."""
    game = anonymous(game)
    return weighted_sum(
        split_batch(game.data, minibatch), lambda chunk: _vector_field(game.with_data(chunk), w)
    )


def _distinct_columns(ts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(unique, index, sign)`` with ``ts[:, j] = sign[j] * unique[:, index[j]]``; zero columns
    get ``sign 0``. A residual check asks for ``Re x`` and ``Im x`` of both ``x`` and ``x̄`` of
    every conjugate pair: half of those columns repeat another one up to sign."""
    n, m = ts.shape
    seen: dict[bytes, int] = {}
    keep: list[int] = []
    index = np.zeros(m, dtype=int)
    sign = np.ones(m)
    for j in range(m):
        col = np.ascontiguousarray(ts[:, j])
        if not col.any():
            sign[j] = 0.0
            continue
        key, neg = col.tobytes(), (-col).tobytes()
        if key in seen:
            index[j] = seen[key]
        elif neg in seen:
            index[j], sign[j] = seen[neg], -1.0
        else:
            seen[key] = index[j] = len(keep)
            keep.append(j)
    return ts[:, keep], index, sign


def padded_columns(
    block: Callable[[np.ndarray], np.ndarray],
    ts: np.ndarray,
    width: int,
    count: Callable[[int], None] | None = None,
) -> np.ndarray:
    """``block`` (a linear map) applied to the columns of ``ts``, in groups of exactly ``width``
    (the last group zero-padded, so a jitted ``block`` compiles once whatever the number of
    columns). Columns equal to another one up to sign, and zero columns, cost no product."""
    ts = np.asarray(ts)
    n = ts.shape[0]
    unique, index, sign = _distinct_columns(ts)
    m = unique.shape[1]
    out = []
    for start in range(0, m, width):
        cols = unique[:, start : start + width]
        used = cols.shape[1]
        if used < width:
            cols = np.concatenate([cols, np.zeros((n, width - used), cols.dtype)], axis=1)
        out.append(np.asarray(block(cols))[:, :used])
        if count is not None:
            count(used)
    products = np.concatenate(out, axis=1) if out else np.zeros((n, 1))
    return products[:, index] * sign[None, :].astype(products.dtype)


class StreamedOperator:
    """One of the maps of :data:`KINDS` at a point, as products summed over minibatches.

    Args:
        game: the game (its ``data`` is the evaluation batch).
        w: the point, a flat vector in the game's dtype.
        kind: one of :data:`KINDS`.
        minibatch: samples per minibatch (``None``: the whole batch at once).
        linearize: ``True`` caches the linearisation of every minibatch, ``False`` recomputes
            it in each product, ``"auto"`` caches it when it fits in ``memory_budget`` bytes.
        max_columns: at most this many tangents are pushed through one vmapped call of
            :meth:`matmat` (memory grows with it); default 1 when linearised (measured: vmapped
            linearised products of an MLP GAN are memory-bound and slower per tangent), else 4
            (the primal passes are then shared by the tangents).
        on_product: called with the number of products after each one (progress bars).
        sharded: data parallelism over every device (``jax.sharding``): each minibatch is split
            across a 1-D device mesh, the point is replicated, and XLA sums the per-device parts
            of the batch mean. Default: whenever more than one device is present. Each
            minibatch must then be a multiple of the device count.

    ``n_products`` counts products (a column of :meth:`matmat` counts as one), and
    ``thread_products`` those of the calling thread. Products may be asked for from several
    threads at once.
    """

    def __init__(
        self,
        game: Game,
        w: Array,
        *,
        kind: str = "game",
        minibatch: int | None = None,
        linearize: bool | str = "auto",
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        max_columns: int | None = None,
        on_product: Callable[[int], None] | None = None,
        sharded: bool | None = None,
    ):
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")
        if linearize not in (True, False, "auto"):
            raise ValueError(f"linearize: expected True, False or 'auto', got {linearize!r}")
        if max_columns is not None and (
            isinstance(max_columns, bool) or not isinstance(max_columns, int) or max_columns < 1
        ):
            raise ValueError(f"max_columns: expected an integer >= 1 or None, got {max_columns!r}")
        game = anonymous(game)
        hostmem.keep_freed_memory()  # products' buffers are reused, not faulted in every time
        self.kind, self.game, self.w = kind, game, jnp.asarray(w, game.dtype)
        self.chunks = split_batch(game.data, minibatch)
        self.sharded = jax.device_count() > 1 if sharded is None else bool(sharded)
        if self.sharded and game.data is not None:
            mesh = sharding.data_mesh()
            self.chunks = [(wt, sharding.shard_batch(c, mesh)) for wt, c in self.chunks]
            self.w = sharding.replicate(self.w, mesh)
        self.n = int(_restrict(kind, game, self.w).size)
        self.dtype = jnp.dtype(game.dtype)
        self.on_product = on_product
        self.n_products = 0
        self._lock = threading.Lock()
        self._local = threading.local()
        if linearize == "auto":
            first = game.with_data(self.chunks[0][1])
            linearize = residual_bytes(kind, first, self.w) * len(
                self.chunks
            ) <= memory_budget and not has_convolutions(kind, first, self.w)
        self.linearized = bool(linearize)
        if max_columns is None:  # vmapped linearised products are memory-bound: one at a time
            max_columns = 1 if self.linearized else 4
        self.max_columns = max_columns
        self._linear = (
            [
                SharedResiduals(_linearize(kind, game.with_data(chunk), self.w))
                for _, chunk in self.chunks
            ]
            if self.linearized
            else None
        )

    def _products(self, t: Array, columns: bool) -> Array:
        if self._linear is not None:
            return weighted_sum(
                zip((wt for wt, _ in self.chunks), self._linear, strict=True),
                lambda linear: linear.columns(t) if columns else linear(t),
            )
        fn = _jvp_columns if columns else _jvp
        return weighted_sum(
            self.chunks, lambda chunk: fn(self.kind, self.game.with_data(chunk), self.w, t)
        )

    def release(self) -> None:
        """Free the cached linearisations (products then fail: build a new operator)."""
        self._linear = None
        self.chunks = []

    def _count(self, m: int) -> None:
        with self._lock:
            self.n_products += m
            total = self.n_products
        self._local.products = self.thread_products + m
        if self.on_product is not None:
            self.on_product(total)

    @property
    def thread_products(self) -> int:
        """Products made from the calling thread (solvers sharing the operator concurrently
        each count their own)."""
        return getattr(self._local, "products", 0)

    @property
    def held_bytes(self) -> int:
        """Bytes held by the cached linearisations (0 when products recompute them)."""
        if self._linear is None:
            return 0
        return sum(linear.nbytes for linear in self._linear)

    def _host(self, t):
        """Tangents as host arrays in the operator's precision: a jitted call takes a NumPy
        array faster than a ``jax.Array`` made from it first (measured 0.2 ms per product)."""
        if isinstance(t, jax.Array):
            return t.astype(self.dtype)
        return np.asarray(t, dtype=self.dtype)

    def matvec(self, t) -> np.ndarray:
        """``A t`` for ``t`` of shape ``(n,)``."""
        out = np.asarray(self._products(self._host(t).reshape(self.n), False))
        self._count(1)
        return out

    def matmat(self, ts, *, max_columns: int | None = None) -> np.ndarray:
        """``A T`` for ``T`` of shape ``(n, m)``, ``max_columns`` tangents per vmapped call."""
        ts = np.asarray(ts)
        if ts.ndim == 2 and ts.shape[1] == 1:  # one tangent: the plain product, no padding
            return self.matvec(ts[:, 0])[:, None]
        step = self.max_columns if max_columns is None else max_columns

        def block(cols):
            return np.asarray(self._products(self._host(cols), True))

        return padded_columns(block, np.asarray(ts), step, self._count)

    def dense(self, *, max_columns: int | None = None) -> np.ndarray:
        """The ``(n, n)`` matrix, from ``n`` products (for small games)."""
        return self.matmat(np.eye(self.n, dtype=self.dtype), max_columns=max_columns)

    def as_matrix_free(self) -> MatrixFreeOperator:
        """For :func:`spectra.eigensolvers.eigenvalues`; the Hessians are marked symmetric."""
        return MatrixFreeOperator(
            self.matvec, self.n, self.dtype, self.matmat, symmetric=self.kind != "game"
        )
