"""The shared data cache under a grid's worst day: many processes missing one entry at once, a builder
killed mid-write, an entry damaged on disk. Real processes, a real (local) filesystem."""

import hashlib
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from imdb_sentiment.data import IMDBDataModule, cache
from imdb_sentiment.data.cache_lock import BuildLock

pytestmark = pytest.mark.slow

DATA = dict(
    tokenizer="word",
    vocab_size=200,
    start_token=True,
    maxlen=40,
    padding="pre",
    truncating="pre",
    pad_mode="fixed",
    bucket=False,
    batch_size=16,
    eval_batch_size=None,
    val_split=0.2,
    train_size=None,
    test_size=None,
    split_seed=1234,
    shuffle_seed=0,
    device_resident=False,
)

# One grid job: wait at a barrier until all have started (so they miss the cache together), then prepare.
JOB = textwrap.dedent("""
    import hashlib, logging, sys, time
    from pathlib import Path
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from imdb_sentiment.data import IMDBDataModule
    from imdb_sentiment.data.cache import load_entry
    source, cache_dir, barrier, n, me, data = sys.argv[1:7]
    Path(barrier, me).touch()
    while len(list(Path(barrier).iterdir())) < int(n):
        time.sleep(0.01)
    dm = IMDBDataModule(source=source, cache_dir=cache_dir, cache_only=None, **eval(data))
    dm.prepare_data()
    splits, _ = load_entry(dm.entry)
    print("ids", hashlib.sha256(b"".join(ids.values.tobytes() for ids, _ in splits.values())).hexdigest())
""")


def datamodule(source, cache_dir):
    return IMDBDataModule(source=str(source), cache_dir=str(cache_dir), cache_only=None, **DATA)


def leftovers(cache_dir):
    return sorted(p.name for p in cache_dir.iterdir() if p.name.startswith("."))


def test_eight_jobs_starting_together_encode_once_and_read_the_same_ids(tiny_imdb, tmp_path):
    cache_dir, barrier = tmp_path / "cache", tmp_path / "barrier"
    barrier.mkdir()
    jobs = [
        subprocess.Popen(
            [sys.executable, "-c", JOB, str(tiny_imdb), str(cache_dir), str(barrier), "8", str(i), repr(DATA)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(8)
    ]
    outputs = [job.communicate(timeout=600) for job in jobs]
    assert all(job.returncode == 0 for job in jobs), [err[-2000:] for _, err in outputs]
    logs = "".join(err for _, err in outputs)
    assert logs.count("Encoding IMDB") == 1, logs
    assert len({out.split()[-1] for out, _ in outputs}) == 1  # every job trains on identical ids
    assert len(list(cache_dir.iterdir())) == 1 and leftovers(cache_dir) == []  # one entry, no lock, no temp folder


def test_builder_killed_mid_write_leaves_no_entry_and_the_next_run_rebuilds(tiny_imdb, tmp_path):
    cache_dir = tmp_path / "cache"
    # A builder that stops for good inside np.savez, with part of splits.npz written: then SIGKILL.
    stalled = textwrap.dedent("""
        import sys, time, numpy as np
        from imdb_sentiment.data import IMDBDataModule
        def savez(path, **arrays):
            open(path, "wb").write(b"PK partial")
            print("writing", flush=True)
            time.sleep(600)
        np.savez = savez
        IMDBDataModule(source=sys.argv[1], cache_dir=sys.argv[2], cache_only=None, **eval(sys.argv[3])).prepare_data()
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", stalled, str(tiny_imdb), str(cache_dir), repr(DATA)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    entry = cache_dir / cache.entry_name(datamodule(tiny_imdb, cache_dir).spec)
    assert not entry.exists()  # no entry at all, rather than a partial one
    assert any(n.startswith(".tmp-") for n in leftovers(cache_dir)) and any(
        n.endswith(".lock") for n in leftovers(cache_dir)
    )

    dm = datamodule(tiny_imdb, cache_dir)
    dm.prepare_data()  # takes over the dead builder's lock, clears its temporary folder, builds
    assert cache.check_entry(dm.entry) is None and leftovers(cache_dir) == []


def test_damaged_entry_is_rebuilt_with_one_warning(tiny_imdb, tmp_path, caplog):
    cache_dir = tmp_path / "cache"
    dm = datamodule(tiny_imdb, cache_dir)
    dm.prepare_data()
    good = (dm.entry / "splits.npz").read_bytes()
    (dm.entry / "splits.npz").write_bytes(good[: len(good) // 2])  # a disk that lost the end of the file
    assert "splits.npz has" in cache.check_entry(dm.entry)
    with caplog.at_level(logging.WARNING):
        datamodule(tiny_imdb, cache_dir).prepare_data()
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "damaged" in warnings[0] and "rebuilding" in warnings[0], warnings
    assert (dm.entry / "splits.npz").read_bytes() == good and leftovers(cache_dir) == []


def test_manifest_lists_every_file_with_size_and_checksum(tiny_imdb, tmp_path):
    dm = datamodule(tiny_imdb, tmp_path / "cache")
    dm.prepare_data()
    files = json.loads((dm.entry / cache.DONE).read_text())["files"]
    assert set(files) == {"splits.npz", "tokenizer.json"}
    for name, f in files.items():
        data = (dm.entry / name).read_bytes()
        assert f == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_lock_waits_for_a_live_owner_and_takes_over_from_a_dead_one(tmp_path):
    lock = tmp_path / "x.lock"
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        lock.write_text(json.dumps({"host": os.uname().nodename, "pid": sleeper.pid, "token": "other"}))
        waiter = BuildLock(lock, poll=0.05)
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            with _deadline(1.0):
                waiter.__enter__()
        assert time.monotonic() - start >= 0.9 and json.loads(lock.read_text())["token"] == "other"
    finally:
        sleeper.kill()
        sleeper.wait()
    with BuildLock(lock, poll=0.05) as taken:  # its owner is dead now
        assert json.loads(lock.read_text())["token"] == taken.owner["token"]
    assert not lock.exists()


class _deadline:
    """Raise TimeoutError in this thread after ``seconds`` (SIGALRM)."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __enter__(self):
        signal.signal(signal.SIGALRM, self._fire)
        signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def __exit__(self, *exc):
        signal.setitimer(signal.ITIMER_REAL, 0)

    @staticmethod
    def _fire(*_):
        raise TimeoutError


def test_offline_node_reports_a_damaged_entry_as_missing(tiny_imdb, tmp_path):
    dm = datamodule(tiny_imdb, tmp_path / "cache")
    dm.prepare_data()
    (dm.entry / "tokenizer.json").unlink()
    offline = IMDBDataModule(source=str(tiny_imdb), cache_dir=str(tmp_path / "cache"), cache_only=True, **DATA)
    with pytest.raises(cache.CacheMissError):
        offline.prepare_data()
    assert (dm.entry / "splits.npz").is_file()  # the damaged entry is left for a node that may rebuild it
