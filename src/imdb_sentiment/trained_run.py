"""Rebuild a trained run from its checkpoint alone: the model from the run's own saved config, the
tokenizer it was trained with. Today's config defaults play no part."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from hydra.utils import instantiate
from tokenizers import Tokenizer

from .errors import UserError
from .models import SentimentClassifier

NEEDED = ("state_dict", "run_config", "tokenizer_json")  # what train.py's checkpoints carry (classifier.on_save_checkpoint)


@dataclass
class Trained:
    path: Path
    module: SentimentClassifier  # in eval mode, on the CPU
    config: dict  # the run's resolved config
    tokenizer: Tokenizer
    epoch: int | None  # 1-based epoch the checkpoint was saved after


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
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as exc:  # torch raises many kinds for a truncated or foreign file
        raise UserError(f"{where}: not a readable checkpoint: {_why(exc)}") from None
    missing = [k for k in NEEDED if not isinstance(ckpt, dict) or k not in ckpt]
    if missing:
        raise UserError(f"{where}: not a checkpoint written by this project's train.py (no {', '.join(missing)})")
    return ckpt


def _why(exc: Exception) -> str:
    text = str(exc)
    if isinstance(exc, PermissionError):
        return "permission denied"
    if "Weights only load failed" in text:
        return ("not a PyTorch checkpoint, or one holding more than tensors and plain values "
                "(read with weights_only=True, which runs no code from the file)")
    if isinstance(exc, (EOFError, OSError, RuntimeError)):  # what torch raises for a cut or damaged archive
        return "truncated or corrupt (not a complete PyTorch checkpoint)"
    return f"{type(exc).__name__}: {(text.strip().splitlines() or [''])[0][:160]}"


def load_trained(path: str | Path) -> Trained:
    ckpt = read_checkpoint(path)
    config = ckpt["run_config"]
    try:
        net = instantiate(config["model"])
        module = SentimentClassifier(net, instantiate(config["optimizer"]), config, ckpt["tokenizer_json"])
        module.load_state_dict(ckpt["state_dict"])
        tokenizer = Tokenizer.from_str(ckpt["tokenizer_json"])
    except Exception as exc:
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        raise UserError(f"ckpt_path={path}: cannot rebuild the model its run_config describes "
                        f"({type(exc).__name__}: {detail})") from None
    epoch = ckpt.get("epoch")
    return Trained(Path(path), module.eval(), config, tokenizer, None if epoch is None else epoch + 1)
