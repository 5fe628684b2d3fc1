"""Check a composed config before any data is read: the top-level values and the optimizer's here, Lightning's
in ``lightning_checks.py``, the data's and the model's in their constructors (``build``), sizes against this
node's memory (``memory.py``), then the rules that tie several together (``rules.py``).

Each problem is reported as one ``ConfigError``: the key, the value and what is allowed.
"""

from __future__ import annotations

import importlib.util

from hydra.utils import get_class
from omegaconf import DictConfig

from imdb_sentiment import values as v
from imdb_sentiment.config.build import build
from imdb_sentiment.config.lightning_checks import check_callbacks, check_trainer
from imdb_sentiment.config.memory import check_memory
from imdb_sentiment.config.rules import check_rules
from imdb_sentiment.errors import ConfigError

MAX_SEED = 2**32 - 1  # numpy's and Lightning's range; Lightning replaces a seed outside it by 0 with a warning


def check_config(cfg: DictConfig) -> None:
    """Raise ``ConfigError`` for the first bad top-level, trainer or optimizer value, or an unknown model class."""
    seed = cfg.get("seed")
    if not v.is_int(seed) or not 0 <= seed <= MAX_SEED:
        raise ConfigError("seed", seed, f"must be an integer from 0 to {MAX_SEED}")
    v.integer("trainer.max_epochs", cfg.trainer.get("max_epochs"))
    check_trainer(cfg.trainer)
    check_callbacks(cfg.get("callbacks"))
    check_loggers(cfg.get("logger"))
    check_optimizer(cfg.optimizer)
    try:
        get_class(cfg.model._target_)
    except Exception as exc:
        raise ConfigError("model._target_", cfg.model.get("_target_"), "must name an importable model class") from exc


# Loggers whose library is an optional extra (pip install -e '.[trackers]'): the module each one imports.
TRACKER_MODULES = {"MLFlowLogger": "mlflow", "WandbLogger": "wandb"}


def check_loggers(loggers: DictConfig | None) -> None:
    """A logger whose library is not installed is refused here, not after the data is read."""
    for name, logger in (loggers or {}).items():
        target = str((logger or {}).get("_target_", ""))
        module = TRACKER_MODULES.get(target.rsplit(".", 1)[-1])
        if module is not None and importlib.util.find_spec(module) is None:
            raise ConfigError(
                f"logger.{name}", target, f"needs the {module} package: pip install -e '.[trackers]' (or {module})"
            )


def check_optimizer(opt: DictConfig) -> None:
    """The values torch's optimizers and ours (``models/optim.py``) take, each checked once, here: an optimizer
    is only built when training starts, after the data is read."""
    v.positive_number("optimizer.lr", opt.get("lr"))
    if "betas" in opt:
        betas = opt.betas
        if len(betas) != 2 or not all(v.is_number(b) and 0 <= b < 1 for b in betas):
            raise ConfigError("optimizer.betas", list(betas), "must be two numbers in [0, 1)")
    for key in ("alpha", "rho", "momentum"):  # running-average and momentum factors
        if key in opt and not (v.is_number(opt[key]) and 0 <= opt[key] < 1):
            raise ConfigError(f"optimizer.{key}", opt[key], "must be a number in [0, 1)")
    if "eps" in opt:
        v.positive_number("optimizer.eps", opt.eps)
    if "weight_decay" in opt and not (v.is_number(opt.weight_decay) and opt.weight_decay >= 0):
        raise ConfigError("optimizer.weight_decay", opt.weight_decay, "must be a number >= 0")


def build_checked(cfg: DictConfig, **data_kwargs):
    """The DataModule, the network and the callbacks, each value checked by the constructor that consumes it,
    then the cross-field rules; nothing is read or encoded yet."""
    datamodule = build(cfg.data, "data", **data_kwargs)
    check_memory(cfg)  # before the model's table is allocated
    net = build(cfg.model, "model")
    callbacks = [build(cb, f"callbacks.{name}") for name, cb in (cfg.get("callbacks") or {}).items() if cb is not None]
    check_rules(cfg, type(net))
    return datamodule, net, callbacks
