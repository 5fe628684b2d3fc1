"""Several jobs of a grid at once on one machine: small runs sharing a GPU, or one job per GPU."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from hydra.core.utils import JobReturn, configure_log, filter_overrides, setup_globals
from hydra.plugins.launcher import Launcher

from .parallel import pack_state, run_parallel

log = logging.getLogger(__name__)


def visible_gpus() -> list[str]:
    """GPU ids this process may use, without starting CUDA here."""
    listed = os.environ.get("CUDA_VISIBLE_DEVICES")
    if listed is not None:
        return [g for g in listed.split(",") if g.strip() and g.strip() != "-1"]
    try:
        import torch

        return [str(i) for i in range(torch.cuda.device_count())]
    except Exception:
        return []


class LocalParallelLauncher(Launcher):
    """``jobs_per_gpu`` runs share each of ``gpus`` GPUs (null: all visible); without GPUs, ``cpu_jobs`` at once."""

    def __init__(self, jobs_per_gpu: int, gpus: int | None, cpu_jobs: int, threads_per_job: int | None):
        # No defaults here: configs/hydra/launcher/local_parallel.yaml is their one home.
        self.jobs_per_gpu, self.gpus, self.cpu_jobs, self.threads_per_job = (
            jobs_per_gpu,
            gpus,
            cpu_jobs,
            threads_per_job,
        )
        self.config = self.hydra_context = self.task_function = None

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.hydra_context, self.task_function, self.config = hydra_context, task_function, config

    def slots(self) -> list[dict]:
        """One environment per concurrent job."""
        gpus = visible_gpus()[: self.gpus] if self.gpus is not None else visible_gpus()
        envs = (
            [{"CUDA_VISIBLE_DEVICES": g} for _ in range(self.jobs_per_gpu) for g in gpus]
            if gpus
            else [{} for _ in range(self.cpu_jobs)]
        )
        threads = self.threads_per_job or max(1, (os.cpu_count() or 1) // len(envs))
        for env in envs:  # concurrent jobs split the cores instead of each taking all of them
            env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        return envs

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        setup_globals()
        configure_log(self.config.hydra.hydra_logging, self.config.hydra.verbose)
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        slots = self.slots()
        where = (
            f"{len(slots) // self.jobs_per_gpu} GPU(s), {self.jobs_per_gpu} per GPU"
            if "CUDA_VISIBLE_DEVICES" in slots[0]
            else "CPU"
        )
        log.info(f"Launching {len(job_overrides)} jobs locally, up to {len(slots)} at a time ({where})")
        jobs = []
        for i, overrides in enumerate(job_overrides):
            log.info(f"\t#{initial_job_idx + i} : {' '.join(filter_overrides(overrides))}")
            jobs.append((initial_job_idx + i, list(overrides)))
        return run_parallel(pack_state(self.hydra_context, self.config, self.task_function), jobs, slots)
