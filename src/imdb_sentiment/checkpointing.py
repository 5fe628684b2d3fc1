"""Checkpoints that survive kills and resume exactly: atomic writes, RNG state, where a run picks up."""
from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

LAST = "last.ckpt"  # ModelCheckpoint(save_last=True) writes it at the end of every validated epoch


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write beside the target, fsync, rename: a kill mid-save leaves the previous checkpoint intact."""

    def save_checkpoint(self, checkpoint: dict, path, storage_options=None) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        try:
            super().save_checkpoint(checkpoint, str(tmp), storage_options)
            with tmp.open("rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def resume_path(output_dir: str | os.PathLike) -> Path | None:
    """The run folder's last checkpoint, if a previous attempt of this run (a requeued job) left one."""
    last = Path(output_dir) / "checkpoints" / LAST
    return last if last.is_file() else None


def rng_states() -> dict:
    """Every generator dropout or Python code may draw from, so a resumed epoch draws the same numbers."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    numpy_state = [kind, keys.tolist(), pos, has_gauss, cached]  # plain types: loadable with weights_only
    return {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate(),
            "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    kind, keys, pos, has_gauss, cached = states["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))
    random.setstate(states["python"])
    if states.get("cuda") is not None and torch.cuda.is_available() and len(states["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(states["cuda"])
