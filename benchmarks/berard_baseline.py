"""The reference probe: Berard et al. (ICLR 2020), re-implemented from the paper's description.

Berard, Gidel, Almahairi, Vincent & Lacoste-Julien, *A Closer Look at the Optimization Landscapes
of Generative Adversarial Networks*, ICLR 2020, §4 and App. C: the eigenvalues of the game
Jacobian and of each player's Hessian are computed with ARPACK on Jacobian-vector products
obtained by **double backpropagation** in PyTorch, in float32:

1. the full-batch gradient of each player's own loss is built once with ``create_graph=True``
   (the evaluation batch is streamed in minibatches, as a data loader would, and the gradients
   summed with weights ``n_b / N``; the graphs of every minibatch stay alive);
2. every product is one more backward pass through that graph:
   ``grad(⟨g(w), u⟩, w) = ∇g(w)ᵀ u`` — a *transposed* product, which has the same eigenvalues;
3. SciPy's ARPACK with its defaults (``eigs`` for ∇v, ``eigsh`` for the symmetric Hessians;
   ``ncv = 2k + 1``, ``tol = 0`` i.e. machine precision of the float32 operator, ``which="LM"``).

PyTorch is a benchmark-only dependency of ``spectra``: it is imported here, never by the package.
The networks are built from NumPy weight dictionaries (JAX layout: dense ``(in, out)``, convolution
``HWIO``, activations NHWC), so both implementations probe exactly the same point.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse.linalg as spla
import torch
import torch.nn.functional as F
from torch import autograd

__all__ = [
    "DoubleBackpropOperator",
    "BaselineResult",
    "full_batch_gradients",
    "berard_spectra",
    "mixture_networks",
    "conv_networks",
    "saturating_losses",
]


class DoubleBackpropOperator(spla.LinearOperator):
    """``u -> ∇g(w)ᵀ u`` by double backprop through a retained gradient graph, float32.

    ``grads`` are the gradients (built with ``create_graph=True``) of some losses with respect to
    ``params``; the operator is square when ``grads`` and ``params`` match in size. Counts its
    products in ``n_products``.
    """

    def __init__(self, grads: Sequence[torch.Tensor], params: Sequence[torch.Tensor]):
        self.flat = torch.cat([g.reshape(-1) for g in grads])
        self.params = list(params)
        n = int(self.flat.numel())
        super().__init__(np.dtype(np.float32), (n, n))
        self.n_products = 0

    def _matvec(self, u):
        self.n_products += 1
        u = torch.as_tensor(np.ascontiguousarray(u, dtype=np.float32).reshape(-1))
        out = autograd.grad(
            torch.dot(self.flat, u), self.params, retain_graph=True, allow_unused=True
        )
        parts = [
            (torch.zeros_like(p) if g is None else g).reshape(-1)
            for g, p in zip(out, self.params, strict=True)
        ]
        return torch.cat(parts).detach().numpy()


def saturating_losses(
    real_logits: torch.Tensor, fake_logits: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The minimax (saturating) GAN losses from logits: ``(L_D, L_G)``, means over the batch."""
    loss_d = F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    return loss_d, -F.softplus(fake_logits).mean()


def full_batch_gradients(
    gen: torch.nn.Module,
    dis: torch.nn.Module,
    batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
    losses: Callable = saturating_losses,
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """``(∇_φ L_D, ∇_θ L_G)`` over all ``batches`` (weights ``n_b / N``), with graphs kept."""
    total = sum(int(x.shape[0]) for x, _ in batches)
    params_d, params_g = list(dis.parameters()), list(gen.parameters())
    grads_d = [torch.zeros_like(p) for p in params_d]
    grads_g = [torch.zeros_like(p) for p in params_g]
    for x, z in batches:
        weight = x.shape[0] / total
        loss_d, loss_g = losses(dis(x).reshape(-1), dis(gen(z)).reshape(-1))
        gd = autograd.grad(loss_d, params_d, create_graph=True)
        gg = autograd.grad(loss_g, params_g, create_graph=True)
        grads_d = [a + weight * b for a, b in zip(grads_d, gd, strict=True)]
        grads_g = [a + weight * b for a, b in zip(grads_g, gg, strict=True)]
    return grads_d, grads_g


class BaselineResult(NamedTuple):
    """One spectrum: values sorted by decreasing magnitude, products, seconds (graph included)."""

    values: np.ndarray
    n_products: int
    seconds: float


def berard_spectra(
    gen: torch.nn.Module,
    dis: torch.nn.Module,
    batches: Sequence[tuple[torch.Tensor, torch.Tensor]],
    *,
    k: int,
    spectra: Sequence[str] = ("game",),
    seed: int = 0,
) -> dict[str, BaselineResult]:
    """Top-``k`` (largest magnitude) eigenvalues of ∇v (``"game"``) and of the player Hessians
    (``"phi"`` = discriminator, ``"theta"`` = generator), the reference way.

    Each spectrum's time includes building the retained gradient graph, as a user of the reference
    probe pays it once per call of their ``compute_eigenvalues``.
    """
    params_d, params_g = list(dis.parameters()), list(gen.parameters())
    out: dict[str, BaselineResult] = {}
    for name in spectra:
        start = time.perf_counter()
        grads_d, grads_g = full_batch_gradients(gen, dis, batches)
        if name == "game":
            op = DoubleBackpropOperator(grads_d + grads_g, params_d + params_g)
        elif name == "phi":
            op = DoubleBackpropOperator(grads_d, params_d)
        elif name == "theta":
            op = DoubleBackpropOperator(grads_g, params_g)
        else:
            raise ValueError(f"spectra: expected 'game', 'phi' or 'theta', got {name!r}")
        v0 = np.random.default_rng(seed).standard_normal(op.shape[0]).astype(np.float32)
        if name == "game":
            values = spla.eigs(op, k=k, v0=v0, return_eigenvectors=False)
        else:
            values = spla.eigsh(op, k=k, v0=v0, return_eigenvectors=False)
        values = np.asarray(values, dtype=np.complex128)
        values = values[np.lexsort((-values.imag, -np.abs(values)))]
        out[name] = BaselineResult(values, op.n_products, time.perf_counter() - start)
        del grads_d, grads_g, op
    return out


# -- the benchmark's networks, from NumPy weights in JAX layout ---------------------------------


def _linear(w: np.ndarray, b: np.ndarray) -> torch.nn.Linear:
    layer = torch.nn.Linear(w.shape[0], w.shape[1])
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(np.asarray(w, np.float32).T))
        layer.bias.copy_(torch.as_tensor(np.asarray(b, np.float32)))
    return layer


