"""Figures: arrays in, :class:`matplotlib.figure.Figure` out, one module per family.

- :mod:`~spectra.plots.step_size`: paper Fig. 2 (Theorem 2), lecture Fig. 1 (Lemma 11).
- :mod:`~spectra.plots.momentum`: Theorem 3's μ± as β sweeps; the rate map over (η, β).
- :mod:`~spectra.plots.dynamics`: the bilinear game (paper Fig. 1, Table 1); measured rates.
- :mod:`~spectra.plots.fields`: lecture Fig. 2 (v, −∇½‖v‖², consensus); the Dirac-GAN.
- :mod:`~spectra.plots.density`: Hessian eigenvalue densities (Ghorbani et al. 2019).

Nothing here computes what a user could not compute with the library: :mod:`spectra.figures`
computes the arrays behind each named figure and calls these functions.
"""

from spectra.plots._common import fmt_complex
from spectra.plots.density import spectral_density
from spectra.plots.dynamics import bilinear_dynamics, convergence_rates
from spectra.plots.fields import dirac_gan_dynamics, vector_fields
from spectra.plots.momentum import momentum_eigenvalue_paths, momentum_rate_map
from spectra.plots.step_size import stability_region, step_size_paths

__all__ = [
    "bilinear_dynamics",
    "convergence_rates",
    "dirac_gan_dynamics",
    "fmt_complex",
    "momentum_eigenvalue_paths",
    "momentum_rate_map",
    "spectral_density",
    "stability_region",
    "step_size_paths",
    "vector_fields",
]
