"""Grids: job folders named by what varies, and the launcher that runs several jobs at once."""

import csv
import json
import subprocess
import sys

import pytest

from conftest import REPO
from imdb_sentiment.config.sweep_naming import check_distinct, exclude_keys_for, grid_names, job_dirname, varying_keys
from imdb_sentiment.errors import UserError


def test_job_names_drop_group_prefixes_and_excluded_keys():
    assert job_dirname(["seed=2", "data.batch_size=32", "data.source=/x/y"], ["data.source"]) == "batch_size=32,seed=2"
    assert job_dirname(["model=gru", "+callbacks=early_stopping"], []) == "callbacks=early_stopping,model=gru"
    assert job_dirname(["trainer.max_epochs=5", "callbacks.early_stopping.patience=3"], []) == "max_epochs=5,patience=3"


def test_job_names_keep_full_keys_where_short_ones_would_collide():
    assert (
        job_dirname(["model.dropout=0.2", "data.dropout=0.1", "seed=1"], [])
        == "data.dropout=0.1,model.dropout=0.2,seed=1"
    )


def test_job_names_never_nest_folders_and_are_never_empty():
    assert "/" not in job_dirname(["data.source=a/b"], [])
    assert job_dirname([], []) == "default"


def test_varying_keys_come_from_the_command_line_and_the_presets_grids():
    keys = varying_keys(
        ["data.batch_size=16,32", "seed=range(1,4)", "trainer.accelerator=cpu", "model=gru"],
        {"trainer.max_epochs": "2,5", "data.maxlen": "200"},
    )
    assert keys == {"data.batch_size", "seed", "trainer.max_epochs"}


CONFIGURED = ["experiment", "debug", "launcher", "paths.log_dir", "paths.cache_dir", "data.source"]


def test_a_key_that_varies_is_named_even_if_the_exclude_list_names_it():
    task = ["experiment=practicum_gru,practicum_stacked", "seed=1,2", "data.source=/d", "trainer.accelerator=cpu"]
    exclude = exclude_keys_for(task, CONFIGURED, varying_keys(task, None))
    assert "experiment" not in exclude and "trainer.accelerator" in exclude and "data.source" in exclude
    assert (
        job_dirname(["experiment=practicum_gru", "seed=1", "data.source=/d", "trainer.accelerator=cpu"], exclude)
        == "experiment=practicum_gru,seed=1"
    )
    task = ["data.source=/copies/a/imdb,/copies/b/imdb", "seed=1"]
    exclude = exclude_keys_for(task, CONFIGURED, varying_keys(task, None))
    assert job_dirname(["data.source=/copies/a/imdb", "seed=1"], exclude) == "source=_copies_a_imdb"
    assert exclude_keys_for(["seed=1", "experiment=x"], CONFIGURED, set()) == CONFIGURED  # nothing varies: as set


def test_folders_that_would_collide_are_refused_naming_both_jobs():
    jobs = [["data.source=/d/a_b"], ["data.source=/d/a/b"]]
    with pytest.raises(
        UserError,
        match=r"jobs 'data.source=/d/a_b' and 'data.source=/d/a/b' would share the folder "
        r"source=_d_a_b",
    ):
        check_distinct(jobs, [job_dirname(j, []) for j in jobs])


def test_grid_file_lines_are_named_by_what_differs_between_them():
    lines = [
        "experiment=practicum_gru seed=1 trainer.max_epochs=2",
        "experiment=practicum_gru seed=2 trainer.max_epochs=2",
        "experiment=practicum_stacked seed=1 trainer.max_epochs=2",
    ]
    assert grid_names(lines) == [
        "experiment=practicum_gru,seed=1",
        "experiment=practicum_gru,seed=2",
        "experiment=practicum_stacked,seed=1",
    ]
    assert grid_names(["data.batch_size=8", "data.batch_size=16 seed=2"]) == ["batch_size=8", "batch_size=16,seed=2"]
    assert grid_names(["model=gru seed=3"]) == ["model=gru,seed=3"]  # one line: everything it sets
    with pytest.raises(UserError, match="grid file: jobs 'seed=1' and 'seed=1' would share the folder default"):
        grid_names(["seed=1", "seed=1"])


