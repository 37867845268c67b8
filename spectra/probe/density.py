"""One player's Hessian trace (Hutchinson) and eigenvalue density (SLQ) at a point of a game,
from products streamed over the evaluation batch: what ``spectra density`` computes for each
player. The estimators are :mod:`spectra.density`'s."""

from __future__ import annotations

import time
from collections.abc import Callable

from spectra import density
from spectra.games import Game
from spectra.probe.products import StreamedOperator

__all__ = ["player_density"]


def player_density(
    game: Game,
    w,
    *,
    player: str,
    probes: int = 8,
    steps: int = 80,
    trace_samples: int = 32,
    minibatch: int | None = None,
    seed: int = 0,
    on_product: Callable[[int], None] | None = None,
) -> dict:
    """Hutchinson's trace and the SLQ density of one player's Hessian at ``w``, as a
    JSON-ready record (products streamed over minibatches, :class:`StreamedOperator`).

    The record holds ``n``, ``trace`` (value, stderr, samples and per-probe values), ``slq``
    (probes, steps, the steps each probe ran, nodes, weights, the extreme nodes), the density's
    ``sigma``, ``grid`` and ``density`` (:func:`spectra.density.default_grid`), ``products`` and
    ``seconds``.
    """
    start = time.perf_counter()
    op = StreamedOperator(game, w, kind=player, minibatch=minibatch, on_product=on_product)
    matrix_free = op.as_matrix_free()
    trace = density.hutchinson_trace(matrix_free, samples=trace_samples, seed=seed)
    quadrature = density.slq(matrix_free, probes=probes, steps=steps, seed=seed)
    grid, sigma = density.default_grid(quadrature)
    phi = density.density(quadrature, grid, sigma=sigma)
    used = quadrature.nodes[quadrature.weights > 0]
    return {
        "n": op.n,
        "trace": {
            "value": trace.value,
            "stderr": trace.stderr,
            "samples": trace.samples,
            "values": trace.values,
        },
        "slq": {
            "probes": probes,
            "steps": steps,
            "steps_used": quadrature.steps,
            "nodes": quadrature.nodes,
            "weights": quadrature.weights,
            "min_node": float(used.min()),
            "max_node": float(used.max()),
        },
        "sigma": sigma,
        "grid": grid,
        "density": phi,
        "products": op.n_products,
        "seconds": time.perf_counter() - start,
    }
