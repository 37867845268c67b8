"""Named, validated training configurations for the GAN trainer.

A run is fully described by one :class:`TrainConfig` (the flax-examples ``configs/`` idea, as a
frozen dataclass): the data set, the loss, the update order, each player's optimiser (kind, step
size η, momentum β), the network sizes, the schedule and the seed. The trainer writes it to
``config.json`` in the run folder, and :func:`spectra.gan.game_at` reads it back to rebuild the
exact game of the run.

The defaults follow the paper's GAN experiments (Gidel et al. 2019, §4 and Fig. 3): saturating
loss, alternating updates, heavy-ball SGD for both players, the generator at β = 0.5 and negative
momentum on the discriminator only. Step sizes are ours (the paper's 1e-4 is for its CIFAR-10
residual nets; small 2-D MLPs need larger steps to move within a few thousand updates).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

__all__ = [
    "TrainConfig",
    "CONFIGS",
    "DATASETS",
    "LOSSES",
    "UPDATES",
    "OPTIMIZERS",
    "get_config",
    "config_from_dict",
    "identity_diff",
]

DATASETS = ("mog8", "mog25", "digits", "mnist")
LOSSES = ("saturating", "non-saturating")
UPDATES = ("alternating", "simultaneous")
OPTIMIZERS = ("sgd", "adam")

# Fields that may differ between a run folder and a resumed run: training longer does not change
# the trajectory up to the old end.
RESUMABLE_FIELDS = ("steps",)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (validated on construction).

    Attributes:
        name: a label (the named config it started from).
        data: one of :data:`DATASETS`; 2-D mixtures use MLPs, images residual conv nets.
        loss: ``"saturating"`` (the paper's minimax loss) or ``"non-saturating"``.
        updates: ``"alternating"`` (discriminator, then generator) or ``"simultaneous"``.
        d_optimizer, g_optimizer: ``"sgd"`` (heavy ball, paper eq. 5) or ``"adam"``.
        d_lr, g_lr: step sizes η > 0 of the discriminator φ and the generator θ.
        d_beta, g_beta: momenta β ∈ (−1, 1) (for Adam: its β₁).
        batch_size: samples per step (real and latent).
        latent_dim: dimension of the generator's Gaussian input.
        hidden, depth: MLP width and number of hidden layers (2-D data).
        channels: width of the residual conv nets (images).
        steps: number of training steps (one step = one update of each player).
        steps_per_call: steps fused into one compiled call.
        checkpoint_every: steps between checkpoints (also saved at step 0 and at the end).
        eval_every: steps between metric evaluations and sample images.
        eval_batch_size: size of the fixed evaluation batch stored for the probe.
        metric_samples: generator samples used by the quality metrics.
        seed: the PRNG seed; a run is a deterministic function of its config.
    """

    name: str = "custom"
    data: str = "mog8"
    loss: str = "saturating"
    updates: str = "alternating"
    d_optimizer: str = "sgd"
    d_lr: float = 0.05
    d_beta: float = -0.5
    g_optimizer: str = "sgd"
    g_lr: float = 0.05
    g_beta: float = 0.5
    batch_size: int = 256
    latent_dim: int = 16
    hidden: int = 128
    depth: int = 2
    channels: int = 32
    steps: int = 5000
    steps_per_call: int = 250
    checkpoint_every: int = 1000
    eval_every: int = 500
    eval_batch_size: int = 512
    metric_samples: int = 2500
    seed: int = 0

    def __post_init__(self):
        _check_choice("data", self.data, DATASETS)
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("updates", self.updates, UPDATES)
        _check_choice("d_optimizer", self.d_optimizer, OPTIMIZERS)
        _check_choice("g_optimizer", self.g_optimizer, OPTIMIZERS)
        for field in ("d_lr", "g_lr"):
            value = getattr(self, field)
            if not _is_real(value) or not value > 0:
                raise ValueError(
                    f"{field}: the step size η must be a finite number > 0, got {value}"
                )
        for field in ("d_beta", "g_beta"):
            value = getattr(self, field)
            if not _is_real(value) or not -1.0 < value < 1.0:
                raise ValueError(f"{field}: the momentum β must lie in (-1, 1), got {value}")
        for field in (
            "batch_size",
            "latent_dim",
            "hidden",
            "depth",
            "channels",
            "steps",
            "steps_per_call",
            "checkpoint_every",
            "eval_every",
            "eval_batch_size",
            "metric_samples",
        ):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{field}: expected an integer >= 1, got {value!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed: expected an integer >= 0, got {self.seed!r}")

    @property
    def is_image(self) -> bool:
        """Whether the data are images (residual conv nets) rather than 2-D points (MLPs)."""
        return self.data in ("digits", "mnist")

    def replace(self, **overrides: Any) -> TrainConfig:
        """A copy with some fields changed (validated); unknown field names raise ValueError."""
        unknown = sorted(set(overrides) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise ValueError(f"unknown config field(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **overrides)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)


def _is_real(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_choice(field: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{field}: unknown value {value!r}; expected one of {', '.join(choices)}")


CONFIGS: dict[str, TrainConfig] = {
    "mog8": TrainConfig(name="mog8", data="mog8"),
    "mog25": TrainConfig(name="mog25", data="mog25", steps=10000, checkpoint_every=2000),
    "digits": TrainConfig(
        name="digits",
        data="digits",
        d_lr=0.02,
        g_lr=0.02,
        batch_size=64,
        latent_dim=32,
        channels=32,
        steps=3000,
        steps_per_call=4,
        eval_batch_size=256,
        metric_samples=1000,
    ),
    "mnist": TrainConfig(
        name="mnist",
        data="mnist",
        d_lr=0.02,
        g_lr=0.02,
        batch_size=64,
        latent_dim=64,
        channels=64,
        steps=5000,
        steps_per_call=4,
        eval_batch_size=256,
        metric_samples=1000,
    ),
}


def get_config(name: str, **overrides: Any) -> TrainConfig:
    """The named config ``name`` (one of :data:`CONFIGS`) with ``overrides`` applied."""
    if name not in CONFIGS:
        raise ValueError(f"config: unknown name {name!r}; expected one of {', '.join(CONFIGS)}")
    return CONFIGS[name].replace(**overrides)


def config_from_dict(values: dict[str, Any]) -> TrainConfig:
    """Rebuild a config from :meth:`TrainConfig.to_dict` output (e.g. a run's ``config.json``)."""
    if not isinstance(values, dict):
        raise ValueError(f"config: expected a JSON object, got {type(values).__name__}")
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"config: unknown field(s) {', '.join(unknown)}")
    return TrainConfig(**values)


def identity_diff(a: TrainConfig, b: TrainConfig) -> list[str]:
    """Fields in which two configs describe different runs (``steps`` may differ on resume)."""
    return [
        f.name
        for f in dataclasses.fields(TrainConfig)
        if f.name not in RESUMABLE_FIELDS and getattr(a, f.name) != getattr(b, f.name)
    ]
