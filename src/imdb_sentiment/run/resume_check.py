"""A checkpoint resumes only the run that saved it.

The run config stored in the checkpoint must match this run's model, data and optimizer settings and
seed; keys that may change on resume (``trainer.max_epochs``, paths, launcher and logging settings, how
evaluation is batched, where the data is read from) are not compared. One rule for an explicit
``ckpt_path`` and for the ``last.ckpt`` an earlier attempt left in the run folder.
"""

from __future__ import annotations

import json
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from imdb_sentiment.errors import UserError
from imdb_sentiment.run.checkpointing import read_checkpoint, resumable, resume_path
from imdb_sentiment.run.folder import SUMMARY

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
    # The folder's newest checkpoint tells whose folder it is, even a finished run's slim one; only a resumable
    # one is resumed.
    path = explicit or (resume_path(out_dir, resumable_only=False) if cfg.get("resume") else None)
    if not path:
        return None
    differ = differences(read_checkpoint(path)["run_config"], this_run(cfg))
    if not differ:
        if not explicit:  # the newest intact one if it is resumable (what resume_path would find), else look on
            found = Path(path) if resumable(Path(path)) else resume_path(out_dir)
            return str(found) if found else None
        if not resumable(Path(path)):
            raise UserError(
                f"ckpt_path={path}: holds a finished run's weights only, no optimizer state to resume training "
                "from (keep_resumable=true keeps it); eval.py and predict.py read it as it is"
            )
        return str(path)
    what = "; ".join(differ[:3]) + ("; ..." if len(differ) > 3 else "")
    if explicit:
        raise UserError(f"ckpt_path={path}: was saved by another run ({what}); resume it with the same settings")
    raise UserError(
        f"the run folder {out_dir} holds a checkpoint of another run ({what}): use a new folder or resume=false"
    )


def finished_run(cfg: DictConfig, out_dir: str | Path) -> dict | None:
    """The summary of the run that finished in ``out_dir``, when it is started again with ``resume`` and nothing
    resumable is left (a finished run keeps slim checkpoints). Asked for more epochs than it ran, ``UserError``:
    its optimizer state is gone (``keep_resumable=true`` keeps it)."""
    summary = Path(out_dir) / SUMMARY
    if not cfg.get("resume") or cfg.get("ckpt_path") or not summary.is_file():
        return None
    done = json.loads(summary.read_text())
    if done.get("max_epochs", 0) >= cfg.trainer.max_epochs or done.get("stopped_early_at_epoch"):
        return done
    raise UserError(
        f"trainer.max_epochs={cfg.trainer.max_epochs}: the run in {out_dir} finished after {done.get('epochs_run')} "
        "epochs and kept no optimizer state to train on from (keep_resumable=false); start a new run, or pass "
        "keep_resumable=true to runs you mean to extend"
    )
