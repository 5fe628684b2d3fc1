"""A submitted sweep runs the code as it was at submission, whatever happens to the checkout meanwhile.

Once per sweep the tracked files of the checkout (``git ls-files``: source, configs, scripts; not logs, data or
the virtual environment) are copied to ``<sweep>/.code/``, with the checkout's provenance (commit, dirty diff)
in ``.code/.provenance.json``. The jobs import the package from there (``PYTHONPATH``) and compose their configs
from its ``configs/``. A resumed sweep reuses the same snapshot, so every point of a sweep runs the same code.
Outside a git checkout there is nothing to snapshot and jobs run the installed code.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from imdb_sentiment.files import write_json_atomic
from imdb_sentiment.run.provenance import PROVENANCE_FILE, ROOT, source_state

log = logging.getLogger(__name__)
SNAPSHOT = ".code"


def make(sweep_dir: str | Path, root: Path = ROOT) -> Path | None:
    """The sweep's snapshot folder, made now if it does not exist yet; None outside a git checkout."""
    dest = Path(sweep_dir) / SNAPSHOT
    if dest.is_dir():
        return dest
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "-z"], capture_output=True, timeout=60, check=True)
    except (OSError, subprocess.SubprocessError):
        log.warning("%s is not a git checkout: the jobs run the installed code, not a snapshot", root)
        return None
    tmp = Path(tempfile.mkdtemp(prefix=f".{SNAPSHOT}.", dir=dest.parent))
    try:
        for name in filter(None, listed.stdout.decode().split("\0")):
            src = root / name
            if src.is_file():  # a tracked file deleted in the checkout is not part of what runs
                (tmp / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, tmp / name)
        write_json_atomic(tmp / PROVENANCE_FILE, source_state(root))
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("Snapshot of the code for this sweep's jobs: %s", dest)
    return dest


def redirect_configs(config_loader, code: Path, root: Path = ROOT) -> None:
    """Make ``config_loader`` (pickled into every job) read config files from the snapshot, not the checkout."""
    from hydra._internal.config_repository import ConfigRepository

    for element in config_loader.config_search_path.config_search_path:
        prefix = "file://" if element.path.startswith("file://") else ""
        path = Path(element.path[len(prefix) :])
        if path.is_absolute() and path.resolve().is_relative_to(root.resolve()):
            element.path = prefix + str(code / path.resolve().relative_to(root.resolve()))
    config_loader.repository = ConfigRepository(config_search_path=config_loader.config_search_path)


def python_path_line(code: Path) -> str:
    """The job set-up line that makes Python import this package (and the launchers) from the snapshot."""
    return f'export PYTHONPATH="{code / "src"}${{PYTHONPATH:+:$PYTHONPATH}}"'
