"""metrics.json: one row an epoch, written as training goes, kept across a resumed run."""

import json

from conftest import compose_train
from imdb_sentiment.run.training import train


def test_resumed_run_keeps_the_earlier_epochs(make_cfg, tmp_path, tiny_imdb):
    common = ["model=gru", "data.vocab_size=100", "data.maxlen=30", "callbacks.progress_bar.refresh_rate=0"]
    train(make_cfg(*common, "trainer.max_epochs=2", "keep_resumable=true"))  # to be trained on
    first = json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"]
    assert [e["epoch"] for e in first] == [1, 2]
    # A new run folder that resumes the first run's last checkpoint for one more epoch.
    train(
        compose_train(
            [
                f"data.source={tiny_imdb}",
                "trainer.accelerator=cpu",
                *common,
                "trainer.max_epochs=3",
                f"ckpt_path={tmp_path}/run/checkpoints/last.ckpt",
            ],
            tmp_path / "resumed",
            tmp_path / "cache",
        )
    )
    resumed = json.loads((tmp_path / "resumed" / "metrics.json").read_text())["epochs"]
    assert [e["epoch"] for e in resumed] == [1, 2, 3] and resumed[:2] == first


def test_epochs_without_validation_have_no_validation_values(make_cfg, tmp_path):
    s = train(
        make_cfg(
            "model=gru",
            "data.vocab_size=100",
            "data.maxlen=30",
            "trainer.max_epochs=2",
            "trainer.check_val_every_n_epoch=2",
            "callbacks.progress_bar.refresh_rate=0",
        )
    )
    epochs = json.loads((tmp_path / "run" / "metrics.json").read_text())["epochs"]
    assert epochs[0]["val_acc"] is None and epochs[0]["train_acc"] is not None
    assert epochs[1]["val_acc"] == s["best_val_acc"]
    # Seconds of each pass, for benchmarks/speed.py: no validation pass in epoch 1.
    assert epochs[0]["val_seconds"] is None and epochs[1]["val_seconds"] > 0
    assert all(e["train_seconds"] > 0 for e in epochs)
