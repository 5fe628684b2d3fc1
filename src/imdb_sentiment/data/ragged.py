"""Variable-length id sequences stored flat, with Keras ``pad_sequences`` semantics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SIDES = ("pre", "post")


@dataclass
class Ragged:
    """Sequence ``i`` is ``values[offsets[i]:offsets[i + 1]]``."""

    values: np.ndarray
    offsets: np.ndarray

    @classmethod
    def from_lists(cls, seqs) -> Ragged:
        lengths = np.array([len(s) for s in seqs], dtype=np.int64)
        values = np.array([t for s in seqs for t in s], dtype=np.int32)
        return cls(values, np.concatenate([[0], np.cumsum(lengths)]))

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def take(self, rows: np.ndarray) -> Ragged:
        """The sequences at ``rows``, in that order."""
        lengths = self.lengths[rows]
        src = _gather_index(self.offsets[:-1][rows], lengths)
        return Ragged(self.values[src], np.concatenate([[0], np.cumsum(lengths)]))

    def truncate(self, maxlen: int | None, truncating: str = "pre") -> Ragged:
        """Keep at most ``maxlen`` ids a sequence: the last ones (``pre``) or the first (``post``)."""
        _check_side("truncating", truncating)
        lengths = self.lengths
        if maxlen is None or lengths.max(initial=0) <= maxlen:  # nothing to cut: no copy
            return self
        keep = np.minimum(lengths, maxlen)
        starts = self.offsets[:-1] + (lengths - keep if truncating == "pre" else 0)
        return Ragged(self.values[_gather_index(starts, keep)], np.concatenate([[0], np.cumsum(keep)]))

    def pad(
        self,
        maxlen: int | None = None,
        padding: str = "pre",
        truncating: str = "pre",
        value: int = 0,
        rows: np.ndarray | None = None,
    ) -> np.ndarray:
        """A ``[n, maxlen]`` int32 matrix exactly as Keras ``pad_sequences`` builds it.

        ``maxlen=None`` pads to the longest sequence; ``rows`` selects (and orders) the sequences.
        """
        _check_side("padding", padding)
        seqs = self if rows is None else self.take(rows)
        width = int(seqs.lengths.max(initial=0)) if maxlen is None else maxlen
        seqs = seqs.truncate(width, truncating)
        keep = seqs.lengths
        row = np.repeat(np.arange(len(keep)), keep)
        col = np.arange(len(seqs.values)) - np.repeat(seqs.offsets[:-1], keep)
        if padding == "pre":
            col += np.repeat(width - keep, keep)
        out = np.full((len(keep), width), value, dtype=np.int32)
        out[row, col] = seqs.values
        return out


def pad_sequences(
    seqs, maxlen: int | None = None, padding: str = "pre", truncating: str = "pre", value: int = 0
) -> np.ndarray:
    """Keras' ``pad_sequences`` on a list of id lists."""
    return Ragged.from_lists(seqs).pad(maxlen, padding, truncating, value)


def _gather_index(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Flat indices ``starts[i] + 0 .. counts[i] - 1`` for every ``i``, concatenated."""
    total = int(counts.sum())
    before = np.repeat(np.cumsum(counts) - counts, counts)
    return np.repeat(starts, counts) + (np.arange(total) - before)


def _check_side(name: str, side: str) -> None:
    if side not in SIDES:
        raise ValueError(f"{name}={side!r}: must be one of {SIDES}")
