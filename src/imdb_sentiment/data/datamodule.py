"""The LightningDataModule: source -> tokenizer fitted on train -> cached ids -> batches."""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import numpy as np
import pyarrow as pa
import torch
from torch.utils.data import DataLoader

from imdb_sentiment import values as v
from imdb_sentiment.data import cache
from imdb_sentiment.data.batches import IndexBatches, make_split
from imdb_sentiment.data.ragged import SIDES
from imdb_sentiment.data.sources import check_exists, hf_offline, load_raw_splits, looks_like_path, source_fingerprint
from imdb_sentiment.data.text_encoding import KINDS, encode, fit_tokenizer

log = logging.getLogger(__name__)


def stratified_rows(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` row indices drawn without replacement, keeping the label proportions."""
    classes, counts = np.unique(labels, return_counts=True)
    quota = np.floor(counts / counts.sum() * n).astype(int)
    quota[: n - quota.sum()] += 1  # hand out the remainder one by one
    picked = [rng.permutation(np.flatnonzero(labels == c))[:q] for c, q in zip(classes, quota)]
    return rng.permutation(np.concatenate(picked))


def resident_device(device_resident: bool, pad_mode: str, root: torch.device | None) -> torch.device | None:
    """The GPU a rank's fixed-length splits should live on (``data.device_resident``): batches are then cut on the
    device, with no per-batch copy. Not on the CPU (nothing to save), not for dynamic padding (its batches are
    padded per batch on the host)."""
    if device_resident and pad_mode == "fixed" and root is not None and root.type == "cuda":
        return root
    return None


class IMDBDataModule(L.LightningDataModule):
    """IMDB reviews as batches of token ids. Every default lives in ``configs/data/``; each value is checked here,
    before any data is read."""

    def __init__(
        self,
        source: str,
        tokenizer: str,
        vocab_size: int,
        start_token: bool,
        maxlen: int | None,
        padding: str,
        truncating: str,
        pad_mode: str,
        bucket: bool,
        batch_size: int,
        eval_batch_size: int | None,
        val_split: float | str,
        train_size: int | None,
        test_size: int | None,
        split_seed: int,
        cache_dir: str,
        shuffle_seed: int,
        cache_only: bool | None,
        device_resident: bool,
    ):
        super().__init__()
        self.source = v.text("source", source, "a Hub id (owner/name) or a local path")
        check_exists(source)
        self.tokenizer_kind = v.choice("tokenizer", tokenizer, KINDS)
        self.vocab_size = v.integer("vocab_size", vocab_size, minimum=3)  # padding, out-of-vocabulary, one word
        self.start_token = v.boolean("start_token", start_token)
        self.pad_mode = v.choice("pad_mode", pad_mode, ("fixed", "dynamic"))
        self.maxlen = v.integer("maxlen", maxlen, optional=pad_mode == "dynamic")
        self.padding = v.choice("padding", padding, SIDES)
        self.truncating = v.choice("truncating", truncating, SIDES)
        self.bucket = v.boolean("bucket", bucket)
        self.batch_size = v.integer("batch_size", batch_size)
        self.eval_batch_size = v.integer("eval_batch_size", eval_batch_size, optional=True) or batch_size
        self.val_split = v.fraction("val_split", val_split, also="test")
        self.train_size = v.integer("train_size", train_size, minimum=2, optional=True)
        self.test_size = v.integer("test_size", test_size, optional=True)
        self.split_seed = v.integer("split_seed", split_seed, minimum=0)
        self.shuffle_seed = v.integer("shuffle_seed", shuffle_seed, minimum=0)
        self.cache_dir = cache_dir
        # Offline compute nodes cannot read the Hub: a Hub source there is read from what `prepare_data.py` built
        # on a node with internet. A local copy encodes anywhere (offline means no network, not no work).
        v.boolean("cache_only", cache_only, optional=True)
        self.cache_only = (hf_offline() and not looks_like_path(source)) if cache_only is None else cache_only
        self.device_resident = v.boolean("device_resident", device_resident)
        self.entry: Path | None = None
        self.splits: dict = {}

    # --- what the cache is keyed by: everything that changes the stored ids -------------------
    @property
    def spec(self) -> dict:
        return {
            "source": source_fingerprint(self.source),
            "tokenizer": self.tokenizer_kind,
            "vocab_size": self.vocab_size,
            "start_token": self.start_token,
            "val_split": self.val_split,
            "train_size": self.train_size,
            "test_size": self.test_size,
            "split_seed": self.split_seed,
            "format": 3,  # 3: untruncated ids; maxlen and truncation are applied in setup
        }

    def prepare_data(self) -> None:
        """Read, split, fit the tokenizer and encode, unless the cache already has this entry."""
        self.entry = cache.load_or_build(self.cache_dir, self.spec, self._build, may_build=not self.cache_only)

    def _build(self):
        raw = load_raw_splits(self.source)
        # One generator per draw, so the validation rows do not depend on whether test is subset.
        rng_train, rng_test, rng_val = map(np.random.default_rng, np.random.SeedSequence(self.split_seed).spawn(3))
        # Arrow tables, not rows: reading a column row by row costs seconds, and the word tokenizer
        # works on whole columns (text_encoding._words).
        tables = {split: ds.with_format("arrow")[:] for split, ds in raw.items()}
        parts = {}
        for split, size, rng in (("train", self.train_size, rng_train), ("test", self.test_size, rng_test)):
            labels = tables[split]["label"].to_numpy().astype(np.int8)
            rows = np.arange(len(labels)) if size is None or size >= len(labels) else stratified_rows(labels, size, rng)
            parts[split] = (rows, labels[rows])
        if self.val_split != "test":
            rows, labels = parts["train"]
            val_local = stratified_rows(labels, round(len(rows) * self.val_split), rng_val)
            train_local = np.setdiff1d(np.arange(len(rows)), val_local)
            parts["val"] = (rows[val_local], labels[val_local])
            parts["train"] = (rows[train_local], labels[train_local])
        texts = {
            name: tables["test" if name == "test" else "train"]["text"].take(pa.array(rows))
            for name, (rows, _) in parts.items()
        }
        tok = fit_tokenizer(self.tokenizer_kind, self.vocab_size, texts["train"], self.start_token)  # train rows only
        encoded = {name: (encode(tok, texts[name]), labels) for name, (_, labels) in parts.items()}
        return encoded, tok

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        if self.entry is None:  # on other ranks prepare_data did not run: the key finds the entry
            self.entry = Path(self.cache_dir).expanduser() / cache.entry_name(self.spec)
        stored, _ = cache.load_entry(self.entry)
        longest = max(int(ids.lengths.max(initial=0)) for ids, _ in stored.values())
        if self.pad_mode == "fixed" and self.maxlen > longest:  # legal, but every batch pays for the padding
            log.warning(
                "data.maxlen=%d is longer than the longest review in this data (%d tokens): every batch is padded "
                "to %d; data.maxlen=%d reads the same words",
                self.maxlen,
                longest,
                self.maxlen,
                longest,
            )
        root = self.trainer.strategy.root_device if self.trainer is not None else None
        device = resident_device(self.device_resident, self.pad_mode, root)
        for name, (ids, labels) in stored.items():
            self.splits[name] = make_split(ids, labels, self.pad_mode, self.maxlen, self.padding, self.truncating)
            if device is not None:
                self.splits[name].to(device)
        if self.val_split == "test":  # the same batches, not a second copy
            self.splits["val"] = self.splits["test"]

    @property
    def tokenizer_path(self) -> Path:
        return self.entry / "tokenizer.json"

    # Lightning stores this in every checkpoint under the class name: a trained run's tokenizer travels with it.
    def state_dict(self) -> dict:
        return {"tokenizer_json": self.tokenizer_path.read_text()} if self.entry is not None else {}

    def load_state_dict(self, state_dict: dict) -> None:
        pass  # the run's own cache entry (same key) holds the same tokenizer

    def _train_epoch(self) -> int:
        """The epoch the train batches are drawn for. Lightning creates a resumed run's first train iterator
        before it calls ``set_epoch``, so read the fit loop's count of processed epochs instead."""
        return self.trainer.fit_loop.epoch_progress.current.processed if self.trainer is not None else 0

    def _loader(self, split: str, train: bool) -> DataLoader:
        ds = self.splits[split]
        trainer = self.trainer  # under DDP each rank takes its share (trainer.use_distributed_sampler is off)
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        sampler = IndexBatches(
            ds.lengths,
            self.batch_size if train else self.eval_batch_size,
            shuffle=train,
            bucket=self.bucket,
            seed=self.shuffle_seed,
            epoch_fn=self._train_epoch if train else None,
            rank=rank,
            world=world,
        )
        # Its own generator: creating an iterator would otherwise draw from the global one, which dropout
        # uses, and a resumed run creates its iterators at other moments than an uninterrupted one.
        return DataLoader(ds, sampler=sampler, batch_size=None, generator=torch.Generator())

    def train_dataloader(self):
        return self._loader("train", True)

    def val_dataloader(self):
        return self._loader("val", False)

    def test_dataloader(self):
        return self._loader("test", False)
