"""The probe: the spectra that govern a game's training dynamics at any point.

- :mod:`~spectra.probe.core`: :func:`probe_game` (∇v, player Hessians, ∇F, the theory's advice);
- :mod:`~spectra.probe.products`: matrix-free products streamed over minibatches;
- :mod:`~spectra.probe.update`: the update rule a run used and the spectrum of its operator;
- :mod:`~spectra.probe.advice`: Lemma 11, Theorems 2-4 and the recommended (η, β);
- :mod:`~spectra.probe.density`: a player's Hessian trace and eigenvalue density (SLQ);
- :mod:`~spectra.probe.path_angle`: the path-angle between two points (Berard et al. 2020);
- :mod:`~spectra.probe.report`: JSON (written atomically) and figures;
- :mod:`~spectra.probe.checkpoints`: probe the checkpoints of a training run.
"""

from spectra.probe.advice import theory_advice
from spectra.probe.checkpoints import probe_checkpoint, probe_run, run_path_angle
from spectra.probe.core import DEFAULT_WHICH, ProbeResult, Spectrum, cast_game, probe_game
from spectra.probe.density import player_density
from spectra.probe.path_angle import PathAngle, path_angle
from spectra.probe.products import StreamedOperator, split_batch, streamed_vector_field
from spectra.probe.update import UpdateRule, summed_game

__all__ = [
    "DEFAULT_WHICH",
    "PathAngle",
    "ProbeResult",
    "Spectrum",
    "StreamedOperator",
    "UpdateRule",
    "cast_game",
    "path_angle",
    "player_density",
    "probe_checkpoint",
    "probe_game",
    "probe_run",
    "run_path_angle",
    "split_batch",
    "streamed_vector_field",
    "summed_game",
    "theory_advice",
]
