"""Prepare the data of a run or grid on a node with internet:  python src/prepare_data.py [-m] [overrides ...]

Takes the same overrides as train.py; compute nodes without internet then only read the cache.
"""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from imdb_sentiment.cli import run_task
from imdb_sentiment.config.overrides import check_override_keys
from imdb_sentiment.run.prepare import prepare

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@hydra.main(version_base="1.3", config_path="../configs", config_name="prepare_data")
def main(cfg: DictConfig) -> None:
    run_task(prepare, cfg)


if __name__ == "__main__":
    run_task(
        check_override_keys, CONFIGS, "prepare_data", sys.argv[1:]
    )  # a misspelt key: one line naming the closest ones
    main()
