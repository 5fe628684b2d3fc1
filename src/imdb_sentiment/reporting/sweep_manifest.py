"""The sweep manifest: what a submitted sweep holds, so it can be followed and resumed after the shell is gone.

``<sweep>/sweep.json`` lists each point's overrides, its run folder (relative to the sweep) and the SLURM job
ids that ran it. It is written atomically before the jobs are submitted (no job ids yet) and again once
they are, and merged by run folder when ``sweep.py resume`` submits some points again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from imdb_sentiment.files import write_json_atomic

MANIFEST = "sweep.json"


def read(sweep_dir: str | Path) -> dict | None:
    try:
        return json.loads((Path(sweep_dir) / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def record(sweep_dir: str | Path, points: list[dict], launcher: str) -> None:
    """Add or update ``points`` (``overrides``, ``run_dir``, optional ``job_id``); a point's job ids accumulate."""
    old = read(sweep_dir) or {"points": []}
    by_dir = {p["run_dir"]: p for p in old["points"]}
    for p in points:
        entry = by_dir.setdefault(p["run_dir"], {"run_dir": p["run_dir"], "job_ids": []})
        entry["overrides"] = list(p["overrides"])
        if p.get("job_id") and p["job_id"] not in entry["job_ids"]:
            entry["job_ids"].append(p["job_id"])
    write_json_atomic(
        Path(sweep_dir) / MANIFEST,
        {"launcher": launcher, "updated": time.strftime("%Y-%m-%dT%H:%M:%S"), "points": list(by_dir.values())},
    )
