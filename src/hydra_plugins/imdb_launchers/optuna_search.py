"""An Optuna search as a Hydra sweeper: TPE asks for ``n_jobs`` trials at a time, the configured launcher runs
them as one batch (locally, or one SLURM array), their objectives are told back, until ``n_trials`` have
finished. The study is kept in the sweep folder (``imdb_sentiment.search.study``): the same command continues it.

Why not hydra-optuna-sweeper: its releases pin optuna<3, which has no journal storage (the storage that is safe
on a shared filesystem) and no longer installs beside current libraries.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from hydra.core.plugins import Plugins
from hydra.core.utils import JobStatus
from hydra.plugins.sweeper import Sweeper

from .job_errors import failure_line, trial_task

log = logging.getLogger(__name__)


class OptunaSearch(Sweeper):
    def __init__(self, study_name: str, direction: str, n_trials: int, n_jobs: int, sampler, params: dict | None):
        # No defaults here: configs/hydra/sweeper/optuna.yaml is their one home.
        self.study_name, self.direction, self.sampler, self.params = study_name, direction, sampler, params or {}
        self.n_trials, self.n_jobs = n_trials, n_jobs
        self.config = self.launcher = None

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=trial_task(task_function), config=config
        )

    def sweep(self, arguments: list[str]) -> None:
        from imdb_sentiment.cli import run_task

        run_task(self._search, arguments)

    def _search(self, arguments: list[str]) -> None:
        from optuna.trial import TrialState

        from imdb_sentiment.errors import ConfigError
        from imdb_sentiment.search.space import as_override, distributions
        from imdb_sentiment.search.study import finished, open_study

        for key, value in (("n_trials", self.n_trials), ("n_jobs", self.n_jobs)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"hydra.sweeper.{key}", value, "must be a positive integer")
        space = distributions(self.params)
        searched = [a for a in arguments if a.split("=", 1)[0].lstrip("+~") in space]
        if searched:
            raise ConfigError(searched[0].split("=", 1)[0], searched[0].split("=", 1)[1], "is searched; drop it")
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        command = [a for a in arguments if not a.startswith(("launcher=", "hydra/launcher="))]
        study = open_study(sweep_dir, self.study_name, self.direction, self.sampler, command, space)
        done = finished(study)
        log.info(f"Study {self.study_name!r} in {sweep_dir}: {done} of {self.n_trials} trials finished")
        while done < self.n_trials:
            trials = [study.ask(space) for _ in range(min(self.n_jobs, self.n_trials - done))]
            batch = [[*arguments, *(as_override(k, v) for k, v in t.params.items())] for t in trials]
            # Job numbers are trial numbers: trial=N folders, the same after the study is continued.
            for trial, ret in zip(trials, self.launcher.launch(batch, initial_job_idx=trials[0].number)):
                value = _objective(ret)
                if isinstance(value, float):
                    study.tell(trial, value)
                else:
                    trial.set_user_attr("error", value)
                    study.tell(trial, state=TrialState.FAIL)
                    log.warning(f"Trial {trial.number} failed: {value}")
            done += len(trials)
        best = study.best_trial if any(t.state == TrialState.COMPLETE for t in study.trials) else None
        log.info(
            f"Best of {done} trials: "
            + (f"trial {best.number}, {best.value:.4f} with {best.params}" if best else "none completed")
            + f"; python src/report.py {sweep_dir}"
        )


def _objective(ret) -> float | str:
    """The job's objective, or the line that says why it has none."""
    if ret.status != JobStatus.COMPLETED:
        return failure_line(ret)
    value = ret.return_value
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return f"no objective: train.py returned {value!r} (a run that never validated)"
    return float(value)
