"""One `src/train.py` process, as a user runs it, and what it left: summary.json plus per-epoch seconds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def train(run_dir: Path, overrides: list[str]) -> dict:
    """Train into ``run_dir`` (its log beside it, ``<run_dir>.log``); exit naming the log if the run fails."""
    cmd = [
        sys.executable,
        "src/train.py",
        *overrides,
        f"hydra.run.dir={run_dir}",
        "callbacks.progress_bar.refresh_rate=0",
    ]
    log_path = run_dir.parent / f"{run_dir.name}.log"
    with log_path.open("w") as log:
        if subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT).returncode:
            sys.exit(f"{' '.join(overrides)} failed; see {log_path}")
    summary = json.loads((run_dir / "summary.json").read_text())
    epochs = json.loads((run_dir / "metrics.json").read_text())["epochs"]
    return {
        **summary,
        "train_seconds": [e["train_seconds"] for e in epochs],
        "val_acc_by_epoch": [e["val_acc"] for e in epochs],
    }
