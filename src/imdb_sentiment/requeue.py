"""Preemption and time limits on SLURM: requeue the job; the requeued job resumes in its own folder.

One mechanism serves ``slurm/*.sbatch`` and the submitit launcher alike. While fitting, this
callback answers SIGUSR1 and SIGUSR2 (what ``#SBATCH --signal`` and submitit send ahead of a time
limit) with ``scontrol requeue``. SLURM then stops the job with SIGTERM, which Lightning turns into
a stop at the next batch end, and later starts it again with the same job id. The run folder does
not depend on the start time (the sbatch scripts name it by job id; a submitit sweep keeps its
folder), so ``train`` finds ``checkpoints/last.ckpt`` there and resumes from it. A preemption
(SIGTERM alone, requeued by SLURM itself) takes the same path.

Lightning's own SLURM requeue is switched off (``cluster_plugins``): it saves a mid-epoch
checkpoint whose resumed epoch repeats batches, so its metrics would differ from an uninterrupted run.
"""
from __future__ import annotations

import logging
import os
import signal
import subprocess

from lightning.pytorch import Callback
from lightning.pytorch.plugins.environments import SLURMEnvironment

log = logging.getLogger(__name__)


def cluster_plugins() -> list:
    """Inside a SLURM job: Lightning's SLURM environment (ranks from srun) without its requeue handler."""
    return [SLURMEnvironment(auto_requeue=False)] if SLURMEnvironment.detect() else []


class RequeueOnSignal(Callback):
    """Inside a SLURM job, requeue it when one of ``signals`` arrives during fit."""

    def __init__(self, signals: tuple[str, ...] = ("SIGUSR1", "SIGUSR2")):
        self.signals = [signal.Signals[s] for s in signals]
        self._previous: dict = {}
        self._trainer = None
        self.requeued = False

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit" or "SLURM_JOB_ID" not in os.environ:
            return
        self._trainer = trainer
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _on_signal(self, signum, frame) -> None:
        job = os.environ["SLURM_JOB_ID"]
        log.warning("Received %s: requeueing SLURM job %s; it resumes from checkpoints/last.ckpt",
                    signal.Signals(signum).name, job)
        if self.requeued or (self._trainer is not None and not self._trainer.is_global_zero):
            return
        self.requeued = True
        result = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True)
        if result.returncode:
            log.error("scontrol requeue %s failed: %s", job, result.stderr.strip())
