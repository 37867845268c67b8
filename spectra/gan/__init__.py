"""A flax (nnx) / optax / orbax GAN trainer whose runs can be probed as games.

Modules: :mod:`~spectra.gan.config` (named, validated configs), :mod:`~spectra.gan.data` (offline
data sets), :mod:`~spectra.gan.models` (MLPs, residual conv nets), :mod:`~spectra.gan.losses`
(saturating and non-saturating), :mod:`~spectra.gan.optim` (heavy-ball SGD with any β, Adam),
:mod:`~spectra.gan.step` (the pure train step), :mod:`~spectra.gan.train` (the driver),
:mod:`~spectra.gan.checkpoint` (orbax with manifests), :mod:`~spectra.gan.metrics`,
:mod:`~spectra.gan.grid` (the paper's Fig. 3 sweep), :mod:`~spectra.gan.game` (``game_at``).

Train with ``spectra.gan.train.train(config, workdir)`` or ``spectra train``.
"""

from spectra.gan.config import CONFIGS, TrainConfig, get_config
from spectra.gan.game import game_at, game_from_state

__all__ = ["CONFIGS", "TrainConfig", "get_config", "game_at", "game_from_state"]
