"""An Optuna study kept in its sweep folder, so the same command continues it after a kill or a time-out.

The study lives in ``<sweep dir>/optuna.journal``: Optuna's journal file storage appends one record per event
and locks with files, which a shared (NFS) filesystem supports; SQLite's locking does not. The command's own
overrides and the search space are stored with the study: continuing it with others is refused, since the
trials would not be comparable.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path

import optuna
from optuna.distributions import BaseDistribution, distribution_to_json
from optuna.storages import JournalStorage
from optuna.storages.journal import JournalFileBackend
from optuna.trial import TrialState

from imdb_sentiment.errors import UserError

JOURNAL = "optuna.journal"
INTERRUPTED = "interrupted: its search was stopped while it ran"
log = logging.getLogger(__name__)


def storage(sweep_dir: Path) -> JournalStorage:
    sweep_dir.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str(sweep_dir / JOURNAL)))


def open_study(
    sweep_dir: Path,
    name: str,
    direction: str,
    sampler: Callable[..., optuna.samplers.BaseSampler],
    command: list[str],
    space: dict[str, BaseDistribution],
) -> optuna.Study:
    """Create the study, or load the one this folder holds after checking it was started by the same command.
    ``sampler`` makes the sampler from a ``seed``: a continued study's is seeded past its trials, or its random
    start-up trials would repeat those of the first attempt."""
    study = optuna.create_study(study_name=name, storage=storage(sweep_dir), direction=direction, load_if_exists=True)
    if isinstance(sampler, optuna.samplers.BaseSampler):  # made already (a config without _partial_)
        study.sampler = sampler
    else:
        seed = sampler.keywords.get("seed") if isinstance(sampler, functools.partial) else None
        study.sampler = sampler(seed=None if seed is None else seed + len(study.trials))
    setup = {"command": sorted(command), "space": {k: distribution_to_json(d) for k, d in sorted(space.items())}}
    before = study.user_attrs.get("setup")
    if before is None:
        study.set_user_attr("setup", setup)
    elif before != setup:
        what = "search space" if before["space"] != setup["space"] else "command line"
        theirs = before["command"] if what == "command line" else sorted(before["space"])
        raise UserError(
            f"hydra.sweep.dir={sweep_dir}: holds the study {name!r} of another {what} ({' '.join(theirs)}); "
            "continue it with the same one, or give this search another hydra.sweeper.study_name"
        )
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING, TrialState.WAITING)):
        # Its search was killed mid-trial (one process runs a study's trials: nothing else holds it).
        optuna.Trial(study, trial._trial_id).set_user_attr("error", INTERRUPTED)
        study.tell(trial.number, state=TrialState.FAIL)
        log.info("Trial %d was interrupted; it is not counted, and a new trial takes its place", trial.number)
    return study


def finished(study: optuna.Study) -> int:
    """Trials that count towards ``n_trials``: completed, or failed on their own (not interrupted)."""
    return sum(
        t.state == TrialState.COMPLETE or (t.state == TrialState.FAIL and t.user_attrs.get("error") != INTERRUPTED)
        for t in study.get_trials(deepcopy=False)
    )
