"""On the real IMDB reviews (../shared/data/imdb): a small model learns within about a minute on the CPU."""
from imdb_sentiment.training import train


def test_gru_learns_real_imdb(real_imdb, make_cfg):
    cfg = make_cfg("model=gru", "data.vocab_size=10000", "data.train_size=10000", "data.test_size=2000",
                   "data.batch_size=64", "trainer.max_epochs=3", "seed=1", source=real_imdb)
    s = train(cfg)
    assert s["test_acc"] >= 0.75, s  # seen: 0.843 in about 30 s on 2 CPU cores
    assert s["best_val_acc"] >= 0.75 and s["params"] == 10000 * 32 + 6240 + 33
