"""Grids: job folders named by what varies, and the launcher that runs several jobs at once."""
import json
import subprocess
import sys

import pytest

from conftest import REPO
from imdb_sentiment.sweep_naming import job_dirname, varying_keys


def test_job_names_drop_group_prefixes_and_excluded_keys():
    assert job_dirname(["seed=2", "data.batch_size=32", "data.source=/x/y"], ["data.source"]) == "batch_size=32,seed=2"
    assert job_dirname(["model=gru", "+callbacks=early_stopping"], []) == "callbacks=early_stopping,model=gru"
    assert job_dirname(["trainer.max_epochs=5", "callbacks.early_stopping.patience=3"], []) == "max_epochs=5,patience=3"


def test_job_names_keep_full_keys_where_short_ones_would_collide():
    assert job_dirname(["model.dropout=0.2", "data.dropout=0.1", "seed=1"], []) == "data.dropout=0.1,model.dropout=0.2,seed=1"


def test_job_names_never_nest_folders_and_are_never_empty():
    assert "/" not in job_dirname(["data.source=a/b"], [])
    assert job_dirname([], []) == "default"


def test_varying_keys_come_from_the_command_line_and_the_presets_grids():
    keys = varying_keys(["data.batch_size=16,32", "seed=range(1,4)", "trainer.accelerator=cpu", "model=gru"],
                        {"trainer.max_epochs": "2,5", "data.maxlen": "200"})
    assert keys == {"data.batch_size", "seed", "trainer.max_epochs"}


def run_grid(tmp_path, *args, timeout=900):
    cmd = [sys.executable, "src/train.py", "-m", f"paths.log_dir={tmp_path}/logs", f"paths.cache_dir={tmp_path}/cache",
           "trainer.accelerator=cpu", *args]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)


def test_local_parallel_launcher_runs_a_grid_concurrently(tmp_path, tiny_imdb):
    r = run_grid(tmp_path, "launcher=local", f"data.source={tiny_imdb}", "debug=fast", "data.maxlen=40",
                 "model=gru", "seed=1,2,3")
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "Launching 3 jobs locally, up to 2 at a time (CPU)" in out
    (sweep,) = (tmp_path / "logs" / "multiruns").glob("*/*")
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["seed=1", "seed=2", "seed=3"]
    seeds = [json.loads((sweep / f"seed={s}" / "summary.json").read_text())["seed"] for s in (1, 2, 3)]
    assert seeds == [1, 2, 3]
    # Two ran at once: the launcher started #0 and #1 before either finished, and #2 only when a slot was free.
    events = [line.split("] ", 1)[-1] for line in r.stdout.splitlines() if " started (pid " in line or " finished (" in line]
    order = [e.split(" ")[0] + (" started" if "started" in e else " finished") for e in events]
    assert set(order[:2]) == {"#0 started", "#1 started"}, order
    assert order.index("#2 started") > min(order.index("#0 finished"), order.index("#1 finished")), order


def test_local_parallel_launcher_reports_a_failed_job_and_finishes_the_others(tmp_path, tiny_imdb):
    r = run_grid(tmp_path, "launcher=local", f"data.source={tiny_imdb}", "debug=fast", "data.maxlen=40",
                 "model=gru", "data.batch_size=8,0")
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "error: data.batch_size=0: must be a positive integer" in out
    assert "exited with code 2" in out
    (sweep,) = (tmp_path / "logs" / "multiruns").glob("*/*")
    assert (sweep / "batch_size=8" / "summary.json").is_file()
    assert not (sweep / "batch_size=0" / "summary.json").exists()
