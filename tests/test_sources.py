"""Sources: Hub-layout parquet, the aclImdb folder and its tarball give the same rows; bad data is named."""

import tarfile

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from imdb_sentiment.data.sources import load_raw_splits
from imdb_sentiment.errors import DataSourceError


def rows(splits):
    return {s: sorted(zip(d["text"], d["label"])) for s, d in splits.items()}


def write_acl(root, splits):
    for split, ds in splits.items():
        for i, (text, label) in enumerate(zip(ds["text"], ds["label"])):
            folder = root / "aclImdb" / split / ("pos" if label else "neg")
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{i}_{7 if label else 2}.txt").write_text(text, encoding="utf-8")


def test_same_rows_from_every_local_source(tiny_imdb, tmp_path):
    parquet = load_raw_splits(str(tiny_imdb))
    assert {s: len(d) for s, d in parquet.items()} == {"train": 240, "test": 120}
    write_acl(tmp_path, parquet)
    with tarfile.open(tmp_path / "aclImdb_v1.tar.gz", "w:gz") as tar:
        tar.add(tmp_path / "aclImdb", arcname="aclImdb")
    folder = load_raw_splits(str(tmp_path / "aclImdb"))
    archive = load_raw_splits(str(tmp_path / "aclImdb_v1.tar.gz"))
    assert rows(folder) == rows(parquet) == rows(archive)
    assert folder["train"]["label"][:120] == [0] * 120  # negatives first, as on the Hub


def write_parquet(root, train: dict, test: dict | None = None):
    (root / "plain_text").mkdir(parents=True)
    for split, cols in (("train", train), ("test", test or train)):
        pq.write_table(pa.table(cols), root / "plain_text" / f"{split}-00000-of-00001.parquet")
    return str(root)


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: write_parquet(p, {"review": ["a"], "label": [0]}), r"lacks column\(s\) text"),
        (lambda p: write_parquet(p, {"text": ["a", "b"], "label": [0, 2]}), r"labels \[2\] outside \{0, 1\}"),
        (
            lambda p: (
                (p / "plain_text").mkdir()
                or pq.write_table(pa.table({"text": ["a"], "label": [1]}), p / "plain_text" / "train-0.parquet")
                or str(p)
            ),
            "none for the test split",
        ),
        (lambda p: str(p), "no IMDB data found"),
        (lambda p: str(p / "missing"), "no such file or folder"),
        (
            lambda p: (
                (p / "aclImdb" / "train" / "pos").mkdir(parents=True)
                or (p / "aclImdb" / "train" / "pos" / "1_9.txt").write_text("fine")
                and str(p / "aclImdb")
            ),
            "aclImdb test/ split is missing",
        ),
    ],
)
def test_bad_sources_are_named(tmp_path, make, message):
    source = make(tmp_path)
    with pytest.raises(DataSourceError, match=message) as err:
        load_raw_splits(source)
    assert str(err.value).startswith(f"data.source={source}:") and "\n" not in str(err.value)


def test_unreachable_hub_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf" / "datasets")
    with pytest.raises(
        DataSourceError,
        match="no local folder of that name, and could not load it from the Hugging Face Hub.*local copy",
    ):
        load_raw_splits("stanfordnlp/imdb")
