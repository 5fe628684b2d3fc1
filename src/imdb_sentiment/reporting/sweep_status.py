"""Where a sweep stands, point by point, and resubmitting what did not finish.

The points of a sweep come from its manifest (``sweep.json``, written by the SLURM launcher), else from
Hydra's ``multirun.yaml`` (the grid expanded as the basic sweeper does), else from the run folders found
(``grid.sbatch`` arrays). A point is done when its run folder holds ``summary.json``; otherwise SLURM's view
(``squeue``, then ``sacct``) of its last job says pending, running or how it ended, and the run's own log
gives its last error line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from imdb_sentiment.config.sweep_naming import job_dirname, sweep_exclude_keys, sweep_jobs
from imdb_sentiment.errors import UserError
from imdb_sentiment.reporting import sweep_manifest
from imdb_sentiment.reporting.runs import find_run_dirs
from imdb_sentiment.run.folder import LOG, SUMMARY
from imdb_sentiment.run.provenance import ROOT


@dataclass
class Point:
    run_dir: str  # relative to the sweep folder
    overrides: list[str]
    job_ids: list[str] = field(default_factory=list)
    state: str = "not started"
    detail: str = ""


def points_of(sweep: Path) -> list[Point]:
    manifest = sweep_manifest.read(sweep)
    if manifest:
        return [Point(p["run_dir"], p.get("overrides", []), list(p.get("job_ids", []))) for p in manifest["points"]]
    config = _multirun_config(sweep)
    jobs = sweep_jobs(config) if config is not None else None
    if jobs:
        exclude = sweep_exclude_keys(config)
        return [Point(job_dirname(job, exclude), job) for job in jobs]
    return [Point(str(d.relative_to(sweep)), []) for d in find_run_dirs(sweep) if d != sweep]


def _multirun_config(sweep: Path):
    try:
        return OmegaConf.load(sweep / "multirun.yaml")
    except (OSError, ValueError):
        return None


def slurm_states(job_ids: list[str]) -> dict[str, str]:
    """``{job id: state}`` from ``squeue`` (queued and running jobs), then ``sacct`` (ended ones), where they exist."""
    states: dict[str, str] = {}
    if not job_ids:
        return states
    if shutil.which("squeue"):
        out = _run(["squeue", "-h", "-o", "%i %T", "-j", ",".join(job_ids)])
        for line in out.splitlines():
            job, state = line.split()[:2]
            states[job] = state
    missing = [j for j in job_ids if j not in states]
    if missing and shutil.which("sacct"):
        out = _run(["sacct", "-n", "-X", "-P", "-o", "JobID,State", "-j", ",".join(missing)])
        for line in out.splitlines():
            job, _, state = line.partition("|")
            states.setdefault(job, state.split()[0] if state else "")
    return states


def _run(cmd: list[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return ""


def last_error(sweep: Path, point: Point) -> str:
    """The last ``error: ...`` (or exception) line the point's run or its jobs logged."""
    logs = [sweep / point.run_dir / LOG]
    for job in point.job_ids:
        logs += sorted((sweep / ".submitit").glob(f"{job}*/*_log.*"))
    for path in logs:
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError:
            continue
        hits = [ln.strip() for ln in lines if ln.startswith("error: ") or "Error: " in ln or "Exception: " in ln]
        if hits:
            return hits[-1][:200]
    return ""


def status(sweep: str | Path) -> list[Point]:
    sweep = Path(sweep)
    if not sweep.is_dir():
        raise UserError(f"{sweep}: no such folder")
    points = points_of(sweep)
    if not points:
        raise UserError(f"{sweep}: not a sweep folder (no sweep.json, multirun.yaml or run folders)")
    states = slurm_states([p.job_ids[-1] for p in points if p.job_ids])
    for p in points:
        job = p.job_ids[-1] if p.job_ids else None
        slurm = states.get(job, "") if job else ""
        if (sweep / p.run_dir / SUMMARY).is_file():
            p.state = "done"
        elif slurm in ("PENDING", "REQUEUED", "CONFIGURING", "REQUEUE_HOLD", "SUSPENDED"):
            p.state = "pending"
        elif slurm in ("RUNNING", "COMPLETING"):
            p.state = "running"
        elif slurm or (sweep / p.run_dir).is_dir():  # ended without a summary, or (no SLURM record) may still run
            error = last_error(sweep, p)
            p.state = "failed" if slurm or error else "incomplete"
            p.detail = "; ".join(x for x in (slurm, error) if x)
        if job:
            p.detail = "; ".join(
                x for x in (f"job {job}" + (f" {slurm}" if slurm and not p.detail else ""), p.detail) if x
            )
    return points


def render(sweep: Path, points: list[Point]) -> str:
    width = max(len(p.run_dir) for p in points)
    lines = [f"{p.run_dir:<{width}}  {p.state:<11}  {p.detail}".rstrip() for p in points]
    counts = Counter(p.state for p in points)
    order = ("done", "running", "pending", "failed", "incomplete", "not started")
    lines.append(f"{len(points)} points: " + ", ".join(f"{counts[s]} {s}" for s in order if counts[s]))
    return "\n".join(lines)


def resume_command(sweep: Path, todo: list[Point]) -> list[str]:
    """The sweep's own command line, into the same folder, running only ``todo`` (as one array on SLURM)."""
    config = _multirun_config(sweep)
    if config is None:
        raise UserError(
            f"{sweep}: no multirun.yaml, so the sweep's command is unknown (a grid.sbatch array: "
            "resubmit its unfinished lines with sbatch --array=<their numbers>)"
        )
    ours = (
        "hydra.sweep.dir=",
        "hydra/sweeper=",
        "hydra.sweeper.only=",
        "hydra.job.config.override_dirname.exclude_keys=",
    )
    hydra = [o for o in config.hydra.overrides.hydra if not o.startswith(ours)]
    only = ",".join(f"'{p.run_dir}'" for p in todo)
    return [
        sys.executable,
        str(ROOT / "src" / "train.py"),
        "-m",
        *hydra,
        *config.hydra.overrides.task,
        f"hydra.sweep.dir='{sweep}'",
        "hydra/sweeper=subset",
        f"hydra.sweeper.only=[{only}]",
    ]


def main(argv: list[str]) -> None:
    usage = "python src/sweep.py status|resume SWEEP_FOLDER"
    if len(argv) != 2 or argv[0] not in ("status", "resume"):
        raise UserError(f"arguments: {usage}")
    sweep = Path(argv[1]).resolve()
    points = status(sweep)
    print(render(sweep, points))
    if argv[0] == "status":
        return
    todo = [p for p in points if p.state in ("failed", "incomplete", "not started")]
    if not todo:
        print("Nothing to resume: every point is done, running or pending.")
        return
    cmd = resume_command(sweep, todo)
    print(f"Resubmitting {len(todo)} point(s): {' '.join(cmd[1:])}", flush=True)
    code = subprocess.run(cmd).returncode
    if code:
        sys.exit(code)
