"""Sweep job folders named by what varies between the jobs: ``batch_size=32,seed=2``.

Hydra names a job by all its overrides with their full keys (``data.batch_size=32,seed=2,
trainer.accelerator=cpu``). Here keys lose their group prefix unless two would then collide, and
overrides that every job of the sweep shares are left out: ``NameJobsByWhatVaries`` finds them when
the sweep starts and adds them to ``hydra.job.config.override_dirname.exclude_keys``, which every
job of the sweep (local or on SLURM) is composed with.
"""
from __future__ import annotations

from collections import Counter

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict


def _key_and_value(line: str) -> tuple[str, str]:
    key, sep, value = line.partition("=")
    return key.lstrip("+~"), value if sep else line


def job_dirname(overrides, exclude_keys) -> str:
    """``a.b.key=value`` overrides not in ``exclude_keys`` as ``key=value``, sorted, comma-separated."""
    items = []
    for o in OverridesParser.create().parse_overrides([str(x) for x in overrides]):
        if o.key_or_group not in set(exclude_keys):
            key, value = _key_and_value(o.input_line)
            items.append((key, value))
    short = Counter(k.rsplit(".", 1)[-1] for k, _ in items)
    names = sorted(f"{k.rsplit('.', 1)[-1] if short[k.rsplit('.', 1)[-1]] == 1 else k}={v}" for k, v in items)
    return ",".join(names).replace("/", "_") or "default"


OmegaConf.register_new_resolver("job_dirname", job_dirname, replace=True)


def varying_keys(task_overrides, sweeper_params) -> set[str]:
    """Keys that take several values in a sweep: comma lists, ranges and the like, on the command line or in
    ``hydra.sweeper.params`` (the presets' grids)."""
    parser = OverridesParser.create()
    keys = {o.key_or_group for o in parser.parse_overrides(list(task_overrides)) if o.is_sweep_override()}
    for key, value in (sweeper_params or {}).items():
        try:
            if parser.parse_override(f"{key}={value}").is_sweep_override():
                keys.add(key)
        except Exception:  # another sweeper's own syntax (Optuna's interval(...), say): it varies
            keys.add(key)
    return keys


class NameJobsByWhatVaries(Callback):
    """Leave the overrides shared by every job out of the job folder names."""

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        task = list(config.hydra.overrides.task)
        varying = varying_keys(task, config.hydra.sweeper.get("params"))
        if not varying:  # nothing varies: keep every override in the name
            return
        shared = [o.key_or_group for o in OverridesParser.create().parse_overrides(task) if o.key_or_group not in varying]
        exclude = [*config.hydra.job.config.override_dirname.exclude_keys, *shared]
        with open_dict(config):
            config.hydra.overrides.hydra.append(
                "hydra.job.config.override_dirname.exclude_keys=[" + ",".join(f"'{k}'" for k in exclude) + "]")
