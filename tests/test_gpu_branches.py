"""The GPU branches: what can be decided without a GPU is tested here on any machine (the launcher's slots from
CUDA_VISIBLE_DEVICES, where fixed-length splits live); what needs one runs in the `gpu` tier
(`IMDB_TEST_GPU=1 python -m pytest -m gpu`, as benchmarks/gpu_run.sh tests does) and is skipped elsewhere."""

import os

import pytest
import torch

from conftest import compose_train
from hydra_plugins.imdb_launchers.local_parallel import LocalParallelLauncher
from imdb_sentiment.data.datamodule import resident_device
from imdb_sentiment.run.training import train


def slots(monkeypatch, visible: str, jobs_per_gpu=2, gpus=None, cpu_jobs=3):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    return LocalParallelLauncher(jobs_per_gpu, gpus, cpu_jobs, None).slots()


def test_launcher_slots_follow_the_visible_gpus(monkeypatch):
    two = slots(monkeypatch, "3,5")
    assert [s["CUDA_VISIBLE_DEVICES"] for s in two] == ["3", "5", "3", "5"]  # spread over the cards first
    assert {s["OMP_NUM_THREADS"] for s in two} == {"4"}  # 16 cores split over 4 concurrent jobs
    assert [s["CUDA_VISIBLE_DEVICES"] for s in slots(monkeypatch, "3,5", gpus=1)] == ["3", "3"]
    uuids = slots(monkeypatch, "GPU-8f2a,GPU-11c0", jobs_per_gpu=1)
    assert [s["CUDA_VISIBLE_DEVICES"] for s in uuids] == ["GPU-8f2a", "GPU-11c0"]  # as SLURM may set them
    for hidden in ("", "-1"):  # no GPU: cpu_jobs CPU slots, no device variable
        cpu = slots(monkeypatch, hidden)
        assert len(cpu) == 3 and all("CUDA_VISIBLE_DEVICES" not in s for s in cpu)


@pytest.mark.parametrize(
    "resident,pad_mode,root,expected",
    [
        (True, "fixed", torch.device("cuda", 1), torch.device("cuda", 1)),
        (False, "fixed", torch.device("cuda", 1), None),
        (True, "dynamic", torch.device("cuda", 0), None),
        (True, "fixed", torch.device("cpu"), None),
        (True, "fixed", None, None),  # no trainer: a data module used on its own
    ],
)
def test_fixed_length_splits_live_on_the_gpu_only_when_asked_and_useful(resident, pad_mode, root, expected):
    assert resident_device(resident, pad_mode, root) == expected


gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU (IMDB_TEST_GPU=1 on a GPU host)")


@pytest.mark.gpu
@gpu
@pytest.mark.parametrize("precision", ["32-true", "bf16-mixed", "16-mixed"])
def test_gpu_run_with_resident_splits_learns_at_each_precision(precision, make_cfg):
    cfg = make_cfg(
        "trainer.accelerator=gpu",
        f"trainer.precision={precision}",
        "model=gru",
        "data.vocab_size=100",
        "data.maxlen=30",
        "trainer.max_epochs=3",
        "callbacks.progress_bar.refresh_rate=0",
    )
    summary = train(cfg)
    assert summary["accelerator"] == "cuda" and summary["peak_gpu_mib"] > 0
    assert summary["best_val_acc"] > 0.6  # the tiny data's words separate the labels


@pytest.mark.gpu
@gpu
def test_gpu_resume_restores_the_cuda_generator(make_cfg, tmp_path, tiny_imdb):
    """Dropout on the GPU draws from the CUDA generator: two epochs, then two more resumed, equal four at once."""
    common = [
        "trainer.accelerator=gpu",
        "experiment=practicum_gru",
        "data.maxlen=30",
        "callbacks.progress_bar.refresh_rate=0",
        "test=false",
    ]
    whole = train(make_cfg(*common, "trainer.max_epochs=4"))
    run, cache = tmp_path / "resumed", tmp_path / "cache2"
    train(compose_train([f"data.source={tiny_imdb}", *common, "trainer.max_epochs=2"], run, cache))
    resumed = train(compose_train([f"data.source={tiny_imdb}", *common, "trainer.max_epochs=4"], run, cache))
    assert resumed["best_val_acc"] == whole["best_val_acc"] and resumed["best_epoch"] == whole["best_epoch"]
