"""Rebuild a trained run from its checkpoint alone: the model from the run's own saved config, the
tokenizer it was trained with. Today's config defaults play no part."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hydra.utils import instantiate
from tokenizers import Tokenizer

from imdb_sentiment.errors import UserError
from imdb_sentiment.models import SentimentClassifier
from imdb_sentiment.run.checkpointing import checkpoint_tokenizer, read_checkpoint


@dataclass
class Trained:
    path: Path
    module: SentimentClassifier  # in eval mode, on the CPU
    config: dict  # the run's resolved config
    tokenizer: Tokenizer
    epoch: int | None  # 1-based epoch the checkpoint was saved after


def load_trained(path: str | Path) -> Trained:
    ckpt = read_checkpoint(path)
    config = ckpt["run_config"]
    try:
        net = instantiate(config["model"])
        module = SentimentClassifier(net, instantiate(config["optimizer"]), config)
        module.load_state_dict(ckpt["state_dict"])
        tokenizer = Tokenizer.from_str(checkpoint_tokenizer(ckpt))
    except Exception as exc:
        detail = (str(exc).strip().splitlines() or [""])[0][:200]
        raise UserError(
            f"ckpt_path={path}: cannot rebuild the model its run_config describes ({type(exc).__name__}: {detail})"
        ) from None
    epoch = ckpt.get("epoch")
    return Trained(Path(path), module.eval(), config, tokenizer, None if epoch is None else epoch + 1)
