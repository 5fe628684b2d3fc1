"""Every preset composes and trains one fast_dev_run batch on the tiny data; training writes its results."""

import json

import pytest
from hydra.utils import get_class, instantiate

from conftest import EXPERIMENTS, finished_checkpoint
from imdb_sentiment.run.training import train


def test_presets_exist():
    assert {
        "keras_bilstm",
        "hw_task1",
        "hw_task2",
        "hw_task3",
        "hw_wrapup",
        "hw2_early_stopping",
        "practicum_rnn",
        "practicum_lstm",
        "practicum_gru",
        "practicum_bilstm",
        "practicum_stacked",
        "subword_bilstm",
    } <= set(EXPERIMENTS)


# best_bilstm's whole reviews take about 20 s even for one batch: in the slow tier.
SLOW_PRESETS = {"best_bilstm"}


@pytest.mark.parametrize(
    "experiment", [pytest.param(e, marks=pytest.mark.slow) if e in SLOW_PRESETS else e for e in [None, *EXPERIMENTS]]
)
def test_preset_runs_fast_dev_run(experiment, make_cfg, tmp_path):
    overrides = [f"experiment={experiment}"] if experiment else []
    cfg = make_cfg(*overrides, "debug=fast")
    summary = train(cfg)
    assert summary["epochs_run"] == 1 and summary["test_acc"] is not None
    assert json.loads((tmp_path / "run" / "summary.json").read_text())["params"] == summary["params"]


@pytest.mark.parametrize(
    "experiment,expected",
    [
        (
            "keras_bilstm",
            dict(model="bilstm", batch_size=32, epochs=2, val="test", optimizer="Adam", vocab=20000, maxlen=200),
        ),
        (
            "practicum_gru",
            dict(model="gru", batch_size=128, epochs=4, val=0.2, optimizer="RMSprop", vocab=8000, maxlen=500),
        ),
        (
            "practicum_rnn",
            dict(model="rnn", batch_size=128, epochs=10, val=0.2, optimizer="RMSprop", vocab=8000, maxlen=500),
        ),
        (
            "subword_bilstm",
            dict(
                model="subword_bilstm", batch_size=64, epochs=10, val="test", optimizer="Adam", vocab=8185, maxlen=None
            ),
        ),
    ],
)
def test_preset_values(experiment, expected, make_cfg):
    cfg = make_cfg(f"experiment={experiment}")
    assert (
        cfg.hydra.runtime.choices["model"],
        cfg.data.batch_size,
        cfg.trainer.max_epochs,
        cfg.data.val_split,
        get_class(cfg.optimizer._target_).__name__,
        cfg.data.vocab_size,
        cfg.data.maxlen,
    ) == tuple(expected.values())


@pytest.mark.parametrize(
    "experiment,monitor,mode,patience,max_epochs",
    [("hw_wrapup", "val/acc", "max", 3, 10), ("hw2_early_stopping", "val/loss", "min", 2, 10)],
)
def test_early_stopping_presets(experiment, monitor, mode, patience, max_epochs, make_cfg):
    cfg = make_cfg(f"experiment={experiment}")
    es, ckpt = cfg.callbacks.early_stopping, cfg.callbacks.model_checkpoint
    assert (es.monitor, es.mode, es.patience, cfg.trainer.max_epochs) == (monitor, mode, patience, max_epochs)
    assert (ckpt.monitor, ckpt.mode) == (monitor, mode)  # "restore best weights" by the same measure


def test_early_stopping_stops_and_tests_the_best_checkpoint(make_cfg):
    # A learning rate too small to change anything: accuracy never improves after the first epoch.
    s = train(
        make_cfg(
            "model=gru",
            "data.vocab_size=100",
            "callbacks=early_stopping",
            "callbacks.early_stopping.patience=1",
            "trainer.max_epochs=6",
            "optimizer.lr=1e-12",
        )
    )
    assert (s["epochs_run"], s["stopped_early_at_epoch"], s["best_epoch"]) == (2, 2, 1)
    assert s["tested_checkpoint"] == {"monitor": "val/acc", "epoch": 1}


