"""Find run folders and read what each run left behind: summary.json, metrics.json, Hydra's overrides.

A run folder is one holding ``.hydra/`` or ``summary.json``. A run without a readable
summary is still going, or failed: it is returned as incomplete, never raised.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from imdb_sentiment.errors import UserError
from imdb_sentiment.run.folder import HISTORY, HYDRA, SUMMARY


@dataclass
class Run:
    path: Path
    summary: dict | None = None  # None: incomplete
    history: list[dict] = field(default_factory=list)  # one dict an epoch (metrics.json)
    overrides: list[str] = field(default_factory=list)
    problem: str | None = None  # why the run is incomplete
    choices: dict = field(default_factory=dict)  # Hydra's config-group choices (model, experiment), for unfinished runs

    @property
    def complete(self) -> bool:
        return self.summary is not None

    def get(self, key: str):
        return (self.summary or {}).get(key)


def is_run_dir(path: Path) -> bool:
    return (path / HYDRA).is_dir() or (path / SUMMARY).is_file()


def find_run_dirs(folder: Path) -> list[Path]:
    """Run folders at or below ``folder``, sorted; hidden folders and a run's own sub-folders are not searched."""
    if is_run_dir(folder):
        return [folder]
    found = []
    for root, dirs, _ in os.walk(folder):
        root = Path(root)
        runs = {d for d in dirs if not d.startswith(".") and is_run_dir(root / d)}
        found += [root / d for d in runs]
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in runs)
    return sorted(found)


def load_run(path: Path) -> Run:
    run = Run(path, history=_read_history(path))
    try:
        run.summary = json.loads((path / SUMMARY).read_text())
        if not isinstance(run.summary, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        run.summary, run.problem = None, "no summary.json: still running, or failed"
    except (OSError, ValueError) as exc:
        run.summary, run.problem = None, f"unreadable summary.json ({exc})"
    run.overrides = list(run.get("overrides") or _read_hydra_overrides(path))
    if not run.get("model_config"):  # no summary (or an old one): Hydra's record names the model and preset
        run.choices = _read_hydra_choices(path)
    return run


def find_runs(folders: list[str | Path]) -> list[Run]:
    """Every run below ``folders`` (each found once), in folder order."""
    seen, runs = set(), []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise UserError(f"{folder}: no such folder")
        for path in find_run_dirs(folder):
            if path.resolve() not in seen:
                seen.add(path.resolve())
                runs.append(load_run(path))
    if not runs:
        raise UserError(f"no run folders (with .hydra/ or summary.json) below {', '.join(map(str, folders))}")
    return runs


def _read_history(path: Path) -> list[dict]:
    try:
        epochs = json.loads((path / HISTORY).read_text())["epochs"]
        return [e for e in epochs if isinstance(e, dict) and isinstance(e.get("epoch"), int)]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _read_hydra_choices(path: Path) -> dict:
    try:
        hydra = yaml.safe_load((path / HYDRA / "hydra.yaml").read_text())["hydra"]
        return {k: v for k, v in hydra["runtime"]["choices"].items() if k in ("model", "experiment") and v}
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return {}


def _read_hydra_overrides(path: Path) -> list[str]:
    """The overrides Hydra recorded, for runs whose summary does not hold them."""
    try:
        overrides = yaml.safe_load((path / HYDRA / "overrides.yaml").read_text())
        return [str(o) for o in overrides] if isinstance(overrides, list) else []
    except (OSError, yaml.YAMLError):
        return []
