"""Crash-safe checkpoints through orbax, with a content manifest written last.

Each saved step holds both players' parameters and optimiser states, the run's PRNG keys, the
fixed evaluation batch (real samples and latents, for the probe) and, as JSON, the step and the
configuration. Saving is synchronous and goes in two phases:

1. orbax writes ``checkpoints/<step>/`` (it writes into a ``*.orbax-checkpoint-tmp*`` folder and
   renames it when complete; a save killed mid-way leaves only that temporary folder, which a new
   ``CheckpointManager`` ignores and removes);
2. then ``manifests/<step>.json`` is written atomically: the SHA-256 of every file of the step
   folder and a digest of every array's bytes.

A step is *complete* only when its manifest exists, and is *valid* only when its files match the
manifest and the restored arrays match the digest. A step folder without a manifest (a process
killed between the two phases) is reported and discarded; a step whose files or arrays disagree
with its manifest raises :class:`CheckpointError` and is never loaded. Orbax's own exceptions are
wrapped in one-line :class:`CheckpointError` messages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from spectra.gan.rundir import atomic_write_text

PyTree = Any

__all__ = ["CheckpointError", "Checkpoint", "CheckpointStore", "FORMAT"]

FORMAT = 1
CHECKPOINT_DIR = "checkpoints"
MANIFEST_DIR = "manifests"
TMP_MARKER = ".orbax-checkpoint-tmp"


class CheckpointError(ValueError):
    """A checkpoint is missing, incomplete, corrupted, or cannot be read or written."""


class Checkpoint(NamedTuple):
    """One restored checkpoint."""

    step: int
    state: dict[str, PyTree]
    eval_batch: dict[str, Any]
    keys: dict[str, Any]
    config: dict[str, Any]


def _quiet_orbax() -> None:
    logging.getLogger("absl").setLevel(logging.ERROR)


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}"[:300]


def array_digest(tree: PyTree) -> str:
    """SHA-256 over the dtype, shape and bytes of every leaf, in tree order."""
    digest = hashlib.sha256()
    for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
        array = np.asarray(leaf)
        digest.update(jax.tree_util.keystr(path).encode())
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def _file_hashes(folder: Path) -> dict[str, str]:
    hashes = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        hashes[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return hashes


class CheckpointStore:
    """The checkpoints of one run folder.

    Args:
        run_dir: the run folder (checkpoints go to ``run_dir/checkpoints``).
        writable: open for training (create the folder, remove unfinished saves). A read-only
            store never touches the folder, so a probe can read a run while it trains.
        log: called with one-line reports (discarded incomplete saves).
    """

    def __init__(self, run_dir, *, writable: bool = False, log=None):
        import orbax.checkpoint as ocp

        _quiet_orbax()
        self.run_dir = Path(run_dir)
        self.directory = self.run_dir / CHECKPOINT_DIR
        self.manifests = self.run_dir / MANIFEST_DIR
        self._log = log or (lambda message: None)
        self._ocp = ocp
        self.writable = writable
        if writable and self.directory.exists():
            for tmp in sorted(self.directory.glob(f"*{TMP_MARKER}*")):
                self._log(f"discarding an unfinished checkpoint save: {tmp.name}")
        if not writable and not self.directory.is_dir():
            raise CheckpointError(f"{self.run_dir} holds no checkpoints")
        try:
            self._manager = ocp.CheckpointManager(
                self.directory.absolute(),
                options=ocp.CheckpointManagerOptions(
                    enable_async_checkpointing=False,
                    cleanup_tmp_directories=writable,
                    create=writable,
                    read_only=not writable,
                ),
                item_names=("state", "eval_batch", "rng", "meta"),
            )
        except Exception as err:  # orbax raises many types; report one line
            raise CheckpointError(
                f"cannot open checkpoints in {self.directory}: {_one_line(err)}"
            ) from None

    # -- listing -----------------------------------------------------------------------------
    def _orbax_steps(self) -> list[int]:
        return sorted(int(s) for s in self._manager.all_steps(read=True))

    def _manifest_path(self, step: int) -> Path:
        return self.manifests / f"{step}.json"

    def steps(self) -> list[int]:
        """Complete steps (orbax finished and the manifest was written), ascending."""
        return [s for s in self._orbax_steps() if self._manifest_path(s).exists()]

    def incomplete_steps(self) -> list[int]:
        """Step folders without a manifest: saves interrupted before they were complete."""
        return [s for s in self._orbax_steps() if not self._manifest_path(s).exists()]

    def discard_incomplete(self) -> list[int]:
        """Report and delete incomplete step folders (so the step can be saved again)."""
        if not self.writable:
            raise CheckpointError("discard_incomplete needs a writable CheckpointStore")
        dropped = self.incomplete_steps()
        for step in dropped:
            self._log(f"discarding incomplete checkpoint at step {step} (no manifest)")
            shutil.rmtree(self.directory / str(step), ignore_errors=True)
        if dropped:
            self._manager.reload()
        return dropped

    def latest_step(self) -> int | None:
        steps = self.steps()
        return steps[-1] if steps else None

    # -- save --------------------------------------------------------------------------------
    def save(
        self,
        step: int,
        *,
        state: dict[str, PyTree],
        eval_batch: dict[str, Any],
        keys: dict[str, Any],
        config: dict[str, Any],
    ) -> None:
        """Save ``step`` and then write its manifest (the checkpoint is complete after that)."""
        if not self.writable:
            raise CheckpointError("save needs a writable CheckpointStore")
        ocp = self._ocp
        items = {"state": state, "eval_batch": eval_batch, "rng": keys}
        meta = {"format": FORMAT, "step": int(step), "config": config}
        try:
            self._manager.save(
                int(step),
                args=ocp.args.Composite(
                    state=ocp.args.StandardSave(state),
                    eval_batch=ocp.args.StandardSave(eval_batch),
                    rng=ocp.args.StandardSave(keys),
                    meta=ocp.args.JsonSave(meta),
                ),
                force=True,
            )
            self._manager.wait_until_finished()
        except Exception as err:
            raise CheckpointError(
                f"could not save the checkpoint at step {step} in {self.directory}: "
                f"{_one_line(err)}"
            ) from None
        manifest = {
            "format": FORMAT,
            "step": int(step),
            "arrays": array_digest(items),
            "files": _file_hashes(self.directory / str(step)),
        }
        self.manifests.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self._manifest_path(step), json.dumps(manifest, indent=1, sort_keys=True))

    # -- restore -----------------------------------------------------------------------------
    def _verify_files(self, step: int) -> dict[str, Any]:
        path = self._manifest_path(step)
        try:
            manifest = json.loads(path.read_text())
            expected = manifest["files"]
        except (OSError, ValueError, KeyError, TypeError):
            raise CheckpointError(
                f"checkpoint at step {step}: unreadable manifest {path}"
            ) from None
        actual = _file_hashes(self.directory / str(step))
        missing = sorted(set(expected) - set(actual))
        extra = sorted(set(actual) - set(expected))
        changed = sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k])
        for label, names in (("missing", missing), ("changed", changed), ("unexpected", extra)):
            if names:
                raise CheckpointError(
                    f"checkpoint at step {step} in {self.directory} is corrupted: {label} file "
                    f"{names[0]}" + (f" (and {len(names) - 1} more)" if len(names) > 1 else "")
                )
        return manifest

    def restore(
        self, step: int, *, state_template: PyTree, batch_template: PyTree, keys_template: PyTree
    ) -> Checkpoint:
        """Verify and load ``step``; templates are ``jax.ShapeDtypeStruct`` trees of the items."""
        if step not in self._orbax_steps():
            available = ", ".join(map(str, self.steps())) or "none"
            raise CheckpointError(
                f"no checkpoint at step {step} in {self.directory} (available: {available})"
            )
        if not self._manifest_path(step).exists():
            raise CheckpointError(
                f"checkpoint at step {step} in {self.directory} is incomplete (no manifest): "
                "its save was interrupted"
            )
        manifest = self._verify_files(step)
        ocp = self._ocp
        try:
            restored = self._manager.restore(
                int(step),
                args=ocp.args.Composite(
                    state=ocp.args.StandardRestore(state_template),
                    eval_batch=ocp.args.StandardRestore(batch_template),
                    rng=ocp.args.StandardRestore(keys_template),
                    meta=ocp.args.JsonRestore(),
                ),
            )
        except Exception as err:
            raise CheckpointError(
                f"could not read the checkpoint at step {step} in {self.directory}: "
                f"{_one_line(err)}"
            ) from None
        # index by name: a Composite is a Mapping, so ``restored.keys`` would be its method
        items = {name: restored[name] for name in ("state", "eval_batch", "rng")}
        if array_digest(items) != manifest.get("arrays"):
            raise CheckpointError(
                f"checkpoint at step {step} in {self.directory} is corrupted: "
                "its arrays differ from the manifest digest"
            )
        meta = restored["meta"]
        if meta.get("step") != step or meta.get("format") != FORMAT:
            raise CheckpointError(f"checkpoint at step {step}: inconsistent metadata {meta}")
        return Checkpoint(step, items["state"], items["eval_batch"], items["rng"], meta["config"])

    def close(self) -> None:
        self._manager.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
