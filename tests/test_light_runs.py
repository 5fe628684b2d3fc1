"""A finished run is light: its checkpoints keep the weights, config and tokenizer, not the optimizer's state
(``keep_resumable=true`` keeps it); testing maps the best weights instead of loading a second model and an
optimizer state; a finished run started again has nothing to do, and asked for more epochs says why it cannot."""

import json

import pytest
import torch

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
    checkpoints = sorted((tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    assert {p.name for p in checkpoints} >= {"last.ckpt"} and len(checkpoints) == 2  # the best and the last
    for path in checkpoints:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        assert set(ckpt) <= set(SLIM) and not resumable(path)
        weights = weight_bytes(ckpt["state_dict"])
        assert path.stat().st_size < 1.2 * weights  # about the weights once (was 3x with Adam's two moments)
    best = next(p for p in checkpoints if p.name != "last.ckpt")
    assert evaluate(str(best), "test")["acc"] == pytest.approx(summary["test_acc"], abs=1e-6)  # still readable


def test_keep_resumable_keeps_the_optimizer_state(make_cfg, tmp_path):
    train(make_cfg(*RUN, "keep_resumable=true"))
    assert resumable(tmp_path / "run" / "checkpoints" / "last.ckpt")


def test_a_finished_run_started_again_has_nothing_to_do_or_says_why(make_cfg, tmp_path):
    first = train(make_cfg(*RUN))
    mtime = (tmp_path / "run" / "summary.json").stat().st_mtime_ns
    assert train(make_cfg(*RUN)) == first  # a requeued job that had ended: the same summary, nothing rewritten
    assert (tmp_path / "run" / "summary.json").stat().st_mtime_ns == mtime
    with pytest.raises(UserError, match=r"^trainer.max_epochs=3: the run in .* finished after 2 epochs and kept no"):
        train(make_cfg(*RUN, "trainer.max_epochs=3"))
    with pytest.raises(UserError, match=r"holds a finished run's weights only"):
        train(make_cfg(*RUN, f"ckpt_path={tmp_path}/run/checkpoints/last.ckpt", "hydra.run.dir=elsewhere"))
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["epochs_run"] == 2
