"""On-disk cache of encoded splits, keyed by everything that changes them.

An entry is a folder ``<readable key>-<hash>/`` holding ``splits.npz``, ``tokenizer.json`` and
``meta.json``. It is built in a private temporary folder and renamed into place, so a reader
sees either no entry or a complete one (rename is atomic on POSIX filesystems, NFS included).
``meta.json`` is written last and lists every file's size and SHA-256; an entry that does not
match it (a disk that lost data, a hand-edited file) is set aside with a warning and rebuilt.
Processes that miss the same entry at once (a grid starting on a shared filesystem) take turns
through a lock file (``cache_lock.py``): one encodes, the others wait and then read its entry.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from imdb_sentiment.data.cache_lock import BuildLock
from imdb_sentiment.data.ragged import Ragged
from imdb_sentiment.errors import UserError

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
    readable = "{tokenizer}{vocab_size}-val{val_split}-n{train_size}_{test_size}-s{split_seed}".format(**spec)
    return f"{readable}-{digest}"


def load_or_build(
    cache_dir: str | os.PathLike,
    spec: dict,
    build: Callable[[], tuple[dict[str, tuple[Ragged, np.ndarray]], Tokenizer]],
    may_build: bool = True,
) -> Path:
    """The entry for ``spec``, built with ``build()`` if it is not cached yet and ``may_build``."""
    root = Path(cache_dir).expanduser()
    final = root / entry_name(spec)
    problem = check_entry(final)
    if problem is None:
        return final
    if not may_build:
        raise CacheMissError(final)
    root.mkdir(parents=True, exist_ok=True)
    with BuildLock(root / f".{final.name}.lock"):
        problem = check_entry(final)  # another process may have built it while this one waited
        if problem is None:
            return final
        if final.exists():
            log.warning("Cache entry %s is damaged (%s); rebuilding it", final, problem)
            _remove(final)
        for leftover in root.glob(f".tmp-{final.name}-*"):  # from a builder killed mid-write; we hold the lock
            shutil.rmtree(leftover, ignore_errors=True)
        log.info("Encoding IMDB from %s into the cache (%s)", spec["source"], final)
        _publish(final, spec, *build())
    return final


def _publish(final: Path, spec: dict, splits: dict[str, tuple[Ragged, np.ndarray]], tokenizer: Tokenizer) -> None:
    """Write the entry in a private folder, then rename it into place: readers see all of it or nothing."""
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-", dir=final.parent))
    try:
        arrays = {}
        for name, (ids, labels) in splits.items():
            arrays[f"{name}_values"], arrays[f"{name}_offsets"], arrays[f"{name}_labels"] = (
                ids.values,
                ids.offsets,
                labels,
            )
        np.savez(tmp / "splits.npz", **arrays)
        tokenizer.save(str(tmp / "tokenizer.json"))
        meta = {
            "spec": spec,
            "sizes": {k: len(v[0]) for k, v in splits.items()},
            "tokenizer_vocab": tokenizer.get_vocab_size(),
            "files": {f.name: _fingerprint(f) for f in sorted(tmp.iterdir())},
        }
        (tmp / DONE).write_text(json.dumps(meta, indent=1))
        for f in tmp.iterdir():  # on disk before the rename publishes the entry
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
        try:
            os.rename(tmp, final)
        except OSError:  # a builder that took over a lock it thought stale finished first: keep its entry
            if check_entry(final) is not None:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_entry(path: Path) -> str | None:
    """None if ``path`` is a complete entry whose files match its manifest, else what is wrong."""
    try:
        meta = json.loads((path / DONE).read_text())
    except FileNotFoundError:
        return "no manifest" if path.exists() else "missing"
    except (OSError, ValueError) as exc:
        return f"unreadable manifest: {exc}"
    for name, want in meta.get("files", {}).items():  # entries from before manifests had files are trusted
        try:
            got = _fingerprint(path / name)
        except OSError:
            return f"{name} is missing"
        if got != want:
            return (
                f"{name} has {got['bytes']} bytes with SHA-256 {got['sha256'][:12]}, the manifest says "
                f"{want.get('bytes')} bytes with {str(want.get('sha256'))[:12]}"
            )
    return None


def _fingerprint(path: Path) -> dict:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"bytes": path.stat().st_size, "sha256": h.hexdigest()}


def _remove(entry: Path) -> None:
    """Rename first (atomic), then delete: a reader never sees a half-deleted entry under the real name."""
    aside = entry.with_name(f".damaged-{entry.name}-{uuid.uuid4().hex[:8]}")
    os.rename(entry, aside)
    shutil.rmtree(aside, ignore_errors=True)


def load_entry(path: Path) -> tuple[dict[str, tuple[Ragged, np.ndarray]], dict]:
    """The splits (ids, labels) and metadata of a cache entry."""
    meta = json.loads((path / DONE).read_text())
    with np.load(path / "splits.npz") as z:
        splits = {
            name: (Ragged(z[f"{name}_values"], z[f"{name}_offsets"]), z[f"{name}_labels"]) for name in meta["sizes"]
        }
    return splits, meta
