"""Every model family's checkpoint, written by a short real run and read back: eval.py's accuracy is the run's
own test accuracy, and predict's probabilities are the model's on the data module's ids of the same reviews."""

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from hydra.utils import instantiate

from conftest import finished_checkpoint
from imdb_sentiment.inference.evaluation import evaluate
from imdb_sentiment.inference.prediction import predict_proba
from imdb_sentiment.inference.trained_run import load_trained
from imdb_sentiment.run.training import train

pytestmark = pytest.mark.slow

SMALL = ["data.vocab_size=120", "data.maxlen=30", "model.embed_dim=8"]
FAMILIES = {
    "mlp": ["model=mlp", *SMALL, "model.hidden=[8]"],
    "bilstm (2 layers)": ["model=bilstm", *SMALL, "model.hidden_size=8"],
    "bag, hashed pairs, sparse": [
        "model=ngram_bag",
        *SMALL,
        "model.buckets=500",
        "model.sparse=true",
        "optimizer=lazy_adam",
        "trainer.gradient_clip_val=null",
        "data.pad_mode=dynamic",
    ],
    "naive-Bayes n-grams": [
        "model=nb_ngrams",
        "data.vocab_size=120",
        "data.maxlen=30",
        "model.buckets=500",
        "data.pad_mode=dynamic",
    ],
    "ensemble (naive-Bayes n-grams + bag)": [
        "model=nb_bag_ensemble",
        "data.vocab_size=120",
        "data.maxlen=30",
        "model.members.nb.buckets=500",
        "model.members.bag.buckets=500",
        "model.members.bag.embed_dim=8",
        "data.pad_mode=dynamic",
    ],
    "ensemble of two pair BiGRUs, weights averaged": [
        "experiment=best_pair_bigru_x2",
        "data.vocab_size=120",
        "data.maxlen=30",
        *(f"model.members.{m}.{key}" for m in "ab" for key in ("embed_dim=8", "hidden_size=8", "pair_buckets=500")),
    ],
    "subword": [
        "data=imdb_subword",
        "model=subword_bilstm",
        "data.vocab_size=300",
        "model.embed_dim=8",
        "model.hidden_size=8",
        "model.dense=[8]",
    ],
    "packed": ["model=gru", *SMALL, "model.packed=true", "data.pad_mode=dynamic", "data.bucket=true"],
    "pooled": ["model=bilstm_small", *SMALL, "model.pooling=max_mean"],
    "recurrent, hashed pairs, sparse": [
        "experiment=best_pair_bigru",
        *SMALL,
        "model.hidden_size=8",
        "model.pair_buckets=500",
        "model.pair_min_count=2",
        "model.word_dropout=0.2",
    ],
}


@pytest.mark.parametrize("family", FAMILIES)
def test_checkpoint_is_read_back_by_eval_and_predict(family, make_cfg, tmp_path, tiny_imdb):
    cfg = make_cfg(*FAMILIES[family], "trainer.max_epochs=1", "callbacks.progress_bar.refresh_rate=0")
    summary = train(cfg)
    ckpt = finished_checkpoint(tmp_path / "run")  # the tested one
    assert summary["tested_checkpoint"]["epoch"] in (None, 1)

    result = evaluate(str(ckpt), "test")
    assert result["acc"] == pytest.approx(summary["test_acc"], abs=1e-6)
    assert result["reviews"] == 120

    trained = load_trained(ckpt)
    texts = pq.read_table(tiny_imdb / "plain_text" / "test-00000-of-00001.parquet")["text"].to_pylist()[:16]
    probs = predict_proba(trained, texts)
    dm = instantiate(cfg.data)  # the training pipeline's ids for the same reviews
    dm.prepare_data()
    dm.setup("test")
    test = dm.splits["test"]
    with torch.no_grad():
        if cfg.data.pad_mode == "fixed":
            expected = torch.sigmoid(trained.net(test[np.arange(16)][0])).numpy()
        else:
            expected = np.array([torch.sigmoid(trained.net(test[np.array([i])][0])).item() for i in range(16)])
    np.testing.assert_allclose(probs, expected, rtol=0, atol=1e-6)
