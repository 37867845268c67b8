"""spectra: spectral analysis of fixed-point operators in games.

Modules, bottom up: :mod:`spectra.games` (v, ∇v), :mod:`spectra.zoo` (built-in games),
:mod:`spectra.theory` (closed forms of the seed theorems), :mod:`spectra.eigensolvers`
(dense or matrix-free eigenvalues), :mod:`spectra.equilibria` (local Nash tests),
:mod:`spectra.operators` (update rules as fixed-point maps), :mod:`spectra.sweeps`
((η, β) grids), :mod:`spectra.sharding` (many devices).

The closed forms are re-exported here, so a bound is one line away::

    >>> import spectra
    >>> spectra.optimal_momentum([0.5 + 2j]).beta < 0
"""

from spectra import xla_cpu as _xla_cpu

_xla_cpu.configure()  # before anything can start JAX's backend: see spectra.xla_cpu

from spectra import eigensolvers, equilibria, games, matvecs, operators, sweeps, theory, zoo
from spectra.bounds import bounds_report
from spectra.eigensolvers import eigenvalues
from spectra.equilibria import nash_report
from spectra.games import Game, jacobian, jvp, vector_field
from spectra.theory import (
    gd_rate,
    interval_intersection,
    max_stable_step,
    momentum_eigenvalues,
    momentum_interval,
    momentum_rate,
    optimal_momentum,
    optimal_step_size,
)

__version__ = "0.1.0"

__all__ = [
    "Game",
    "bounds_report",
    "eigensolvers",
    "eigenvalues",
    "equilibria",
    "games",
    "gd_rate",
    "interval_intersection",
    "jacobian",
    "jvp",
    "matvecs",
    "max_stable_step",
    "momentum_eigenvalues",
    "momentum_interval",
    "momentum_rate",
    "nash_report",
    "operators",
    "optimal_momentum",
    "optimal_step_size",
    "sweeps",
    "theory",
    "vector_field",
    "zoo",
]
