"""A finished run is light: its checkpoints keep the weights, config and tokenizer, not the optimizer's state
(``keep_resumable=true`` keeps it); testing maps the best weights instead of loading a second model and an
optimizer state; a finished run started again has nothing to do, and asked for more epochs says why it cannot."""

import json

import pytest
import torch

from conftest import finished_checkpoint
from imdb_sentiment.errors import UserError
from imdb_sentiment.inference.evaluation import evaluate
from imdb_sentiment.run.checkpointing import SLIM, resumable
from imdb_sentiment.run.training import train

pytestmark = pytest.mark.slow  # five small trainings

RUN = [
    "model=gru",
    "data.vocab_size=2000",
    "model.embed_dim=64",
    "data.maxlen=30",
    "trainer.max_epochs=2",
    "callbacks.progress_bar.refresh_rate=0",
]


def weight_bytes(state: dict) -> int:
    return sum(t.numel() * t.element_size() for t in state.values())


def test_a_finished_runs_checkpoints_hold_weights_config_and_tokenizer_only(make_cfg, tmp_path):
    summary = train(make_cfg(*RUN))
    (best,) = (tmp_path / "run" / "checkpoints").glob("*.ckpt")  # the best; last.ckpt went at the end
    assert best.name == f"epoch{summary['best_epoch'] - 1:02d}-acc{summary['best_val_acc']:.4f}.ckpt"
    ckpt = torch.load(best, map_location="cpu", weights_only=True)
    assert set(ckpt) <= set(SLIM) and not resumable(best)
    assert best.stat().st_size < 1.2 * weight_bytes(ckpt["state_dict"])  # the weights once (was 6x: Adam, last)
    assert evaluate(str(best), "test")["acc"] == pytest.approx(summary["test_acc"], abs=1e-6)  # still readable


def test_keep_resumable_keeps_the_optimizer_state(make_cfg, tmp_path):
    train(make_cfg(*RUN, "keep_resumable=true"))
    assert resumable(tmp_path / "run" / "checkpoints" / "last.ckpt")
    assert len(list((tmp_path / "run" / "checkpoints").glob("*.ckpt"))) == 2  # and the best beside it


def test_without_a_best_checkpoint_the_last_stays_as_the_final_weights(make_cfg, tmp_path):
    summary = train(make_cfg(*RUN, "~callbacks.model_checkpoint"))
    assert summary["tested_checkpoint"] == {"monitor": None, "epoch": 2}  # the final weights were tested
    last = finished_checkpoint(tmp_path / "run")
    assert last.name == "last.ckpt" and not resumable(last)


def test_a_finished_run_started_again_has_nothing_to_do_or_says_why(make_cfg, tmp_path):
    first = train(make_cfg(*RUN))
    mtime = (tmp_path / "run" / "summary.json").stat().st_mtime_ns
    assert train(make_cfg(*RUN)) == first  # a requeued job that had ended: the same summary, nothing rewritten
    assert (tmp_path / "run" / "summary.json").stat().st_mtime_ns == mtime
    with pytest.raises(UserError, match=r"^trainer.max_epochs=3: the run in .* finished after 2 epochs and kept no"):
        train(make_cfg(*RUN, "trainer.max_epochs=3"))
    with pytest.raises(UserError, match=r"holds a finished run's weights only"):
        train(make_cfg(*RUN, f"ckpt_path={finished_checkpoint(tmp_path / 'run')}", "hydra.run.dir=elsewhere"))
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs_run"] == 2
