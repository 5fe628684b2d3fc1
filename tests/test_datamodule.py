"""The DataModule: cache hits and misses, splits, fixed and dynamic batches."""

import numpy as np
import pytest
import torch
from hydra.utils import instantiate

from conftest import write_tiny_imdb
from imdb_sentiment.data import cache
from imdb_sentiment.data import datamodule as dm_module
from imdb_sentiment.data.text_encoding import UNK_ID


def build(make_cfg, *overrides, source=None):
    dm = instantiate(make_cfg(*overrides, source=source).data)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_second_run_hits_the_cache(make_cfg, monkeypatch):
    first = build(make_cfg)
    calls = []
    monkeypatch.setattr(dm_module, "load_raw_splits", lambda *a: calls.append(a))  # a miss would call it
    second = build(make_cfg)
    assert second.entry == first.entry and not calls
    assert torch.equal(first.splits["train"].ids, second.splits["train"].ids)
    assert not list(first.entry.parent.glob(".tmp-*"))  # no leftovers


@pytest.mark.parametrize(
    "override",
    [
        "data.vocab_size=300",
        "data.val_split=0.25",
        "data.train_size=100",
        "data.test_size=60",
        "data.split_seed=7",
        "data.tokenizer=subword",
        "data.start_token=false",
    ],
)
def test_every_keyed_value_changes_the_entry(make_cfg, override):
    base = instantiate(make_cfg().data)
    other = instantiate(make_cfg(override).data)
    assert cache.entry_name(base.spec) != cache.entry_name(other.spec)


def test_maxlen_and_truncation_share_one_entry_of_untruncated_ids(make_cfg):
    """The cache holds whole reviews; setup cuts them, so a grid over maxlen encodes once."""
    base = build(make_cfg, "data.maxlen=50")
    for override in ("data.maxlen=7", "data.truncating=post", "data.pad_mode=dynamic"):
        other = build(make_cfg, override)
        assert other.entry == base.entry, override
    short, post = build(make_cfg, "data.maxlen=7"), build(make_cfg, "data.maxlen=7", "data.truncating=post")
    whole = build(make_cfg, "data.pad_mode=dynamic", "data.maxlen=null")
    first = whole.splits["train"].ids.take(np.array([0]))  # review 0's untruncated ids
    ids = first.values[: first.lengths[0]]
    n = min(7, len(ids))
    assert short.splits["train"].ids[0, 7 - n :].tolist() == ids[-n:].tolist()  # pre: its last 7 ids
    assert post.splits["train"].ids[0, 7 - n :].tolist() == ids[:n].tolist()  # post: its first 7


def test_other_source_files_change_the_entry_and_rebuild(make_cfg, tmp_path):
    first = build(make_cfg)
    other_data = write_tiny_imdb(tmp_path / "other", n_train=200, seed=1)
    second = build(make_cfg, source=other_data)
    assert second.entry != first.entry and first.entry.is_dir() and second.entry.is_dir()
    assert len(second.splits["train"]) == 160


