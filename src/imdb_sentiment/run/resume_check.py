"""A checkpoint resumes only the run that saved it.

The run config stored in the checkpoint must match this run's model, data and optimizer settings and
seed; keys that may change on resume (``trainer.max_epochs``, paths, launcher and logging settings, how
evaluation is batched, where the data is read from) are not compared. One rule for an explicit
``ckpt_path`` and for the ``last.ckpt`` an earlier attempt left in the run folder.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from imdb_sentiment.errors import UserError
from imdb_sentiment.run.checkpointing import read_checkpoint, resume_path

COMPARED = ("seed", "model", "data", "optimizer")
# Keys of the compared sections that do not change what a run learns.
NOT_COMPARED = {"data.source", "data.cache_dir", "data.cache_only", "data.eval_batch_size", "data.device_resident"}


def _flat(value, prefix: str) -> dict:
    if isinstance(value, dict):
        return {k: v for key, sub in value.items() for k, v in _flat(sub, f"{prefix}.{key}").items()}
    return {prefix: value}


def settings(run_config: dict) -> dict:
    """``{dotted key: value}`` of what identifies a run, from a resolved run config."""
    out = {}
    for section in COMPARED:
        if section in run_config:
            out.update(_flat(run_config[section], section))
    return {k: v for k, v in out.items() if k not in NOT_COMPARED}


def this_run(cfg: DictConfig) -> dict:
    return settings(
        {
            k: OmegaConf.to_container(cfg[k], resolve=True) if OmegaConf.is_config(cfg[k]) else cfg[k]
            for k in COMPARED
            if k in cfg
        }
    )


def differences(theirs: dict, ours: dict) -> list[str]:
    """``key is A there, B here`` for each setting both runs have and that differs (keys added since are not
    compared, so checkpoints of older versions still resume)."""
    a, b = settings(theirs), ours
    return [f"{k} is {a[k]} there, {b[k]} here" for k in sorted(set(a) & set(b)) if a[k] != b[k]]


def checkpoint_to_resume(cfg: DictConfig, out_dir: str | Path) -> str | None:
    """``ckpt_path`` if given, else with ``resume`` the newest intact checkpoint in the run folder; either only
    when it was saved by this same run. ``UserError`` otherwise, before anything is written."""
    explicit = cfg.get("ckpt_path")
    path = explicit or (resume_path(out_dir) if cfg.get("resume") else None)
    if not path:
        return None
    differ = differences(read_checkpoint(path)["run_config"], this_run(cfg))
    if not differ:
        return str(path)
    what = "; ".join(differ[:3]) + ("; ..." if len(differ) > 3 else "")
    if explicit:
        raise UserError(f"ckpt_path={path}: was saved by another run ({what}); resume it with the same settings")
    raise UserError(
        f"the run folder {out_dir} holds a checkpoint of another run ({what}): use a new folder or resume=false"
    )
