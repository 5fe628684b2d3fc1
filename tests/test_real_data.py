"""On the real IMDB reviews (../shared/data/imdb): a small model learns within about a minute on the CPU,
and its checkpoint alone labels the notebook's two example reviews (seed 003) correctly."""

import subprocess
import sys

import pytest

from conftest import REPO, to_lists
from imdb_sentiment.run.training import train

pytestmark = pytest.mark.slow


def test_gru_learns_real_imdb_and_predicts_the_notebook_examples(real_imdb, make_cfg, tmp_path):
    cfg = make_cfg(
        "model=gru",
        "data.vocab_size=10000",
        "data.train_size=10000",
        "data.test_size=2000",
        "data.batch_size=64",
        "trainer.max_epochs=3",
        "seed=1",
        source=real_imdb,
    )
    s = train(cfg)
    assert s["test_acc"] >= 0.75, s  # seen: 0.843 in about 30 s on 2 CPU cores
    assert s["best_val_acc"] >= 0.75 and s["params"] == 10000 * 32 + 6240 + 33

    (best,) = [p for p in (tmp_path / "run" / "checkpoints").glob("epoch*.ckpt")]
    r = subprocess.run(
        [
            sys.executable,
            "src/predict.py",
            f"ckpt_path={best}",
            "text=An excellent movie!",
            "text=Don't watch this movie - poor acting, poor script, bad direction.",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    labels = [line.split("\t")[1] for line in r.stdout.splitlines()]
    assert labels == ["positive", "negative"], r.stdout


def test_word_tokenizer_matches_hugging_face_on_real_reviews(real_imdb):
    """The Arrow word path against Hugging Face's trainer and encoder: same vocabulary, same ids."""
    import pyarrow.parquet as pq

    from imdb_sentiment.data.text_encoding import encode, fit_tokenizer
    from test_text_encoding import hugging_face_word_tokenizer

    (train_file,) = real_imdb.glob("**/train-*.parquet")
    (test_file,) = real_imdb.glob("**/test-*.parquet")
    fit_on = pq.read_table(train_file).column("text").to_pylist()[::5]  # 5,000 reviews of both labels
    check = pq.read_table(test_file).column("text").to_pylist()[::10]
    ours, ref = fit_tokenizer("word", 20000, fit_on, True), hugging_face_word_tokenizer(fit_on, 20000, True)
    assert ours.get_vocab() == ref.get_vocab()
    assert to_lists(encode(ours, check)) == [e.ids for e in ref.encode_batch(check)]
