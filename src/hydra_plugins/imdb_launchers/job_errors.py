"""A failed job of a search or race, as one line: the search records it and goes on."""

from __future__ import annotations


class TrialFailed(Exception):
    """A trial's run refused or stopped with a user error: the trial fails, the search goes on."""


def trial_task(task_function):
    """The task, with a user error (which ends a run with ``SystemExit`` and one printed line) turned into an
    exception that Hydra's ``run_job`` records as the job's failure, whichever launcher runs it."""

    def task(cfg):
        try:
            return task_function(cfg)
        except SystemExit as exc:
            cause = exc.__context__  # cli.run_task exits while handling the UserError
            raise TrialFailed(f"error: {cause}" if cause is not None else f"exited with code {exc.code}") from None

    return task


def failure_line(ret) -> str:
    """Why a job that did not complete failed, in one line."""
    exc = ret._return_value
    return (str(exc).strip().splitlines() or [type(exc).__name__])[-1][:300]
