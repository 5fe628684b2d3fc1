"""The data step on its own: encode what a config needs into the cache, on a node that can read the source."""

from __future__ import annotations

import logging
from pathlib import Path

from omegaconf import DictConfig

from imdb_sentiment.config.build import build
from imdb_sentiment.config.checks import check_config

log = logging.getLogger(__name__)


def prepare(cfg: DictConfig) -> Path:
    """Download (if the source is on the Hub), split, fit the tokenizer, encode and cache; return the entry."""
    check_config(cfg)
    datamodule = build(cfg.data, "data", cache_only=False)  # the data's own values are checked here
    datamodule.prepare_data()
    log.info("Prepared %s; runs with the same data settings read it from there, offline too", datamodule.entry)
    return datamodule.entry
