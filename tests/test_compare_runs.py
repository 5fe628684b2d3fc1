"""A real tiny grid trained by `src/train.py -m`: summaries, curves, TensorBoard hparams, report, eval and predict."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import torch
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import metadata as hp_metadata

from conftest import REPO
from imdb_sentiment.inference.evaluation import evaluate
from imdb_sentiment.reporting import report

pytestmark = pytest.mark.slow

GRID = ["data.batch_size=16,32", "seed=1,2"]
FIXED = [
    "model=gru",
    "data.vocab_size=100",
    "data.maxlen=40",
    "trainer.max_epochs=3",
    "optimizer.lr=0.01",
    "callbacks.progress_bar.refresh_rate=0",
    "trainer.accelerator=cpu",
]


def run_script(script: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, f"src/{script}", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        input=stdin,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture(scope="module")
def grid(tmp_path_factory, tiny_imdb) -> Path:
    tmp = tmp_path_factory.mktemp("grid")
    r = run_script(
        "train.py",
        "-m",
        f"paths.log_dir={tmp}/logs",
        f"paths.cache_dir={tmp}/cache",
        f"data.source={tiny_imdb}",
        *FIXED,
        *GRID,
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    (multirun,) = (tmp / "logs" / "multiruns").glob("*/*")
    return multirun


def runs_of(grid: Path) -> dict[Path, dict]:
    return {s.parent: json.loads(s.read_text()) for s in sorted(grid.glob("*/summary.json"))}


def best_ckpt(run: Path) -> Path:
    (ckpt,) = [p for p in (run / "checkpoints").glob("*.ckpt") if p.name != "last.ckpt"]
    return ckpt


def test_summary_names_what_tells_the_run_apart(grid):
    runs = runs_of(grid)
    assert len(runs) == 4
    for run, s in runs.items():
        assert s["name"] == run.name  # the job folder is named by it
        assert f"seed={s['seed']}" in s["overrides"] and f"data.batch_size={s['batch_size']}" in s["overrides"]
        assert (s["model_config"], s["experiment"], s["model"]) == ("gru", None, "RecurrentClassifier")
        assert s["epochs_run"] == 3 and s["accelerator"] == "cpu"


def test_metrics_json_holds_every_epoch(grid):
    for run, s in runs_of(grid).items():
        epochs = json.loads((run / "metrics.json").read_text())["epochs"]
        assert [e["epoch"] for e in epochs] == [1, 2, 3]
        assert all(0 < e["train_loss"] < 2 and 0 <= e["train_acc"] <= 1 and 0 < e["val_loss"] < 2 for e in epochs)
        best = max(epochs, key=lambda e: e["val_acc"])  # first of equals, as the module keeps the first best
        assert best["val_acc"] == pytest.approx(s["best_val_acc"], abs=1e-7) and best["epoch"] == s["best_epoch"]


def test_hparams_are_in_the_event_files(grid):
    for run, s in runs_of(grid).items():
        events = EventAccumulator(str(run / "tensorboard"), size_guidance={"scalars": 0, "tensors": 0})
        events.Reload()
        content = events.PluginTagToContent(hp_metadata.PLUGIN_NAME)
        assert set(content) == {hp_metadata.SESSION_START_INFO_TAG, hp_metadata.SESSION_END_INFO_TAG}
        start = hp_metadata.parse_session_start_info_plugin_data(content[hp_metadata.SESSION_START_INFO_TAG])
        hp = start.hparams
        assert hp["model"].string_value == "gru" and hp["optimizer"].string_value == "Adam"
        assert (hp["seed"].number_value, hp["data.batch_size"].number_value) == (s["seed"], s["batch_size"])
        assert (hp["optimizer.lr"].number_value, hp["data.vocab_size"].number_value) == (0.01, 100)
        assert hp["data.val_split"].number_value == 0.2 and hp["params"].number_value == s["params"]
        assert hp["data.train_size"].string_value == "null" and hp["model.pooling"].string_value == "last"
        scalars = events.Tags()["scalars"]
        assert "hp_metric" not in scalars and {"train/acc", "val/acc", "val/loss", "test/acc"} <= set(scalars)
        assert events.Scalars("hp/best_val_acc")[-1].value == pytest.approx(s["best_val_acc"], abs=1e-6)
        assert events.Scalars("hp/test_acc")[-1].value == pytest.approx(s["test_acc"], abs=1e-6)


def test_report_groups_the_seeds(grid, tmp_path):
    r = run_script("report.py", str(grid), "--out", str(tmp_path), "--sort", "test_acc", "--desc")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "4 runs (4 complete)" in r.stdout and "Welch" in r.stdout
    rep = report.build([grid])
    runs = runs_of(grid)
    for batch in (16, 32):
        (row,) = [g for g in rep.group_rows if g["group"] == f"data.batch_size={batch}"]
        tests = [s["test_acc"] for s in runs.values() if s["batch_size"] == batch]
        assert row["n"] == 2 and row["test_acc"] == pytest.approx(sum(tests) / 2, abs=1e-12)
        assert row["test_acc_std"] == pytest.approx(abs(tests[0] - tests[1]) / math.sqrt(2), abs=1e-12)
    for name in ("accuracy_curves.png", "loss_curves.png", "test_acc.png"):
        assert (tmp_path / name).read_bytes().startswith(b"\x89PNG") and (tmp_path / name).stat().st_size > 10_000


def test_eval_reproduces_the_summary(grid):
    run, s = next(iter(runs_of(grid).items()))
    ckpt = best_ckpt(run)
    assert evaluate(str(ckpt))["acc"] == pytest.approx(s["test_acc"], abs=1e-7)
    assert evaluate(str(ckpt), "val")["acc"] == pytest.approx(s["best_val_acc"], abs=1e-7)
    r = run_script("eval.py", f"ckpt_path={ckpt}", "data.eval_batch_size=7")  # batches do not change accuracy
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.startswith(f"test/acc {s['test_acc']:.4f} on 120 reviews")


def test_predict_round_trips_the_test_split(grid, tiny_imdb, tmp_path):
    """predict.py on the raw test reviews gives the labels that made the run's test accuracy."""
    run, s = next(iter(runs_of(grid).items()))
    test = pq.read_table(tiny_imdb / "plain_text" / "test-00000-of-00001.parquet").to_pydict()
    (tmp_path / "reviews.txt").write_text("\n".join(test["text"]) + "\n")
    r = run_script("predict.py", f"ckpt_path={best_ckpt(run)}", f"file={tmp_path / 'reviews.txt'}")
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert len(lines) == len(test["label"])
    labels = [line.split("\t")[1] for line in lines]
    correct = sum((lab == "positive") == bool(y) for lab, y in zip(labels, test["label"]))
    assert correct / len(labels) == pytest.approx(s["test_acc"], abs=1e-7)


