"""Rebuild a trained run from its checkpoint alone: the network from the run's own saved config, the
tokenizer it was trained with. Today's config defaults play no part, and Lightning is not imported: the
network is a plain ``nn.Module`` (eval.py wraps it in the LightningModule to test it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hydra.utils import instantiate
from tokenizers import Tokenizer
from torch import nn

from imdb_sentiment.errors import UserError
from imdb_sentiment.run.checkpointing import checkpoint_tokenizer, read_checkpoint

NET = "net."  # the LightningModule keeps the architecture as ``self.net``: its weights' prefix in a checkpoint
# Model keys added after checkpoints were first written, with the value that gives the behaviour those
# checkpoints were trained with (not defaults for new runs: configs/model/ is their one home).
ADDED_KEYS = {
    "imdb_sentiment.models.RecurrentClassifier": {
        "packed": False,
        "pooling": "last",
        "reset_after": True,
        "recurrent_activation": "sigmoid",
    }
}


@dataclass
class Trained:
    path: Path
    net: nn.Module  # in eval mode, on the CPU
    config: dict  # the run's resolved config
    tokenizer: Tokenizer
    epoch: int | None  # 1-based epoch the checkpoint was saved after


def load_trained(path: str | Path) -> Trained:
    ckpt = read_checkpoint(path)
    config = ckpt["run_config"]
    try:
        net = instantiate({**ADDED_KEYS.get(config["model"].get("_target_"), {}), **config["model"]})
        state = ckpt["state_dict"]
        net.load_state_dict({k.removeprefix(NET): t for k, t in state.items() if k.startswith(NET)}, strict=True)
        tokenizer = Tokenizer.from_str(checkpoint_tokenizer(ckpt))
    except Exception as exc:
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        raise UserError(
            f"ckpt_path={path}: cannot rebuild the model its run_config describes ({type(exc).__name__}: {detail})"
        ) from None
    epoch = ckpt.get("epoch")
    return Trained(Path(path), net.eval(), config, tokenizer, None if epoch is None else epoch + 1)
