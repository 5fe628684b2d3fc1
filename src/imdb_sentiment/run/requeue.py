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
from collections.abc import Iterable

from lightning.pytorch import Callback
from lightning.pytorch.plugins.environments import SLURMEnvironment

from imdb_sentiment.errors import ConfigError
from imdb_sentiment.run.provenance import slurm_job

log = logging.getLogger(__name__)


def cluster_plugins() -> list:
    """Inside a SLURM job: Lightning's SLURM environment (ranks from srun) without its requeue handler."""
    return [SLURMEnvironment(auto_requeue=False)] if SLURMEnvironment.detect() else []


PACKED_ENV = "IMDB_PACKED_IN_JOB"  # set for runs packed into one job: the packing process requeues it, once


def requeue_target(env=os.environ) -> str:
    """The id ``scontrol requeue`` must name. An array task's own ``SLURM_JOB_ID`` can be the array's id (the
    last task to start keeps it), and requeueing that id restarts every task of the array, finished ones too;
    ``<array job id>_<task id>`` names the one task. Any other job: its id."""
    return slurm_job(env)["job"]


def requeue(target: str) -> str | None:
    """Ask SLURM to requeue ``target``; None when it accepted, else why not (one line)."""
    try:
        result = subprocess.run(["scontrol", "requeue", target], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:  # no scontrol here (a container), or a hung controller
        return f"scontrol could not run ({exc.strerror if isinstance(exc, OSError) else 'timed out'})"
    if result.returncode:
        return f"scontrol requeue {target} failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}"
    return None


class RequeueFailed(Exception):
    """The job was signalled and could not be requeued: the run stops, its last checkpoint intact."""


class RequeueOnSignal(Callback):
    """Inside a SLURM job, requeue it when one of ``signals`` arrives during fit.

    If SLURM refuses (a job submitted with --no-requeue, a restricted account) or ``scontrol`` is missing, the
    run says so in one log line and stops before its next batch: ``checkpoints/last.ckpt`` from the last
    epoch's end is intact, and resubmitting the same command resumes from it. In a packed job (several runs
    in one allocation) the packing process requeues the job once; the runs only stop.
    """

    def __init__(self, signals: list[str]):
        names = [s.name for s in signal.Signals]
        listed = isinstance(signals, Iterable) and not isinstance(signals, str)
        if not listed or not all(s in names for s in signals):
            raise ConfigError(
                "signals",
                list(signals) if listed else signals,
                "must be a list of signal names such as SIGUSR1, SIGUSR2, SIGTERM",
            )
        self.signals = [signal.Signals[s] for s in signals]
        self._previous: dict = {}
        self._trainer = None
        self.requeued = False
        self.failed: str | None = None

    def setup(self, trainer, pl_module, stage: str) -> None:
        if stage != "fit" or "SLURM_JOB_ID" not in os.environ or os.environ.get(PACKED_ENV):
            return
        self._trainer = trainer
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._on_signal)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous = {}

    def _on_signal(self, signum, frame) -> None:
        if self.requeued or self.failed or (self._trainer is not None and not self._trainer.is_global_zero):
            return
        target = requeue_target()
        log.warning(
            "Received %s: requeueing SLURM job %s; it resumes from checkpoints/last.ckpt",
            signal.Signals(signum).name,
            target,
        )
        self.failed = requeue(target)
        self.requeued = self.failed is None
        if self.failed:
            log.error(
                "Cannot requeue: %s; stopping before the next batch, checkpoints/last.ckpt is intact: "
                "submit the same command again to resume",
                self.failed,
            )

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.failed:
            raise RequeueFailed(self.failed)
