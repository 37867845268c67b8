"""spectra: spectral analysis of fixed-point operators in games.

Modules, bottom up: :mod:`spectra.games` (v, ∇v), :mod:`spectra.zoo` (built-in games),
:mod:`spectra.theory` (closed forms of the seed theorems), :mod:`spectra.eigensolvers`
(dense or matrix-free eigenvalues), :mod:`spectra.operators` (update rules as fixed-point maps).
"""

from spectra import games, operators, zoo
from spectra.games import Game, jacobian, jvp, vector_field

__version__ = "0.1.0"

__all__ = ["Game", "games", "jacobian", "jvp", "operators", "vector_field", "zoo"]