def test_predict_ranks_the_notebook_examples(grid):
    # Tiny data has no reviews this short, so only the ranking is asserted here; test_real_data.py checks
    # the labels with a model trained on real reviews.
    run = max(runs_of(grid).items(), key=lambda kv: kv[1]["test_acc"])[0]
    r = run_script(
        "predict.py",
        f"ckpt_path={best_ckpt(run)}",
        "text=An excellent movie!",
        "text=Don't watch this movie - poor acting, poor script, bad direction.",
    )
    assert r.returncode == 0, r.stderr[-3000:]
    (p_pos, _, text_pos), (p_neg, _, _) = (line.split("\t") for line in r.stdout.splitlines())
    assert text_pos == "An excellent movie!" and float(p_pos) > float(p_neg)


def test_predict_reads_stdin_and_odd_reviews(grid, tmp_path):
    run = next(iter(runs_of(grid)))
    odd = [
        "<p>A <b>great</b> film.<br /><br />Loved it</p>",
        "Ein großartiger Film — très bien! 映画 🎬",
        " ".join(["awful"] * 50_000 + ["great"] * 50_000),
        "!!!",
    ]
    r = run_script("predict.py", f"ckpt_path={best_ckpt(run)}", stdin="\n\n".join(odd) + "\n")  # blank lines skipped
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert len(lines) == 4 and all(0 <= float(line.split("\t")[0]) <= 1 for line in lines)
    assert lines[1].endswith("Ein großartiger Film — très bien! 映画 🎬")
    assert len(lines[2].split("\t")[2]) == 70  # the 100,000-word review, shortened for display


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "truncated",
        "text file",
        "empty file",
        "folder",
        "not ours",
        "empty text",
        "latin-1 file",
        "unknown argument",
        "no checkpoint",
    ],
)
def test_bad_predict_input_is_one_line(grid, tmp_path, case):
    run = next(iter(runs_of(grid)))
    ckpt = best_ckpt(run)
    args, expected = {
        "missing": ([f"ckpt_path={tmp_path}/nope.ckpt", "text=x"], "nope.ckpt: no such file"),
        "truncated": ([f"ckpt_path={tmp_path}/cut.ckpt", "text=x"], "cut.ckpt: not a readable checkpoint: truncated"),
        "text file": (
            [f"ckpt_path={tmp_path}/notes.ckpt", "text=x"],
            "notes.ckpt: not a readable checkpoint: not a PyTorch",
        ),
        "empty file": ([f"ckpt_path={tmp_path}/empty.ckpt", "text=x"], "empty.ckpt: empty file"),
        "folder": ([f"ckpt_path={run}", "text=x"], "is a folder; give a checkpoint file such as"),
        "not ours": (
            [f"ckpt_path={tmp_path}/plain.ckpt", "text=x"],
            "not a checkpoint written by this project's train.py",
        ),
        "empty text": ([f"ckpt_path={ckpt}", "text=  "], "text=: review 1 is empty"),
        "latin-1 file": ([f"ckpt_path={ckpt}", f"file={tmp_path}/latin1.txt"], "latin1.txt: not UTF-8 text"),
        "unknown argument": ([f"ckpt_path={ckpt}", "txt=x"], "txt: unknown argument; allowed: ckpt_path, file, text"),
        "no checkpoint": (["text=x"], "ckpt_path is required"),
    }[case]
    (tmp_path / "cut.ckpt").write_bytes(ckpt.read_bytes()[:5000])
    (tmp_path / "notes.ckpt").write_text("not a checkpoint\n")
    (tmp_path / "empty.ckpt").write_bytes(b"")
    torch.save({"state_dict": {}}, tmp_path / "plain.ckpt")
    (tmp_path / "latin1.txt").write_bytes("Très bien\n".encode("latin-1"))
    r = run_script("predict.py", *args)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], r.stderr


