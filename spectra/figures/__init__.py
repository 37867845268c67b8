"""The named figures of the seeds: the arrays behind each, computed with the library, and the files.

Each figure has a ``<name>_data(...)`` function that computes its arrays by calling the library
(:mod:`spectra.theory`, :mod:`spectra.operators`, :mod:`spectra.zoo`, ...) and returns them as a
``dict`` of NumPy arrays, exactly the keyword arguments of its drawing function in
:mod:`spectra.plots`. :func:`write_figure` saves the PNG and the arrays (``.npz``, plus a ``.csv``
for tabular figures) side by side, each written to a temporary name and moved into place.
The data functions live by family: :mod:`~spectra.figures.spectral`,
:mod:`~spectra.figures.dynamics`, :mod:`~spectra.figures.fields`.

========================  ================================================================
name                      what
========================  ================================================================
``step_size``             paper Fig. 2: ``1 − ηλᵢ`` as η grows; tangent and cut (Theorem 2)
``bilinear``              paper Fig. 1 and Table 1: momentum on the bilinear game
``momentum_eigenvalues``  Theorem 3: ``μ±(β, η, λ)`` as β sweeps (−1, 1)
``rate_map``              the worst momentum rate over (η, β), with Theorem 4's intervals
``stability``             lecture Fig. 1 / Lemma 11: ``I + hA`` as h grows; consensus's shift
``fields``                lecture Fig. 2: v, −∇½‖v‖² and the consensus field
``dirac_gan``             the Dirac-GAN: fields, trajectories, spectrum against γ
``rates``                 measured rates against ``log ρ`` (Theorem 1 / Proposition 6)
========================  ================================================================

All computations run in float64 (inside ``jax.enable_x64``) whatever the global setting.
"""

from __future__ import annotations

import csv
import inspect
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np
from matplotlib.figure import Figure

from spectra import plots
from spectra.atomic import atomic_write, output_folder
from spectra.checks import count
from spectra.figures.dynamics import bilinear_data, bilinear_table, rates_data, rates_table
from spectra.figures.fields import dirac_gan_data, fields_data, stationary_points
from spectra.figures.spectral import (
    momentum_eigenvalues_data,
    rate_map_data,
    stability_data,
    step_size_data,
)

__all__ = [
    "NamedFigure",
    "FIGURES",
    "figure_names",
    "compute",
    "render",
    "write_figure",
    "step_size_data",
    "bilinear_data",
    "momentum_eigenvalues_data",
    "rate_map_data",
    "stability_data",
    "fields_data",
    "dirac_gan_data",
    "rates_data",
    "stationary_points",
]

Data = dict[str, np.ndarray]


class NamedFigure(NamedTuple):
    """A figure: how to compute its arrays, how to draw them, and an optional CSV table."""

    name: str
    caption: str
    compute: Callable[..., Data]
    plot: Callable[..., Figure]
    table: Callable[[Data], tuple[list[str], list[list]]] | None = None


FIGURES: dict[str, NamedFigure] = {
    f.name: f
    for f in (
        NamedFigure(
            "step_size",
            "Paper Fig. 2: 1 − ηλᵢ as η grows; ρ(η_best) tangent (left) or cut (right).",
            step_size_data,
            plots.step_size_paths,
        ),
        NamedFigure(
            "bilinear",
            "Paper Fig. 1 and Table 1: momentum on the bilinear game.",
            bilinear_data,
            plots.bilinear_dynamics,
            bilinear_table,
        ),
        NamedFigure(
            "momentum_eigenvalues",
            "Theorem 3: μ±(β, η, λ) as β sweeps (−1, 1).",
            momentum_eigenvalues_data,
            plots.momentum_eigenvalue_paths,
        ),
        NamedFigure(
            "rate_map",
            "The worst momentum rate over (η, β), with Theorem 4's intervals I(λ).",
            rate_map_data,
            plots.momentum_rate_map,
        ),
        NamedFigure(
            "stability",
            "Lecture Fig. 1 / Lemma 11: I + hA as h grows, and consensus's shift.",
            stability_data,
            plots.stability_region,
        ),
        NamedFigure(
            "fields",
            "Lecture Fig. 2: v, −∇½‖v‖² and the consensus field, with stationary points.",
            fields_data,
            plots.vector_fields,
        ),
        NamedFigure(
            "dirac_gan",
            "The Dirac-GAN: fields and runs with and without regularisation; ∇v against γ.",
            dirac_gan_data,
            plots.dirac_gan_dynamics,
        ),
        NamedFigure(
            "rates",
            "Measured ‖ω_t − ω*‖ against the slope log ρ (Theorem 1 / Proposition 6).",
            rates_data,
            plots.convergence_rates,
            rates_table,
        ),
    )
}


def figure_names() -> tuple[str, ...]:
    """The names of the figures, in order."""
    return tuple(FIGURES)


def _lookup(name: str) -> NamedFigure:
    if name not in FIGURES:
        raise ValueError(f"name: unknown figure {name!r}; expected one of {', '.join(FIGURES)}")
    return FIGURES[name]


def compute(name: str, **kwargs) -> Data:
    """The arrays behind figure ``name`` (keyword arguments go to its ``<name>_data``)."""
    spec = _lookup(name)
    with jax.enable_x64(True):
        return spec.compute(**kwargs)


def render(name: str, data: Data) -> Figure:
    """Draw figure ``name`` from its arrays (extra arrays, kept for the user, are ignored)."""
    spec = _lookup(name)
    accepted = inspect.signature(spec.plot).parameters
    return spec.plot(**{k: v for k, v in data.items() if k in accepted})


def _write_csv(f, header: list[str], rows: list[list]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    f.write(text.getvalue().encode())


def write_figure(
    name: str, out_dir: str | os.PathLike = "figures", *, dpi: int = 110, **kwargs
) -> list[Path]:
    """Compute, draw and save figure ``name`` in ``out_dir``: ``<name>.png``, ``<name>.npz``
    (the arrays, loadable with ``np.load`` without pickle) and, for tabular figures,
    ``<name>.csv``. Returns the paths written. ``out_dir`` is created if needed; an existing
    file there, or a folder that cannot be created, is a ``ValueError`` before any work."""
    spec = _lookup(name)
    dpi = count("dpi", dpi, minimum=1)
    out = output_folder(out_dir, name="out_dir")
    data = compute(name, **kwargs)
    fig = render(name, data)
    paths = [out / f"{name}.png", out / f"{name}.npz"]
    atomic_write(
        paths[0], lambda f: fig.savefig(f, format="png", dpi=dpi, metadata={"Software": None})
    )
    atomic_write(paths[1], lambda f: np.savez_compressed(f, **data))
    if spec.table is not None:
        paths.append(out / f"{name}.csv")
        header, rows = spec.table(data)
        atomic_write(paths[2], lambda f: _write_csv(f, header, rows))
    return paths
