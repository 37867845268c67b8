"""A small zoo of games with known equilibria and known spectra.

- :func:`bilinear`: ``min_θ max_φ θᵀAφ`` (Gidel et al. 2019, Fig. 1 and Table 1).
- :func:`scalar_bilinear`: the lecture's scalar game ``L_φ = θφ, L_θ = −θφ`` (lecture eqs. 11-13).
- :func:`quadratic`: a general-sum quadratic game with a prescribed Jacobian ∇v.
- :func:`with_spectrum`: a quadratic game whose ∇v has a prescribed (complex) spectrum.
- :func:`dirac_gan`: the Dirac-GAN of Mescheder, Geiger & Nowozin (ICML 2018) for a general f.
- :func:`sine_game`: a 2-D zero-sum game with several stationary points (lecture Fig. 2).

Each returns a :class:`~spectra.games.Game` whose reference point is its equilibrium. ``dtype``
defaults to JAX's default float (float32, or float64 with ``jax_enable_x64``).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from spectra.games import Game

__all__ = [
    "bilinear",
    "scalar_bilinear",
    "quadratic",
    "quadratic_from_jacobian",
    "with_spectrum",
    "dirac_gan",
    "sine_game",
    "DIRAC_F",
    "by_name",
    "NAMES",
]


def _matrix(x, name: str) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype.kind not in "biuf":  # a game's losses are real: a complex block has no meaning
        raise ValueError(f"{name}: expected a real matrix, got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D matrix, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite entries")
    return a


def bilinear(A=None, *, dtype=None) -> Game:
    """The bilinear game ``min_θ max_φ θᵀAφ`` (Gidel et al. 2019, Fig. 1).

    Player φ minimises ``L_φ = −θᵀAφ``, player θ minimises ``L_θ = θᵀAφ``; the unique
    equilibrium is 0 when A is square and invertible. ``v = (−Aᵀθ, Aφ)``, so
    ``∇v = [[0, −Aᵀ], [A, 0]]`` has the purely imaginary eigenvalues ``±i σ_k(A)``.

    Args:
        A: the ``(d_θ, d_φ)`` coupling matrix; default ``[[1.0]]``.
    """
    A = jnp.asarray(_matrix([[1.0]] if A is None else A, "A"), dtype=dtype)
    d_theta, d_phi = A.shape

    def loss_theta(phi, theta):
        return theta @ A @ phi

    def loss_phi(phi, theta):
        return -(theta @ A @ phi)

    return Game(
        loss_phi,
        loss_theta,
        jnp.zeros(d_phi, dtype),
        jnp.zeros(d_theta, dtype),
        name="bilinear",
        zero_sum=True,
    )


def scalar_bilinear(*, dtype=None) -> Game:
    """The lecture's scalar game: ``L_φ = θφ``, ``L_θ = −θφ`` (lecture eqs. 11-13).

    ``v = (θ, −φ)``, ``∇v = [[0, 1], [−1, 0]]`` with eigenvalues ±i; equilibrium (0, 0).
    """

    def loss_phi(phi, theta):
        return theta * phi

    def loss_theta(phi, theta):
        return -theta * phi

    zero = jnp.zeros((), dtype)
    return Game(loss_phi, loss_theta, zero, zero, name="scalar", zero_sum=True)


def quadratic(A, B, C, D, *, phi_star=None, theta_star=None, dtype=None) -> Game:
    """A general-sum quadratic game with ∇v = ``[[A, B], [C, D]]`` everywhere.

    ``L_φ = ½ (φ−φ*)ᵀA(φ−φ*) + (φ−φ*)ᵀB(θ−θ*)`` and
    ``L_θ = ½ (θ−θ*)ᵀD(θ−θ*) + (θ−θ*)ᵀC(φ−φ*)``, so that ``v(w) = ∇v · (w − w*)``.

    The diagonal blocks are the players' Hessians, so ``A`` and ``D`` must be symmetric; the
    coupling blocks ``B`` (``d_φ × d_θ``) and ``C`` (``d_θ × d_φ``) are arbitrary.
    """
    A, B, C, D = (_matrix(m, k) for m, k in zip((A, B, C, D), "ABCD", strict=True))
    d_phi, d_theta = A.shape[0], D.shape[0]
    for m, k in ((A, "A"), (D, "D")):
        if m.shape[0] != m.shape[1]:
            raise ValueError(f"{k}: expected a square matrix, got shape {m.shape}")
        if not np.allclose(m, m.T, rtol=1e-10, atol=1e-12 * max(1.0, np.abs(m).max())):
            raise ValueError(f"{k}: a player's Hessian block must be symmetric")
    if B.shape != (d_phi, d_theta):
        raise ValueError(f"B: expected shape {(d_phi, d_theta)}, got {B.shape}")
    if C.shape != (d_theta, d_phi):
        raise ValueError(f"C: expected shape {(d_theta, d_phi)}, got {C.shape}")
    A, B, C, D = (jnp.asarray(m, dtype) for m in (A, B, C, D))
    phi_star = jnp.zeros(d_phi, dtype) if phi_star is None else jnp.asarray(phi_star, dtype)
    theta_star = jnp.zeros(d_theta, dtype) if theta_star is None else jnp.asarray(theta_star, dtype)

    def loss_phi(phi, theta):
        p, t = phi - phi_star, theta - theta_star
        return 0.5 * p @ A @ p + p @ B @ t

    def loss_theta(phi, theta):
        p, t = phi - phi_star, theta - theta_star
        return 0.5 * t @ D @ t + t @ C @ p

    return Game(loss_phi, loss_theta, phi_star, theta_star, name="quadratic")


def quadratic_from_jacobian(J, n_phi: int, *, dtype=None) -> Game:
    """:func:`quadratic` from a full ``(n, n)`` Jacobian split after ``n_phi`` rows and columns."""
    J = _matrix(J, "J")
    if J.shape[0] != J.shape[1]:
        raise ValueError(f"J: expected a square matrix, got shape {J.shape}")
    if isinstance(n_phi, bool) or not isinstance(n_phi, int | np.integer):
        raise ValueError(f"n_phi: expected an integer, got {n_phi!r}")
    if not 0 < n_phi < J.shape[0]:
        raise ValueError(f"n_phi: expected 0 < n_phi < {J.shape[0]}, got {n_phi}")
    k = n_phi
    return quadratic(J[:k, :k], J[:k, k:], J[k:, :k], J[k:, k:], dtype=dtype)


def with_spectrum(eigenvalues, *, key=None, dtype=None) -> Game:
    """A quadratic game whose ∇v has spectrum ``{λ_k, conj(λ_k)}``.

    Each ``λ = a + ib`` becomes one φ-coordinate and one θ-coordinate coupled by the block
    ``[[a, b], [−b, a]]`` (eigenvalues ``a ± ib``). With a PRNG ``key`` each player's coordinates
    are then mixed by a random orthogonal matrix, ``∇v ← Qᵀ ∇v Q`` with ``Q = diag(Q_φ, Q_θ)``: a
    similarity, so the spectrum is unchanged, while ∇v becomes dense (and stays normal: an
    orthogonal similarity of normal blocks is normal), and the diagonal blocks stay symmetric (as
    a game requires). For a non-normal ∇v use :func:`quadratic_from_jacobian`.
    """
    lam = np.atleast_1d(np.asarray(eigenvalues, dtype=complex))
    if lam.ndim != 1 or lam.size == 0:
        raise ValueError("eigenvalues: expected a non-empty 1-D sequence")
    if not np.all(np.isfinite(lam)):
        raise ValueError("eigenvalues: expected finite values")
    a, b = np.diag(lam.real), np.diag(lam.imag)
    A, B, C, D = a, b, -b, a
    if key is not None:
        m = lam.size
        k1, k2 = jax.random.split(key)
        q_phi = np.linalg.qr(np.asarray(jax.random.normal(k1, (m, m)), np.float64))[0]
        q_theta = np.linalg.qr(np.asarray(jax.random.normal(k2, (m, m)), np.float64))[0]
        A = q_phi.T @ A @ q_phi
        D = q_theta.T @ D @ q_theta
        B = q_phi.T @ B @ q_theta
        C = q_theta.T @ C @ q_phi
        A, D = 0.5 * (A + A.T), 0.5 * (D + D.T)
    game = quadratic(A, B, C, D, dtype=dtype)
    return Game(game.loss_phi, game.loss_theta, game.phi, game.theta, name="with_spectrum")


def _standard_f(t):
    # f(t) = -log(1 + exp(-t)) = log sigmoid(t): the original GAN (Goodfellow et al. 2014).
    return -jax.nn.softplus(-t)


DIRAC_F: dict[str, Callable] = {
    "standard": _standard_f,
    "wgan": lambda t: t,
}


def dirac_gan(
    f: str | Callable = "standard",
    *,
    loss: str = "saturating",
    gradient_penalty: float = 0.0,
    dtype=None,
) -> Game:
    """The Dirac-GAN (Mescheder, Geiger & Nowozin, ICML 2018, §2).

    Real data is a Dirac at 0, the generator a Dirac at θ, the discriminator ``D_ψ(x) = ψx``;
    here ``φ = ψ``. The game's value is ``L(θ, ψ) = f(ψθ) + f(0)``: the discriminator maximises
    it and the generator minimises it (``loss="saturating"``), or the generator minimises
    ``−f(−ψθ)`` (``loss="non_saturating"``). ``gradient_penalty = γ`` adds ``γ/2 ψ²`` to the
    discriminator's loss (R1: ``‖∇_x D_ψ‖² = ψ²``).

    At the equilibrium (0, 0), ``∇v = [[γ, −f'(0)], [f'(0), 0]]``: purely imaginary eigenvalues
    ``±i f'(0)`` without regularisation, so simultaneous gradient descent spirals out.

    Args:
        f: ``"standard"`` (``f(t) = −log(1+e^{−t})``), ``"wgan"`` (``f(t) = t``) or a callable.
        loss: ``"saturating"`` or ``"non_saturating"``.
        gradient_penalty: γ ≥ 0.
    """
    if isinstance(f, str):
        if f not in DIRAC_F:
            raise ValueError(f"f: expected one of {sorted(DIRAC_F)} or a callable, got {f!r}")
        f = DIRAC_F[f]
    elif not callable(f):
        raise ValueError(f"f: expected a name or a callable, got {type(f).__name__}")
    if loss not in ("saturating", "non_saturating"):
        raise ValueError(f"loss: expected 'saturating' or 'non_saturating', got {loss!r}")
    gamma = float(gradient_penalty)
    if not np.isfinite(gamma) or gamma < 0:
        raise ValueError(f"gradient_penalty: expected a finite value >= 0, got {gradient_penalty}")

    def loss_phi(psi, theta):
        return -(f(psi * theta) + f(jnp.zeros_like(psi))) + 0.5 * gamma * psi**2

    if loss == "saturating":

        def loss_theta(psi, theta):
            return f(psi * theta) + f(jnp.zeros_like(psi))
    else:

        def loss_theta(psi, theta):
            return -f(-psi * theta)

    zero = jnp.zeros((), dtype)
    return Game(
        loss_phi,
        loss_theta,
        zero,
        zero,
        name="dirac_gan",
        zero_sum=(loss == "saturating" and gamma == 0.0),
    )


def sine_game(*, damping: float = 0.2, dtype=None) -> Game:
    """A zero-sum 2-D game with several stationary points (for lecture Fig. 2).

    ``L_θ = f``, ``L_φ = −f`` with ``f(φ, θ) = sin φ sin θ + (damping/2)(θ² − φ²)``. The origin is
    a strict local Nash equilibrium (∇v has eigenvalues ``damping ± i``); near
    ``(±π/2, ±π/2)`` lie stationary points where one player sits at a maximum of its own loss,
    which the conservative field ``−∇½‖v‖²`` nevertheless makes attractive.
    """

    def f(phi, theta):
        return jnp.sin(phi) * jnp.sin(theta) + 0.5 * damping * (theta**2 - phi**2)

    def loss_phi(phi, theta):
        return -f(phi, theta)

    zero = jnp.zeros((), dtype)
    return Game(loss_phi, f, zero, zero, name="sine", zero_sum=True)


NAMES = ("bilinear", "scalar", "dirac_gan", "dirac_gan_r1", "sine")


def by_name(name: str) -> Game:
    """A built-in game by name: one of :data:`NAMES`."""
    builders = {
        "bilinear": lambda: bilinear(),
        "scalar": lambda: scalar_bilinear(),
        "dirac_gan": lambda: dirac_gan(),
        "dirac_gan_r1": lambda: dirac_gan(gradient_penalty=0.3),
        "sine": lambda: sine_game(),
    }
    if name not in builders:
        raise ValueError(f"game: unknown name {name!r}; expected one of {', '.join(NAMES)}")
    return builders[name]()
