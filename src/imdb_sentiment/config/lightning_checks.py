"""The keys handed to Lightning, checked before any data is read: the Trainer's (precision, accelerator and
whether this node has it, devices, strategy, clipping, batch limits) and the callbacks' (patience, min_delta,
monitor names the module logs). Lightning would refuse most of these only after the data is encoded, and in
several lines; some (a negative patience) it would not refuse at all."""

from __future__ import annotations

import importlib
import os
import typing

from omegaconf import DictConfig

from imdb_sentiment import values as v
from imdb_sentiment.errors import ConfigError

ACCELERATORS = ("auto", "cpu", "gpu", "cuda", "mps", "tpu")
# What the LightningModule logs during fit (models/classifier.py), so what a callback may monitor.
MONITORABLE = ("val/acc", "val/loss", "val/acc_best", "train/acc", "train/loss", "train/loss_epoch")


def precisions() -> tuple[str, ...]:
    from lightning.fabric.connector import _PRECISION_INPUT

    return tuple(str(p) for group in typing.get_args(_PRECISION_INPUT) for p in typing.get_args(group))


def strategies() -> tuple[str, ...]:
    from lightning.pytorch.strategies import StrategyRegistry

    return ("auto", *StrategyRegistry.available_strategies())


def check_trainer(t: DictConfig) -> None:
    """Raise ``ConfigError`` for the first Trainer value Lightning or this node cannot take."""
    if str(t.get("precision")) not in precisions():
        raise ConfigError("trainer.precision", t.get("precision"), f"must be one of {', '.join(precisions())}")
    v.choice("trainer.accelerator", t.get("accelerator"), ACCELERATORS)
    _check_devices(t)
    v.integer("trainer.num_nodes", t.get("num_nodes", 1))
    strategy = t.get("strategy", "auto")
    if isinstance(strategy, str) and strategy not in strategies():
        raise ConfigError("trainer.strategy", strategy, f"must be one of {', '.join(strategies())}")
    clip = t.get("gradient_clip_val")
    if clip is not None and not (v.is_number(clip) and clip >= 0):
        raise ConfigError("trainer.gradient_clip_val", clip, "must be a number >= 0 or null")
    if t.get("gradient_clip_algorithm") is not None:
        v.choice("trainer.gradient_clip_algorithm", t.gradient_clip_algorithm, ("norm", "value"))
    for key in ("limit_train_batches", "limit_val_batches", "limit_test_batches"):
        limit = t.get(key)
        if limit is not None and not (
            (v.is_int(limit) and limit >= 0) or (isinstance(limit, float) and 0 <= limit <= 1)
        ):
            raise ConfigError(
                f"trainer.{key}", limit, "must be a number of batches >= 0, a fraction in [0, 1], or null"
            )
    for key, minimum in (("log_every_n_steps", 1), ("check_val_every_n_epoch", 1), ("num_sanity_val_steps", -1)):
        if key in t:
            v.integer(f"trainer.{key}", t[key], minimum=minimum, optional=key == "check_val_every_n_epoch")


def _check_devices(t: DictConfig) -> None:
    devices, accelerator = t.get("devices"), t.get("accelerator")
    if devices != "auto" and not (v.is_int(devices) and (devices >= 1 or devices == -1)):
        if not (isinstance(devices, typing.Sequence) and not isinstance(devices, str) and all(map(v.is_int, devices))):
            raise ConfigError(
                "trainer.devices", devices, 'must be a positive integer, -1 (all), a list of ids, or "auto"'
            )
    if accelerator in ("gpu", "cuda"):
        import torch

        found = torch.cuda.device_count()
        if not found:
            raise ConfigError("trainer.accelerator", accelerator, f"no GPU visible on this node{_where()}")
        if v.is_int(devices) and devices > found:
            raise ConfigError("trainer.devices", devices, f"this node shows {found} GPU(s){_where()}")


def _where() -> str:
    seen = os.environ.get("CUDA_VISIBLE_DEVICES")
    text = f" (CUDA_VISIBLE_DEVICES={seen})" if seen is not None else ""
    if os.environ.get("SLURM_JOB_ID"):
        text += (
            f"; this SLURM job ({os.environ['SLURM_JOB_ID']}) was given none: ask for them with sbatch --gres=gpu:N "
            "or launcher=slurm hydra.launcher.gpus_per_node=N"
        )
    return text


def weight_averages(callbacks: DictConfig | None) -> dict:
    """The callbacks that keep an average of the weights, so a second copy of them: those whose ``_target_`` is
    Lightning's ``WeightAveraging`` or a subclass (WeightEMA)."""
    from lightning.pytorch.callbacks import WeightAveraging

    return {name: cb for name, cb in (callbacks or {}).items() if _subclass(cb, WeightAveraging)}


def _subclass(cb: DictConfig | None, base: type) -> bool:
    """Whether the callback config's ``_target_`` is ``base`` or a subclass. importlib rather than
    hydra.utils.get_class, which logs an ERROR for every target that is not a class (the progress bar's is a
    function)."""
    target = cb.get("_target_") if cb is not None else None
    if not isinstance(target, str) or "." not in target:
        return False
    module, _, name = target.rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name, None)
    except ImportError:  # instantiating it will say so
        return False
    return isinstance(found, type) and issubclass(found, base)


def check_callbacks(callbacks: DictConfig | None) -> None:
    """Lightning's early stopping and checkpoint callbacks, whose constructors take any value: values in range,
    monitors the module logs. Our own callbacks check their values in their constructors (``build``)."""
    for name, cb in (callbacks or {}).items():
        where = f"callbacks.{name}"
        if cb is None or not str(cb.get("_target_", "")).startswith("lightning.pytorch.callbacks."):
            continue
        if "monitor" in cb and cb.monitor is not None:
            v.choice(f"{where}.monitor", cb.monitor, MONITORABLE)
        if "mode" in cb:
            v.choice(f"{where}.mode", cb.mode, ("min", "max"))
        if "patience" in cb:
            v.integer(f"{where}.patience", cb.patience, minimum=0)
        if "min_delta" in cb and not (v.is_number(cb.min_delta) and cb.min_delta >= 0):
            raise ConfigError(
                f"{where}.min_delta", cb.min_delta, "must be a number >= 0 (the mode gives the direction)"
            )
        if "save_top_k" in cb:
            v.integer(f"{where}.save_top_k", cb.save_top_k, minimum=-1)
