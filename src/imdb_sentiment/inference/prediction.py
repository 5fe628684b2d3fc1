"""Sentiment of raw review text, encoded exactly as the run's training data was.

The tokenizer (with its normalisation and start token) comes from the checkpoint; the run's
``data`` config gives the truncation and padding: truncate to ``maxlen`` on the ``truncating``
side, then pad on the ``padding`` side, to ``maxlen`` (``pad_mode=fixed``) or not at all
(``dynamic``: reviews batched only with others of their length, so a probability does not depend on
the other reviews).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch

from imdb_sentiment.data.batches import make_split
from imdb_sentiment.data.text_encoding import encode
from imdb_sentiment.errors import UserError
from imdb_sentiment.inference.trained_run import Trained

THRESHOLD = 0.5  # positive when p > 0.5: the rule the training accuracy (torchmetrics) used


def predict_proba(trained: Trained, texts: list[str]) -> np.ndarray:
    """P(positive) for each text, in the order given."""
    data = trained.config["data"]
    ids = encode(trained.tokenizer, texts)
    empty = np.flatnonzero(ids.lengths == 0)
    if len(empty):
        raise UserError(f"review {empty[0] + 1} has no words the tokenizer keeps (nothing to read)")
    split = make_split(ids, np.zeros(len(ids)), data["pad_mode"], data["maxlen"], data["padding"], data["truncating"])
    batches = batches_of(split.lengths, data.get("eval_batch_size") or data["batch_size"], data["pad_mode"] == "fixed")
    probs = np.empty(len(ids), dtype=np.float32)

    def run(rows: np.ndarray) -> None:
        with torch.inference_mode():  # per thread: the mode is thread-local
            probs[rows] = torch.sigmoid(trained.net(split[rows][0].long()).float()).numpy()

    # A batch of a small recurrent net is a chain of small matrix products that one core runs about as fast as
    # two: so one batch per core, each single-threaded (torch releases the GIL inside its ops), nearly doubles
    # the throughput on a 2-core machine. Each batch's numbers are the same whichever thread computes it.
    cores = torch.get_num_threads()
    if len(batches) == 1 or cores == 1:
        for rows in batches:
            run(rows)
        return probs
    try:
        torch.set_num_threads(1)
        with ThreadPoolExecutor(cores) as pool:
            list(pool.map(run, batches))
    finally:
        torch.set_num_threads(cores)
    return probs


def batches_of(lengths: np.ndarray, step: int, fixed: bool) -> list[np.ndarray]:
    """Row batches of at most ``step``. Fixed length: in order, as in evaluation. Dynamic: only reviews of one
    (truncated) length share a batch, so none is padded and each gets the probability it gets alone."""
    if fixed:
        return [np.arange(i, min(i + step, len(lengths))) for i in range(0, len(lengths), step)]
    order = np.argsort(lengths, kind="stable")
    cuts = np.flatnonzero(np.diff(lengths[order])) + 1  # where the length changes
    return [group[i : i + step] for group in np.split(order, cuts) for i in range(0, len(group), step)]


def label(p: float) -> str:
    return "positive" if p > THRESHOLD else "negative"
