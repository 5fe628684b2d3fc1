"""DDP on the CPU (gloo), two processes: each review once, metrics equal to one process's, rank 0 writes."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from imdb_sentiment.data.batches import IndexBatches

DDP_RUN = [
    "model=gru",
    "data.maxlen=30",
    "data.batch_size=8",
    "data.test_size=111",
    "data.val_split=0.15",
    "optimizer.lr=0.01",
    "trainer.max_epochs=3",
    "callbacks.progress_bar.refresh_rate=0",
]


@pytest.mark.parametrize("n,bucket", [(101, False), (100, True), (7, False)])
def test_ddp_shards_see_each_training_review_once_in_equal_steps(n, bucket):
    lengths = np.random.default_rng(0).integers(1, 50, n)
    shards = [IndexBatches(lengths, 8, shuffle=True, bucket=bucket, seed=5, rank=r, world=2) for r in (0, 1)]
    for epoch in (0, 1):
        for s in shards:
            s.set_epoch(epoch)
        batches = [list(s) for s in shards]
        assert len(batches[0]) == len(batches[1]) == len(shards[0]) == len(shards[1])  # the same number of steps
        seen = np.concatenate([b for rank in batches for b in rank])
        assert sorted(seen.tolist()) == list(range(n))  # every review exactly once across the ranks
        assert all(0 < len(b) <= 8 for rank in batches for b in rank)
        again = IndexBatches(lengths, 8, shuffle=True, bucket=bucket, seed=5, rank=1, world=2)
        again.set_epoch(epoch)
        assert [b.tolist() for b in again] == [b.tolist() for b in batches[1]]  # only (seed, epoch) decide


def test_ddp_evaluation_counts_each_review_once_without_padding():
    shards = [list(IndexBatches(np.ones(21), 4, shuffle=False, rank=r, world=2)) for r in (0, 1)]
    assert [len(s) for s in shards] == [3, 3] and sorted(np.concatenate(shards[0] + shards[1]).tolist()) == list(
        range(21)
    )
    assert [len(s) for s in (list(IndexBatches(np.ones(9), 4, shuffle=False, rank=r, world=2)) for r in (0, 1))] == [
        2,
        1,
    ]
    single = list(IndexBatches(np.ones(21), 4, shuffle=True, seed=3))  # one process: batches of batch_size, as before
    assert [len(b) for b in single] == [4, 4, 4, 4, 4, 1]


@pytest.mark.slow
def test_ddp_on_two_cpu_processes_matches_eval_in_one_process(tmp_path, tiny_imdb):
    run = tmp_path / "run"
    r = subprocess.run(
        [
            sys.executable,
            "src/train.py",
            "trainer=ddp",
            "trainer.devices=2",
            "trainer.accelerator=cpu",
            f"hydra.run.dir={run}",
            f"paths.cache_dir={tmp_path}/cache",
            f"data.source={tiny_imdb}",
            *DDP_RUN,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "DDP: 2 processes x data.batch_size 8 = global batch 16" in out
    check_ddp_run(run)


def check_ddp_run(run: Path) -> None:
    """Rank 0 alone wrote the run's files; its test accuracy is what eval.py finds in one process."""
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs_run"] == 3 and len(json.loads((run / "metrics.json").read_text())["epochs"]) == 3
    writers = {p.name.split(".")[4] for p in (run / "tensorboard").glob("events.out.tfevents.*")}  # ...<host>.<pid>.<n>
    assert len(writers) == 1, writers  # one process wrote TensorBoard
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == sorted(
        [f"epoch{summary['best_epoch'] - 1:02d}-acc{summary['best_val_acc']:.4f}.ckpt"]  # last.ckpt went at the end
    )
    (best,) = (run / "checkpoints").glob("epoch*.ckpt")
    ev = subprocess.run(
        [sys.executable, "src/eval.py", f"ckpt_path={best}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "CUDA_VISIBLE_DEVICES": ""},
    )
    assert ev.returncode == 0, ev.stderr[-3000:]
    acc, reviews = re.match(r"test/acc (\S+) on (\d+) reviews", ev.stdout).groups()
    # 111 reviews: with a padded duplicate the count of correct ones would be off by one (or the total 112)
    assert int(reviews) == 111 and round(summary["test_acc"] * 111, 3) == round(float(acc) * 111) == pytest.approx(
        float(acc) * 111, abs=0.01
    ), (ev.stdout, summary)
    assert summary["test_acc"] != 0.5  # a learning run, so a miscount would show
