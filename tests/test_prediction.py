"""predict encodes raw text exactly as training did: the same ids and the same probabilities as the data module's."""

import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from hydra.utils import instantiate

from conftest import REPO, finished_checkpoint
from imdb_sentiment.errors import UserError
from imdb_sentiment.inference.prediction import predict_proba
from imdb_sentiment.inference.trained_run import load_trained
from imdb_sentiment.run.training import train


@pytest.mark.parametrize(
    "overrides",
    [
        ["data.maxlen=30"],  # Keras' defaults: pre-padding, pre-truncation, start token
        ["data.maxlen=30", "data.padding=post", "data.truncating=post"],  # the other sides
        ["data.pad_mode=dynamic", "data.maxlen=null", "data.start_token=false"],
    ],
    ids=["fixed-pre", "fixed-post", "dynamic"],
)
def test_predict_matches_the_data_modules_encoding(make_cfg, tmp_path, tiny_imdb, overrides):
    cfg = make_cfg(
        "model=gru", "data.vocab_size=100", "trainer.max_epochs=1", "callbacks.progress_bar.refresh_rate=0", *overrides
    )
    train(cfg)
    trained = load_trained(finished_checkpoint(tmp_path / "run"))
    texts = pq.read_table(tiny_imdb / "plain_text" / "test-00000-of-00001.parquet")["text"].to_pylist()[:40]
    probs = predict_proba(trained, texts)

    dm = instantiate(cfg.data)  # the training pipeline: cached ids of the same test reviews
    dm.prepare_data()
    dm.setup("test")
    test = dm.splits["test"]
    with torch.no_grad():
        if cfg.data.pad_mode == "fixed":  # the whole batch as the test loader builds it
            expected = torch.sigmoid(trained.net(test[np.arange(40)][0])).numpy()
        else:  # each review alone, unpadded: what predict promises for dynamic padding
            expected = np.array([torch.sigmoid(trained.net(test[np.array([i])][0])).item() for i in range(40)])
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-6)


def test_review_with_nothing_to_read_is_a_user_error(make_cfg, tmp_path):
    train(
        make_cfg(
            "model=gru",
            "data.vocab_size=100",
            "trainer.max_epochs=1",
            "data.start_token=false",
            "callbacks.progress_bar.refresh_rate=0",
        )
    )
    trained = load_trained(finished_checkpoint(tmp_path / "run"))
    with pytest.raises(UserError, match="review 2 has no words"):
        predict_proba(trained, ["great film", "?!"])


def test_a_checkpoint_from_before_the_tokenizer_moved_to_the_data_module_still_loads(make_cfg, tmp_path):
    """Checkpoints written before this version kept the tokenizer at the top level, not in the data module's state."""
    cfg = make_cfg("model=gru", "data.vocab_size=100", "data.maxlen=30", "trainer.max_epochs=1")
    train(cfg)
    new = finished_checkpoint(tmp_path / "run")
    ckpt = torch.load(new, map_location="cpu", weights_only=False)
    assert "tokenizer_json" not in ckpt and ckpt["IMDBDataModule"]["tokenizer_json"].startswith("{")
    ckpt["tokenizer_json"] = ckpt.pop("IMDBDataModule")["tokenizer_json"]  # the old layout
    old = tmp_path / "old.ckpt"
    torch.save(ckpt, old)
    texts = ["Great excellent film!", "Awful, boring."]
    assert np.array_equal(predict_proba(load_trained(old), texts), predict_proba(load_trained(new), texts))


@pytest.mark.slow
def test_predict_py_reads_a_checkpoint_without_importing_lightning(make_cfg, tmp_path):
    """The few-reviews case costs about ``import torch``: the network is rebuilt as a plain module."""
    train(make_cfg("model=gru", "data.vocab_size=100", "data.maxlen=30", "trainer.max_epochs=1"))
    probe = (
        "import runpy, sys; sys.argv = sys.argv[1:]\n"
        "try: runpy.run_path('src/predict.py', run_name='__main__')\n"
        "finally: print('imported:', sorted({m.split('.')[0] for m in sys.modules} & {'lightning', 'torchmetrics'}))"
    )
    ckpt = finished_checkpoint(tmp_path / "run")
    out = subprocess.run(
        [sys.executable, "-c", probe, "predict.py", f"ckpt_path={ckpt}", "text=Great excellent film!"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.endswith("Great excellent film!\nimported: []\n"), out
