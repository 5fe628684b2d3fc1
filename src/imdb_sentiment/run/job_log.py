"""Logs people can read: the live bar on a terminal; in a SLURM ``.out`` file or any other file, plain lines.

When stdout is not a terminal, ``PlainProgress`` prints one line per tenth of a training epoch (steps, rate,
loss) and one per epoch end (train and validation loss and accuracy, seconds): no carriage returns, no
escape codes. ``quiet_known_noise`` drops what fills a job log without telling anything: Lightning's
promotional tips, its "srun is available but not used" hint outside SLURM jobs, and a deprecation warning
raised inside Lightning itself.
"""

from __future__ import annotations

import logging
import os
import sys
import time
import warnings

from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar
from lightning.pytorch.utilities import rank_zero_only

from imdb_sentiment import values as v


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("💡 Tip:")


_DROP_TIPS = _DropTips()  # one instance: addFilter skips it when a reused worker process runs the next job


def quiet_known_noise() -> None:
    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(_DROP_TIPS)
    warnings.filterwarnings("ignore", message=r".*isinstance\(treespec, LeafSpec\)` is deprecated")
    if "SLURM_JOB_ID" not in os.environ:  # inside a job the hint may be right
        warnings.filterwarnings("ignore", message=r"The `srun` command is available on your system but is not used")


def progress_bar(refresh_rate: int, lines_per_epoch: int) -> ProgressBar:
    """Lightning's live bar on a terminal (``refresh_rate`` 0: none); plain lines in a log file."""
    refresh_rate = v.integer("refresh_rate", refresh_rate, minimum=0)
    lines_per_epoch = v.integer("lines_per_epoch", lines_per_epoch)
    if refresh_rate and not sys.stdout.isatty():
        return PlainProgress(lines_per_epoch)
    return TQDMProgressBar(refresh_rate=refresh_rate)


class PlainProgress(ProgressBar):
    """One line per ``1/lines`` of an epoch's training steps, and one when the epoch is done."""

    def __init__(self, lines: int):
        super().__init__()
        self.lines, self._enabled = lines, True
        self._start = 0.0
        self._printed_epoch = -1

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    @rank_zero_only
    def _say(self, text: str) -> None:
        if self._enabled:
            print(text, flush=True)

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._epoch_done(trainer, trainer.current_epoch - 1)  # the previous epoch's metrics are all logged now
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx: int) -> None:
        total, step = self.total_train_batches, batch_idx + 1
        if not isinstance(total, int) or not total:
            return
        if step * self.lines // total != (step - 1) * self.lines // total or step == total:
            seconds = time.perf_counter() - self._start
            loss = trainer.callback_metrics.get("train/loss_step")
            self._say(
                f"epoch {trainer.current_epoch + 1}/{trainer.max_epochs}: {100 * step // total:3d}% "
                f"({step}/{total} steps, {step / max(seconds, 1e-9):.1f} steps/s"
                + (f", loss {float(loss):.4f})" if loss is not None else ")")
            )

    def on_train_end(self, trainer, pl_module) -> None:
        self._epoch_done(trainer, trainer.current_epoch - 1)

    def _epoch_done(self, trainer, epoch: int) -> None:
        if epoch < 0 or epoch <= self._printed_epoch or trainer.sanity_checking:
            return
        self._printed_epoch = epoch
        m = trainer.callback_metrics
        parts = [
            f"{name} {float(m[key]):.4f}"
            for name, key in (
                ("train loss", "train/loss_epoch"),
                ("acc", "train/acc"),
                ("val loss", "val/loss"),
                ("acc", "val/acc"),
            )
            if key in m
        ]
        self._say(
            f"epoch {epoch + 1}/{trainer.max_epochs} done in {time.perf_counter() - self._start:.1f} s: "
            + ", ".join(parts)
        )
