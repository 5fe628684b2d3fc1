"""Optuna searches: the study kept in the sweep folder continues after a kill, failed trials are recorded with
their error line, the report reads the study. Real train.py processes, Optuna's journal file storage."""

import os
import signal
import subprocess
import sys
import time

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState

from conftest import REPO
from imdb_sentiment.errors import UserError
from imdb_sentiment.search.space import as_override, distributions
from imdb_sentiment.search.study import JOURNAL, storage

# A small search over the tiny data: a GRU, its learning rate and width, one epoch a trial.
PRESET = """# @package _global_
defaults:
  - override /hydra/sweeper: optuna
hydra:
  sweep:
    dir: ${paths.log_dir}/searches/${hydra.sweeper.study_name}
    subdir: trial=${hydra.job.num}
  sweeper:
    study_name: tiny
    params:
      optimizer.lr: tag(log, interval(1e-3, 1e-1))
      model.hidden_size: choice(8, 16)
"""


def test_search_space_maps_to_optuna_distributions():
    got = distributions(
        {
            "optimizer.lr": "tag(log, interval(1e-4, 1e-2))",
            "model.dropout": "interval(0, 0.5)",
            "model.num_layers": "int(interval(1, 3))",
            "model.hidden_size": "range(32, 129, step=32)",
            "data.batch_size": "choice(32, 64)",
        }
    )
    assert got == {
        "optimizer.lr": FloatDistribution(1e-4, 1e-2, log=True),
        "model.dropout": FloatDistribution(0.0, 0.5),
        "model.num_layers": IntDistribution(1, 3),
        "model.hidden_size": IntDistribution(32, 128, step=32),
        "data.batch_size": CategoricalDistribution([32, 64]),
    }
    assert as_override("optimizer.lr", 0.1 + 0.2) == "optimizer.lr=0.30000000000000004"  # read back exactly
    with pytest.raises(UserError, match=r"^hydra.sweeper.params.optimizer.lr=tag\(log, interval\(0, 1\)\): needs"):
        distributions({"optimizer.lr": "tag(log, interval(0, 1))"})
    with pytest.raises(UserError, match=r"^hydra.sweeper.params.seed=3: not a search dimension"):
        distributions({"seed": "3"})


@pytest.fixture
def search(tmp_path, tiny_imdb):
    (tmp_path / "presets" / "hparams_search").mkdir(parents=True)
    (tmp_path / "presets" / "hparams_search" / "tiny.yaml").write_text(PRESET)
    # Every trial asks for batches of 0 reviews: each fails on its own.
    failing = PRESET + "      data.batch_size: choice(0)\n"
    (tmp_path / "presets" / "hparams_search" / "tiny_failing.yaml").write_text(failing)

    def command(*extra: str, preset: str = "tiny") -> list[str]:
        return [
            sys.executable,
            "src/train.py",
            "-m",
            f"hparams_search={preset}",
            f"hydra.searchpath=[file://{tmp_path / 'presets'}]",
            f"data.source={tiny_imdb}",
            f"paths.log_dir={tmp_path / 'logs'}",
            f"paths.cache_dir={tmp_path / 'cache'}",
            "model=gru",
            "data.vocab_size=100",
            "data.maxlen=30",
            "trainer.max_epochs=1",
            "trainer.accelerator=cpu",
            "callbacks.progress_bar.refresh_rate=0",
            *extra,
        ]

    return command, tmp_path / "logs" / "searches" / "tiny"


def trials(folder):
    return optuna.load_study(study_name="tiny", storage=storage(folder)).get_trials(deepcopy=False)


