"""A run killed at an epoch boundary or mid-epoch and restarted in its folder ends as if never interrupted."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import REPO, finished_checkpoint, write_tiny_imdb
from imdb_sentiment.data.batches import IndexBatches
from imdb_sentiment.run.checkpoint_io import AtomicCheckpointIO

# GRU with dropout (the Practicum preset), so the resumed run must also restore the dropout RNG.
RESUMABLE = [
    "experiment=practicum_gru",
    "data.maxlen=60",
    "data.batch_size=16",
    "trainer.max_epochs=5",
    "trainer.accelerator=cpu",
    "callbacks.progress_bar.refresh_rate=0",
]


@pytest.fixture(scope="module")
def small_imdb(tmp_path_factory) -> Path:
    return write_tiny_imdb(tmp_path_factory.mktemp("small_imdb"), n_train=1600, n_test=200)


def train_cmd(run_dir: Path, cache: Path, data: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "src/train.py",
        f"hydra.run.dir={run_dir}",
        f"paths.cache_dir={cache}",
        f"data.source={data}",
        *RESUMABLE,
        *extra,
    ]


def train_in(run_dir: Path, cache: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    """``python src/train.py`` into ``run_dir``, waited for."""
    cmd = train_cmd(run_dir, cache, data, *extra)
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=900)


def final_state(run_dir: Path) -> tuple[dict, dict]:
    summary = json.loads((run_dir / "summary.json").read_text())
    weights = torch.load(finished_checkpoint(run_dir), map_location="cpu", weights_only=False)["state_dict"]
    return summary, weights


def assert_same_run(a: Path, b: Path) -> None:
    (sa, wa), (sb, wb) = final_state(a), final_state(b)
    for key in ("epochs_run", "best_val_acc", "best_epoch", "test_acc", "tested_checkpoint"):
        assert sa[key] == sb[key], key
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_sampler_order_depends_only_on_seed_and_epoch():
    a, b = IndexBatches(np.ones(100), 8, shuffle=True, seed=3), IndexBatches(np.ones(100), 8, shuffle=True, seed=3)
    torch.manual_seed(0)
    first = [x.tolist() for x in a]
    torch.manual_seed(1)  # the global generator plays no part
    assert [x.tolist() for x in b] == first
    b.set_epoch(1)
    assert [x.tolist() for x in b] != first
    assert sorted(i for x in b for i in x.tolist()) == list(range(100))


def test_atomic_checkpoint_write_leaves_only_the_file(tmp_path):
    AtomicCheckpointIO().save_checkpoint({"w": torch.ones(3)}, tmp_path / "ckpt" / "last.ckpt")
    assert [p.name for p in (tmp_path / "ckpt").iterdir()] == ["last.ckpt"]
    assert torch.equal(torch.load(tmp_path / "ckpt" / "last.ckpt")["w"], torch.ones(3))


# train.py that dies (os._exit: as SIGKILL, no clean-up) at an event: "step N" right after the N-th optimizer step
# (mid-epoch), "save N" right after the N-th last.ckpt is on disk (an epoch boundary).
KILL_AT = textwrap.dedent("""
    import os, runpy, sys
    event, n = sys.argv[1], int(sys.argv[2])
    if event == "step":
        from imdb_sentiment.models.classifier import SentimentClassifier
        def on_train_batch_end(self, outputs, batch, batch_idx):
            if self.trainer.global_step == n:
                os._exit(137)
        SentimentClassifier.on_train_batch_end = on_train_batch_end
    else:
        from imdb_sentiment.run.checkpoint_io import AtomicCheckpointIO
        save, saved = AtomicCheckpointIO.save_checkpoint, [0]
        def saving(self, checkpoint, path, storage_options=None):
            save(self, checkpoint, path, storage_options)
            saved[0] += str(path).endswith("last.ckpt")
            if saved[0] == n:
                os._exit(137)
        AtomicCheckpointIO.save_checkpoint = saving
    sys.argv = ["src/train.py", *sys.argv[3:]]
    runpy.run_path("src/train.py", run_name="__main__")
