"""Callbacks the configs name that Lightning does not ship."""

from __future__ import annotations

import time
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback, ModelSummary, WeightAveraging
from lightning.pytorch.utilities import rank_zero_info
from torch.optim.swa_utils import get_ema_multi_avg_fn

from imdb_sentiment import values as v
from imdb_sentiment.files import write_json_atomic
from imdb_sentiment.models import count_parameters


class ExactModelSummary(ModelSummary):
    """Lightning's summary table, then the exact parameter count (the table rounds to ``2.8 M``)."""

    def __init__(self, max_depth: int):
        super().__init__(max_depth=v.integer("max_depth", max_depth, minimum=-1))  # -1: every layer

    def on_fit_start(self, trainer, pl_module) -> None:
        super().on_fit_start(trainer, pl_module)
        trainable = sum(p.numel() for p in pl_module.parameters() if p.requires_grad)
        rank_zero_info(f"Total params: {count_parameters(pl_module):,} (trainable {trainable:,})")
        note = getattr(pl_module.net, "keras_note", None)
        if note:
            rank_zero_info(f"Keras parity: {note}")


class WeightEMA(WeightAveraging):
    """Validate, checkpoint and test an exponential moving average of the weights (``decay`` per optimizer step)
    while the optimizer keeps stepping the raw weights. A model that fits its training reviews within two epochs
    (best_pair_bigru) is then judged on an average of the last few hundred steps, not on wherever its last step
    landed. Lightning's ``WeightAveraging`` does the bookkeeping: a checkpoint's ``state_dict`` is the average
    (what eval.py and predict.py read), and a resumable one carries the raw weights and the average's state too."""

    def __init__(self, decay: float, warmup: bool):
        decay, warmup = v.fraction("decay", decay), v.boolean("warmup", warmup)
        super().__init__(multi_avg_fn=_warmed_up_ema(decay) if warmup else get_ema_multi_avg_fn(decay))


def _warmed_up_ema(decay: float):
    """The moving average whose decay after n updates is ``min(decay, (1 + n) / (10 + n))`` (TensorFlow's
    ``num_updates`` rule): early on it follows the weights closely, so the first steps' near-random weights do
    not linger in it for ~1/(1 - decay) steps, and a short run is judged on trained weights."""

    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n: torch.Tensor) -> None:
        if not averaged[0].is_floating_point():  # an integer buffer has no average: keep the latest
            torch._foreach_copy_(averaged, current)
            return
        # n stays a tensor on the weights' device: no host sync per step on a GPU.
        share = 1 - torch.clamp((1 + n) / (10 + n), max=decay).to(averaged[0].dtype)
        torch._foreach_lerp_(averaged, current, share)

    return update


class EpochHistory(Callback):
    """Train and validation loss/accuracy per epoch in ``path`` (JSON), rewritten atomically after every epoch,
    with the seconds the epoch's training pass and validation pass took (``benchmarks/speed.py`` compares
    them with a bare loop's).

    ``report.py`` draws its curves from this file, also for a run still going, without parsing
    TensorBoard's event files (whose steps repeat across resumed runs). The history travels in
    the checkpoint, so a resumed run keeps its earlier epochs.
    """

    TAGS = {"train_loss": "train/loss_epoch", "train_acc": "train/acc", "val_loss": "val/loss", "val_acc": "val/acc"}

    def __init__(self, path: str):
        self.path = Path(v.text("path", path, "a file path (metrics.json in the run folder)"))
        self.epochs: list[dict] = []
        self._val: tuple[int, dict] | None = None  # (epoch, values) of the last real validation
        self._ending: int | None = None  # the epoch whose end-of-epoch hooks are running
        self._clock: dict[str, float] = {}  # this epoch's moments: start, train_end, val_start, val_end

    @staticmethod
    def _now(pl_module) -> float:
        if pl_module.device.type == "cuda":  # the queued kernels belong to the phase that launched them
            torch.cuda.synchronize(pl_module.device)
        return time.perf_counter()

    def on_validation_epoch_start(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking and trainer.state.fn == "fit":
            now = self._now(pl_module)
            self._clock.setdefault("train_end", now)  # validation at epoch end follows the last train batch
            self._clock["val_start"] = now

    def on_validation_end(self, trainer, pl_module) -> None:
        # After the module's epoch-end hook, so val/acc is logged; validation may skip epochs.
        if not trainer.sanity_checking and trainer.state.fn == "fit":
            self._clock["val_end"] = self._now(pl_module)
            self._val = (trainer.current_epoch, self._values(trainer, ("val_loss", "val_acc")))

    # train/acc is logged in the module's on_train_epoch_end, which runs after the callbacks' one but
    # before ModelCheckpoint's: an epoch is recorded when its end-of-epoch checkpoint is saved (so the
    # checkpoint carries it), else when the next epoch starts or training ends.
    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._clock.setdefault("train_end", self._now(pl_module))
        self._ending = trainer.current_epoch

    def on_save_checkpoint(self, trainer, pl_module, checkpoint: dict) -> None:
        if self._ending == trainer.current_epoch:  # the module has logged this epoch's train/acc
            self._record(trainer, trainer.current_epoch)
            checkpoint.setdefault("callbacks", {})[self.state_key] = self.state_dict()

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self._record(trainer, trainer.current_epoch - 1)
        self._clock = {"start": self._now(pl_module)}

    def on_train_end(self, trainer, pl_module) -> None:
        self._record(trainer, trainer.current_epoch - 1)

    def _record(self, trainer, epoch: int) -> None:
        if epoch < 0 or any(e["epoch"] == epoch + 1 for e in self.epochs):
            return
        row = self._values(trainer, ("train_loss", "train_acc"))
        if row["train_acc"] is None:  # nothing trained in this process yet (a resumed run's first epoch)
            return
        val = (
            self._val[1] if self._val is not None and self._val[0] == epoch else dict.fromkeys(("val_loss", "val_acc"))
        )
        self.epochs.append(
            {"epoch": epoch + 1, **row, **val, **self._seconds()}
        )  # 1-based, as summary.json counts epochs
        if trainer.is_global_zero:
            write_json_atomic(self.path, {"epochs": self.epochs})

    def _seconds(self) -> dict:
        return {"train_seconds": self._span("start", "train_end"), "val_seconds": self._span("val_start", "val_end")}

    def _span(self, begin: str, end: str) -> float | None:
        c = self._clock
        return round(c[end] - c[begin], 3) if begin in c and end in c else None

    def _values(self, trainer, names) -> dict:
        metrics = trainer.callback_metrics
        return {n: float(metrics[self.TAGS[n]]) if self.TAGS[n] in metrics else None for n in names}

    def state_dict(self) -> dict:
        return {"epochs": self.epochs}

    def load_state_dict(self, state_dict: dict) -> None:
        self.epochs = list(state_dict.get("epochs", []))
