"""Kills at any moment and a full disk, on real train.py processes: no file that reads as valid but is
truncated, a restart resumes from the newest intact checkpoint, and a full disk is one clear line."""

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
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


def finish(tiny_imdb, tmp_path) -> dict:
    r = subprocess.run(
        [sys.executable, "src/train.py", *args(tiny_imdb, tmp_path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    return json.loads((tmp_path / "run" / "summary.json").read_text())


def test_kills_at_random_moments_leave_nothing_truncated_and_the_run_resumes(tiny_imdb, tmp_path):
    rng = random.Random(7)  # seeded moments: start-up, data, fit, checkpoint saves
    for delay in sorted(rng.uniform(4, 14) for _ in range(3)):
        proc = subprocess.Popen(
            [sys.executable, "src/train.py", *args(tiny_imdb, tmp_path)],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_nothing_truncated(tmp_path / "run")
    summary = finish(tiny_imdb, tmp_path)
    assert summary["epochs_run"] == 4 and 0 <= summary["best_val_acc"] <= 1
    epochs = json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2, 3, 4]
    assert not list((tmp_path / "run" / "checkpoints").glob(".*tmp*"))  # killed saves' temporary files removed


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


@pytest.mark.parametrize("damaged", ["last.ckpt"])
def test_resume_skips_a_damaged_last_checkpoint(tiny_imdb, tmp_path, damaged):
    first = finish(tiny_imdb, tmp_path)
    checkpoints = tmp_path / "run" / "checkpoints"
    data = (checkpoints / damaged).read_bytes()
    (checkpoints / damaged).write_bytes(data[: len(data) // 2])  # the disk lost its end
    from imdb_sentiment.run.checkpointing import resume_path

    chosen = resume_path(tmp_path / "run")
    assert chosen is not None and chosen.name != damaged and intact(chosen) and first["epochs_run"] == 4
