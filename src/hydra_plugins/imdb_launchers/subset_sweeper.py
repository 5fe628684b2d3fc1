"""Hydra's basic grid, of which only some points run: ``sweep.py resume`` reruns the unfinished points of a sweep
with the sweep's own command line, so every point keeps its overrides and its folder."""

from __future__ import annotations

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper


class SubsetSweeper(BasicSweeper):
    """``only``: the folder names (``hydra.sweep.subdir``) of the points to run, in one batch."""

    def __init__(self, max_batch_size: int | None = None, params: dict | None = None, only: list | None = None):
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.only = set(only or [])

    def split_arguments(self, overrides, max_batch_size):  # BasicSweeper.sweep calls it to make its batches
        from imdb_sentiment.config.sweep_naming import job_dirname, sweep_exclude_keys

        exclude = sweep_exclude_keys(self.config)
        jobs = [job for batch in BasicSweeper.split_arguments(overrides, None) for job in batch]
        return [[job for job in jobs if job_dirname(job, exclude) in self.only]]
