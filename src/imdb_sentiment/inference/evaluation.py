"""Accuracy of a checkpoint on the test (or validation) split, with the run's own data handling.

The data module is rebuilt from the checkpoint's saved ``data`` config, so the split, the
subsets, the encoding and the padding are the run's; ``data.*`` overrides change only what
they name (``data.source`` where the data lives elsewhere, ``data.eval_batch_size``, ...).
"""

from __future__ import annotations

import copy

import lightning as L
import yaml
from hydra.utils import instantiate
from omegaconf import OmegaConf
from tokenizers import Tokenizer

from imdb_sentiment.config.build import build
from imdb_sentiment.config.checks import check_config
from imdb_sentiment.errors import ConfigError, UserError
from imdb_sentiment.inference.trained_run import load_trained
from imdb_sentiment.models.classifier import SentimentClassifier
from imdb_sentiment.run.job_log import quiet_known_noise

SPLITS = ("test", "val")
TRAINER_KEYS = ("trainer.accelerator", "trainer.precision")
PATH_KEYS = ("data.source", "data.cache_dir")  # taken as written; other values are read as YAML (16, 0.2, null, true)


def with_overrides(config: dict, overrides: dict[str, str]) -> dict:
    """The run's config with ``data.*`` / ``trainer.accelerator|precision`` values replaced."""
    config = copy.deepcopy(config)
    for key, raw in overrides.items():
        group, _, name = key.partition(".")
        if not ((group == "data" and name in config["data"]) or key in TRAINER_KEYS):
            allowed = "data.<key of the run's data config>, " + ", ".join(TRAINER_KEYS)
            raise UserError(f"{key}: cannot be overridden for an evaluation; allowed: {allowed}")
        config[group][name] = raw if key in PATH_KEYS else _yaml_value(raw)
    return config


def _yaml_value(raw: str):
    try:
        return yaml.safe_load(raw) if raw else None
    except yaml.YAMLError:
        return raw


def evaluate(ckpt_path: str, split: str = "test", overrides: dict[str, str] | None = None) -> dict:
    """``{"split", "acc", "loss", "reviews", "epoch", ...}`` of the checkpoint on ``split``."""
    quiet_known_noise()
    if split not in SPLITS:
        raise ConfigError("split", split, f"must be one of {', '.join(SPLITS)}")
    trained = load_trained(ckpt_path)
    cfg = OmegaConf.create(with_overrides(trained.config, overrides or {}))
    check_config(cfg)
    datamodule = build(cfg.data, "data")  # a bad data.source fails here, with the same message as in training
    datamodule.prepare_data()
    fitted = Tokenizer.from_file(str(datamodule.tokenizer_path)).get_vocab()
    if fitted != trained.tokenizer.get_vocab():
        differ = len(set(fitted.items()) ^ set(trained.tokenizer.get_vocab().items())) // 2
        raise UserError(
            f"data: this data gives another vocabulary than the checkpoint's (about {differ} words differ), "
            "so it is not the run's training data (data.source, data.train_size, data.split_seed?)"
        )
    datamodule.setup("test")
    loader = datamodule.test_dataloader() if split == "test" else datamodule.val_dataloader()
    try:
        trainer = L.Trainer(
            accelerator=cfg.trainer.accelerator,
            devices=1,
            precision=cfg.trainer.precision,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
        )
    except Exception as exc:  # e.g. a GPU run evaluated on a machine without one
        raise UserError(
            f"trainer.accelerator={cfg.trainer.accelerator} trainer.precision={cfg.trainer.precision}: "
            f"{str(exc).strip().splitlines()[0]} (override them, e.g. trainer.accelerator=cpu)"
        ) from None
    module = SentimentClassifier(trained.net, instantiate(cfg.optimizer), trained.config)
    (results,) = trainer.test(module, dataloaders=loader, verbose=False)  # logged as test/* whichever split
    return {
        "split": split,
        "acc": results["test/acc"],
        "loss": results["test/loss"],
        "reviews": len(loader.dataset),
        "epoch": trained.epoch,
        "ckpt_path": str(ckpt_path),
        "val_is_test": cfg.data.val_split == "test",
        "overrides": dict(overrides or {}),
    }


def result_line(r: dict) -> str:
    note = " (this run validated on the test split)" if r["split"] == "val" and r["val_is_test"] else ""
    extra = "; with " + " ".join(f"{k}={v}" for k, v in r["overrides"].items()) if r["overrides"] else ""
    return (
        f"{r['split']}/acc {r['acc']:.4f} on {r['reviews']:,} reviews{note} (loss {r['loss']:.4f}); "
        f"checkpoint of epoch {r['epoch']}: {r['ckpt_path']}{extra}"
    )
