"""On-disk cache of encoded splits, keyed by everything that changes them.

An entry is a folder ``<readable key>-<hash>/`` holding ``splits.npz``, ``tokenizer.json`` and
``meta.json``. It is built in a private temporary folder and renamed into place, so a reader
sees either no entry or a complete one (rename is atomic on POSIX filesystems).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from ..errors import UserError
from .ragged import Ragged

log = logging.getLogger(__name__)
DONE = "meta.json"  # written last: its presence marks a complete entry


class CacheMissError(UserError):
    """The entry is not cached and this process may not build it (an offline compute node)."""

    def __init__(self, entry: Path):
        super().__init__(f"no prepared data at {entry}")
        self.entry = entry


def entry_name(spec: dict) -> str:
    """A folder name that shows the main keyed values and hashes all of them."""
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:12]
    readable = "{tokenizer}{vocab_size}-len{maxlen}{truncating}-val{val_split}-n{train_size}_{test_size}-s{split_seed}".format(**spec)
    return f"{readable}-{digest}"


def load_or_build(cache_dir: str | os.PathLike, spec: dict,
                  build: Callable[[], tuple[dict[str, tuple[Ragged, np.ndarray]], Tokenizer]],
                  may_build: bool = True) -> Path:
    """The entry for ``spec``, built with ``build()`` if it is not cached yet and ``may_build``."""
    root = Path(cache_dir).expanduser()
    final = root / entry_name(spec)
    if (final / DONE).is_file():
        return final
    if not may_build:
        raise CacheMissError(final)
    log.info("Encoding IMDB from %s into the cache (%s)", spec["source"], final)
    splits, tokenizer = build()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=root))
    try:
        arrays = {}
        for name, (ids, labels) in splits.items():
            arrays[f"{name}_values"], arrays[f"{name}_offsets"], arrays[f"{name}_labels"] = ids.values, ids.offsets, labels
        np.savez(tmp / "splits.npz", **arrays)
        tokenizer.save(str(tmp / "tokenizer.json"))
        meta = {"spec": spec, "sizes": {k: len(v[0]) for k, v in splits.items()},
                "tokenizer_vocab": tokenizer.get_vocab_size()}
        (tmp / DONE).write_text(json.dumps(meta, indent=1))
        for f in tmp.iterdir():  # on disk before the rename publishes the entry
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
        try:
            os.rename(tmp, final)
        except OSError:  # another process finished the same entry first: keep theirs
            if not (final / DONE).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def load_entry(path: Path) -> tuple[dict[str, tuple[Ragged, np.ndarray]], dict]:
    """The splits (ids, labels) and metadata of a cache entry."""
    meta = json.loads((path / DONE).read_text())
    with np.load(path / "splits.npz") as z:
        splits = {name: (Ragged(z[f"{name}_values"], z[f"{name}_offsets"]), z[f"{name}_labels"])
                  for name in meta["sizes"]}
    return splits, meta
