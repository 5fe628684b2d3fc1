"""The run folder, written down once: what a finished run leaves, under which names, and the summary's schema.

Every writer (training, its callbacks) and reader (run discovery, the report, sweep status, resume) takes the
names from here. The callbacks' YAML (``configs/callbacks/default.yaml``) spells the same names for Lightning;
``tests/test_run_folder.py`` checks that the two agree.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

SUMMARY = "summary.json"  # the run's result (``Summary``), written once, atomically, when it ends
HISTORY = "metrics.json"  # one row an epoch (train and validation loss and accuracy, seconds), rewritten each epoch
CHECKPOINTS = "checkpoints"  # the best checkpoint by val/acc, and the resumable last one
LAST = "last.ckpt"  # the resumable checkpoint, written at the end of every epoch
TENSORBOARD = "tensorboard"
HYDRA = ".hydra"  # Hydra's record of the config and overrides
LOG = "train.log"  # Hydra's job log (the job is named after train.py)


@dataclass
class Summary:
    """``summary.json``: one run, as ``report.py`` and ``sweep.py status`` read it."""

    overrides: list  # Hydra's overrides for this run
    name: str  # the sweep job's folder name ("" outside a sweep)
    model_config: str | None  # the model config chosen (bilstm, gru, ...)
    experiment: str | None  # the preset, if any
    model: str  # the model class (``model_name``)
    params: int
    seed: int
    batch_size: int
    max_epochs: int
    epochs_run: int
    stopped_early_at_epoch: int | None
    best_val_acc: float | None
    best_epoch: int | None  # 1-based
    test_acc: float | None
    tested_checkpoint: dict | None  # {"monitor", "epoch"} of the checkpoint tested; monitor None: final weights
    fit_seconds: float
    accelerator: str
    device: str
    peak_rss_mib: float
    peak_gpu_mib: int | None
    output_dir: str
    provenance: dict  # commit, dirty tree, versions, host, SLURM job (run/provenance.py)

    def to_json(self) -> dict:
        return asdict(self)


def model_name(target: str) -> str:
    """A run's model name: its model class, from the config's ``_target_``."""
    return target.rsplit(".", 1)[-1]


def checkpoint_dir(output_dir: str | Path) -> Path:
    return Path(output_dir) / CHECKPOINTS
