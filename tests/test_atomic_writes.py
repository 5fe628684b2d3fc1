"""Deterministic faults inside each atomic writer: a process killed mid-write or just before the rename, and
a full disk. The file under its real name is always the previous complete version (or absent); a full disk is
one line naming the file. The real writers: JSON files (summary.json, metrics.json, sweep.json), the report
and the data cache's entry."""

import errno
import json
import multiprocessing
import os

import numpy as np
import pytest

from imdb_sentiment import cli, files
from imdb_sentiment.data import cache
from imdb_sentiment.data.ragged import Ragged
from imdb_sentiment.data.text_encoding import fit_tokenizer
from imdb_sentiment.reporting import report, sweep_manifest

KILLED = 137


def killed_at(step: str, write) -> int:
    """Run ``write()`` in a forked process that dies (``os._exit``, as SIGKILL: no clean-up) at ``step``:
    ``mid-write`` with half of a new file's bytes on disk (its fsync truncates it to half, then dies),
    ``rename`` with the new version complete, just before it would take the real name. The exit code."""

    def child():
        if step == "mid-write":

            def half_then_die(fd):
                os.truncate(f"/proc/self/fd/{fd}", os.fstat(fd).st_size // 2)  # fd may be read-only
                os._exit(KILLED)

            os.fsync = half_then_die
        else:
            os.replace = os.rename = lambda *a, **k: os._exit(KILLED)
        write()
        os._exit(0)

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(60)
    return proc.exitcode


def tiny_entry(vocab: int):
    texts = ["a good film", "a bad film"] * 4
    tok = fit_tokenizer("word", vocab, texts, start_token=False)
    ids = Ragged(np.array([3, 4, 5, 3, 6, 5], np.int32), np.array([0, 3, 6], np.int64))
    return {"train": (ids, np.array([1, 0], np.int8))}, tok


def spec(vocab: int) -> dict:
    return {
        "source": "x",
        "tokenizer": "word",
        "vocab_size": vocab,
        "val_split": 0.2,
        "train_size": None,
        "test_size": None,
        "split_seed": 1,
    }


WRITERS = {
    # name: (write version v into folder d, read what a reader sees there)
    "summary.json / metrics.json": (
        lambda d, v: files.write_json_atomic(d / "summary.json", {"v": v, "pad": "x" * 200_000}),
        lambda d: json.loads((d / "summary.json").read_text())["v"],
    ),
    "sweep.json": (
        lambda d, v: sweep_manifest.record(d, [{"overrides": [f"seed={v}"], "run_dir": f"r{v}"}], "local"),
        lambda d: len(sweep_manifest.read(d)["points"]),
    ),
    "report": (
        lambda d, v: report.write(
            report.Report(runs=[], run_rows=[{"v": v}] * v, groups=[], group_rows=[], common=[]), d
        ),
        lambda d: (d / "report.md").read_text().count("\n") and (d / "runs.csv").read_text().count("\n"),
    ),
    "cache entry": (
        lambda d, v: cache.load_or_build(d, spec(10 + v), lambda: tiny_entry(10 + v)),
        lambda d: sorted(p.name.split("-")[0] for p in d.glob("word*") if cache.check_entry(p) is None),
    ),
}


@pytest.mark.parametrize("step", ["mid-write", "rename"])
@pytest.mark.parametrize("writer", WRITERS)
def test_a_kill_inside_a_write_leaves_the_previous_version(writer, step, tmp_path):
    write, read = WRITERS[writer]
    write(tmp_path, 1)
    before = read(tmp_path)
    assert killed_at(step, lambda: write(tmp_path, 2)) == KILLED
    assert read(tmp_path) == before  # the real name holds version 1, whole
    write(tmp_path, 2)  # the next attempt succeeds over what the kill left
    assert read(tmp_path) != before


def test_a_full_disk_is_one_line_naming_the_file(tmp_path, monkeypatch, capsys):
    target = tmp_path / "summary.json"
    files.write_json_atomic(target, {"v": 1})

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))  # as the kernel reports it: no file name

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(SystemExit) as exit_:
        cli.run_task(files.write_json_atomic, target, {"v": 2})
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: No space left on device writing {target}: make room, or point paths.log_dir / "
        "paths.cache_dir at a disk that has it"
    ]
    assert json.loads(target.read_text()) == {"v": 1} and sorted(p.name for p in tmp_path.iterdir()) == [target.name]