""")

SHORT = ["data.train_size=480", "trainer.max_epochs=4"]  # 24 steps an epoch
MATRIX = {  # name: (overrides, kill event)
    "fixed padding, RMSprop, dropout; mid-epoch": ([], ("step", 30)),
    "dynamic padding with buckets; epoch boundary": (
        ["data.pad_mode=dynamic", "data.bucket=true", "data.maxlen=null"],
        ("save", 2),
    ),
    "sparse bag, LazyAdam; mid-epoch": (
        [
            "model=ngram_bag",
            "~model.reset_after",  # practicum_gru's Keras 2 GRU keys are no bag's
            "~model.recurrent_activation",
            "model.buckets=2000",
            "model.sparse=true",
            "optimizer=lazy_adam",
            "model.embed_dim=16",
            "trainer.gradient_clip_val=null",
        ],
        ("step", 40),
    ),
    # The moving average, its update count (the warm-up reads it) and the raw weights all travel in last.ckpt;
    # a resume that dropped any would differ.
    "weight EMA; mid-epoch": (
        [
            "+callbacks.weight_ema._target_=imdb_sentiment.run.callbacks.WeightEMA",
            "+callbacks.weight_ema.decay=0.9",
            "+callbacks.weight_ema.warmup=true",
        ],
        ("step", 30),
    ),
    # min_delta 0.9: no epoch after the first improves, so the patience counter is 1 when the kill comes
    "early stopping mid-patience; epoch boundary": (
        [
            "callbacks=early_stopping",
            "callbacks.early_stopping.min_delta=0.9",
            "callbacks.early_stopping.patience=2",
            "trainer.max_epochs=6",
        ],
        ("save", 2),
    ),
}


def metrics_rows(run_dir: Path) -> list[dict]:
    rows = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    return [{k: v for k, v in r.items() if not k.endswith("_seconds")} for r in rows]


@pytest.mark.slow
@pytest.mark.parametrize("case", MATRIX)
def test_a_run_killed_at_an_event_resumes_to_the_uninterrupted_result(case, tmp_path, small_imdb):
    overrides, (event, n) = MATRIX[case]
    extra = [*SHORT, *overrides]
    cache = tmp_path / "cache"
    whole = train_in(tmp_path / "whole", cache, small_imdb, *extra)
    assert whole.returncode == 0, whole.stderr[-3000:]

    run = tmp_path / "interrupted"
    killed = subprocess.run(
        [sys.executable, "-c", KILL_AT, event, str(n), *train_cmd(run, cache, small_imdb, *extra)[2:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert killed.returncode == 137, killed.stderr[-3000:]
    assert not (run / "summary.json").exists()
    last = run / "checkpoints" / "last.ckpt"
    saved_epoch = torch.load(last, map_location="cpu", weights_only=False)["epoch"]

    again = train_in(run, cache, small_imdb, *extra)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"Resuming from {last}" in again.stdout + again.stderr
    assert_same_run(tmp_path / "whole", run)
    assert metrics_rows(run) == metrics_rows(tmp_path / "whole")  # row by row, losses and accuracies exact
    summary = json.loads((run / "summary.json").read_text())
    assert saved_epoch + 1 < summary["epochs_run"]  # the kill came before the end: there was something to resume
    if "early stopping" in case:  # stopped by its patience, at the same epoch as the uninterrupted run
        assert summary["stopped_early_at_epoch"] == summary["epochs_run"] < 6


@pytest.mark.slow
def test_resume_false_starts_over(tmp_path, small_imdb):
    cache = tmp_path / "cache"
    args = ("trainer.max_epochs=1", "data.train_size=400", "test=false")
    first = train_in(tmp_path / "run", cache, small_imdb, *args)
    assert first.returncode == 0, first.stderr[-3000:]
    again = train_in(tmp_path / "run", cache, small_imdb, *args, "resume=false")
    assert again.returncode == 0 and "Resuming from" not in again.stdout + again.stderr
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs_run"] == 1


def _snapshot(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.slow
def test_a_folder_holding_another_runs_checkpoint_is_refused_untouched(tmp_path, small_imdb):
    cache = tmp_path / "cache"
    args = ("trainer.max_epochs=1", "data.train_size=400", "test=false", "keep_resumable=true")
    first = train_in(tmp_path / "run", cache, small_imdb, *args)
    assert first.returncode == 0, first.stderr[-3000:]
    before = _snapshot(tmp_path / "run")
    # Another preset (a stacked LSTM) started in the GRU run's folder, as the old sweep naming made happen.
    other = train_in(tmp_path / "run", cache, small_imdb, *args, "experiment=practicum_stacked")
    assert other.returncode == 2, other.stderr[-3000:]
    assert "Traceback" not in other.stdout + other.stderr
    (line,) = other.stderr.strip().splitlines()
    assert line == (
        f"error: the run folder {tmp_path / 'run'} holds a checkpoint of another run (model.cell is gru "
        "there, lstm here; model.dropout is 0.4 there, 0.5 here; model.num_layers is 1 there, 2 here; ...): "
        "use a new folder or resume=false"
    ), line
    assert _snapshot(tmp_path / "run") == before  # Hydra's record of the GRU run was not rewritten either
    # What may change on resume is not compared: more epochs, another copy of the data, evaluation batches.
    copy = tmp_path / "copy_of_data"
    copy.symlink_to(small_imdb)
    more = train_in(tmp_path / "run", cache, copy, *args, "trainer.max_epochs=2", "data.eval_batch_size=64")
    assert more.returncode == 0 and "Resuming from" in more.stdout + more.stderr, more.stderr[-3000:]
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs_run"] == 2
    # A different seed is another run; resume=false is the way to reuse the folder.
    seed = train_in(tmp_path / "run", cache, small_imdb, *args, "seed=7")
    assert seed.returncode == 2 and "(data.shuffle_seed is 42 there, 7 here; seed is 42 there, 7 here)" in seed.stderr
