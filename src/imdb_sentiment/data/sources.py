"""Read the labeled IMDB splits from the Hub, a Hub-layout parquet folder, or the aclImdb release.

Every source yields the same thing: ``{"train": Dataset, "test": Dataset}`` with columns
``text`` (str) and ``label`` (0 = negative, 1 = positive).
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
from pathlib import Path

import datasets

from imdb_sentiment.errors import DataSourceError

SPLITS = ("train", "test")
_ACL_NAME = re.compile(r"(?:^|/)aclImdb/(train|test)/(pos|neg)/(\d+)_\d+\.txt$")


def hf_offline() -> bool:
    """Whether Hugging Face's offline variables are set, as on compute nodes without internet."""
    return any(
        os.environ.get(v, "").strip().lower() in ("1", "true", "yes", "on")
        for v in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")
    )


def looks_like_path(source: str) -> bool:
    """A Hub id is ``owner/name``; anything that exists or is spelt like a path is a local source."""
    return (
        Path(source).expanduser().exists() or source.startswith((".", "/", "~")) or source.endswith((".tar.gz", ".tgz"))
    )


def check_exists(source: str) -> None:
    """A source spelt like a path must exist; a Hub id is checked when it is loaded."""
    if looks_like_path(source) and not Path(source).expanduser().exists():
        raise DataSourceError(
            f"data.source={source}: no such file or folder (want a Hub id, a folder with "
            "plain_text/*.parquet, an aclImdb/ folder or aclImdb_v1.tar.gz)"
        )


def load_raw_splits(source: str) -> dict[str, datasets.Dataset]:
    """Load train and test from ``source`` and check that they look like labeled IMDB."""
    check_exists(source)
    if looks_like_path(source):
        splits = _load_local(Path(source).expanduser(), source)
    else:
        splits = _load_hub(source)
    for name, ds in splits.items():
        _check_split(source, name, ds)
    return splits


def source_fingerprint(source: str) -> str:
    """What identifies the source's content cheaply: the Hub id, or the local files' names and sizes."""
    if not looks_like_path(source):
        return source
    path = Path(source).expanduser().resolve()
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    h = hashlib.sha256(str(path).encode())
    for f in files:
        if f.suffix in (".parquet", ".gz", ".tgz") or f.parent.name in ("pos", "neg"):
            h.update(f"{f.relative_to(path) if f != path else f.name}:{f.stat().st_size}".encode())
    return f"{path}#{h.hexdigest()[:16]}"


def _load_hub(source: str) -> dict[str, datasets.Dataset]:
    try:
        loaded = datasets.load_dataset(source)
    except Exception as exc:  # the Hub raises many kinds of errors when it is unreachable
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataSourceError(
            f"data.source={source}: no local folder of that name, and could not load it from the Hugging Face Hub "
            f"({first[:160]}). "
            f"Without internet, use a local copy: on a machine with internet run `hf download {source} "
            "--repo-type dataset --local-dir data/imdb`, copy data/imdb here and pass data.source=data/imdb "
            "(an aclImdb/ folder or aclImdb_v1.tar.gz works too)"
        ) from exc
    missing = [s for s in SPLITS if s not in loaded]
    if missing:
        raise DataSourceError(
            f"data.source={source}: the dataset has no {'/'.join(missing)} split "
            f"(found {', '.join(loaded)}); want train and test"
        )
    return {s: loaded[s] for s in SPLITS}


def _load_local(path: Path, source: str) -> dict[str, datasets.Dataset]:
    if path.is_file():
        if path.name.endswith((".tar.gz", ".tgz")):
            return _load_acl_tar(path, source)
        raise DataSourceError(f"data.source={source}: a file, but not aclImdb_v1.tar.gz (want a .tar.gz or a folder)")
    parquet = {s: sorted(path.glob(f"**/{s}-*.parquet")) for s in SPLITS}
    if any(parquet.values()):
        missing = [s for s, files in parquet.items() if not files]
        if missing:
            raise DataSourceError(
                f"data.source={source}: found parquet files but none for the "
                f"{'/'.join(missing)} split (want {'/'.join(SPLITS)}-*.parquet)"
            )
        loaded = datasets.load_dataset("parquet", data_files={s: [str(f) for f in fs] for s, fs in parquet.items()})
        return {s: loaded[s] for s in SPLITS}
    root = path / "aclImdb" if (path / "aclImdb").is_dir() else path
    if (root / "train").is_dir() or (root / "test").is_dir():
        return _load_acl_folder(root, source)
    raise DataSourceError(
        f"data.source={source}: no IMDB data found there (want plain_text/train-*.parquet and "
        "test-*.parquet, an aclImdb/ folder with train/ and test/, or aclImdb_v1.tar.gz)"
    )


def _acl_dataset(rows: dict[str, list[tuple[int, int, str]]], source: str) -> dict[str, datasets.Dataset]:
    out = {}
    for split in SPLITS:
        items = sorted(rows.get(split, []))  # negatives first, then positives, by review id, as on the Hub
        if not items:
            raise DataSourceError(
                f"data.source={source}: the aclImdb {split}/ split is missing or has no "
                f"{split}/pos/*.txt and {split}/neg/*.txt reviews"
            )
        out[split] = datasets.Dataset.from_dict(
            {"text": [t for _, _, t in items], "label": [lab for lab, _, _ in items]},
            features=datasets.Features({"text": datasets.Value("string"), "label": datasets.Value("int64")}),
        )
    return out


def _load_acl_folder(root: Path, source: str) -> dict[str, datasets.Dataset]:
    rows: dict[str, list] = {}
    for split in SPLITS:
        for label, sub in ((0, "neg"), (1, "pos")):
            for f in (root / split / sub).glob("*.txt"):
                review_id = int(f.name.split("_")[0])
                rows.setdefault(split, []).append((label, review_id, f.read_text(encoding="utf-8")))
    return _acl_dataset(rows, source)


def _load_acl_tar(path: Path, source: str) -> dict[str, datasets.Dataset]:
    rows: dict[str, list] = {}
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                m = _ACL_NAME.search(member.name)
                if m and member.isfile():
                    text = tar.extractfile(member).read().decode("utf-8")
                    rows.setdefault(m[1], []).append((int(m[2] == "pos"), int(m[3]), text))
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataSourceError(f"data.source={source}: cannot read the archive ({exc})") from exc
    return _acl_dataset(rows, source)


def _check_split(source: str, name: str, ds: datasets.Dataset) -> None:
    missing = {"text", "label"} - set(ds.column_names)
    if missing:
        raise DataSourceError(
            f"data.source={source}: the {name} split lacks column(s) {', '.join(sorted(missing))} "
            f"(has {', '.join(ds.column_names)}; want text and label)"
        )
    if len(ds) == 0:
        raise DataSourceError(f"data.source={source}: the {name} split is empty")
    bad = set(ds.unique("label")) - {0, 1}
    if bad:
        raise DataSourceError(f"data.source={source}: the {name} split has labels {sorted(bad)[:5]} outside {{0, 1}}")
