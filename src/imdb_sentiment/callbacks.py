"""Callbacks the configs name that Lightning does not ship."""
from __future__ import annotations

from lightning.pytorch.callbacks import ModelSummary
from lightning.pytorch.utilities import rank_zero_info

from .models import count_parameters


class ExactModelSummary(ModelSummary):
    """Lightning's summary table, then the exact parameter count (the table rounds to ``2.8 M``)."""

    def on_fit_start(self, trainer, pl_module) -> None:
        super().on_fit_start(trainer, pl_module)
        trainable = sum(p.numel() for p in pl_module.parameters() if p.requires_grad)
        rank_zero_info(f"Total params: {count_parameters(pl_module):,} (trainable {trainable:,})")
        note = getattr(pl_module.net, "keras_note", None)
        if note:
            rank_zero_info(f"Keras parity: {note}")