def test_tokenizer_never_sees_validation_or_test_rows(tmp_path, make_cfg):
    """Every review carries a word of its own: known in train, out-of-vocabulary in validation and test."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "marked" / "plain_text").mkdir(parents=True)
    for split, n in (("train", 100), ("test", 40)):
        texts = [f"{'good fine' if i % 2 else 'bad poor'} {split}marker{i}" for i in range(n)]
        pq.write_table(
            pa.table({"text": texts, "label": [i % 2 for i in range(n)]}),
            tmp_path / "marked" / "plain_text" / f"{split}-00000-of-00001.parquet",
        )
    dm = build(make_cfg, "data.vocab_size=1000", "data.maxlen=3", source=tmp_path / "marked")
    unk = {name: (ds.ids == UNK_ID).any(dim=1) for name, ds in dm.splits.items()}
    assert not unk["train"].any() and unk["val"].all() and unk["test"].all()
    assert (len(dm.splits["train"]), len(dm.splits["val"])) == (80, 20)


def test_validation_rows_do_not_depend_on_the_test_subset(make_cfg):
    a = build(make_cfg)
    b = build(make_cfg, "data.test_size=40")
    assert torch.equal(a.splits["val"].ids, b.splits["val"].ids)


def test_entry_name_shows_the_key(make_cfg):
    dm = build(make_cfg, "data.vocab_size=300", "data.maxlen=50")
    assert dm.entry.name.startswith("word300-val0.2-nNone_None-s1234-")
    assert {p.name for p in dm.entry.iterdir()} == {"splits.npz", "tokenizer.json", "meta.json"}


def test_validation_split_is_balanced_and_disjoint(make_cfg):
    dm = build(make_cfg, "data.val_split=0.25")
    train, val = dm.splits["train"], dm.splits["val"]
    assert (len(train), len(val), len(dm.splits["test"])) == (180, 60, 120)
    assert train.labels.mean() == val.labels.mean() == 0.5
    rows = {tuple(r) for r in train.ids.tolist()}
    assert not any(tuple(r) in rows for r in val.ids.tolist())


def test_validate_on_test_and_subsets(make_cfg):
    dm = build(make_cfg, "data.val_split=test", "data.train_size=100", "data.test_size=40")
    assert dm.splits["val"] is dm.splits["test"]
    assert (len(dm.splits["train"]), len(dm.splits["test"])) == (100, 40)
    assert dm.splits["train"].labels.mean() == 0.5


def test_fixed_batches_are_pre_padded(make_cfg):
    dm = build(make_cfg, "data.maxlen=80", "data.batch_size=16")
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (16, 80) and y.shape == (16,) and y.dtype == torch.float32
    assert (x[:, -1] != 0).all()  # pre-padding: every review ends at the last position
    assert len(dm.train_dataloader()) == int(np.ceil(192 / 16))


def test_device_resident_split_batches_on_its_device(make_cfg):
    """What a GPU run does (data.device_resident): the split moves once, each batch is indexed on its device.
    The meta device stands in for the GPU this machine lacks."""
    dm = build(make_cfg, "data.maxlen=80", "data.batch_size=16")
    on_cpu = next(iter(dm.train_dataloader()))
    dm.splits["train"].to(torch.device("meta"))
    x, y = next(iter(dm.train_dataloader()))
    assert x.device.type == y.device.type == "meta" and x.shape == on_cpu[0].shape and x.dtype == on_cpu[0].dtype


def test_dynamic_padded_batches_with_buckets(make_cfg):
    dm = build(make_cfg, "data=imdb_subword", "data.vocab_size=300", "data.batch_size=8", "data.bucket=true")
    lengths = dm.splits["train"].lengths
    widths, spreads = [], []
    for x, _ in dm.train_dataloader():
        nonpad = (x != 0).sum(1)
        widths.append(x.shape[1])
        spreads.append(int(nonpad.max() - nonpad.min()))
        assert (x[:, 0] != 0).all()  # post-padding: every review starts at position 0
    assert len(set(widths)) > 3 and max(widths) == lengths.max()
    assert np.median(spreads) < np.median(np.abs(np.diff(lengths)))  # buckets hold similar lengths


def test_a_maxlen_past_the_longest_review_is_named_with_the_length_that_does(make_cfg, caplog):
    dm = build(make_cfg, "data.maxlen=5000")
    longest = max(int(ids.lengths.max()) for ids, _ in cache.load_entry(dm.entry)[0].values())
    assert f"data.maxlen=5000 is longer than the longest review in this data ({longest} tokens)" in caplog.text
    assert f"data.maxlen={longest} reads the same words" in caplog.text
    caplog.clear()
    build(make_cfg, f"data.maxlen={longest}")
    assert "longer than the longest review" not in caplog.text
