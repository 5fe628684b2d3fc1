"""Sizes that cannot fit this machine, refused before any work: the fixed-padded id matrices of the whole data
set, and the embedding table with its gradient and optimizer state. An estimate from the config alone (no data
is read), against the memory this process may use."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from omegaconf import DictConfig

from imdb_sentiment.config.lightning_checks import weight_averages
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
    key, value, need, what = table_need(d, m, extra=len(weight_averages(cfg.get("callbacks"))))
    if need > available:
        hint = HINT if key == "data.vocab_size" else ""
        raise ConfigError(key, value, f"{what} needs {gib(need)}, and this node has {gib(available)} available{hint}")


HINT = " (IMDB's training reviews hold about 87,000 distinct words)"
NB_FLOATS = COPIES + 3  # nb_ngrams: a weight with its gradient and Adam moments, a ratio, two counts at fit start


def table_need(d: DictConfig, m: DictConfig, prefix: str = "model", extra: int = 0) -> tuple[str, object, int, str]:
    """The model's tables with their gradient and optimizer state (and ``extra`` more copies of the weights: a
    moving average's): the key that sizes them most, its value, the bytes, and what they are (an ensemble's
    members together, named by its largest). Sizes that are not whole numbers count 0 here: the model's
    constructor refuses them in its own words."""
    if "members" in m:  # an ensemble; members that are not configs are the Ensemble's to refuse
        members = m.members.items() if isinstance(m.members, Mapping) else []
        parts = [table_need(d, c, f"{prefix}.members.{name}", extra) for name, c in members if isinstance(c, Mapping)]
        if not parts:
            return f"{prefix}.members", m.members, 0, ""
        key, value, _, what = max(parts, key=lambda part: part[2])
        total = sum(part[2] for part in parts)
        return key, value, total, f"the {len(parts)} members' tables (the largest: {what})"
    sizes = {"data.vocab_size": d.vocab_size}
    for name in ("buckets", "pair_buckets"):  # bags' hashed pairs (nb_ngrams': a block an order), recurrent pairs
        if name in m:
            n = m[name]
            sizes[f"{prefix}.{name}"] = (
                n * (m.ngrams - 1 if "ngrams" in m and _whole(m.ngrams) else 1) if _whole(n) else n
            )
    if not all(_whole(n) for n in sizes.values()):
        return "data.vocab_size", d.vocab_size, 0, ""
    key = max(sizes, key=sizes.get)  # what sizes the table most
    value, rows = (d.vocab_size if key.startswith("data.") else m[key.rsplit(".", 1)[1]]), sum(sizes.values())
    averaged = " (and a moving average of the weights)" if extra else ""
    if "ngrams" in m:  # nb_ngrams: no embedding, one weight a row
        what = f"{rows:,} n-gram rows with weights, Adam state and counts{averaged}"
        return key, value, rows * (NB_FLOATS + extra) * FLOAT_BYTES, what
    dim = m.get("embed_dim") if _whole(m.get("embed_dim")) else 0
    what = f"an embedding of {rows:,} rows x {dim} with its gradient and Adam state{averaged}"
    return key, value, rows * dim * FLOAT_BYTES * (COPIES + extra), what


def _whole(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)
