"""The tests see a fresh checkout on a CPU node, whatever the shell exports (conftest.pytest_configure)."""

import os
import shutil

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from conftest import CONFIGS, LEAKY_ENV


def test_no_leaky_variable_reaches_the_tests():
    assert not [n for n in LEAKY_ENV if n in os.environ]
    assert not [n for n in os.environ if n.startswith("SLURM_")]
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "" or os.environ.get("IMDB_TEST_GPU") == "1"


def _seed(config_dir) -> int:
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
        return compose("train").seed


def test_a_local_config_is_read_by_users_and_left_out_of_the_tests(tmp_path, monkeypatch):
    configs = shutil.copytree(CONFIGS, tmp_path / "configs")
    (configs / "local").mkdir(exist_ok=True)
    (configs / "local" / "default.yaml").write_text("# @package _global_\nseed: 7\n")
    assert _seed(configs) == 42  # IMDB_LOCAL_CONFIG=none, as every test runs
    monkeypatch.delenv("IMDB_LOCAL_CONFIG")
    assert _seed(configs) == 7  # a user's shell: configs/local/default.yaml is merged