def run_grid(tmp_path, *args, timeout=900):
    cmd = [
        sys.executable,
        "src/train.py",
        "-m",
        f"paths.log_dir={tmp_path}/logs",
        f"paths.cache_dir={tmp_path}/cache",
        "trainer.accelerator=cpu",
        *args,
    ]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_local_parallel_launcher_runs_a_grid_concurrently(tmp_path, tiny_imdb):
    r = run_grid(
        tmp_path,
        "launcher=local",
        f"data.source={tiny_imdb}",
        "debug=fast",
        "data.maxlen=40",
        "model=gru",
        "seed=1,2,3",
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "Launching 3 jobs locally, up to 2 at a time (CPU)" in out
    (sweep,) = (tmp_path / "logs" / "multiruns").glob("*/*")
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["seed=1", "seed=2", "seed=3"]
    seeds = [json.loads((sweep / f"seed={s}" / "summary.json").read_text())["seed"] for s in (1, 2, 3)]
    assert seeds == [1, 2, 3]
    # Two ran at once: the launcher started #0 and #1 before either finished, and #2 only when a slot was free.
    events = [
        line.split("] ", 1)[-1] for line in r.stdout.splitlines() if " started (pid " in line or " finished (" in line
    ]
    order = [e.split(" ")[0] + (" started" if "started" in e else " finished") for e in events]
    assert set(order[:2]) == {"#0 started", "#1 started"}, order
    assert order.index("#2 started") > min(order.index("#0 finished"), order.index("#1 finished")), order


@pytest.mark.slow
def test_local_parallel_launcher_reports_a_failed_job_and_finishes_the_others(tmp_path, tiny_imdb):
    r = run_grid(
        tmp_path,
        "launcher=local",
        f"data.source={tiny_imdb}",
        "debug=fast",
        "data.maxlen=40",
        "model=gru",
        "data.batch_size=8,0",
    )
    out = r.stdout + r.stderr
    assert r.returncode != 0
    assert "error: data.batch_size=0: must be a positive integer" in out
    assert "exited with code 2" in out
    (sweep,) = (tmp_path / "logs" / "multiruns").glob("*/*")
    assert (sweep / "batch_size=8" / "summary.json").is_file()
    assert not (sweep / "batch_size=0" / "summary.json").exists()


@pytest.mark.slow
def test_a_sweep_over_presets_gives_each_run_its_own_folder_and_report_group(tmp_path, tiny_imdb):
    r = run_grid(
        tmp_path,
        "launcher=local",
        f"data.source={tiny_imdb}",
        "data.maxlen=30",
        "trainer.max_epochs=1",
        "callbacks.progress_bar.refresh_rate=0",
        "experiment=practicum_gru,practicum_stacked",
        "seed=1,2",
        "keep_resumable=true",  # below, a run "killed after its last checkpoint" resumes from it
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    (sweep,) = (tmp_path / "logs" / "multiruns").glob("*/*")
    names = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert names == [
        "experiment=practicum_gru,seed=1",
        "experiment=practicum_gru,seed=2",
        "experiment=practicum_stacked,seed=1",
        "experiment=practicum_stacked,seed=2",
    ]
    for name in names:
        summary = json.loads((sweep / name / "summary.json").read_text())
        assert f"experiment={summary['experiment']},seed={summary['seed']}" == name
        assert "Resuming from" not in (sweep / name / "train.log").read_text()
    rep = subprocess.run([sys.executable, "src/report.py", str(sweep)], cwd=REPO, capture_output=True, text=True)
    assert rep.returncode == 0, rep.stderr[-3000:]
    groups = [r["group"] for r in csv.DictReader((sweep / "groups.csv").open())]
    assert sorted(groups) == ["experiment=practicum_gru,model=gru", "experiment=practicum_stacked,model=stacked_lstm"]
    assert [int(r["n"]) for r in csv.DictReader((sweep / "groups.csv").open())] == [2, 2]
    # A local sweep has no SLURM view: sweep.py reads its points from multirun.yaml and its run folders.
    (sweep / names[1] / "summary.json").unlink()  # as if killed after its last checkpoint
    status = subprocess.run(
        [sys.executable, "src/sweep.py", "status", str(sweep)], cwd=REPO, capture_output=True, text=True
    )
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[-1] == "4 points: 3 done, 1 incomplete", status.stdout
    resume = subprocess.run(
        [sys.executable, "src/sweep.py", "resume", str(sweep)], cwd=REPO, capture_output=True, text=True, timeout=900
    )
    assert resume.returncode == 0 and "Resubmitting 1 point(s)" in resume.stdout, (resume.stdout + resume.stderr)[
        -3000:
    ]
    assert "Resuming from" in (sweep / names[1] / "train.log").read_text()
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == names  # into its own folder, no new one
    assert json.loads((sweep / names[1] / "summary.json").read_text())["seed"] == 2


@pytest.mark.slow
def test_a_sweep_over_two_data_copies_names_both(tmp_path, tiny_imdb):
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    (tmp_path / "a" / "imdb").symlink_to(tiny_imdb)
    (tmp_path / "b" / "imdb").symlink_to(tiny_imdb)
    r = run_grid(tmp_path, "debug=fast", "data.maxlen=30", f"data.source={tmp_path}/a/imdb,{tmp_path}/b/imdb")
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    (sweep,) = (tmp_path / "logs" / "multiruns").glob("*/*")
    flat = str(tmp_path).replace("/", "_")
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == [f"source={flat}_a_imdb", f"source={flat}_b_imdb"]


@pytest.mark.slow
def test_a_sweep_whose_folders_would_collide_is_refused_before_any_job(tmp_path, tiny_imdb):
    r = run_grid(tmp_path, "debug=fast", f"data.source={tmp_path}/x_y,{tmp_path}/x/y")
    assert r.returncode == 2, (r.stdout + r.stderr)[-3000:]
    assert "Traceback" not in r.stdout + r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("error: sweep: jobs ") and "would share the folder source=" in line, line
    assert not list((tmp_path / "logs").glob("multiruns/*/*/*"))  # no job folder, no job started