@pytest.mark.slow
def test_short_real_run_on_tiny_data_learns_and_keeps_best(make_cfg, tmp_path):
    cfg = make_cfg(
        "model=gru",
        "data.vocab_size=100",
        "data.batch_size=16",
        "trainer.max_epochs=4",
        "optimizer.lr=0.01",
        "callbacks=early_stopping",
    )
    s = train(cfg)
    assert s["best_val_acc"] > 0.8 and s["test_acc"] > 0.8  # the tiny data's sentiment words are easy
    ckpts = {p.name for p in (tmp_path / "run" / "checkpoints").iterdir()}
    assert len(ckpts) == 1 and any(n.startswith(f"epoch{s['best_epoch'] - 1:02d}-acc") for n in ckpts)
    assert list((tmp_path / "run" / "tensorboard").glob("events.out.tfevents.*"))


def test_checkpoint_rebuilds_the_run_without_the_data(make_cfg, tmp_path):
    """A checkpoint carries the resolved config and the tokenizer: enough to rebuild and encode raw text."""
    import torch
    from hydra.utils import instantiate
    from tokenizers import Tokenizer

    from imdb_sentiment.data.text_encoding import encode
    from imdb_sentiment.models import SentimentClassifier

    cfg = make_cfg("model=lstm", "data.vocab_size=100", "data.maxlen=30", "trainer.max_epochs=1")
    train(cfg)
    ckpt = torch.load(finished_checkpoint(tmp_path / "run"), weights_only=False)
    config, tok = ckpt["run_config"], Tokenizer.from_str(ckpt["IMDBDataModule"]["tokenizer_json"])
    assert config["data"]["maxlen"] == 30 and config["model"]["cell"] == "lstm"
    module = SentimentClassifier(instantiate(config["model"]), instantiate(config["optimizer"]), config)
    module.load_state_dict(ckpt["state_dict"])
    ids = torch.from_numpy(encode(tok, ["Great excellent film!", "Awful, boring."]).pad(30)).long()
    assert ids.max() < 100 and (ids[:, -1] != 0).all()
    assert module.eval()(ids).shape == (2,)


def test_tiny_subword_vocabulary_is_a_config_error(make_cfg):
    from imdb_sentiment.errors import ConfigError

    with pytest.raises(ConfigError, match="data.vocab_size=5: too small for the subword tokenizer"):
        train(make_cfg("data=imdb_subword", "data.vocab_size=5", "model=subword_bilstm"))


def test_rmsprop_rules_by_keras_version(make_cfg):
    from hydra.utils import instantiate
    from torch import nn

    params = [nn.Parameter(__import__("torch").zeros(2))]
    keras2 = instantiate(make_cfg("optimizer=rmsprop").optimizer)(params)
    keras3 = instantiate(make_cfg("optimizer=rmsprop_keras3").optimizer)(params)
    assert type(keras2).__name__ == "RMSprop" and keras2.defaults["alpha"] == 0.9 and keras2.defaults["eps"] == 1e-7
    assert type(keras3).__name__ == "KerasRMSprop" and keras3.defaults["rho"] == 0.9


@pytest.mark.parametrize(
    "experiment,rnn",
    [("practicum_gru", "KerasRecurrent"), ("practicum_stacked", "LSTM"), ("practicum_lstm", "LSTM")],
)
def test_only_practicum_gru_runs_keras_2_cells(experiment, rnn, make_cfg):
    """README: practicum_gru uses Keras 2's GRU (reset gate before the product, hard-sigmoid gates, 3 seeds closer
    to its notebook); the LSTM presets keep PyTorch's fused layer (hard-sigmoid gates took stacked further)."""
    cfg = make_cfg(f"experiment={experiment}")
    net = instantiate(cfg.model)
    assert type(net.rnn).__name__ == rnn
    if rnn == "KerasRecurrent":
        assert (cfg.model.reset_after, cfg.model.recurrent_activation) == (False, "hard_sigmoid")
