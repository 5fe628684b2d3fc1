"""SLURM through submitit: hydra-submitit-launcher's launcher, submitting from a clean environment,
optionally packing several grid points into one allocation (``runs_per_job``)."""
from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path

from hydra.core.utils import JobReturn, filter_overrides
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher as SubmititSlurmLauncher
from omegaconf import OmegaConf

from .parallel import pack_state, run_parallel

log = logging.getLogger(__name__)

# Client settings, not job state: sbatch needs them to find the cluster.
_KEEP = ("SLURM_CONF",)


@contextlib.contextmanager
def outside_allocation():
    """Hide the current job's SLURM_*/SBATCH_*/rank variables while submitting from inside an allocation,
    so that child jobs do not inherit its node list, task counts or memory."""
    names = [k for k in os.environ if (k.startswith(("SLURM_", "SLURMD_", "SRUN_", "SBATCH_", "SUBMITIT_"))
                                       and k not in _KEEP)
             or k in ("MASTER_ADDR", "MASTER_PORT", "RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE")]
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
        from imdb_sentiment.requeue import PACKED_ENV  # here: Lightning is imported in the job, not at plugin discovery
        # PACKED_ENV: the runs leave requeueing to submitit's handler in this process, which requeues the job once.
        env = {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), PACKED_ENV: "1"}
        return run_parallel(self.state, jobs, [dict(env) for _ in jobs], job_id_prefix=f"{job_id}_")

    def checkpoint(self, *args, **kwargs):
        """Preempted or timed out: submitit requeues the same runs; each resumes from its last.ckpt."""
        import submitit
        return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


class SlurmLauncher(SubmititSlurmLauncher):
    """``runs_per_job`` grid points share each SLURM job (and its GPU); 1 gives one job per point."""

    def __init__(self, runs_per_job: int = 1, **params) -> None:
        super().__init__(**params)
        self.runs_per_job = runs_per_job

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        with outside_allocation():
            if self.runs_per_job <= 1:
                return super().launch(job_overrides, initial_job_idx)
            return self._launch_packed(job_overrides, initial_job_idx)

    def _executor(self):
        """submitit's executor with this launcher's parameters, as the parent class sets it up."""
        import submitit
        params = dict(self.params)
        executor = submitit.AutoExecutor(cluster=self._EXECUTOR, folder=params.pop("submitit_folder"),
                                         slurm_max_num_timeout=params.pop("max_num_timeout"))
        base = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(**{k if k in base else f"{self._EXECUTOR}_{k}": v for k, v in params.items()})
        return executor

    def _launch_packed(self, job_overrides, initial_job_idx) -> list[JobReturn]:
        executor = self._executor()
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        jobs = [(initial_job_idx + i, list(o)) for i, o in enumerate(job_overrides)]
        groups = [jobs[i:i + self.runs_per_job] for i in range(0, len(jobs), self.runs_per_job)]
        log.info(f"Submitit 'slurm' sweep output dir : {self.config.hydra.sweep.dir}; "
                 f"{len(jobs)} runs packed into {len(groups)} jobs, up to {self.runs_per_job} per job")
        for idx, overrides in jobs:
            log.info(f"\t#{idx} : {' '.join(filter_overrides(overrides))}")
        packed = PackedRuns(pack_state(self.hydra_context, self.config, self.task_function))
        submitted = executor.map_array(packed, groups)
        return [ret for job in submitted for ret in job.results()[0]]
