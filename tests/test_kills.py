"""Kills inside a checkpoint save, damaged checkpoints and a full disk, on real train.py processes: no file
that reads as valid but is truncated, a restart resumes from the newest intact checkpoint, and a full disk is one
clear line. (Kills at other events: test_resume.py and test_atomic_writes.py.)"""

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from conftest import REPO
from imdb_sentiment.run.checkpointing import intact

pytestmark = pytest.mark.slow

TINY = [
    "model=gru",
    "data.vocab_size=100",
    "data.maxlen=30",
    "data.batch_size=8",
    "trainer.max_epochs=4",
    "trainer.accelerator=cpu",
    "callbacks.progress_bar.refresh_rate=0",
    "test=false",
]


def args(tiny_imdb, tmp_path, *extra):
    return [
        f"data.source={tiny_imdb}",
        f"paths.cache_dir={tmp_path}/cache",
        f"hydra.run.dir={tmp_path}/run",
        *TINY,
        *extra,
    ]


def assert_nothing_truncated(run: Path) -> None:
    """Every checkpoint loads; every JSON the run wrote parses."""
    for ckpt in (run / "checkpoints").glob("*.ckpt") if (run / "checkpoints").is_dir() else []:
        assert intact(ckpt), ckpt
        torch.load(ckpt, map_location="cpu", weights_only=True)
    for name in ("summary.json", "metrics.json"):
        if (run / name).exists():
            json.loads((run / name).read_text())


def train_py(tiny_imdb, tmp_path, *extra) -> subprocess.CompletedProcess:
    """``python src/train.py`` into ``tmp_path/run``, waited for; it must succeed."""
    r = subprocess.run(
        [sys.executable, "src/train.py", *args(tiny_imdb, tmp_path, *extra)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    return r


def finish(tiny_imdb, tmp_path) -> dict:
    train_py(tiny_imdb, tmp_path)
    return json.loads((tmp_path / "run" / "summary.json").read_text())


# train.py whose checkpoint save number K stops for good after writing a few bytes (then it is killed).
STALLED_SAVE = textwrap.dedent("""
    import runpy, sys, time
    from lightning.pytorch.plugins.io import TorchCheckpointIO
    save, calls, stall_at = TorchCheckpointIO.save_checkpoint, [0], int(sys.argv[1])
    def stalling(self, checkpoint, path, storage_options=None):
        calls[0] += 1
        if calls[0] == stall_at:
            open(path, "wb").write(b"PK\\x03\\x04 partial")
            print("saving", path, flush=True)
            time.sleep(600)
        return save(self, checkpoint, path, storage_options)
    TorchCheckpointIO.save_checkpoint = stalling
    sys.argv = ["src/train.py", *sys.argv[2:]]
    runpy.run_path("src/train.py", run_name="__main__")
""")


def test_kill_during_a_checkpoint_save_keeps_the_previous_one(tiny_imdb, tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", STALLED_SAVE, "3", *args(tiny_imdb, tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    seen = []
    for line in proc.stdout:  # Hydra's log lines come first
        seen.append(line)
        if line.startswith("saving"):
            break
    assert seen and seen[-1].startswith("saving"), "".join(seen)[-3000:]
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    checkpoints = tmp_path / "run" / "checkpoints"
    assert (checkpoints / "last.ckpt").is_file()  # epoch 1's, untouched by the interrupted save of epoch 2
    assert_nothing_truncated(tmp_path / "run")
    assert list(checkpoints.glob(".*tmp*"))  # the killed save's partial file, under a name no loader picks
    summary = finish(tiny_imdb, tmp_path)
    assert summary["epochs_run"] == 4 and not list(checkpoints.glob(".*tmp*"))


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
        ).returncode
        == 0
    )


def test_full_disk_is_one_clear_line(tiny_imdb, tmp_path):
    """The run folder on a 3 MiB filesystem: the default model's checkpoint (about 33 MB) cannot fit."""
    disk = tmp_path / "small_disk"
    mounted = _mount_tmpfs(disk, "3m")
    limit = None
    if not mounted:  # no mount permission: a file-size limit makes the same writes fail for real (EFBIG)

        def limit():
            import resource

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (3 * 2**20, 3 * 2**20))

    try:
        r = subprocess.run(
            [
                sys.executable,
                "src/train.py",
                f"data.source={tiny_imdb}",
                f"paths.cache_dir={tmp_path}/cache",
                f"hydra.run.dir={disk}/run",
                "data.maxlen=30",
                "trainer.max_epochs=1",
                "test=false",
                "trainer.accelerator=cpu",
                "callbacks.progress_bar.refresh_rate=0",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=600,
            preexec_fn=limit,
        )
        out = r.stdout + r.stderr
        assert r.returncode == 2, out[-3000:]
        assert "Traceback" not in out, out[-3000:]
        last = r.stderr.strip().splitlines()[-1]
        assert last.startswith("error: cannot write checkpoint ") and "MiB free on that disk" in last, last
        assert not list((disk / "run").glob("checkpoints/*.ckpt"))  # no partial checkpoint under a real name
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)])


def test_restart_resumes_from_the_newest_intact_checkpoint(tiny_imdb, tmp_path):
    """Every epoch's checkpoint kept; last.ckpt and epoch 4's lose their ends: train.py resumes from epoch 3's."""
    keep_all = (
        "callbacks.model_checkpoint.save_top_k=-1",
        "callbacks.model_checkpoint.monitor=null",
        "keep_resumable=true",
    )
    train_py(tiny_imdb, tmp_path, *keep_all)
    checkpoints = tmp_path / "run" / "checkpoints"
    by_epoch = {torch.load(p, map_location="cpu", weights_only=False)["epoch"]: p for p in checkpoints.glob("epoch*")}
    assert sorted(by_epoch) == [0, 1, 2, 3]
    for damaged in (checkpoints / "last.ckpt", by_epoch[3]):
        data = damaged.read_bytes()
        damaged.write_bytes(data[: len(data) // 2])  # the disk lost its end
    (tmp_path / "run" / "summary.json").unlink()
    again = train_py(tiny_imdb, tmp_path, *keep_all)
    assert f"Resuming from {by_epoch[2]}" in again.stdout + again.stderr  # epoch 3's (0-based 2): newest intact
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["epochs_run"] == 4
    assert_nothing_truncated(tmp_path / "run")  # the damaged two were set aside, and say so
    assert sorted(p.name for p in checkpoints.glob("*.damaged")) == sorted(
        [f"{by_epoch[3].name}.damaged", "last.ckpt.damaged"]
    )
    assert "is damaged (not a complete archive); set aside as last.ckpt.damaged" in again.stdout + again.stderr
