"""GAN losses as pure functions of both players' parameters and a data batch.

With the discriminator's logit ``l(x)`` and ``D(x) = σ(l(x))``, the paper's minimax game
(Goodfellow et al. 2014; Gidel et al. 2019 §4, "saturating loss") is

.. math::

    \\mathcal{L}^{(\\varphi)} = -\\mathbb{E}\\log D(x) - \\mathbb{E}\\log(1 - D(G(z))), \\qquad
    \\mathcal{L}^{(\\theta)}_{\\text{sat}} = -\\mathcal{L}^{(\\varphi)},

so the generator minimises ``E log(1 − D(G(z)))`` (plus a term that does not depend on θ, which
makes the game exactly zero-sum without changing ∇_θ). Its gradient vanishes when the
discriminator confidently rejects the samples: the loss *saturates*. The non-saturating variant
has the generator minimise ``−E log D(G(z))`` instead. Every log is written in a stable form,
``−log σ(l) = softplus(−l)`` and ``−log(1 − σ(l)) = softplus(l)``.

Losses are **means over the batch**, so a large evaluation batch can be split into minibatches and
the per-minibatch losses averaged (weighted by size) without changing the value or its derivatives.

A batch is ``{"real": x, "latent": z}``. :func:`make_losses` closes over the two networks'
structures and returns ``(discriminator_loss, generator_loss)``, each
``(d_params, g_params, batch) -> scalar``: exactly the ``loss_phi``/``loss_theta`` of the
:class:`spectra.games.Game` of a run (φ = discriminator, θ = generator).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from spectra.gan import models
from spectra.gan.config import LOSSES

Array = jax.Array

__all__ = [
    "GanLosses",
    "discriminator_loss_from_logits",
    "generator_loss_from_logits",
    "make_losses",
]


def discriminator_loss_from_logits(real_logits: Array, fake_logits: Array) -> Array:
    """``−E log D(x) − E log(1 − D(G(z)))`` from logits (the same for both losses)."""
    return jnp.mean(jax.nn.softplus(-real_logits)) + jnp.mean(jax.nn.softplus(fake_logits))


def generator_loss_from_logits(kind: str, real_logits: Array | None, fake_logits: Array) -> Array:
    """The generator's loss from logits.

    ``kind="saturating"``: ``−L_φ = E log D(x) + E log(1 − D(G(z)))`` (``real_logits`` may be
    ``None``: that term does not depend on θ and is then dropped);
    ``kind="non-saturating"``: ``−E log D(G(z))``.
    """
    if kind == "saturating":
        value = -jnp.mean(jax.nn.softplus(fake_logits))
        if real_logits is not None:
            value = value - jnp.mean(jax.nn.softplus(-real_logits))
        return value
    if kind == "non-saturating":
        return jnp.mean(jax.nn.softplus(-fake_logits))
    raise ValueError(f"loss: unknown kind {kind!r}; expected one of {', '.join(LOSSES)}")


class GanLosses(NamedTuple):
    """The two players' losses, each ``(d_params, g_params, batch) -> scalar``.

    Attributes:
        discriminator: L_φ, minimised by the discriminator.
        generator: L_θ, minimised by the generator (for the saturating loss exactly −L_φ).
        generator_step: the part of L_θ that depends on θ (the same ∇_θ, one discriminator pass
            fewer); the trainer differentiates this one.
        zero_sum: true for the saturating (minimax) loss.
    """

    discriminator: Callable[..., Array]
    generator: Callable[..., Array]
    generator_step: Callable[..., Array]
    zero_sum: bool


@functools.lru_cache(maxsize=64)
def make_losses(kind: str, d_graph: Any, g_graph: Any) -> GanLosses:
    """The losses of the game of ``kind`` for networks with these ``nnx.GraphDef`` structures.

    Cached, so the same run yields the same function objects (a jitted probe does not recompile).
    """
    if kind not in LOSSES:
        raise ValueError(f"loss: unknown kind {kind!r}; expected one of {', '.join(LOSSES)}")

    def logits(d_params, g_params, batch):
        fake = models.apply(g_graph, g_params, batch["latent"])
        real_logits = models.apply(d_graph, d_params, batch["real"])
        return real_logits, models.apply(d_graph, d_params, fake)

    def discriminator_loss(d_params, g_params, batch):
        return discriminator_loss_from_logits(*logits(d_params, g_params, batch))

    def generator_step(d_params, g_params, batch):
        fake = models.apply(g_graph, g_params, batch["latent"])
        fake_logits = models.apply(d_graph, d_params, fake)
        return generator_loss_from_logits(kind, None, fake_logits)

    if kind == "saturating":

        def generator_loss(d_params, g_params, batch):
            return -discriminator_loss(d_params, g_params, batch)

    else:
        generator_loss = generator_step
    return GanLosses(discriminator_loss, generator_loss, generator_step, kind == "saturating")
