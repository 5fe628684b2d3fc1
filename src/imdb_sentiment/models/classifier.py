"""The one LightningModule: trains any architecture that maps token ids to a logit."""

from __future__ import annotations

from collections.abc import Callable

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torchmetrics.classification import BinaryAccuracy

from imdb_sentiment.models.rng import rng_states, set_rng_states


class SentimentClassifier(L.LightningModule):
    """Binary cross-entropy on logits, accuracy through torchmetrics, best validation tracked.

    ``optimizer`` is a partial taking the parameters (Hydra's ``_partial_: true``). ``config`` (the
    run's resolved config) goes into every checkpoint, and the data module's state (the fitted tokenizer)
    beside it, so that eval and predict rebuild this run and encode raw text without the data set.
    """

    def __init__(self, net: nn.Module, optimizer: Callable, config: dict | None = None):
        super().__init__()
        self.net, self.optimizer_factory = net, optimizer
        self.config = config
        self.train_acc, self.val_acc, self.test_acc = BinaryAccuracy(), BinaryAccuracy(), BinaryAccuracy()
        self.best_val_acc, self.best_epoch = float("nan"), -1
        self.loaded_epoch: int | None = None  # epoch (0-based) of the checkpoint last loaded
        self._resumed_rng: dict | None = None

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.net(ids)

    def _step(self, batch, stage: str, metric: BinaryAccuracy) -> torch.Tensor:
        ids, labels = batch
        member_logits = getattr(self.net, "member_logits", None)
        if member_logits is not None and stage == "train":
            # an ensemble: each member learns on its own loss (train/loss is their sum); the vote is what is measured
            members = member_logits(ids)
            loss = F.binary_cross_entropy_with_logits(members, labels.expand_as(members)) * len(members)
            logits = self.net.vote(members.detach())
        else:
            logits = self.net(ids)
            loss = F.binary_cross_entropy_with_logits(logits, labels)
        # Probabilities, not logits: torchmetrics thresholds raw values at 0.5 whenever a batch
        # happens to hold only values inside [0, 1], which would misread logits in (0, 0.5).
        metric.update(torch.sigmoid(logits), labels.int())
        self.log(
            f"{stage}/loss",
            loss,
            on_step=stage == "train",
            on_epoch=True,
            prog_bar=stage != "test",
            batch_size=len(labels),
            sync_dist=stage != "train",
        )
        return loss

    def training_step(self, batch, batch_idx):
        return self._step(batch, "train", self.train_acc)

    def validation_step(self, batch, batch_idx):
        self._step(batch, "val", self.val_acc)

    def test_step(self, batch, batch_idx):
        self._step(batch, "test", self.test_acc)

    def on_fit_start(self) -> None:
        # A network with statistics counted from the data (NaiveBayesNgrams' ratios, a recurrent model's rare
        # pairs) counts them here, from the whole training split: every rank alike, and a resumed run recounts
        # what it restored, identically.
        fit_prior = getattr(self.net, "fit_prior", None)
        if fit_prior is not None:
            fit_prior(self.trainer.datamodule.splits["train"])

    def on_train_start(self) -> None:
        # Resumed: generators as they were at the save, so dropout and data loading draw what they would have
        # drawn without the interruption. Set here, after the restore and the sanity check, just before training.
        if self._resumed_rng is not None:
            set_rng_states(self._resumed_rng)
            self._resumed_rng = None

    def on_train_epoch_end(self):
        self.log("train/acc", self._take(self.train_acc), prog_bar=True, sync_dist=True)  # equal on every rank

    def on_validation_epoch_end(self):
        acc = self._take(self.val_acc)
        self.log("val/acc", acc, prog_bar=True, sync_dist=True)
        if self.trainer.sanity_checking:
            return
        if not acc <= self.best_val_acc:  # also true while best is still nan
            self.best_val_acc, self.best_epoch = acc, self.current_epoch
        self.log("val/acc_best", self.best_val_acc, sync_dist=True)

    def on_test_epoch_end(self):
        self.log("test/acc", self._take(self.test_acc), sync_dist=True)

    @staticmethod
    def _take(metric: BinaryAccuracy) -> float:
        value = metric.compute().item()
        metric.reset()
        return value

    def configure_optimizers(self):
        return self.optimizer_factory(self.parameters())

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint["run_config"] = self.config
        checkpoint["best_val"] = {"acc": self.best_val_acc, "epoch": self.best_epoch}
        checkpoint["rng_states"] = rng_states()

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        self.loaded_epoch = checkpoint.get("epoch")
        if self._trainer is not None and self.trainer.state.fn == "fit":  # resuming; testing keeps the run's figures
            best = checkpoint.get("best_val", {})
            self.best_val_acc, self.best_epoch = best.get("acc", float("nan")), best.get("epoch", -1)
            self._resumed_rng = checkpoint.get("rng_states")