@pytest.mark.slow
def test_a_killed_search_continues_to_n_trials_with_exactly_the_missing_runs(search):
    command, folder = search
    args = command("hydra.sweeper.n_trials=4", "hydra.sweeper.n_jobs=1", "launcher=local")
    first = subprocess.Popen(args, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 600
    while not ((folder / JOURNAL).exists() and sum(t.state == TrialState.COMPLETE for t in trials(folder)) >= 2):
        assert first.poll() is None and time.monotonic() < deadline, first.stdout.read().decode()[-3000:]
        time.sleep(0.5)
    os.killpg(first.pid, signal.SIGKILL)  # the search and its worker, as a lost login session or time-out would
    first.wait()
    before = {p.name for p in folder.glob("trial=*")}
    done_before = [t.number for t in trials(folder) if t.state == TrialState.COMPLETE]
    assert len(done_before) == 2

    again = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    after = trials(folder)
    assert sum(t.state == TrialState.COMPLETE for t in after) == 4  # n_trials counts the first attempt's two
    new = {p.name for p in folder.glob("trial=*")} - before
    assert len(new) == 2 and all((folder / n / "summary.json").is_file() for n in new)  # exactly the missing two
    assert {t.number for t in after if t.state == TrialState.COMPLETE} >= set(done_before)  # not rerun
    proposed = [tuple(sorted(t.params.items())) for t in after]
    assert len(set(proposed)) == len(proposed)  # the continued sampler does not repeat the first attempt's draws

    report = subprocess.run(
        [sys.executable, "src/report.py", str(folder)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert report.returncode == 0, report.stderr[-3000:]
    best = max((t for t in after if t.state == TrialState.COMPLETE), key=lambda t: t.value)
    assert f"Search 'tiny': {len(after)} trials (4 complete" in report.stdout
    assert "Best trial's command: python src/train.py " in report.stdout
    assert as_override("optimizer.lr", best.params["optimizer.lr"]) in report.stdout
    assert (folder / "search.md").is_file() and (folder / "search_tiny_history.png").stat().st_size > 1000
    assert (folder / "search_tiny_importances.png").is_file()


@pytest.mark.slow
def test_failed_trials_are_recorded_with_their_error_and_the_search_goes_on(search):
    command, folder = search
    args = command("hydra.sweeper.n_trials=2", "hydra.sweeper.n_jobs=1", preset="tiny_failing")
    run = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    failed = trials(folder)
    assert [t.state for t in failed] == [TrialState.FAIL, TrialState.FAIL]
    assert all(t.user_attrs["error"].startswith("error: data.batch_size=0: must be") for t in failed)

    other = subprocess.run(
        command("hydra.sweeper.n_trials=3", "seed=7", preset="tiny_failing"), cwd=REPO, capture_output=True, text=True
    )
    assert other.returncode == 2
    assert "holds the study 'tiny' of another" in other.stderr and "hydra.sweeper.study_name" in other.stderr


def test_race_drops_a_configuration_separated_from_the_best_and_seeds_the_rest():
    from imdb_sentiment.search.race import Entry, settle

    good, close, bad = Entry("good", []), Entry("close", []), Entry("bad", [])
    for e, values in ((good, [0.90, 0.91]), (close, [0.89, 0.92]), (bad, [0.60, 0.61])):
        e.seeds, e.values = [1, 2], values
    more = settle([good, close, bad], 1, alpha=0.05, max_seeds=4, ci_width=0.01)
    assert more == [good, close] and bad.stopped.startswith("dropped in round 1 (Holm p=")
    for e in more:
        e.seeds.append(3)
        e.values.append(e.values[0])
    assert settle([good, close, bad], 2, alpha=0.05, max_seeds=3, ci_width=0.01) == []
    assert good.stopped == close.stopped == "reached max_seeds=3"
    narrow = Entry("narrow", [], seeds=[1, 2, 3], values=[0.9, 0.9001, 0.9002])
    assert settle([narrow], 1, alpha=0.05, max_seeds=5, ci_width=0.01) == [] and "< ci_width=0.01" in narrow.stopped


@pytest.mark.slow
def test_a_race_stops_a_setting_that_cannot_learn_after_min_seeds(tmp_path, tiny_imdb):
    sweep = tmp_path / "race"
    run = subprocess.run(
        [
            sys.executable,
            "src/train.py",
            "-m",
            "hydra/sweeper=race",
            "hydra.sweeper.min_seeds=2",
            "hydra.sweeper.max_seeds=3",
            "hydra.sweeper.alpha=0.2",
            f"hydra.sweep.dir={sweep}",
            "optimizer.lr=0.03,1e-7",
            f"data.source={tiny_imdb}",
            f"paths.cache_dir={tmp_path / 'cache'}",
            "model=gru",
            "data.vocab_size=100",
            "data.maxlen=30",
            "trainer.max_epochs=3",
            "trainer.accelerator=cpu",
            "callbacks.progress_bar.refresh_rate=0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    runs = sorted(p.parent.name for p in sweep.glob("*/summary.json"))
    assert runs == ["lr=0.03,seed=1", "lr=0.03,seed=2", "lr=0.03,seed=3", "lr=1e-07,seed=1", "lr=1e-07,seed=2"]
    race = (sweep / "race.md").read_text()
    assert "2 rounds, 5 runs against 6 for the full grid of max_seeds=3 each (1 saved)" in race
    assert "- optimizer.lr=1e-07: 2 seeds; dropped in round 1 (Holm p=" in race
    assert "- optimizer.lr=0.03: 3 seeds; reached max_seeds=3" in race
    assert "Best validation accuracy: best is optimizer.lr=0.03" in race  # the report follows


@pytest.mark.parametrize("preset", ["bag_optuna", "bilstm_optuna"])
def test_search_presets_compose_with_a_space_optuna_takes(make_cfg, preset):
    from hydra.utils import instantiate

    cfg = make_cfg(f"hparams_search={preset}")
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_.endswith("OptunaSearch") and sweeper.study_name == preset
    space = distributions(sweeper.params)
    assert "optimizer.lr" in space and space["optimizer.lr"].log  # learning rate on a log scale
    assert cfg.hydra.sweep.dir.endswith(f"searches/{preset}")  # fixed: the same command finds its study
    instantiate(cfg.model)  # every searched key exists in the preset's model or data config
    for key in space:
        section, _, name = key.partition(".")
        assert name in cfg[section], key
