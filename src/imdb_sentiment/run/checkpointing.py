"""Checkpoints that survive kills: reading one back, where a run picks up, slimming a finished run's.

No Lightning import here: predict.py reads checkpoints without it (the atomic writer is ``checkpoint_io``)."""

from __future__ import annotations

import logging
import os
import zipfile
from pathlib import Path

import torch

from imdb_sentiment.errors import UserError
from imdb_sentiment.run.folder import LAST, checkpoint_dir

NEEDED = ("state_dict", "run_config")  # what train.py's checkpoints carry (classifier.on_save_checkpoint)
DATA_STATE = "IMDBDataModule"  # where Lightning keeps the data module's state (its tokenizer) in a checkpoint
# What a finished run's checkpoints keep: weights, config, tokenizer and which epoch they are. The optimizer's
# state (Adam: two tensors the size of the weights), the loops' and the callbacks' are for resuming only.
SLIM = ("state_dict", "run_config", DATA_STATE, "epoch", "global_step", "best_val", "pytorch-lightning_version")

log = logging.getLogger(__name__)


def resume_path(output_dir: str | os.PathLike, resumable_only: bool = True) -> Path | None:
    """The newest intact checkpoint a previous attempt of this run (a requeued or killed job) left, if any:
    ``last.ckpt``, else the others by modification time. Writes are atomic, so a damaged file means the
    disk lost data; it is skipped. Reads only: ``tidy_checkpoints`` tidies once the run may resume."""
    folder = checkpoint_dir(output_dir)
    if not folder.is_dir():
        return None
    found = sorted(folder.glob("*.ckpt"), key=lambda p: (p.name == LAST, p.stat().st_mtime), reverse=True)
    return next((p for p in found if intact(p) and (resumable(p) or not resumable_only)), None)


def resumable(path: Path) -> bool:
    """Whether a checkpoint still holds the optimizer and loop state a resume needs (``slim`` drops them)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)  # mapped: no tensor is read
    return "optimizer_states" in ckpt and "loops" in ckpt


def slim(path: Path) -> None:
    """Rewrite a checkpoint with only ``SLIM``'s keys, atomically: a third of an Adam-trained one's bytes, and
    still what eval.py, predict.py and ``ckpt_path`` for testing read."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    if "optimizer_states" not in ckpt:
        return
    from imdb_sentiment.run.checkpoint_io import AtomicCheckpointIO  # Lightning's base: only when writing

    AtomicCheckpointIO().save_checkpoint({k: ckpt[k] for k in SLIM if k in ckpt}, path)


def lighten_finished(folder: Path, best: Path | None) -> None:
    """A finished run's checkpoints, about its weights once on disk: ``last.ckpt`` (the resume point) goes when
    a best checkpoint by the monitor is there (that is the one tested, evaluated and predicted with), and what
    stays is slimmed. Without a best, ``last.ckpt`` stays, slim, as the final weights."""
    for path in sorted(folder.glob("*.ckpt")):  # last.ckpt last: killed on the way, a rerun resumes from it
        if path.name != LAST:
            slim(path)
    if best is not None and best.name != LAST and best.is_file():
        (folder / LAST).unlink(missing_ok=True)
    elif (folder / LAST).is_file():
        slim(folder / LAST)


def load_weights(module: torch.nn.Module, path: Path) -> int | None:
    """Load a checkpoint's weights into ``module`` (mapped from the file: no second copy of the model, no
    optimizer state in memory); the checkpoint's epoch (0-based)."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    module.load_state_dict(ckpt["state_dict"])
    return ckpt.get("epoch")


def tidy_checkpoints(output_dir: str | os.PathLike) -> None:
    """Remove the temporary files of checkpoint saves that were killed, and set damaged checkpoints aside as
    ``<name>.damaged``: no resume or loader picks them again, their names are free for the run's own saves, and
    the user still sees what the disk lost."""
    folder = checkpoint_dir(output_dir)
    for tmp in folder.glob(".*.ckpt.tmp-*"):
        tmp.unlink(missing_ok=True)
    for ckpt in folder.glob("*.ckpt"):
        if not intact(ckpt):
            try:
                ckpt.rename(ckpt.with_name(ckpt.name + ".damaged"))
            except FileNotFoundError:  # another rank of this run set it aside first
                continue
            log.warning("%s is damaged (not a complete archive); set aside as %s.damaged", ckpt, ckpt.name)


def intact(path: Path) -> bool:
    """Whether a checkpoint file is a complete archive (every member's CRC checks out)."""
    try:
        with zipfile.ZipFile(path) as z:
            return z.testzip() is None
    except (OSError, zipfile.BadZipFile):
        return False


def read_checkpoint(path: str | Path) -> dict:
    """The checkpoint's contents; ``UserError`` for a missing, unreadable or foreign file."""
    where = f"ckpt_path={path}"
    path = Path(path).expanduser()
    if path.is_dir():
        found = sorted(p.relative_to(path) for p in path.rglob("*.ckpt"))[:4]
        hint = f" such as {path / found[0]}" if found else " (none below it)"
        raise UserError(f"{where}: is a folder; give a checkpoint file{hint}")
    if not path.is_file():
        raise UserError(f"{where}: no such file")
    if path.stat().st_size == 0:
        raise UserError(f"{where}: empty file")
    try:
        # weights_only: tensors and plain containers only, so a foreign file cannot run code while loading;
        # mmap: tensors are read when used, so checking a checkpoint's run_config costs no copy of its weights.
        # Only torch's zip format can be mapped; anything else takes the plain load and its own error.
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as exc:  # torch raises many kinds for a truncated or foreign file
        raise UserError(f"{where}: not a readable checkpoint: {_why(exc)}") from None
    missing = [k for k in NEEDED if not isinstance(ckpt, dict) or k not in ckpt]
    if not missing and checkpoint_tokenizer(ckpt) is None:
        missing = ["tokenizer"]
    if missing:
        raise UserError(f"{where}: not a checkpoint written by this project's train.py (no {', '.join(missing)})")
    return ckpt


def _why(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, PermissionError):
        return "permission denied"
    if "Weights only load failed" in text:
        return (
            "not a PyTorch checkpoint, or one holding more than tensors and plain values "
            "(read with weights_only=True, which runs no code from the file)"
        )
    if isinstance(exc, (EOFError, OSError, RuntimeError)):  # what torch raises for a cut or damaged archive
        return "truncated or corrupt (not a complete PyTorch checkpoint)"
    return f"{type(exc).__name__}: {(text.strip().splitlines() or [''])[0][:160]}"


def checkpoint_tokenizer(ckpt: dict) -> str | None:
    """The fitted tokenizer (JSON) a checkpoint carries: in the data module's state, or at the top level where
    checkpoints written before the data module kept it put it."""
    return (ckpt.get(DATA_STATE) or {}).get("tokenizer_json") or ckpt.get("tokenizer_json")
