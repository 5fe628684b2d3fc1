"""Checkpoints that survive kills and resume exactly: atomic writes, RNG state, where a run picks up."""
from __future__ import annotations

import os
import random
import shutil
import zipfile
from pathlib import Path

import numpy as np
import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from .errors import UserError

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
        except (OSError, RuntimeError) as exc:  # torch's zip writer reports a full disk as a RuntimeError
            free = shutil.disk_usage(path.parent).free / 2**20
            why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip().splitlines()[0][:120]
            raise UserError(f"cannot write checkpoint {path} ({why}); {free:.0f} MiB free on that disk: make room, "
                            "or point paths.log_dir at a disk that has it") from None
        finally:
            tmp.unlink(missing_ok=True)


def resume_path(output_dir: str | os.PathLike) -> Path | None:
    """The newest intact checkpoint a previous attempt of this run (a requeued or killed job) left, if any:
    ``last.ckpt``, else the others by modification time. Writes are atomic, so a damaged file means the
    disk lost data; it is skipped. Reads only: ``clear_killed_saves`` tidies once the run may resume."""
    folder = Path(output_dir) / "checkpoints"
    if not folder.is_dir():
        return None
    found = sorted(folder.glob("*.ckpt"), key=lambda p: (p.name == LAST, p.stat().st_mtime), reverse=True)
    return next((p for p in found if intact(p)), None)


def clear_killed_saves(output_dir: str | os.PathLike) -> None:
    """Remove the temporary files of checkpoint saves that were killed."""
    for tmp in (Path(output_dir) / "checkpoints").glob(".*.ckpt.tmp-*"):
        tmp.unlink(missing_ok=True)


def intact(path: Path) -> bool:
    """Whether a checkpoint file is a complete archive (every member's CRC checks out)."""
    try:
        with zipfile.ZipFile(path) as z:
            return z.testzip() is None
    except (OSError, zipfile.BadZipFile):
        return False


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
