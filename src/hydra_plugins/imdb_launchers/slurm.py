"""SLURM through submitit: hydra-submitit-launcher's launcher, submitting from a clean environment,
optionally packing several grid points into one allocation (``runs_per_job``)."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, JobStatus, filter_overrides
from omegaconf import OmegaConf

from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher as SubmititSlurmLauncher

from .parallel import pack_state, run_parallel

log = logging.getLogger(__name__)

# Client settings, not job state: sbatch needs them to find the cluster.
_KEEP = ("SLURM_CONF",)


@contextlib.contextmanager
def outside_allocation():
    """Hide the current job's SLURM_*/SBATCH_*/rank variables while submitting from inside an allocation,
    so that child jobs do not inherit its node list, task counts or memory."""
    names = [
        k
        for k in os.environ
        if (k.startswith(("SLURM_", "SLURMD_", "SRUN_", "SBATCH_", "SUBMITIT_")) and k not in _KEEP)
        or k in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")
    ]
    saved = {k: os.environ.pop(k) for k in names}
    try:
        yield
    finally:
        os.environ.update(saved)


class PackedRuns:
    """What one packed SLURM job runs: its grid points side by side on the allocation's GPU."""

    def __init__(self, state: bytes):
        self.state = state

    def __call__(self, jobs: list[tuple[int, list[str]]]) -> list[JobReturn]:
        job_id = os.environ.get("SLURM_JOB_ID", "packed")
        cpus = int(os.environ.get("SLURM_CPUS_PER_TASK", os.cpu_count() or 1))  # the allocation, not the node
        threads = max(1, cpus // len(jobs))
        from imdb_sentiment.run.requeue import (
            PACKED_ENV,  # here: Lightning is imported in the job, not at plugin discovery
        )

        # PACKED_ENV: the runs leave requeueing to submitit's handler in this process, which requeues the job once.
        env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), PACKED_ENV: "1"}
        return run_parallel(self.state, jobs, [dict(env) for _ in jobs], job_id_prefix=f"{job_id}_")

    def checkpoint(self, *args, **kwargs):
        """Preempted or timed out: submitit requeues the same runs; each resumes from its last.ckpt."""
        import submitit

        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


class SlurmLauncher(SubmititSlurmLauncher):
    """``runs_per_job`` grid points share each SLURM job (and its GPU); 1 gives one job per point.

    The sweep's manifest (``sweep_manifest``) is written before submitting and completed with the job ids after;
    with ``wait: false`` the launcher returns once the jobs are submitted (``sweep.py status`` follows them).
    """

    def __init__(self, runs_per_job: int, wait: bool, **params) -> None:  # defaults: hydra/launcher/slurm.yaml
        super().__init__(**params)
        self.runs_per_job, self.wait = runs_per_job, wait

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        from imdb_sentiment.config.sweep_naming import job_dirname, sweep_exclude_keys
        from imdb_sentiment.reporting import sweep_manifest
        from imdb_sentiment.run import snapshot

        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        code = snapshot.make(sweep_dir)  # the jobs run this copy: edits to the checkout while they wait change nothing
        if code is not None:
            snapshot.redirect_configs(self.hydra_context.config_loader, code)
            line = snapshot.python_path_line(code)
            self.params["setup"] = [*(x for x in self.params.get("setup") or [] if x != line), line]
        exclude = sweep_exclude_keys(self.config)
        jobs = [(initial_job_idx + i, list(o)) for i, o in enumerate(job_overrides)]
        points = [{"overrides": o, "run_dir": job_dirname(o, exclude)} for _, o in jobs]
        sweep_manifest.record(sweep_dir, points, "slurm")  # a kill during sbatch still leaves the points listed
        with outside_allocation():
            submitted, per_point = self._submit(jobs)
        sweep_manifest.record(sweep_dir, [{**p, "job_id": j} for p, j in zip(points, per_point)], "slurm")
        log.info(f"Sweep {sweep_dir}: {len(jobs)} points in SLURM job(s) {', '.join(dict.fromkeys(per_point))}")
        if not self.wait:
            log.info(f"Not waiting (hydra.launcher.wait=false): python src/sweep.py status {sweep_dir}")
            return [JobReturn(overrides=o, status=JobStatus.COMPLETED, _return_value=None) for _, o in jobs]
        if self.runs_per_job <= 1:
            return [job.results()[0] for job in submitted]
        return [ret for job in submitted for ret in job.results()[0]]

    def _executor(self):
        """submitit's executor with this launcher's parameters, as the parent class sets it up."""
        import submitit

        params = dict(self.params)
        executor = submitit.AutoExecutor(
            cluster=self._EXECUTOR,
            folder=params.pop("submitit_folder"),
            slurm_max_num_timeout=params.pop("max_num_timeout"),
        )
        base = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(**{k if k in base else f"{self._EXECUTOR}_{k}": v for k, v in params.items()})
        return executor

    def _submit(self, jobs: list[tuple[int, list[str]]]) -> tuple[list, list[str]]:
        """One array job for the points (packed: ``runs_per_job`` to a task); the submitted jobs, and each
        point's job id."""
        executor = self._executor()
        log.info(f"Submitit 'slurm' sweep output dir : {self.config.hydra.sweep.dir}")
        for idx, overrides in jobs:
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
        if self.runs_per_job <= 1:
            state = Singleton.get_state()
            submitted = executor.map_array(
                self, *zip(*[(o, "hydra.sweep.dir", i, f"job_id_for_{i}", state) for i, o in jobs])
            )
            return submitted, [j.job_id for j in submitted]
        groups = [jobs[i : i + self.runs_per_job] for i in range(0, len(jobs), self.runs_per_job)]
        log.info(f"{len(jobs)} runs packed into {len(groups)} jobs, up to {self.runs_per_job} per job")
        packed = PackedRuns(pack_state(self.hydra_context, self.config, self.task_function))
        submitted = executor.map_array(packed, groups)
        return submitted, [j.job_id for j, group in zip(submitted, groups) for _ in group]
