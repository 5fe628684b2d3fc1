"""Which code made a run: the checkout's commit and diff, and the snapshot a submitted sweep runs from."""

import json
import re

from conftest import REPO
from imdb_sentiment.run import snapshot
from imdb_sentiment.run.provenance import PROVENANCE_FILE, ROOT, slurm_job, source_state


def test_root_is_the_checkout_and_its_commit_is_recorded():
    assert ROOT == REPO and (ROOT / "src" / "train.py").is_file() and (ROOT / "configs" / "train.yaml").is_file()
    state = source_state()
    assert re.fullmatch(r"[0-9a-f]{40}", state["commit"]) and isinstance(state["dirty"], bool)
    assert (state["diff_sha256"] is None) == (not state["dirty"])


def test_array_tasks_are_named_by_array_and_task():
    assert slurm_job({"SLURM_JOB_ID": "7", "SLURM_ARRAY_JOB_ID": "7", "SLURM_ARRAY_TASK_ID": "3"}) == {
        "job": "7_3",
        "restart_count": 0,
    }
    assert slurm_job({"SLURM_JOB_ID": "9", "SLURM_RESTART_COUNT": "2"}) == {"job": "9", "restart_count": 2}
    assert slurm_job({}) is None


def test_a_sweep_snapshot_holds_the_tracked_tree_and_its_provenance(tmp_path):
    code = snapshot.make(tmp_path)
    assert code == tmp_path / snapshot.SNAPSHOT
    for name in ("src/train.py", "src/imdb_sentiment/run/training.py", "configs/train.yaml", "slurm/grid.sbatch"):
        assert (code / name).read_bytes() == (REPO / name).read_bytes(), name
    assert not (code / ".venv").exists() and not (code / ".git").exists()
    assert json.loads((code / PROVENANCE_FILE).read_text())["commit"] == source_state()["commit"]
    assert snapshot.make(tmp_path) == code  # made once per sweep; a resumed sweep reuses it
    assert source_state(code) == source_state()  # inside the snapshot, the recorded provenance
