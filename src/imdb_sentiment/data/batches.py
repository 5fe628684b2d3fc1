"""Batches sliced straight from in-memory tensors: no per-review collation.

The DataLoader gets a sampler of index batches and ``batch_size=None``, so each fetch is one
fancy-indexing call on the whole split, which is what keeps Lightning close to a bare loop.
"""

from __future__ import annotations

from collections.abc import Callable
from numbers import Integral

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from imdb_sentiment.data.ragged import Ragged


def _batch_rows(rows):
    if isinstance(rows, Integral):
        raise TypeError(
            "these datasets are indexed by whole batches of rows; a sampler yielded a single index "
            "(Trainer options that replace the sampler, such as overfit_batches, are not supported)"
        )
    return rows


class FixedLengthBatches(Dataset):
    """Reviews already padded to one length; ``self[rows]`` is a whole batch."""

    def __init__(self, ids: np.ndarray, labels: np.ndarray):
        self.ids = torch.from_numpy(ids)
        self.labels = torch.from_numpy(labels.astype(np.float32))
        self.lengths = np.full(len(labels), ids.shape[1])

    def __len__(self) -> int:
        return len(self.labels)

    def to(self, device: torch.device) -> FixedLengthBatches:
        """Keep the whole split on ``device`` (a few tens of MB for IMDB): a batch is then one indexing
        there, and Lightning's per-batch transfer finds nothing to copy."""
        self.ids, self.labels = self.ids.to(device), self.labels.to(device)
        return self

    def __getitem__(self, rows):
        rows = torch.as_tensor(_batch_rows(rows), device=self.ids.device)
        return self.ids[rows], self.labels[rows]


class DynamicLengthBatches(Dataset):
    """Reviews padded per batch to the batch's longest one (TFDS ``padded_batch``)."""

    def __init__(self, ids: Ragged, labels: np.ndarray, padding: str):
        self.ids, self.padding = ids, padding
        self.labels = torch.from_numpy(labels.astype(np.float32))
        self.lengths = ids.lengths

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, rows):
        rows = np.asarray(_batch_rows(rows))
        return torch.from_numpy(self.ids.pad(None, self.padding, rows=rows)), self.labels[torch.from_numpy(rows)]


def make_split(
    ids: Ragged, labels: np.ndarray, pad_mode: str, maxlen: int | None, padding: str, truncating: str
) -> FixedLengthBatches | DynamicLengthBatches:
    """Untruncated ids (what the cache holds, what the tokenizer gives) as a split the model reads: cut to
    ``maxlen`` on the ``truncating`` side, then padded on the ``padding`` side, to ``maxlen`` (``fixed``) or
    batch by batch (``dynamic``). Training, evaluation and ``predict.py`` all take this one path."""
    if pad_mode == "fixed":
        return FixedLengthBatches(ids.pad(maxlen, padding, truncating), labels)
    return DynamicLengthBatches(ids.truncate(maxlen, truncating), labels, padding)


class IndexBatches(Sampler):
    """Index batches over ``lengths``; shuffled each epoch if ``shuffle``.

    The order of epoch ``e`` depends only on ``(seed, e)``, not on a global generator, so a run resumed
    from a checkpoint sees the batches an uninterrupted run saw. The epoch comes from ``epoch_fn`` if
    given, else from ``set_epoch``.
    With ``bucket`` the shuffled reviews are sorted by length inside windows of 50 batches,
    so each batch holds reviews of similar length, and the batches are shuffled again.

    Under DDP (``world`` processes) rank ``r`` takes batches ``r, r + world, ...`` of one order that all ranks
    draw alike, so each review is seen exactly once an epoch across the ranks, never twice (no padding with
    duplicates). Training (``even``) cuts the epoch into ``world x steps`` batches of near-equal size, so every
    rank takes the same number of steps, as DDP's gradient exchange needs; evaluation keeps ``batch_size``
    batches, and a rank may get one batch fewer.
    """

    def __init__(
        self,
        lengths: np.ndarray,
        batch_size: int,
        shuffle: bool,
        bucket: bool = False,
        seed: int = 0,
        epoch_fn: Callable[[], int] | None = None,
        rank: int = 0,
        world: int = 1,
    ):
        self.lengths, self.batch_size, self.shuffle, self.bucket = lengths, batch_size, shuffle, bucket
        self.seed, self.epoch, self.epoch_fn = seed, 0, epoch_fn
        self.rank, self.world, self.even = rank, world, shuffle and world > 1

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def _count(self) -> int:
        """Batches of the whole epoch, over all ranks."""
        n, bs = len(self.lengths), self.batch_size
        return self.world * -(-n // (bs * self.world)) if self.even else -(-n // bs)

    def __len__(self) -> int:
        return len(range(self.rank, self._count(), self.world))

    def __iter__(self):
        n, bs = len(self.lengths), self.batch_size
        epoch = self.epoch_fn() if self.epoch_fn is not None else self.epoch
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(n) if self.shuffle else np.arange(n)
        if self.bucket:
            window = bs * 50
            order = np.concatenate(
                [
                    chunk[np.argsort(self.lengths[chunk], kind="stable")]
                    for chunk in np.split(order, range(window, n, window))
                ]
            )
        batches = np.array_split(order, self._count()) if self.even else [order[i : i + bs] for i in range(0, n, bs)]
        if self.bucket and self.shuffle:
            batches = [batches[i] for i in rng.permutation(len(batches))]
        return iter(batches[self.rank :: self.world])
