"""Sizes that cannot fit this machine, refused before any work: the fixed-padded id matrices of the whole data
set, and the embedding table with its gradient and optimizer state. An estimate from the config alone (no data
is read), against the memory this process may use."""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig

from imdb_sentiment.errors import ConfigError

IMDB_REVIEWS = 50_000  # labeled reviews, train and test; a subset (data.train_size, test_size) takes fewer
ID_BYTES = 4  # int32 ids (data/ragged.py)
FLOAT_BYTES = 4
COPIES = 4  # weights, gradient and two Adam moments per parameter


def available_bytes() -> int:
    """What this process may still allocate: the host's available memory, or less under a cgroup limit (SLURM)."""
    free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    for line in Path("/proc/meminfo").read_text().splitlines() if Path("/proc/meminfo").exists() else []:
        if line.startswith("MemAvailable:"):
            free = int(line.split()[1]) * 1024
    limit = Path("/sys/fs/cgroup/memory.max")
    if limit.exists() and limit.read_text().strip().isdigit():
        used = Path("/sys/fs/cgroup/memory.current")
        free = min(free, int(limit.read_text()) - (int(used.read_text()) if used.exists() else 0))
    return free


def gib(n: float) -> str:
    return f"{n / 2**30:,.1f} GiB"


def check_memory(cfg: DictConfig, available: int | None = None) -> None:
    """``ConfigError`` on ``data.maxlen`` or ``data.vocab_size`` when what they size alone exceeds the memory."""
    d, m = cfg.data, cfg.model
    available = available_bytes() if available is None else available
    if d.pad_mode == "fixed" and d.maxlen:
        reviews = min((d.train_size or 25_000) + (d.test_size or 25_000), IMDB_REVIEWS)
        need = reviews * d.maxlen * ID_BYTES
        if need > available:
            raise ConfigError(
                "data.maxlen",
                d.maxlen,
                f"padding {reviews:,} reviews to {d.maxlen:,} ids needs {gib(need)}, and this node has "
                f"{gib(available)} available (IMDB's longest review has 2,470 words)",
            )
    rows = d.vocab_size + (m.get("buckets") or 0) + (m.get("pair_buckets") or 0)  # bag, or recurrent word pairs
    need = rows * (m.get("embed_dim") or 0) * FLOAT_BYTES * COPIES
    if need > available:
        raise ConfigError(
            "data.vocab_size",
            d.vocab_size,
            f"an embedding of {rows:,} rows x {m.embed_dim} with its gradient and Adam state needs {gib(need)}, and "
            f"this node has {gib(available)} available (IMDB's training reviews hold about 87,000 distinct words)",
        )
