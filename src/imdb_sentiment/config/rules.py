"""The rules that tie several config values together, in one place. Each value on its own is checked in
``checks.py`` first; these see values already known to be well-formed.
"""

from __future__ import annotations

from omegaconf import DictConfig

from imdb_sentiment.errors import ConfigError
from imdb_sentiment.values import is_int


def check_rules(cfg: DictConfig, model_class: type) -> None:
    """Raise ``ConfigError`` for the first combination that cannot run."""
    d = cfg.data
    if d.bucket and d.pad_mode != "dynamic":
        raise ConfigError("data.bucket", d.bucket, "length bucketing needs data.pad_mode=dynamic")
    if getattr(model_class, "requires_fixed_length", False) and d.pad_mode != "fixed":
        raise ConfigError(
            "data.pad_mode",
            d.pad_mode,
            f"{model_class.__name__} flattens a fixed number of positions: it needs data.pad_mode=fixed",
        )
    members = cfg.model.get("members") or {}  # an ensemble's members (model.members.<name>)
    sparse = [
        f"model.{k}sparse"
        for k, m in [("", cfg.model), *((f"members.{n}.", m) for n, m in members.items())]
        if m.get("sparse")
    ]
    if sparse:
        _check_sparse_gradients(cfg, sparse[0])
    _check_strategy(cfg.trainer)


SPARSE_OPTIMIZERS = ("imdb_sentiment.models.optim.LazyAdam", "torch.optim.SGD", "torch.optim.Adagrad")


def _check_sparse_gradients(cfg: DictConfig, key: str) -> None:
    """A sparse embedding gradient is refused by Adam and RMSprop, and by gradient-norm clipping."""
    target = cfg.optimizer.get("_target_")
    if target not in SPARSE_OPTIMIZERS:
        raise ConfigError(
            "optimizer._target_",
            target,
            f"cannot take {key}=true's sparse gradients; use "
            "optimizer=lazy_adam (or " + " / ".join(SPARSE_OPTIMIZERS[1:]) + f"), or {key}=false",
        )
    clip = cfg.trainer.get("gradient_clip_val")
    if clip:
        raise ConfigError(
            "trainer.gradient_clip_val",
            clip,
            f"must be null with {key}=true (PyTorch cannot take the norm of a sparse gradient)",
        )


def _check_strategy(trainer: DictConfig) -> None:
    strategy, devices, nodes = str(trainer.get("strategy") or ""), trainer.get("devices"), trainer.get("num_nodes", 1)
    if strategy.startswith("ddp") and is_int(devices) and is_int(nodes) and devices * nodes == 1:
        raise ConfigError(
            "trainer.strategy",
            strategy,
            "needs more than one process, and trainer.devices x "
            "trainer.num_nodes is 1 (inside SLURM both come from the job); leave out trainer=ddp "
            "to train on one device",
        )
