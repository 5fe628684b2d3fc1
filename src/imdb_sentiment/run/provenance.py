"""Which code made this number: the commit, a dirty tree's diff, the library versions, the host, the SLURM job.

A submitted sweep runs from a snapshot of the tracked source (``snapshot.py``), which has no ``.git``; the
snapshot carries the provenance of the checkout it was made from in ``PROVENANCE_FILE`` at its root.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import socket
import subprocess
from pathlib import Path

# The checkout (or snapshot) this package runs from: the folder above src/imdb_sentiment/run/.
ROOT = Path(__file__).resolve().parents[3]
PROVENANCE_FILE = ".provenance.json"


def _git(*args: str, root: Path) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.decode(errors="replace") if out.returncode == 0 else None


def source_state(root: Path = ROOT) -> dict:
    """``commit``, ``dirty`` (tracked files changed) and ``diff_sha256`` (12 hex digits of ``git diff HEAD``)."""
    recorded = root / PROVENANCE_FILE
    if recorded.is_file():
        return json.loads(recorded.read_text())
    commit = _git("rev-parse", "HEAD", root=root)
    if commit is None:
        return {"commit": None, "dirty": None, "diff_sha256": None}
    diff = _git("diff", "HEAD", "--binary", root=root) or ""
    return {
        "commit": commit.strip(),
        "dirty": bool(diff),
        "diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:12] if diff else None,
    }


def slurm_job(env=os.environ) -> dict | None:
    """This SLURM job as ``scontrol`` names it (an array task as ``<array>_<task>``), and how often it restarted."""
    if "SLURM_JOB_ID" not in env:
        return None
    array, task = env.get("SLURM_ARRAY_JOB_ID"), env.get("SLURM_ARRAY_TASK_ID")
    return {
        "job": f"{array}_{task}" if array and task else env["SLURM_JOB_ID"],
        "restart_count": int(env.get("SLURM_RESTART_COUNT") or 0),
    }


def provenance() -> dict:
    import lightning
    import torch

    return {
        **source_state(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "lightning": lightning.__version__,
        "cuda": torch.version.cuda,
        "host": socket.gethostname(),
        "slurm": slurm_job(),
    }
