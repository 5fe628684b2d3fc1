"""Shared fixtures: tiny IMDB-shaped data the tests make, the real data where present, config composition."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig

REPO = Path(__file__).resolve().parents[1]

# What a shell or a cluster node may export that would change what the tests see. Cleared before collection
# (``datasets`` reads its offline flags when first imported), for this process and every one it starts.
LEAKY_ENV = ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE")


def pytest_configure(config):
    for name in [*LEAKY_ENV, *(n for n in os.environ if n.startswith(("SLURM_", "SBATCH_", "SRUN_")))]:
        os.environ.pop(name, None)
    os.environ["IMDB_LOCAL_CONFIG"] = "none"  # configs/local/default.yaml (a user's cluster settings) stays out
    if os.environ.get("IMDB_TEST_GPU") != "1":  # the gpu tier (-m gpu) keeps the host's GPUs
        os.environ["CUDA_VISIBLE_DEVICES"] = ""  # the same CPU-only runs on a GPU host as in CI


@pytest.fixture(autouse=True)
def seeded():
    """Every test starts from the same global generators, whatever ran before it."""
    random.seed(0)
    torch.manual_seed(0)
    np.random.seed(0)


CONFIGS = REPO / "configs"
REAL_IMDB = Path(os.environ.get("IMDB_REAL_DATA", REPO.parent / "shared" / "data" / "imdb"))
EXPERIMENTS = sorted(p.stem for p in (CONFIGS / "experiment").glob("*.yaml") if not p.stem.startswith("_"))  # _*: bases

POSITIVE = "great excellent wonderful loved superb brilliant enjoyable moving".split()
NEGATIVE = "awful terrible boring hated dull worst waste poor".split()
FILLER = (
    "the movie film plot actor acting story scene was and a of it this to i in with but director "
    "script music ending character"
).split()


def fake_review(rng: random.Random, label: int) -> str:
    words = rng.choices(FILLER, k=rng.randint(5, 60)) + rng.choices(
        POSITIVE if label else NEGATIVE, k=rng.randint(2, 5)
    )
    rng.shuffle(words)
    text = " ".join(words)
    return text[:1].upper() + text[1:] + ". <br /><br />" + rng.choice(["Really!", "Meh...", "10/10", "Don't ask."])


def write_tiny_imdb(root: Path, n_train: int = 240, n_test: int = 120, seed: int = 0) -> Path:
    """A Hub-layout folder (plain_text/{train,test}-00000-of-00001.parquet), negatives first."""
    rng = random.Random(seed)
    (root / "plain_text").mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        labels = [0] * (n // 2) + [1] * (n - n // 2)
        table = pa.table({"text": [fake_review(rng, y) for y in labels], "label": pa.array(labels, pa.int64())})
        pq.write_table(table, root / "plain_text" / f"{split}-00000-of-00001.parquet")
    return root


@pytest.fixture(scope="session")
def tiny_imdb(tmp_path_factory) -> Path:
    return write_tiny_imdb(tmp_path_factory.mktemp("tiny_imdb"))


@pytest.fixture(scope="session")
def real_imdb() -> Path:
    if not (REAL_IMDB / "plain_text" / "train-00000-of-00001.parquet").is_file():
        pytest.skip(f"real IMDB not found at {REAL_IMDB} (set IMDB_REAL_DATA to the folder holding plain_text/)")
    return REAL_IMDB


def compose_train(overrides: list[str], out_dir: Path, cache_dir: Path):
    """The training config as `python src/train.py <overrides>` would compose it, writing under tmp folders."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIGS), version_base="1.3"):
        cfg = compose(
            "train",
            overrides=[
                *overrides,
                f"paths.output_dir={out_dir}",
                f"paths.cache_dir={cache_dir}",
                f"paths.log_dir={out_dir}/logs",
            ],
            return_hydra_config=True,
        )
    HydraConfig.instance().set_config(cfg)
    return cfg


@pytest.fixture
def make_cfg(tmp_path, tiny_imdb):
    """compose_train on the tiny data set, on the CPU, with a per-test output folder."""

    def make(*overrides: str, source: Path | None = None):
        return compose_train(
            [f"data.source={source or tiny_imdb}", "trainer.accelerator=cpu", *overrides],
            tmp_path / "run",
            tmp_path / "cache",
        )

    return make


def finished_checkpoint(run_dir: Path) -> Path:
    """The one checkpoint a finished run keeps: the best by its monitor (``last.ckpt`` is removed at the end)."""
    (ckpt,) = (Path(run_dir) / "checkpoints").glob("*.ckpt")
    return ckpt


def to_lists(ragged) -> list[list[int]]:
    """A ``Ragged``'s sequences as plain lists, for comparing with expected ids."""
    return [ragged.values[a:b].tolist() for a, b in zip(ragged.offsets[:-1], ragged.offsets[1:])]
