"""Checkpoint writes that a kill cannot leave half-done: Lightning's checkpoint IO, saved beside and renamed."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from lightning.pytorch.plugins.io import TorchCheckpointIO

from imdb_sentiment.errors import UserError


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
            raise UserError(
                f"cannot write checkpoint {path} ({why}); {free:.0f} MiB free on that disk: make room, "
                "or point paths.log_dir at a disk that has it"
            ) from None
        finally:
            tmp.unlink(missing_ok=True)
