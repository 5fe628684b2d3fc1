"""Check a composed config before any data is read or any model is built: each value on its own here, then
the rules that tie several together (``rules.py``).

Each problem is reported as one ``ConfigError``: the key, the value and what is allowed.
"""

from __future__ import annotations

from hydra.utils import get_class
from omegaconf import DictConfig

from imdb_sentiment.config.rules import check_rules
from imdb_sentiment.data.ragged import SIDES
from imdb_sentiment.data.sources import check_exists
from imdb_sentiment.data.text_encoding import KINDS
from imdb_sentiment.errors import ConfigError


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _positive_int(cfg: DictConfig, key: str, optional: bool = False, minimum: int = 1) -> None:
    value = cfg
    for part in key.split("."):
        value = value.get(part) if value is not None else None
    if value is None and optional:
        return
    if not _is_int(value) or value < minimum:
        what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConfigError(key, value, f"must be {what}" + (" or null" if optional else ""))


def _booleans(cfg: DictConfig, section: str, keys: tuple[str, ...], optional: bool = False) -> None:
    """Each ``section.key`` must be true or false; with ``optional`` a key the section lacks is fine."""
    for key in keys:
        if optional and key not in cfg[section]:
            continue
        value = cfg[section].get(key)
        if not isinstance(value, bool):
            raise ConfigError(f"{section}.{key}", value, "must be true or false")


def _choice(key: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(key, value, f"must be one of {', '.join(map(str, allowed))}")


def check_config(cfg: DictConfig) -> None:
    """Raise ``ConfigError`` for the first bad value or combination in ``cfg``."""
    d = cfg.data
    if not _is_int(cfg.get("seed")):
        raise ConfigError("seed", cfg.get("seed"), "must be an integer")
    _choice("data.tokenizer", d.tokenizer, KINDS)
    _positive_int(cfg, "data.vocab_size", minimum=3)
    _choice("data.pad_mode", d.pad_mode, ("fixed", "dynamic"))
    _positive_int(cfg, "data.maxlen", optional=d.pad_mode == "dynamic")
    _choice("data.padding", d.padding, SIDES)
    _choice("data.truncating", d.truncating, SIDES)
    _booleans(cfg, "data", ("bucket", "start_token"))
    _positive_int(cfg, "data.batch_size")
    _positive_int(cfg, "data.eval_batch_size", optional=True)
    _positive_int(cfg, "data.train_size", optional=True, minimum=2)
    _positive_int(cfg, "data.test_size", optional=True)
    _positive_int(cfg, "data.split_seed", minimum=0)
    vs = d.val_split
    if vs != "test" and (isinstance(vs, bool) or not isinstance(vs, (int, float)) or not 0 < vs < 1):
        raise ConfigError("data.val_split", vs, 'must be a fraction strictly between 0 and 1, or "test"')
    src = d.source
    if not isinstance(src, str) or not src:
        raise ConfigError("data.source", src, "must be a Hub id (owner/name) or a local path")
    check_exists(src)
    _check_model(cfg)
    _positive_int(cfg, "trainer.max_epochs")
    lr = cfg.optimizer.get("lr")
    if isinstance(lr, bool) or not isinstance(lr, (int, float)) or lr <= 0:
        raise ConfigError("optimizer.lr", lr, "must be a positive number")
    check_rules(cfg, get_class(cfg.model._target_))


def _check_model(cfg: DictConfig) -> None:
    try:
        get_class(cfg.model._target_)
    except Exception as exc:
        raise ConfigError("model._target_", cfg.model.get("_target_"), "must name an importable model class") from exc
    for key in ("embed_dim", "hidden_size", "num_layers"):
        if key in cfg.model:
            _positive_int(cfg, f"model.{key}")
    if "buckets" in cfg.model:
        _positive_int(cfg, "model.buckets", minimum=0)
    from imdb_sentiment.models.architectures import CELLS, POOLINGS

    if "cell" in cfg.model:
        _choice("model.cell", cfg.model.cell, tuple(CELLS))
    if "pooling" in cfg.model:
        _choice("model.pooling", cfg.model.pooling, POOLINGS)
    _booleans(cfg, "model", ("bidirectional", "packed", "keras_init", "sparse"), optional=True)
    for key in ("dropout", "spatial_dropout"):
        p = cfg.model.get(key)
        if p is not None and (isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p < 1):
            raise ConfigError(f"model.{key}", p, "must be a probability in [0, 1)")
