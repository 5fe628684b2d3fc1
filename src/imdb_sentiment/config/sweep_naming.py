"""Sweep job folders named by what varies between the jobs: ``batch_size=32,seed=2``.

Hydra names a job by all its overrides with their full keys (``data.batch_size=32,seed=2,
trainer.accelerator=cpu``). Here keys lose their group prefix unless two would then collide, and
overrides that every job of the sweep shares are left out: ``run_folder_guard.RunFolderGuard`` finds
them when the sweep starts and adds them to ``hydra.job.config.override_dirname.exclude_keys``, which
every job of the sweep (local or on SLURM) is composed with. A key that varies is always in the name, even
one the config's exclude list names (``experiment``, ``data.source``, ...): two presets swept over the
same seeds must not share folders. Before any job starts the sweep's folders are checked to be distinct.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import DictConfig, OmegaConf

from imdb_sentiment.errors import UserError

BASIC_SWEEPER = "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"
SUBSET_SWEEPER = "hydra_plugins.imdb_launchers.subset_sweeper.SubsetSweeper"


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


def exclude_keys_for(task_overrides, configured_exclude, varying) -> list[str]:
    """The keys left out of job folder names: the configured ones that do not vary, and every shared override.
    With nothing varying, every override stays in the name."""
    if not varying:
        return [k for k in configured_exclude]
    shared = [
        o.key_or_group
        for o in OverridesParser.create().parse_overrides(list(task_overrides))
        if o.key_or_group not in varying
    ]
    return [k for k in configured_exclude if k not in varying] + [k for k in shared if k not in configured_exclude]


def check_distinct(job_overrides: Sequence[Sequence[str]], names: Sequence[str], what: str = "sweep") -> None:
    """Refuse a sweep two of whose jobs would share a folder (values that differ only in what a name drops)."""
    first: dict[str, int] = {}
    for i, name in enumerate(names):
        if name in first:
            a, b = (" ".join(job_overrides[j]) for j in (first[name], i))
            raise UserError(
                f"{what}: jobs '{a}' and '{b}' would share the folder {name}; make them differ in "
                "more than '/' (a folder name turns it into '_')"
            )
        first[name] = i


def grid_names(lines: Sequence[str]) -> list[str]:
    """``slurm/grid.sbatch``'s folder names for its override lines, by the same rule as a Hydra sweep:
    a key whose override differs between lines is in the name, one every line shares is not."""
    parser = OverridesParser.create()
    jobs = [[o.input_line for o in parser.parse_overrides(line.split())] for line in lines]
    seen = Counter(o for job in jobs for o in set(job))
    if len(jobs) > 1:
        shared = {o for o, n in seen.items() if n == len(jobs)}
        jobs_named = [[o for o in job if o not in shared] for job in jobs]
    else:
        jobs_named = jobs
    names = [job_dirname(job, []) for job in jobs_named]
    check_distinct(jobs, names, what="grid file")
    return names


def override_lines(path: str) -> list[str]:
    """A grid file's override lines: blank lines and ``#`` comments skipped."""
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.lstrip().startswith("#")]


def grid_task_name(path: str, task: str) -> None:
    """Print the folder name of a grid file's line number ``task`` (1-based), for ``slurm/grid.sbatch``."""
    lines = override_lines(path)
    if not 1 <= int(task) <= len(lines):
        raise UserError(f"{path} has no override line {task} (it has {len(lines)})")
    print(grid_names(lines)[int(task) - 1])


def sweep_exclude_keys(config: DictConfig) -> list[str]:
    """The keys a sweep leaves out of its job folder names, from its config (the master or ``multirun.yaml``)."""
    task = list(config.hydra.overrides.task)
    configured = list(config.hydra.job.config.override_dirname.exclude_keys)
    return exclude_keys_for(task, configured, varying_keys(task, config.hydra.sweeper.get("params")))


def sweep_jobs(config: DictConfig) -> list[list[str]] | None:
    """Every job's overrides, for sweepers whose grid is known up front (Hydra's basic sweeper, and the subset
    sweeper that ``sweep.py resume`` uses); None for other sweepers."""
    if config.hydra.sweeper.get("_target_") not in (BASIC_SWEEPER, SUBSET_SWEEPER):
        return None
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.global_hydra import GlobalHydra

    params = [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    loader = GlobalHydra.instance().config_loader() if GlobalHydra.instance().is_initialized() else None
    parsed = OverridesParser.create(config_loader=loader).parse_overrides([*params, *config.hydra.overrides.task])
    return [list(job) for batch in BasicSweeper.split_arguments(parsed, None) for job in batch]