@pytest.mark.parametrize(
    "case", ["corrupt checkpoint", "bad split", "unknown key", "data elsewhere, not there", "other data"]
)
def test_bad_eval_input_is_one_line(grid, tmp_path, case):
    ckpt = best_ckpt(next(iter(runs_of(grid))))
    (tmp_path / "cut.ckpt").write_bytes(ckpt.read_bytes()[:5000])
    args, expected = {
        "corrupt checkpoint": ([f"ckpt_path={tmp_path}/cut.ckpt"], "not a readable checkpoint: truncated or corrupt"),
        "bad split": ([f"ckpt_path={ckpt}", "split=train"], "error: split=train: must be one of test, val"),
        "unknown key": ([f"ckpt_path={ckpt}", "model.hidden_size=8"], "error: model.hidden_size: unknown argument"),
        "data elsewhere, not there": ([f"ckpt_path={ckpt}", f"data.source={tmp_path}/imdb"], "no such file or folder"),
        "other data": ([f"ckpt_path={ckpt}", "data.train_size=100"], "another vocabulary than the checkpoint's"),
    }[case]
    r = run_script("eval.py", *args)
    lines = [line for line in r.stderr.strip().splitlines() if line.startswith("error: ")]
    assert r.returncode == 2 and "Traceback" not in r.stderr and r.stdout == ""
    assert len(lines) == 1 and expected in lines[0], r.stderr