def _conv(w: np.ndarray, b: np.ndarray) -> torch.nn.Conv2d:
    """A 'SAME'-padded stride-1 convolution from an HWIO kernel (odd size)."""
    h, _, cin, cout = w.shape
    layer = torch.nn.Conv2d(cin, cout, h, padding=h // 2)
    with torch.no_grad():
        layer.weight.copy_(torch.as_tensor(np.asarray(w, np.float32).transpose(3, 2, 0, 1)))
        layer.bias.copy_(torch.as_tensor(np.asarray(b, np.float32)))
    return layer


class _MLP(torch.nn.Module):
    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__()
        self.l1 = _linear(params["w1"], params["b1"])
        self.l2 = _linear(params["w2"], params["b2"])

    def forward(self, x):
        return self.l2(torch.relu(self.l1(x)))


def mixture_networks(
    phi: dict[str, np.ndarray], theta: dict[str, np.ndarray]
) -> tuple[torch.nn.Module, torch.nn.Module]:
    """``(generator, discriminator)``: one-hidden-layer ReLU MLPs (Berard et al.'s mixture GAN)."""
    return _MLP(theta), _MLP(phi)


class _ConvGenerator(torch.nn.Module):
    """``z -> linear -> (7, 7, C) -> [×2 up, 3×3 conv, ReLU] ×2 -> 3×3 conv -> tanh``."""

    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__()
        self.project = _linear(params["project_w"], params["project_b"])
        self.c1 = _conv(params["c1_w"], params["c1_b"])
        self.c2 = _conv(params["c2_w"], params["c2_b"])
        self.out = _conv(params["out_w"], params["out_b"])
        self.channels = params["c1_w"].shape[2]

    def forward(self, z):
        h = torch.relu(self.project(z)).reshape(z.shape[0], 7, 7, self.channels)
        h = h.permute(0, 3, 1, 2)  # NHWC (the JAX layout) -> NCHW
        h = torch.relu(self.c1(F.interpolate(h, scale_factor=2, mode="nearest")))
        h = torch.relu(self.c2(F.interpolate(h, scale_factor=2, mode="nearest")))
        return torch.tanh(self.out(h))


class _ConvDiscriminator(torch.nn.Module):
    """``image -> [3×3 conv, ReLU, 2×2 avg pool] ×2 -> 3×3 conv, ReLU -> dense ReLU -> logit``."""

    def __init__(self, params: dict[str, np.ndarray]):
        super().__init__()
        self.c1 = _conv(params["c1_w"], params["c1_b"])
        self.c2 = _conv(params["c2_w"], params["c2_b"])
        self.c3 = _conv(params["c3_w"], params["c3_b"])
        self.d1 = _linear(params["d1_w"], params["d1_b"])
        self.d2 = _linear(params["d2_w"], params["d2_b"])

    def forward(self, x):
        h = F.avg_pool2d(torch.relu(self.c1(x)), 2)
        h = F.avg_pool2d(torch.relu(self.c2(h)), 2)
        h = torch.relu(self.c3(h))
        h = h.permute(0, 2, 3, 1).reshape(x.shape[0], -1)  # flatten in NHWC order, as JAX does
        return self.d2(torch.relu(self.d1(h)))


def conv_networks(
    phi: dict[str, np.ndarray], theta: dict[str, np.ndarray]
) -> tuple[torch.nn.Module, torch.nn.Module]:
    """``(generator, discriminator)`` of the benchmark's convolutional GAN (images NCHW)."""
    return _ConvGenerator(theta), _ConvDiscriminator(phi)
