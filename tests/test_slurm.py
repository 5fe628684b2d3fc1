"""The SLURM path on a real one-node cluster (slurm/local_cluster.sh): sbatch, job arrays, the submitit
launcher, requeue after a signal, and an offline node without prepared data."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import REPO, finished_checkpoint, write_tiny_imdb

pytestmark = [
    pytest.mark.slow,
    pytest.mark.slurm,
    pytest.mark.skipif(
        shutil.which("slurmctld") is None or os.geteuid() != 0,
        reason="needs Debian's slurm-wlm and munge and root (.ci/run installs them)",
    ),
]

JOB_RESOURCES = ["--gpus-per-node=0", "--cpus-per-task=1", "--mem=1G"]  # the CPU-only local node
TRAIN = [
    "model=gru",
    "data.maxlen=40",
    "data.batch_size=16",
    "trainer.accelerator=cpu",
    "callbacks.progress_bar.refresh_rate=0",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running cluster and the environment to use it: started here, stopped by the PIDs it started."""
    state = tmp_path_factory.mktemp("slurm")
    env = {
        **os.environ,
        **{f"IMDB_{name}_PORT": str(_free_port()) for name in ("SLURMCTLD", "SLURMD", "SLURMDBD", "MARIADB")},
    }
    start = subprocess.run(
        ["bash", "slurm/local_cluster.sh", "start", str(state)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert start.returncode == 0, start.stderr
    env.update(SLURM_CONF=str(state / "slurm.conf"), PATH=f"{Path(sys.executable).parent}:{env['PATH']}")
    yield env
    subprocess.run(["bash", "slurm/local_cluster.sh", "stop", str(state)], cwd=REPO, timeout=60)


@pytest.fixture(scope="module")
def work(tmp_path_factory, cluster):
    """Data, a cache prepared the way a login node would, and a folder for the jobs' runs and logs."""
    root = tmp_path_factory.mktemp("slurm_work")
    data = write_tiny_imdb(root / "data", n_train=800, n_test=200)
    cache = root / "cache"
    prep = subprocess.run(
        [
            sys.executable,
            "src/prepare_data.py",
            f"data.source={data}",
            f"paths.cache_dir={cache}",
            f"paths.log_dir={root}/logs",
            *TRAIN,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert prep.returncode == 0, prep.stderr[-3000:]
    (root / "jobs").mkdir()
    return {
        "root": root,
        "data": data,
        "cache": cache,
        "jobs": root / "jobs",
        "env": {**cluster, "IMDB_SLURM_LOGS": str(root / "jobs")},
    }


def sbatch(work, *args: str, out: str = "%x-%j.out") -> str:
    r = subprocess.run(
        ["sbatch", "--parsable", *JOB_RESOURCES, "-o", f"{work['jobs']}/{out}", *args],
        cwd=REPO,
        env=work["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().split(";")[0]


def job_state(env, job: str) -> str:
    out = subprocess.run(["scontrol", "show", "job", "-o", job], env=env, capture_output=True, text=True).stdout
    states = {f.split("=", 1)[1] for line in out.splitlines() for f in line.split() if f.startswith("JobState=")}
    return states.pop() if len(states) == 1 else ",".join(sorted(states)) or "GONE"


def wait_done(env, job: str, timeout: float = 600) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = job_state(env, job)
        if (
            state not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "REQUEUED")
            and "PENDING" not in state
            and "RUNNING" not in state
        ):
            return state
        time.sleep(0.5)
    raise AssertionError(f"job {job} still {job_state(env, job)} after {timeout} s")


def start_sweep(work, logs: Path, *args: str) -> subprocess.Popen:
    """``python src/train.py -m launcher=local_slurm`` over the work data into ``logs``, left running."""
    cmd = [sys.executable, "src/train.py", "-m", "launcher=local_slurm", *common(work), f"paths.log_dir={logs}", *args]
    return subprocess.Popen(cmd, cwd=REPO, env=work["env"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def common(work) -> list[str]:
    return [f"data.source={work['data']}", f"paths.cache_dir={work['cache']}", *TRAIN]


def test_sbatch_train_runs_offline_from_the_prepared_cache(work):
    job = sbatch(work, "slurm/train.sbatch", *common(work), "trainer.max_epochs=2")
    assert wait_done(work["env"], job) == "COMPLETED", (work["jobs"] / f"imdb-{job}.out").read_text()[-3000:]
    run = work["jobs"] / f"imdb-{job}"
    summary = json.loads((run / "summary.json").read_text())
    assert summary["epochs_run"] == 2 and 0 <= summary["test_acc"] <= 1
    assert finished_checkpoint(run).name.startswith("epoch")
    assert "Encoding IMDB" not in (work["jobs"] / f"imdb-{job}.out").read_text()  # it only read the cache


def test_submitit_launcher_grid_names_each_job_by_its_overrides(work):
    logs = work["root"] / "grid_logs"
    r = subprocess.run(
        [
            sys.executable,
            "src/train.py",
            "-m",
            "launcher=local_slurm",
            *common(work),
            f"paths.log_dir={logs}",
            "trainer.max_epochs=1",
            "seed=1,2,3",
        ],
        cwd=REPO,
        env=work["env"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    (sweep,) = (logs / "multiruns").glob("*/*")
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir() and not p.name.startswith(".")) == [
        "seed=1",
        "seed=2",
        "seed=3",
    ]
    assert [json.loads((sweep / f"seed={s}" / "summary.json").read_text())["seed"] for s in (1, 2, 3)] == [1, 2, 3]
    assert list((sweep / ".submitit").iterdir())  # it went through submitit and sbatch


def test_packed_launcher_runs_several_grid_points_per_job_named_like_any_sweep(work):
    logs = work["root"] / "packed_logs"
    # Each preset brings its own model; the vocabulary the login node prepared, as compute nodes only read the cache.
    presets = [a for a in common(work) if a != "model=gru"] + ["data.vocab_size=20000"]
    r = subprocess.run(
        [
            sys.executable,
            "src/train.py",
            "-m",
            "launcher=local_slurm",
            "hydra.launcher.runs_per_job=2",
            *presets,
            f"paths.log_dir={logs}",
            "trainer.max_epochs=1",
            "experiment=practicum_gru,practicum_lstm",
            "seed=1,2",
        ],
        cwd=REPO,
        env=work["env"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "4 runs packed into 2 jobs, up to 2 per job" in r.stdout + r.stderr
    (sweep,) = (logs / "multiruns").glob("*/*")
    for preset in ("practicum_gru", "practicum_lstm"):
        summaries = [json.loads((sweep / f"experiment={preset},seed={s}" / "summary.json").read_text()) for s in (1, 2)]
        assert [(x["experiment"], x["seed"]) for x in summaries] == [(preset, 1), (preset, 2)]
    tasks = [p.name for p in (sweep / ".submitit").iterdir() if re.fullmatch(r"\d+_\d+", p.name)]
    assert len(tasks) == 2, tasks  # one array task a job


def test_grid_sbatch_runs_one_line_per_array_task(work):
    grid = work["root"] / "grid.txt"
    # model=gru on every line: shared, so left out of the folder names like a sweep's shared overrides
    grid.write_text(
        "# batch sizes\ndata.batch_size=8 model=gru\n\ndata.batch_size=16 seed=2 model=gru\n"
        "data.batch_size=32 model=gru\n"
    )
    job = sbatch(work, "--array=1-3", "slurm/grid.sbatch", str(grid), *common(work), "trainer.max_epochs=1")
    for task in (1, 2, 3):
        assert wait_done(work["env"], f"{job}_{task}") == "COMPLETED"
    runs = work["jobs"] / f"imdb-grid-{job}"
    assert sorted(p.name for p in runs.iterdir()) == ["batch_size=16,seed=2", "batch_size=32", "batch_size=8"]
    summaries = {p.name: json.loads((p / "summary.json").read_text()) for p in runs.iterdir()}
    assert summaries["batch_size=16,seed=2"]["batch_size"] == 16  # the line's overrides won over the shared ones
    assert summaries["batch_size=16,seed=2"]["seed"] == 2


def test_signalled_job_requeues_and_resumes_to_the_uninterrupted_result(work):
    args = [*common(work), "experiment=practicum_gru", *TRAIN, "data.train_size=800", "trainer.max_epochs=6"]
    whole = subprocess.run(
        [sys.executable, "src/train.py", f"hydra.run.dir={work['root']}/whole", *args],
        cwd=REPO,
        env={**work["env"], "HF_HUB_OFFLINE": "0"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert whole.returncode == 0, whole.stderr[-3000:]

    job = sbatch(work, "slurm/train.sbatch", *args)
    run, log = work["jobs"] / f"imdb-{job}", work["jobs"] / f"imdb-{job}.out"
    while not (run / "checkpoints" / "last.ckpt").exists():
        assert job_state(work["env"], job) in ("PENDING", "RUNNING"), log.read_text()[-3000:]
        time.sleep(0.05)
    # What `#SBATCH --signal=USR1@120` sends before a time limit; the run requeues itself.
    subprocess.run(["scancel", "--signal=USR1", job], env=work["env"], check=True)
    deadline = time.time() + 120
    while "restart 1" not in log.read_text():
        assert time.time() < deadline, log.read_text()[-3000:]
        # SLURM holds a requeued job for a while (BeginTime); let it start at once.
        subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], env=work["env"], capture_output=True)
        time.sleep(0.5)
    assert wait_done(work["env"], job) == "COMPLETED", log.read_text()[-3000:]
    out = log.read_text()
    assert "Received SIGUSR1: requeueing SLURM job" in out and f"Resuming from {run}/checkpoints/last.ckpt" in out

    a, b = (json.loads((d / "summary.json").read_text()) for d in (work["root"] / "whole", run))
    for key in ("epochs_run", "best_val_acc", "best_epoch", "test_acc", "tested_checkpoint"):
        assert a[key] == b[key], key
    wa, wb = (
        torch.load(finished_checkpoint(d), map_location="cpu", weights_only=False)["state_dict"]
        for d in (work["root"] / "whole", run)
    )
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_offline_node_encodes_a_local_copy_and_names_the_preparing_command_for_a_hub_source(work):
    empty_cache = work["root"] / "empty_cache"
    local = sbatch(
        work,
        "slurm/train.sbatch",
        f"data.source={work['data']}",
        f"paths.cache_dir={empty_cache}",
        *TRAIN,
        "trainer.max_epochs=1",
    )
    hub = sbatch(work, "slurm/train.sbatch", "data.source=stanfordnlp/imdb", f"paths.cache_dir={empty_cache}", *TRAIN)
    assert wait_done(work["env"], local) == "COMPLETED", (work["jobs"] / f"imdb-{local}.out").read_text()[-3000:]
    assert "Encoding IMDB" in (work["jobs"] / f"imdb-{local}.out").read_text()  # offline is no network, not no work
    assert wait_done(work["env"], hub) == "FAILED"
    out = (work["jobs"] / f"imdb-{hub}.out").read_text()
    error = [line for line in out.splitlines() if line.startswith("error: ")]
    assert len(error) == 1 and "no prepared data at" in error[0], out[-3000:]
    assert f"python src/prepare_data.py data.source=stanfordnlp/imdb paths.cache_dir={empty_cache}" in error[0]
    assert "Traceback" not in out and not (work["jobs"] / f"imdb-{hub}" / "checkpoints").exists()


def test_hard_killed_job_makes_the_launcher_fail_instead_of_waiting(work):
    """A job killed without a chance to write its result (SIGKILL, as the OOM killer does): submitit learns
    its end from sacct, and the sweep fails with the job named while the other job still completes."""
    logs = work["root"] / "killed_logs"
    sweep = start_sweep(work, logs, "trainer.max_epochs=1", "seed=1,2", "hydra.launcher.array_parallelism=1")
    deadline = time.time() + 300
    while True:  # the first array task, once it runs
        jobs = subprocess.run(
            ["squeue", "-h", "-t", "RUNNING", "-o", "%i"], env=work["env"], capture_output=True, text=True
        ).stdout.split()
        if jobs:
            break
        assert time.time() < deadline and sweep.poll() is None, "no job started"
        time.sleep(0.2)
    subprocess.run(["scancel", "--signal=KILL", "--full", jobs[0]], env=work["env"], check=True)
    out, _ = sweep.communicate(timeout=600)
    assert sweep.returncode != 0, out[-3000:]
    assert "has no result" in out or "UncompletedJobError" in out or "FAILED" in out or "CANCELLED" in out, out[-3000:]
    (sweep_dir,) = (logs / "multiruns").glob("*/*")
    # The launcher may fail as soon as sacct reports the kill, while the other task still runs: it completes.
    wait_for(lambda: (sweep_dir / "seed=2" / "summary.json").is_file(), "the other job's summary", timeout=300)


# --- job arrays under preemption: only the signalled task restarts ------------------------------------------

ARRAY_RUN = ["experiment=practicum_gru", "data.train_size=800", "seed=3"]  # the signalled task: 6 epochs


@pytest.fixture(scope="module")
def uninterrupted(work) -> dict:
    """The signalled task's run without SLURM or signals (it also fills the cache that the jobs read)."""
    run = work["root"] / "uninterrupted"
    r = subprocess.run(
        [sys.executable, "src/train.py", f"hydra.run.dir={run}", *common(work), *ARRAY_RUN, "trainer.max_epochs=6"],
        cwd=REPO,
        env={**work["env"], "HF_HUB_OFFLINE": "0"},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((run / "summary.json").read_text())


def array_task_ids(env, array: str) -> dict[str, str]:
    """``{task id: the task's own job id}`` for the array's started tasks."""
    out = subprocess.run(
        ["squeue", "-h", "-j", array, "-o", "%K %A %T"], env=env, capture_output=True, text=True
    ).stdout
    return {task: own for task, own, state in (line.split() for line in out.splitlines()) if state != "PENDING"}


def wait_for(condition, what: str, timeout: float = 300):
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def release_requeued(env, job: str) -> None:
    """SLURM holds a requeued job for a while (BeginTime); let it start at once."""
    subprocess.run(["scontrol", "update", f"JobId={job}", "StartTime=now"], env=env, capture_output=True)


def assert_same_result(a: dict, b: dict) -> None:
    for key in ("epochs_run", "best_val_acc", "best_epoch", "test_acc", "tested_checkpoint"):
        assert a[key] == b[key], key


def test_signalled_array_task_of_grid_sbatch_requeues_only_itself(work, uninterrupted):
    """Task 3 starts last, so its own job id is the array's: `scontrol requeue <that id>` would restart every task."""
    grid = work["root"] / "array_grid.txt"
    grid.write_text("trainer.max_epochs=1\ntrainer.max_epochs=12 seed=4\ntrainer.max_epochs=6\n")
    array = sbatch(work, "--array=1-3", "slurm/grid.sbatch", str(grid), *common(work), *ARRAY_RUN, out="%x-%A_%a.out")
    env, runs = work["env"], work["jobs"] / f"imdb-grid-{array}"
    logs = {t: work["jobs"] / f"imdb-grid-{array}_{t}.out" for t in (1, 2, 3)}
    wait_for(lambda: (runs / "max_epochs=6" / "checkpoints" / "last.ckpt").exists(), "task 3's first epoch")
    assert array_task_ids(env, array).get("3") == array  # the task holding the array's id
    assert job_state(env, f"{array}_1") == "COMPLETED" and job_state(env, f"{array}_2") == "RUNNING"
    subprocess.run(["scancel", "--signal=USR1", f"{array}_3"], env=env, check=True)  # what --signal=USR1@120 sends
    wait_for(lambda: "(restart 1)" in logs[3].read_text() or release_requeued(env, f"{array}_3"), "task 3's restart")
    for task in (1, 2, 3):
        assert wait_done(env, f"{array}_{task}") == "COMPLETED", logs[task].read_text()[-3000:]
    text = {t: log.read_text() for t, log in logs.items()}
    assert f"requeueing SLURM job {array}_3;" in text[3] and f"Resuming from {runs}/max_epochs=6/checkpoints" in text[3]
    assert [text[t].count(f"task {t} of array {array}") for t in (1, 2, 3)] == [1, 1, 2], text
    assert "restart 1" not in text[1] + text[2]
    assert_same_result(json.loads((runs / "max_epochs=6" / "summary.json").read_text()), uninterrupted)


def test_signalled_task_of_a_submitit_sweep_requeues_only_itself(work, uninterrupted):
    logs = work["root"] / "array_logs"
    sweep = start_sweep(work, logs, *ARRAY_RUN, "trainer.max_epochs=1,12,6")
    env = work["env"]
    wait_for(lambda: list(logs.glob("multiruns/*/*/max_epochs=6/checkpoints/last.ckpt")), "task 2's first epoch")
    (run,) = logs.glob("multiruns/*/*/max_epochs=6")
    out = subprocess.run(["squeue", "-h", "-o", "%F %K %A %T"], env=env, capture_output=True, text=True).stdout
    (array,) = {line.split()[0] for line in out.splitlines()}
    assert array_task_ids(env, array).get("2") == array
    assert job_state(env, f"{array}_0") == "COMPLETED" and job_state(env, f"{array}_1") == "RUNNING"
    subprocess.run(["scancel", "--signal=USR2", f"{array}_2"], env=env, check=True)  # submitit's time-limit signal
    wait_for(
        lambda: "(restart 1)" in (run / "train.log").read_text() or release_requeued(env, f"{array}_2"),
        "task 2's restart",
    )
    output, _ = sweep.communicate(timeout=600)
    assert sweep.returncode == 0, output[-3000:]
    starts = {
        p.name: (p / "train.log").read_text().count("Starting run in")
        for p in run.parent.iterdir()
        if p.is_dir() and not p.name.startswith(".")
    }
    assert starts == {"max_epochs=1": 1, "max_epochs=12": 1, "max_epochs=6": 2}, starts
    assert f"requeueing SLURM job {array}_2;" in (run / "train.log").read_text()
    assert_same_result(json.loads((run / "summary.json").read_text()), uninterrupted)


def test_a_job_that_cannot_be_requeued_says_so_and_stops_with_its_checkpoints_intact(work):
    """--no-requeue: SLURM refuses `scontrol requeue`, as it does for some accounts."""
    job = sbatch(work, "--no-requeue", "slurm/train.sbatch", *common(work), *ARRAY_RUN, "trainer.max_epochs=40")
    run, log = work["jobs"] / f"imdb-{job}", work["jobs"] / f"imdb-{job}.out"
    wait_for(lambda: (run / "checkpoints" / "last.ckpt").exists(), "the first epoch")
    subprocess.run(["scancel", "--signal=USR1", job], env=work["env"], check=True)
    assert wait_done(work["env"], job) == "FAILED", log.read_text()[-3000:]
    out = log.read_text()
    assert "Traceback" not in out, out[-3000:]
    assert re.search(rf"Cannot requeue: scontrol requeue {job} failed: .+; stopping before the next batch", out), out
    (error,) = [line for line in out.splitlines() if line.startswith("error: ")]
    assert "the job was signalled and could not be requeued" in error and "submit the same command again" in error
    assert not list((run / "checkpoints").glob(".*tmp*")) and not (run / "summary.json").exists()
    import zipfile

    with zipfile.ZipFile(run / "checkpoints" / "last.ckpt") as z:
        assert z.testzip() is None


# --- sweeps you can submit and leave ----------------------------------------------------------------------


def checkout_copy(root: Path) -> Path:
    """The project's tracked files in a git repository of their own, to edit while jobs wait."""
    copy = root / "checkout"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.decode()
    for name in filter(None, files.split("\0")):
        if (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(copy)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "copy"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    return copy


def test_a_sweep_submitted_without_waiting_is_followed_and_resumed_running_the_submitted_code(work):
    copy, logs = checkout_copy(work["root"]), work["root"] / "left_logs"
    env = {**work["env"], "PYTHONPATH": str(copy / "src")}  # this copy's package, not the installed one

    def script(*args, timeout=600):
        return subprocess.run(
            [sys.executable, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout
        )

    r = script(
        "src/train.py",
        "-m",
        "launcher=local_slurm",
        "hydra.launcher.wait=false",
        *common(work),
        f"paths.log_dir={logs}",
        "trainer.max_epochs=2",
        "seed=1,2,3",
    )
    out = r.stdout + r.stderr
    assert r.returncode == 0, out[-3000:]
    assert "Not waiting (hydra.launcher.wait=false): python src/sweep.py status " in out
    (sweep,) = logs.glob("multiruns/*/*")
    manifest = json.loads((sweep / "sweep.json").read_text())
    assert [(p["run_dir"], len(p["job_ids"])) for p in manifest["points"]] == [
        ("seed=1", 1),
        ("seed=2", 1),
        ("seed=3", 1),
    ]
    jobs = [p["job_ids"][0] for p in manifest["points"]]
    # The checkout changes while the jobs wait; they run the code as it was submitted.
    training = copy / "src" / "imdb_sentiment" / "run" / "training.py"
    training.write_text(training.read_text().replace('f"Starting run in', 'f"EDITED run in'))
    subprocess.run(["scancel", jobs[1]], env=env, check=True)
    for job in jobs:
        wait_done(env, job)

    status = script("src/sweep.py", "status", str(sweep))
    assert status.returncode == 0, status.stderr
    rows = dict(line.split(None, 1) for line in status.stdout.splitlines()[:-1])
    assert rows["seed=1"].startswith("done") and rows["seed=3"].startswith("done"), status.stdout
    assert rows["seed=2"].startswith("failed") and f"job {jobs[1]}" in rows["seed=2"] and "CANCELLED" in rows["seed=2"]
    assert status.stdout.splitlines()[-1] == "3 points: 2 done, 1 failed"

    resume = script("src/sweep.py", "resume", str(sweep), timeout=900)
    assert resume.returncode == 0, (resume.stdout + resume.stderr)[-3000:]
    assert "Resubmitting 1 point(s)" in resume.stdout
    manifest = json.loads((sweep / "sweep.json").read_text())
    (again,) = [p["job_ids"] for p in manifest["points"] if p["run_dir"] == "seed=2"]
    assert len(again) == 2 and again[0] == jobs[1]
    wait_done(env, again[1])
    assert script("src/sweep.py", "status", str(sweep)).stdout.splitlines()[-1] == "3 points: 3 done"
    for seed in (1, 2, 3):
        log = (sweep / f"seed={seed}" / "train.log").read_text()
        assert "Starting run in" in log and "EDITED" not in log, log[-2000:]
        assert json.loads((sweep / f"seed={seed}" / "summary.json").read_text())["provenance"]["dirty"] is False
    report = script("src/report.py", str(sweep))
    assert report.returncode == 0 and report.stdout.startswith("3 runs (3 complete)"), report.stdout[:500]


def sbatch_ddp(work, *args: str) -> str:
    """``slurm/train.sbatch trainer=ddp`` on the CPU with two tasks (ranks), over the work data."""
    return sbatch(
        work,
        "--ntasks-per-node=2",
        "slurm/train.sbatch",
        "trainer=ddp",
        "trainer.accelerator=cpu",
        f"data.source={work['data']}",
        f"paths.cache_dir={work['cache']}",
        *args,
    )


def test_ddp_job_with_two_tasks_trains_on_the_cpu(work):
    from test_ddp import DDP_RUN, check_ddp_run

    job = sbatch_ddp(work, *DDP_RUN)
    log = work["jobs"] / f"imdb-{job}.out"
    assert wait_done(work["env"], job) == "COMPLETED", log.read_text()[-3000:]
    assert "DDP: 2 processes x data.batch_size 8 = global batch 16" in log.read_text()
    check_ddp_run(work["jobs"] / f"imdb-{job}")


def test_a_signalled_ddp_job_requeues_once_and_both_ranks_resume(work):
    from test_ddp import DDP_RUN

    args = [a for a in DDP_RUN if not a.startswith("trainer.max_epochs")] + ["trainer.max_epochs=8"]
    job = sbatch_ddp(work, *args)
    run, log = work["jobs"] / f"imdb-{job}", work["jobs"] / f"imdb-{job}.out"
    wait_for(lambda: (run / "checkpoints" / "last.ckpt").exists(), "the first epoch")
    subprocess.run(["scancel", "--signal=USR1", job], env=work["env"], check=True)  # reaches both ranks
    wait_for(lambda: "(restart 1)" in log.read_text() or release_requeued(work["env"], job), "the restart")
    assert wait_done(work["env"], job) == "COMPLETED", log.read_text()[-3000:]
    out = log.read_text()
    assert out.count(f"Received SIGUSR1: requeueing SLURM job {job};") == 1, out[-3000:]  # rank 0 alone requeues
    assert out.count(f"Resuming from {run}/checkpoints/last.ckpt") == 2  # both ranks, from rank 0's checkpoint
    summary = json.loads((run / "summary.json").read_text())
    epochs = [e["epoch"] for e in json.loads((run / "metrics.json").read_text())["epochs"]]
    assert summary["epochs_run"] == 8 and epochs == list(range(1, 9)), epochs
    assert summary["provenance"]["slurm"] == {"job": job, "restart_count": 1}


def test_killing_the_submitting_command_loses_no_run(work):
    """The login node kills the waiting `train.py -m` once the jobs are queued: they run on, and status sees them."""
    logs = work["root"] / "orphan_logs"
    sweep = start_sweep(work, logs, "trainer.max_epochs=1", "seed=1,2")
    wait_for(
        lambda: [
            p
            for p in logs.glob("multiruns/*/*/sweep.json")
            if all(q["job_ids"] for q in json.loads(p.read_text())["points"])
        ],
        "the job ids",
    )
    sweep.kill()
    sweep.wait()
    (manifest,) = logs.glob("multiruns/*/*/sweep.json")
    for point in json.loads(manifest.read_text())["points"]:
        assert wait_done(work["env"], point["job_ids"][0]) == "COMPLETED"
    status = subprocess.run(
        [sys.executable, "src/sweep.py", "status", str(manifest.parent)],
        cwd=REPO,
        env=work["env"],
        capture_output=True,
        text=True,
    )
    assert status.stdout.splitlines()[-1] == "2 points: 2 done", status.stdout + status.stderr
