"""TensorBoard's HParams tab: each run's hyperparameters with explicit ``hp/*`` metrics (and the same to the
other loggers: CSV, MLflow, W&B).

Every run logs the same keys (``hparams:`` in ``configs/train.yaml``, plus the model and
experiment names, the optimizer and the parameter count), so a whole grid lines up in one
HParams table when TensorBoard is pointed at the multirun folder.

A run writes its session (start info with the hyperparameters, end info) but no experiment
summary: with none, TensorBoard builds the experiment from all sessions it finds, so the
table has every key of every run, marks the keys that differ, and types a key that is a
number in one run and a string in another (``data.val_split`` 0.2 or test) as a string.
Lightning's ``log_hyperparams`` writes one experiment summary a run, and TensorBoard takes
an arbitrary one of them as the grid's.
"""

from __future__ import annotations

from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from omegaconf import DictConfig, OmegaConf
from torch.utils.tensorboard.summary import hparams

METRICS = {"hp/best_val_acc": "best_val_acc", "hp/test_acc": "test_acc"}


def hparams_of(cfg: DictConfig, summary: dict) -> dict:
    """Flat ``{name: bool | int | float | str}``; absent or null values read ``"null"``."""
    params = {
        "model": summary.get("model_config") or summary["model"],
        "experiment": summary.get("experiment"),
        "optimizer": cfg.optimizer._target_.rsplit(".", 1)[-1],
        "params": summary["params"],
    }
    for key in cfg.get("hparams") or []:
        params[key] = OmegaConf.select(cfg, key, default=None)
    return {
        k: v if isinstance(v, (bool, int, float, str)) else ("null" if v is None else str(v)) for k, v in params.items()
    }


def log_hparams(loggers, cfg: DictConfig, summary: dict, step: int) -> None:
    """Write the HParams session (hyperparameters + ``hp/*`` metrics) to every TensorBoard logger, and the same
    hyperparameters and metrics to every other logger (CSV, MLflow, W&B), then close each: a worker process that
    runs the next job of a sweep must not log it into this run."""
    metrics = {tag: summary[key] for tag, key in METRICS.items() if summary.get(key) is not None}
    params = hparams_of(cfg, summary)
    _, start, end = hparams(params, metrics) if metrics else (None, None, None)
    for logger in loggers:
        if not isinstance(logger, TensorBoardLogger):
            logger.log_hyperparams(params)
            if metrics:
                logger.log_metrics(metrics, step)
            logger.finalize("success")
            if isinstance(logger, WandbLogger):
                logger.experiment.finish()  # W&B keeps one run per process until finished
        elif metrics:
            logger.log_metrics(metrics, step)
            writer = logger.experiment._get_file_writer()  # what Lightning's log_hyperparams writes to
            writer.add_summary(start, step)
            writer.add_summary(end, step)
            logger.finalize("success")  # flush and close: fit and test closed theirs, this one is new
