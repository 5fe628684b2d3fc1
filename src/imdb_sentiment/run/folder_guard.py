"""The Hydra callback that settles run folders before Hydra writes anything into them.

A sweep's job folders are named by what varies (``sweep_naming``) and must be distinct; a run folder
that already holds a checkpoint must hold one of this same run (``resume_check``). Both are refused
here in one line, exit 2, before Hydra records its config in any folder, so another run's folder is
left as it was. ``train`` checks the checkpoint again for runs started without Hydra.
"""

from __future__ import annotations

from pathlib import Path

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, open_dict

from imdb_sentiment.cli import run_task
from imdb_sentiment.config.sweep_naming import check_distinct, job_dirname, sweep_exclude_keys, sweep_jobs
from imdb_sentiment.run.checkpointing import resume_path
from imdb_sentiment.run.resume_check import checkpoint_to_resume


class RunFolderGuard(Callback):
    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        run_task(checkpoint_to_resume, config, Path(str(config.hydra.run.dir)))

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        exclude = sweep_exclude_keys(config)
        if exclude != list(
            config.hydra.job.config.override_dirname.exclude_keys
        ):  # every job of the sweep is composed with these overrides
            with open_dict(config):
                config.hydra.overrides.hydra.append(
                    "hydra.job.config.override_dirname.exclude_keys=[" + ",".join(f"'{k}'" for k in exclude) + "]"
                )
        jobs = sweep_jobs(config)
        if not jobs:  # a sweeper that chooses its jobs as it goes: train() checks each job's folder
            return
        names = [job_dirname(job, exclude) for job in jobs]
        run_task(check_distinct, jobs, names)
        sweep_dir = Path(str(config.hydra.sweep.dir))
        for job, name in zip(jobs, names):
            if resume_path(sweep_dir / name) is not None:  # a sweep run again into its own folder
                run_task(checkpoint_to_resume, _job_config(config, job), sweep_dir / name)


def _job_config(config: DictConfig, overrides: list[str]) -> DictConfig:
    from hydra.core.global_hydra import GlobalHydra

    return GlobalHydra.instance().config_loader().load_sweep_config(config, overrides)
