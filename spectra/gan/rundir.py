"""The run folder: its layout, its configuration file, atomic writes and the metrics log.

::

    RUN/
      config.json          the TrainConfig (written once, atomically)
      metrics.jsonl        one JSON object per evaluation
      samples/             step_0001000.png, … (scatter for 2-D data, image grid otherwise)
      checkpoints/         orbax CheckpointManager folder, one sub-folder per saved step
      manifests/           <step>.json: content hashes, written last (see spectra.gan.checkpoint)

Each line of ``metrics.jsonl`` holds ``step``; ``d_loss`` and ``g_loss``, means over the training
steps since the previous evaluation (``g_loss`` is the part of L_θ the generator step
differentiates: for the saturating loss ``E log(1 − D(G(z)))`` without the real-data term
``E log D(x)``, which does not depend on θ, so it is not ``eval_g_loss``); ``eval_d_loss`` and
``eval_g_loss``, the full L_φ and L_θ on the run's fixed evaluation batch; and the sample-quality
metrics of :func:`spectra.gan.metrics.quality`.

A folder is accepted for a run if it does not exist, is empty, or holds a run with the same
configuration (``steps`` may differ) and ``resume`` is set. Anything else is a ``ValueError``
naming the folder and the reason; nothing of another run is ever overwritten.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from spectra.atomic import atomic_write_bytes, atomic_write_text
from spectra.gan.config import TrainConfig, config_from_dict, identity_diff

__all__ = [
    "CONFIG_FILE",
    "METRICS_FILE",
    "atomic_write_bytes",
    "atomic_write_text",
    "atomic_savefig",
    "prepare_run_dir",
    "read_run_config",
    "append_metrics",
    "read_metrics",
    "truncate_metrics",
]

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"


def atomic_savefig(fig, path: str | os.PathLike, **kwargs: Any) -> None:
    """Save a matplotlib figure as PNG atomically."""
    import io

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **kwargs)
    atomic_write_bytes(path, buffer.getvalue())


def _check_writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise ValueError(f"out: cannot write to the output folder {path}: {reason}") from None


def read_run_config(run_dir: str | os.PathLike) -> TrainConfig:
    """The configuration stored in a run folder."""
    path = Path(run_dir) / CONFIG_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{run_dir} is not a spectra run folder (no {CONFIG_FILE})")
    try:
        values = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: unreadable run configuration ({err})") from None
    return config_from_dict(values)


def prepare_run_dir(run_dir: str | os.PathLike, config: TrainConfig, *, resume: bool) -> bool:
    """Check (and create) the output folder for ``config``; returns whether a run is resumed.

    Raises ``ValueError`` if the folder cannot be written, holds another run's configuration, holds
    the same run without ``resume``, or is a non-empty folder that is not a run.
    """
    path = Path(run_dir)
    if path.exists() and not path.is_dir():
        raise ValueError(f"out: {path} exists and is not a folder")
    existing = path / CONFIG_FILE
    if path.is_dir() and any(path.iterdir()) and not existing.exists():
        raise ValueError(f"out: {path} is not empty and is not a spectra run folder")
    _check_writable(path)
    if existing.exists():
        stored = read_run_config(path)
        differ = identity_diff(stored, config)
        if differ:
            changes = ", ".join(
                f"{k}={getattr(stored, k)!r}→{getattr(config, k)!r}" for k in differ
            )
            raise ValueError(f"out: {path} holds another run (different {changes})")
        if not resume:
            raise ValueError(f"out: {path} already holds this run; pass --resume to continue it")
        if stored.steps != config.steps:
            atomic_write_text(existing, config.to_json())
        return True
    atomic_write_text(existing, config.to_json())
    return False


def append_metrics(run_dir: str | os.PathLike, record: dict[str, Any]) -> None:
    """Append one JSON line to the metrics log (flushed and fsynced)."""
    with open(Path(run_dir) / METRICS_FILE, "a") as handle:
        handle.write(json.dumps(record, sort_keys=True) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_metrics(run_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """All complete records of the metrics log (a torn last line is skipped)."""
    path = Path(run_dir) / METRICS_FILE
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def truncate_metrics(run_dir: str | os.PathLike, step: int) -> None:
    """Drop log records after ``step`` (and any torn line): used when a run resumes at ``step``."""
    kept = [r for r in read_metrics(run_dir) if r.get("step", -1) <= step]
    text = "".join(json.dumps(r, sort_keys=True) + "\n" for r in kept)
    atomic_write_text(Path(run_dir) / METRICS_FILE, text)
