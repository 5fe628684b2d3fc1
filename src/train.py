"""Train one model, or a grid with -m:  python src/train.py [experiment=NAME] [key=value ...]"""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from imdb_sentiment.cli import run_task
from imdb_sentiment.config.overrides import check_override_keys
from imdb_sentiment.run.training import train

CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
def main(cfg: DictConfig) -> float | None:
    summary = run_task(train, cfg)
    return summary["best_val_acc"]  # the value a Hydra sweeper (e.g. Optuna) optimises


if __name__ == "__main__":
    run_task(check_override_keys, CONFIGS, "train", sys.argv[1:])  # a misspelt key: one line naming the closest ones
    main()
