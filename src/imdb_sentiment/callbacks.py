"""Callbacks the configs name that Lightning does not ship."""
from __future__ import annotations

from lightning.pytorch.callbacks import ModelSummary
from lightning.pytorch.utilities import rank_zero_info


class ExactModelSummary(ModelSummary):
    """Lightning's summary table, then the exact parameter count (the table rounds to ``2.8 M``)."""

    def on_fit_start(self, trainer, pl_module) -> None:
        super().on_fit_start(trainer, pl_module)
        total = sum(p.numel() for p in pl_module.parameters())
        trainable = sum(p.numel() for p in pl_module.parameters() if p.requires_grad)
        rank_zero_info(f"Total params: {total:,} (trainable {trainable:,})")
