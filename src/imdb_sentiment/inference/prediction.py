"""Sentiment of raw review text, encoded exactly as the run's training data was.

The tokenizer (with its normalisation and start token) comes from the checkpoint; the run's
``data`` config gives the truncation and padding: truncate to ``maxlen`` on the ``truncating``
side, then pad on the ``padding`` side, to ``maxlen`` (``pad_mode=fixed``) or not at all
(``dynamic``: each review alone, so its probability does not depend on the other reviews).
"""

from __future__ import annotations

import numpy as np
import torch

from imdb_sentiment.data.batches import make_split
from imdb_sentiment.data.text_encoding import encode
from imdb_sentiment.errors import UserError
from imdb_sentiment.inference.trained_run import Trained

THRESHOLD = 0.5  # positive when p > 0.5: the rule the training accuracy (torchmetrics) used


@torch.no_grad()
def predict_proba(trained: Trained, texts: list[str]) -> np.ndarray:
    """P(positive) for each text."""
    data = trained.config["data"]
    ids = encode(trained.tokenizer, texts)
    empty = np.flatnonzero(ids.lengths == 0)
    if len(empty):
        raise UserError(f"review {empty[0] + 1} has no words the tokenizer keeps (nothing to read)")
    split = make_split(ids, np.zeros(len(ids)), data["pad_mode"], data["maxlen"], data["padding"], data["truncating"])
    # Fixed length: batches as in evaluation; dynamic: each review alone, so no other review pads it.
    step = (data.get("eval_batch_size") or data["batch_size"]) if data["pad_mode"] == "fixed" else 1
    batches = [split[np.arange(i, min(i + step, len(ids)))][0] for i in range(0, len(ids), step)]
    logits = [trained.module(b.long()) for b in batches]
    return torch.sigmoid(torch.cat(logits).float()).numpy()


def label(p: float) -> str:
    return "positive" if p > THRESHOLD else "negative"
