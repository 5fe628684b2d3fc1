"""callbacks.weight_ema: what is validated, checkpointed, tested and read back is the moving average of the
weights over optimizer steps, while training steps the raw weights."""

import pytest
import torch
from lightning.pytorch.callbacks import Callback

from conftest import finished_checkpoint
from imdb_sentiment.config.lightning_checks import weight_averages
from imdb_sentiment.config.memory import check_memory, table_need
from imdb_sentiment.errors import ConfigError
from imdb_sentiment.inference.evaluation import evaluate
from imdb_sentiment.run.training import train

DECAY = 0.5  # far from 1, so that an average that skipped or doubled a step would show
EMA = [
    "+callbacks.weight_ema._target_=imdb_sentiment.run.callbacks.WeightEMA",
    f"+callbacks.weight_ema.decay={DECAY}",
    "+callbacks.weight_ema.warmup=false",
]
SMALL = ["model=gru", "data.vocab_size=100", "data.maxlen=30", "callbacks.progress_bar.refresh_rate=0"]


class RecordSteps(Callback):
    """The raw weights after every optimizer step (class-level: Hydra builds the instance)."""

    steps: list[dict] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        RecordSteps.steps.append({k: t.detach().clone() for k, t in pl_module.state_dict().items()})


def decay_after(n: int, warmup: bool) -> float:
    return min(DECAY, (1 + n) / (10 + n)) if warmup else DECAY  # with warm-up: 0.18, 0.25, ... 0.5 from n = 8


@pytest.mark.parametrize("warmup", [False, True])
def test_checkpoints_hold_the_average_of_every_steps_weights(make_cfg, tmp_path, warmup):
    RecordSteps.steps = []
    summary = train(
        make_cfg(
            *SMALL,
            *EMA[:2],
            f"+callbacks.weight_ema.warmup={warmup}",
            f"+callbacks.record._target_={__name__}.RecordSteps",
            "trainer.max_epochs=2",
            "keep_resumable=true",
        )
    )
    steps = RecordSteps.steps
    assert len(steps) == 2 * 6  # 192 training reviews in batches of 32, two epochs
    expected = dict(steps[0])  # the first update copies, each later one moves a (1 - decay) share of the way
    for n, raw in enumerate(steps[1:], start=1):
        d = decay_after(n, warmup)
        expected = {k: d * expected[k] + (1 - d) * raw[k] for k in raw}

    last = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
    assert set(last["state_dict"]) == set(expected)
    for k, t in last["state_dict"].items():
        torch.testing.assert_close(t, expected[k], msg=k)
    for k, t in last["current_model_state"].items():  # the raw weights, for a resume to go on stepping
        torch.testing.assert_close(t, steps[-1][k], msg=k)
    moved = "net.rnn.weight_ih_l0"
    assert not torch.allclose(steps[-1][moved], expected[moved])  # the two differ: the test tells them apart

    # What was tested is the average of the best epoch, and eval.py reads the same weights back.
    best = next(p for p in (tmp_path / "run" / "checkpoints").glob("epoch*.ckpt"))
    result = evaluate(str(best), "test")
    assert result["acc"] == pytest.approx(summary["test_acc"], abs=1e-6)


def test_a_finished_run_keeps_only_the_average(make_cfg, tmp_path):
    train(make_cfg(*SMALL, *EMA, "trainer.max_epochs=1"))
    kept = torch.load(finished_checkpoint(tmp_path / "run"), map_location="cpu", weights_only=False)
    assert "current_model_state" not in kept and "averaging_state" not in kept  # slimmed: weights once on disk
    assert "state_dict" in kept


def test_the_memory_check_counts_the_averages_copy_of_the_weights(make_cfg, caplog):
    cfg = make_cfg("experiment=best_pair_bigru")
    assert list(weight_averages(cfg.callbacks)) == ["weight_ema"]  # among early stopping, a progress bar...
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # ...whose targets are looked up quietly
    _, _, plain, _ = table_need(cfg.data, cfg.model)
    _, _, averaged, what = table_need(cfg.data, cfg.model, extra=1)
    assert averaged == plain * 5 // 4 and "moving average" in what  # weights, gradient, 2 Adam moments, average
    between = (plain + averaged) // 2
    check_memory(make_cfg("experiment=best_pair_bigru", "~callbacks.weight_ema"), available=between)
    with pytest.raises(ConfigError, match="moving average of the weights"):
        check_memory(cfg, available=between)
    # Known by its class, not by a key: Lightning's own WeightAveraging (no decay) copies the weights as well.
    lightnings = "+callbacks.avg._target_=lightning.pytorch.callbacks.WeightAveraging"
    with pytest.raises(ConfigError, match="moving average of the weights"):
        check_memory(make_cfg("experiment=best_pair_bigru", "~callbacks.weight_ema", lightnings), available=between)
