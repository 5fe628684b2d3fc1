"""A Hydra sweeper that races seeds (``imdb_sentiment.search.race``): the grid of the command line (and of
``params``) with ``min_seeds`` seeds each, then one more seed a round only where it can still change the answer.
Each round is one batch for the configured launcher (on SLURM, one array). At the end ``race.md`` in the sweep
folder says who was dropped when, how many runs the race took against the full grid, and the report's table.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.plugins import Plugins
from hydra.core.utils import JobStatus
from hydra.plugins.sweeper import Sweeper

from .job_errors import failure_line, trial_task

log = logging.getLogger(__name__)


class SeedRace(Sweeper):
    def __init__(
        self,
        min_seeds: int,
        max_seeds: int,
        alpha: float,
        ci_width: float,
        first_seed: int,
        params: dict | None,
    ):  # defaults: configs/hydra/sweeper/race.yaml
        self.min_seeds, self.max_seeds, self.alpha, self.ci_width = min_seeds, max_seeds, alpha, ci_width
        self.first_seed, self.params = first_seed, params or {}
        self.config = self.launcher = None

    def setup(self, *, hydra_context, task_function, config) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=trial_task(task_function), config=config
        )

    def sweep(self, arguments: list[str]) -> None:
        from imdb_sentiment.cli import run_task

        run_task(self._race, arguments)

    def _check(self, arguments: list[str]) -> None:
        from imdb_sentiment.errors import ConfigError

        for key in ("min_seeds", "max_seeds", "first_seed"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if key == "first_seed" else 2):
                allowed = "a non-negative integer" if key == "first_seed" else "an integer >= 2 (a t test needs 2)"
                raise ConfigError(f"hydra.sweeper.{key}", value, f"must be {allowed}")
        if self.max_seeds < self.min_seeds:
            raise ConfigError("hydra.sweeper.max_seeds", self.max_seeds, f"must be >= min_seeds ({self.min_seeds})")
        if not isinstance(self.alpha, float) or not 0 < self.alpha < 1:
            raise ConfigError("hydra.sweeper.alpha", self.alpha, "must be a probability strictly between 0 and 1")
        if not isinstance(self.ci_width, (int, float)) or isinstance(self.ci_width, bool) or self.ci_width < 0:
            raise ConfigError("hydra.sweeper.ci_width", self.ci_width, "must be >= 0 (0: never stop on width)")
        seeded = [a for a in [*arguments, *self.params] if a.split("=", 1)[0] == "seed"]
        if seeded:
            raise ConfigError("seed", seeded[0].partition("=")[2] or "(in params)", "is raced; drop it")

    def _race(self, arguments: list[str]) -> None:
        from imdb_sentiment.search.race import Entry, settle

        self._check(arguments)
        parser = OverridesParser.create()
        parsed = parser.parse_overrides([*(f"{k}={v}" for k, v in self.params.items()), *arguments])
        varying = {o.key_or_group for o in parsed if o.is_sweep_override()}
        grid = [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
        # Labelled as report.py labels its groups: the overrides that vary, in full.
        labels = [",".join(sorted(o for o in job if o.split("=", 1)[0].lstrip("+~") in varying)) for job in grid]
        entries = [Entry(label or "all runs", job) for label, job in zip(labels, grid)]
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        rounds, todo, job_idx = [], [(e, self.min_seeds) for e in entries], 0
        while todo:
            batch = []
            for entry, count in todo:
                for _ in range(count):
                    seed = self.first_seed + len(entry.seeds)
                    entry.seeds.append(seed)
                    batch.append((entry, [*entry.overrides, f"seed={seed}"]))
            rounds.append(len(batch))
            log.info(f"Race round {len(rounds)}: {len(batch)} runs ({', '.join(sorted({e.label for e, _ in batch}))})")
            for (entry, _), ret in zip(batch, self.launcher.launch([o for _, o in batch], initial_job_idx=job_idx)):
                value = ret.return_value if ret.status == JobStatus.COMPLETED else None
                if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                    entry.values.append(float(value))
                else:
                    entry.errors.append(failure_line(ret) if value is None else f"no objective ({value!r})")
            job_idx += len(batch)
            more = settle(entries, len(rounds), self.alpha, self.max_seeds, self.ci_width)
            todo = [(e, 1) for e in more]
        summary = self._summary(entries, rounds, sweep_dir)
        log.info("\n" + summary)

    def _summary(self, entries, rounds: list[int], sweep_dir: Path) -> str:
        from imdb_sentiment.files import write_text_atomic
        from imdb_sentiment.reporting import report

        used, full = sum(rounds), len(entries) * self.max_seeds
        lines = [
            f"Seed race: {len(rounds)} rounds, {used} runs against {full} for the full grid of "
            f"max_seeds={self.max_seeds} each ({full - used} saved); min_seeds={self.min_seeds}, "
            f"alpha={self.alpha} (Holm), ci_width={self.ci_width}",
            "",
            *(f"- {e.label}: {len(e.seeds)} seeds; {e.stopped}" for e in entries),
        ]
        try:
            lines += ["", report.render_text(report.build([sweep_dir]))]
        except Exception as exc:  # no finished run to tabulate: the list above says why
            lines += ["", f"(no report table: {exc})"]
        text = "\n".join(lines)
        write_text_atomic(sweep_dir / "race.md", text + "\n")
        return text
