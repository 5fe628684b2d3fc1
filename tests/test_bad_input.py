"""The catalogue of wrong inputs (README, "Bad input"): each answered before any training with exit code 2,
one line on stderr naming the key, the value and what is allowed, no traceback, and a run folder holding
nothing but Hydra's log and its .hydra/ record of the config.

Each train.py row runs in this process (the same checks, composed the same way: a second each instead of a
fresh interpreter); one row per entry point runs as a real subprocess for the exit code and the stderr line."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, finished_checkpoint
from imdb_sentiment.run.training import train

TINY_MODEL = ["model=gru", "data.vocab_size=100", "data.maxlen=30"]

# (script, arguments, "key=value" the message opens with, what it says is allowed); capitals are filled in below
CATALOGUE = {
    "vocab too small": ("train", ["data.vocab_size=2"], "data.vocab_size=2", "integer >= 3"),
    "zero maxlen": ("train", ["data.maxlen=0"], "data.maxlen=0", "positive integer"),
    "zero batch": ("train", ["data.batch_size=0"], "data.batch_size=0", "positive integer"),
    "batch not a number": ("train", ["data.batch_size=abc"], "data.batch_size=abc", "positive integer"),
    "negative eval batch": (
        "train",
        ["data.eval_batch_size=-4"],
        "data.eval_batch_size=-4",
        "positive integer or null",
    ),
    "val split above 1": ("train", ["data.val_split=1.5"], "data.val_split=1.5", "between 0 and 1"),
    "val split zero": ("train", ["data.val_split=0"], "data.val_split=0", "between 0 and 1"),
    "val split a word": ("train", ["data.val_split=validation"], "data.val_split=validation", 'or "test"'),
    "train size 1": ("train", ["data.train_size=1"], "data.train_size=1", "integer >= 2"),
    "padding side": ("train", ["data.padding=middle"], "data.padding=middle", "pre, post"),
    "truncating side": ("train", ["data.truncating=both"], "data.truncating=both", "pre, post"),
    "pad mode": ("train", ["data.pad_mode=ragged"], "data.pad_mode=ragged", "fixed, dynamic"),
    "tokenizer kind": ("train", ["data.tokenizer=char"], "data.tokenizer=char", "word, subword"),
    "bucket not a bool": ("train", ["data.bucket=maybe"], "data.bucket=maybe", "true or false"),
    "bucket with fixed": ("train", ["data.bucket=true"], "data.bucket=True", "needs data.pad_mode=dynamic"),
    "mlp with dynamic": (
        "train",
        ["model=mlp", "data.pad_mode=dynamic"],
        "data.pad_mode=dynamic",
        "needs data.pad_mode=fixed",
    ),
    "seed a word": ("train", ["seed=abc"], "seed=abc", "integer"),
    "negative lr": ("train", ["optimizer.lr=-0.1"], "optimizer.lr=-0.1", "positive number"),
    "dropout 1.5": ("train", ["model=gru", "model.dropout=1.5"], "model.dropout=1.5", "probability in [0, 1)"),
    "unknown cell": ("train", ["model.cell=transformer"], "model.cell=transformer", "rnn, lstm, gru"),
    "unknown pooling": ("train", ["model.pooling=attention"], "model.pooling=attention", "last, max, mean, max_mean"),
    "negative buckets": ("train", ["model=ngram_bag", "model.buckets=-1"], "model.buckets=-1", "non-negative integer"),
    "sparse with adam": (
        "train",
        ["model=ngram_bag", "model.sparse=true"],
        "optimizer._target_=torch.optim.Adam",
        "use optimizer=lazy_adam",
    ),
    "sparse with clipping": (
        "train",
        ["model=ngram_bag", "model.sparse=true", "optimizer=lazy_adam", "trainer.gradient_clip_val=1"],
        "trainer.gradient_clip_val=1",
        "must be null with model.sparse=true",
    ),
    "sparse ensemble member with adam": (
        "train",
        ["model=nb_bag_ensemble", "model.members.bag.sparse=true"],
        "optimizer._target_=torch.optim.Adam",
        "cannot take model.members.bag.sparse=true's sparse gradients",
    ),
    "naive-Bayes min_count 0": (
        "train",
        ["model=nb_ngrams", "model.min_count=0"],
        "model.min_count=0",
        "positive integer",
    ),
    "zero hidden": ("train", ["model.hidden_size=0"], "model.hidden_size=0", "positive integer"),
    "a model key deleted": (
        "train",
        ["~model.pooling"],
        "model=imdb_sentiment.models.RecurrentClassifier",
        "missing 1 required positional argument: 'pooling'",
    ),
    "an ensemble member's key deleted": (
        "train",
        ["model=nb_bag_ensemble", "~model.members.bag.embed_dim"],
        "model.members.bag=imdb_sentiment.models.NgramBag",
        "missing 1 required positional argument: 'embed_dim'; see configs/model/",
    ),
    "seed out of range": ("train", ["seed=-1"], "seed=-1", "integer from 0 to 4294967295"),
    "dense widths a word": (
        "train",
        ["model=bilstm_small", "model.dense=wide"],
        "model.dense=wide",
        "list of integers",
    ),
    "adam betas above 1": (
        "train",
        ["optimizer.betas=[0.9,1.5]"],
        "optimizer.betas=[0.9, 1.5]",
        "two numbers in [0, 1)",
    ),
    "precision misspelt": ("train", ["trainer.precision=bf16-mix"], "trainer.precision=bf16-mix", "bf16-mixed"),
    "gpu asked, none here": (
        "train",
        ["trainer.accelerator=gpu"],
        "trainer.accelerator=gpu",
        "no GPU visible on this node (CUDA_VISIBLE_DEVICES=)",
    ),
    "zero devices": ("train", ["trainer.devices=0"], "trainer.devices=0", "positive integer, -1 (all), a list"),
    "strategy misspelt": ("train", ["trainer.strategy=dpp"], "trainer.strategy=dpp", "must be one of auto, ddp"),
    "negative clipping": ("train", ["trainer.gradient_clip_val=-1"], "trainer.gradient_clip_val=-1", ">= 0 or null"),
    "limit above 1": ("train", ["trainer.limit_train_batches=1.5"], "trainer.limit_train_batches=1.5", "[0, 1]"),
    "negative patience": (
        "train",
        ["callbacks=early_stopping", "callbacks.early_stopping.patience=-1"],
        "callbacks.early_stopping.patience=-1",
        "non-negative integer",
    ),
    "negative min_delta": (
        "train",
        ["callbacks=early_stopping", "callbacks.early_stopping.min_delta=-0.1"],
        "callbacks.early_stopping.min_delta=-0.1",
        "number >= 0",
    ),
    "weight average decay of 1": (
        "train",
        ["experiment=best_pair_bigru", "callbacks.weight_ema.decay=1"],
        "callbacks.weight_ema.decay=1",
        "fraction strictly between 0 and 1",
    ),
    "weight average warm-up not a boolean": (
        "train",
        ["experiment=best_pair_bigru", "callbacks.weight_ema.warmup=maybe"],
        "callbacks.weight_ema.warmup=maybe",
        "true or false",
    ),
    "weight average without its warm-up switch": (
        "train",
        ["experiment=best_pair_bigru", "~callbacks.weight_ema.warmup"],
        "callbacks.weight_ema=imdb_sentiment.run.callbacks.WeightEMA",
        "missing 1 required positional argument: 'warmup'; see configs/callbacks/",
    ),
    "requeue signal misspelt": (
        "train",
        ["callbacks.requeue.signals=[SIGUSR3]"],
        "callbacks.requeue.signals=['SIGUSR3']",
        "list of signal names such as SIGUSR1",
    ),
    "negative progress refresh": (
        "train",
        ["callbacks.progress_bar.refresh_rate=-1"],
        "callbacks.progress_bar.refresh_rate=-1",
        "non-negative integer",
    ),
    "monitor not logged": (
        "train",
        ["callbacks.model_checkpoint.monitor=val/accuracy"],
        "callbacks.model_checkpoint.monitor=val/accuracy",
        "must be one of val/acc, val/loss",
    ),
    "checkpoint mode": (
        "train",
        ["callbacks.model_checkpoint.mode=maximum"],
        "callbacks.model_checkpoint.mode=maximum",
        "min, max",
    ),
    "maxlen beyond memory": ("train", ["data.maxlen=100000000000"], "data.maxlen=100000000000", "GiB available"),
    "vocabulary beyond memory": (
        "train",
        ["data.vocab_size=10000000000"],
        "data.vocab_size=10000000000",
        "with its gradient and Adam state needs",
    ),
    "n-gram rows beyond memory": (
        "train",
        ["model=nb_ngrams", "model.buckets=100000000000"],
        "model.buckets=100000000000",
        "n-gram rows with weights, Adam state and counts needs",
    ),
    "ensemble tables beyond memory": (
        "train",
        ["model=nb_bag_ensemble", "model.members.bag.buckets=100000000000"],
        "model.members.bag.buckets=100000000000",
        "the 2 members' tables",
    ),
    "table size not a number": (
        "train",
        ["model.pair_buckets=null"],
        "model.pair_buckets=None",
        "must be a non-negative integer",
    ),
    "ensemble member not a model": (
        "train",
        ["model=nb_bag_ensemble", "model.members.bag=3"],
        "model.members.bag=3",
        "must be a model config",
    ),
    "ensemble member's key": (
        "train",
        ["model=nb_bag_ensemble", "model.members.bag.embed_dim=-3"],
        "model.members.bag.embed_dim=-3",
        "must be a positive integer",
    ),
    "packed not a bool": ("train", ["model.packed=sometimes"], "model.packed=sometimes", "true or false"),
    "zero epochs": ("train", ["trainer.max_epochs=0"], "trainer.max_epochs=0", "positive integer"),
    "ddp on one device": ("train", ["trainer=ddp"], "trainer.strategy=ddp", "needs more than one process"),
    "unknown model": ("train", ["model=transformer"], "model=transformer", "no such model config; one of bilstm, "),
    "misspelt experiment": (
        "train",
        ["experiment=practicum_gur"],
        "experiment=practicum_gur",
        "(did you mean practicum_gru?)",
    ),
    "misspelt key": ("train", ["data.batchsize=32"], "data.batchsize=32", "did you mean data.batch_size?"),
    "misspelt trainer key": (
        "train",
        ["trainer.max_epoch=3"],
        "trainer.max_epoch=3",
        "did you mean trainer.max_epochs?",
    ),
    "misspelt key in a grid": (
        "train",
        ["-m", "model=gru,lstm", "model.hiden_size=8,16"],
        "model.hiden_size=8,16",
        "did you mean model.hidden_size?",
    ),
    "no such source": (
        "train",
        ["data.source=/no/such/folder"],
        "data.source=/no/such/folder",
        "no such file or folder",
    ),
    "empty data folder": ("train", ["data.source=EMPTY"], "data.source=EMPTY", "no IMDB data found"),
    "parquet without labels": ("train", ["data.source=NOLABEL"], "data.source=NOLABEL", "lacks column(s) label"),
    "labels outside 0/1": ("train", ["data.source=THREE"], "data.source=THREE", "labels [2] outside {0, 1}"),
    "aclImdb without test": ("train", ["data.source=ACLTRAIN"], "data.source=ACLTRAIN", "test/ split is missing"),
    "missing checkpoint": ("train", ["ckpt_path=/no/such.ckpt"], "ckpt_path=/no/such.ckpt", "no such file"),
    "checkpoint of another model": (
        "train",
        [*TINY_MODEL, "model.cell=lstm", "ckpt_path=GRUCKPT"],
        "ckpt_path=GRUCKPT",
        "was saved by another run (model.cell is gru there, lstm here)",
    ),
    "predict without text": ("predict", ["ckpt_path=GRUCKPT"], "stdin", 'no text= or file= given: give text="..."'),
    "predict empty text": ("predict", ["ckpt_path=GRUCKPT", "text="], "text=", "review 1 is empty"),
    "eval of another split": ("eval", ["ckpt_path=GRUCKPT", "split=train"], "split=train", "test, val"),
}


@pytest.fixture(scope="module")
def bad_sources(tmp_path_factory, tiny_imdb):
    """Folders that are not IMDB as this project reads it, and a checkpoint of a tiny GRU."""
    root = tmp_path_factory.mktemp("bad_sources")
    (root / "empty").mkdir()
    for name, table in (
        ("nolabel", pa.table({"text": ["a review"] * 4})),
        ("three", pa.table({"text": ["a review"] * 4, "label": [0, 1, 2, 1]})),
    ):
        (root / name / "plain_text").mkdir(parents=True)
        for split in ("train", "test"):
            pq.write_table(table, root / name / "plain_text" / f"{split}-00000-of-00001.parquet")
    for label in ("pos", "neg"):
        (root / "acl" / "aclImdb" / "train" / label).mkdir(parents=True)
        (root / "acl" / "aclImdb" / "train" / label / "1_7.txt").write_text("a review")
    from conftest import compose_train

    cfg = compose_train(
        [
            f"data.source={tiny_imdb}",
            "trainer.accelerator=cpu",
            *TINY_MODEL,
            "trainer.max_epochs=1",
            "test=false",
            "callbacks.progress_bar.refresh_rate=0",
        ],
        root / "run",
        root / "cache",
    )
    train(cfg)
    return {
        "EMPTY": root / "empty",
        "NOLABEL": root / "nolabel",
        "THREE": root / "three",
        "ACLTRAIN": root / "acl",
        "GRUCKPT": finished_checkpoint(root / "run"),
    }


# One real subprocess per entry point guards the contract end to end: exit 2, one stderr line, no traceback.
SUBPROCESS = {"zero batch", "predict without text", "predict empty text", "eval of another split"}


def _fill(text: str, bad_sources: dict) -> str:
    for placeholder, path in bad_sources.items():
        text = text.replace(placeholder, str(path))
    return text


def train_in_process(args: list[str], out: Path, cache: Path) -> str | None:
    """What `python src/train.py <args>` checks before training, in this process: the override keys, the
    composed config, the data source and the checkpoint. The one-line message train.py would print, or None."""
    from conftest import CONFIGS, compose_train
    from imdb_sentiment.config.overrides import check_override_keys
    from imdb_sentiment.errors import UserError

    try:
        check_override_keys(CONFIGS, "train", args)
        cfg = compose_train([a for a in args if not a.startswith("-")], out, cache)
        train(cfg)
    except UserError as exc:
        return f"error: {exc}"
    return None


@pytest.mark.parametrize("case", [c for c in CATALOGUE if CATALOGUE[c][0] == "train" and c not in SUBPROCESS])
def test_bad_input_is_one_clear_line_before_any_training(case, bad_sources, tiny_imdb, tmp_path):
    _, args, key_value, allowed = CATALOGUE[case]
    args, key_value = [_fill(a, bad_sources) for a in args], _fill(key_value, bad_sources)
    out, cache = tmp_path / "run", tmp_path / "cache"
    line = train_in_process([f"data.source={tiny_imdb}", "trainer.accelerator=cpu", *args], out, cache)
    assert line is not None and "\n" not in line, line
    assert line.startswith(f"error: {key_value}") and allowed in line, line
    assert not out.exists() or not any(out.iterdir()), sorted(p.name for p in out.iterdir())  # nothing written
    if not key_value.startswith("data.source="):  # refused before any data was read: no cache entry either
        assert not cache.exists() or not any(cache.iterdir()), sorted(p.name for p in cache.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(SUBPROCESS))
def test_bad_input_through_each_entry_point_exits_2_with_one_line(case, bad_sources, tiny_imdb, tmp_path):
    script, args, key_value, allowed = CATALOGUE[case]
    args, key_value = [_fill(a, bad_sources) for a in args], _fill(key_value, bad_sources)
    if script == "train":
        args = [
            f"data.source={tiny_imdb}",
            f"paths.log_dir={tmp_path}/logs",
            f"paths.cache_dir={tmp_path}/cache",
            "trainer.accelerator=cpu",
            *args,
        ]
    r = subprocess.run(
        [sys.executable, f"src/{script}.py", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        env={**os.environ, "HF_DATASETS_OFFLINE": "0"},
    )
    out = r.stdout + r.stderr
    assert r.returncode == 2, out[-3000:]
    assert "Traceback" not in out, out[-3000:]
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and errors[0] == r.stderr.strip().splitlines()[-1], r.stderr[-3000:]
    assert errors[0].startswith(f"error: {key_value}") and allowed in errors[0], errors[0]
    for run in (tmp_path / "logs").glob("*runs/*/*"):  # nothing beyond Hydra's log and config record
        assert {p.name for p in run.iterdir()} <= {".hydra", "train.log"} or _is_sweep_with_empty_jobs(run), sorted(
            p.name for p in run.iterdir()
        )
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def _is_sweep_with_empty_jobs(sweep: Path) -> bool:
    return all(
        p.name in {"multirun.yaml"} or (p.is_dir() and {q.name for q in p.iterdir()} <= {".hydra", "train.log"})
        for p in sweep.iterdir()
    )


def readme_bad_input_rows() -> list[tuple[str, str]]:
    text = (REPO / "README.md").read_text()
    table = text[text.index("## Bad input") :].split("\n\n")[2]
    return [tuple(c.strip() for c in line.strip("|").split(" | ", 1)) for line in table.splitlines()[2:]]


def test_each_catalogue_case_is_a_row_of_the_readme_saying_what_it_checks():
    """The row that names the case's key says what the test checks (the README's words are what is proved)."""
    rows = readme_bad_input_rows()
    assert len(CATALOGUE) >= 25
    unmatched = []
    for case, (_, _, key_value, allowed) in CATALOGUE.items():
        key = key_value.split("=")[0]
        if not any(key in typed + said and allowed in said for typed, said in rows):
            unmatched.append(f"{case}: no row naming {key} says {allowed!r}")
    assert not unmatched, unmatched


def test_catalogue_cases_are_distinct():
    assert len({json.dumps(v[:2]) for v in CATALOGUE.values()}) == len(CATALOGUE)


# Numeric keys against their ranges: anything out of range is refused in one line naming the key, anything in
# range passes every check (Hypothesis draws the values; derandomised, as the other property tests).
RANGES = {  # key: (strategy of values, in range?)
    "data.batch_size": (st.integers(-5, 10**6), lambda x: x >= 1),
    "data.val_split": (st.floats(-1, 2, allow_nan=False), lambda x: 0 < x < 1),
    "model.dropout": (st.floats(-1, 2, allow_nan=False), lambda x: 0 <= x < 1),
    "optimizer.lr": (st.floats(-1, 1, allow_nan=False), lambda x: x > 0),
    "optimizer.eps": (st.floats(-1e-3, 1e-3, allow_nan=False), lambda x: x > 0),
    "trainer.gradient_clip_val": (st.floats(-10, 10, allow_nan=False), lambda x: x >= 0),
    "callbacks.model_checkpoint.save_top_k": (st.integers(-5, 5), lambda x: x >= -1),
    "seed": (st.integers(-(2**40), 2**40), lambda x: 0 <= x < 2**32),
}


@pytest.mark.slow  # 240 examples, each building a data module and a model: half a minute
@pytest.mark.parametrize("key", RANGES)
def test_numeric_keys_are_refused_exactly_outside_their_range(key, tiny_imdb, tmp_path):
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    from conftest import compose_train
    from imdb_sentiment.config.checks import build_checked, check_config
    from imdb_sentiment.errors import ConfigError

    base = compose_train([f"data.source={tiny_imdb}", "trainer.accelerator=cpu", *TINY_MODEL], tmp_path, tmp_path)
    plain = {k: v for k, v in OmegaConf.to_container(base).items() if k != "hydra"}
    plain = OmegaConf.to_container(OmegaConf.create(plain), resolve=True)  # each example: a copy, nothing to resolve
    GlobalHydra.instance().clear()
    values, in_range = RANGES[key]

    @settings(max_examples=30, deadline=None, derandomize=True)
    @given(values)
    def check(value):
        cfg = OmegaConf.create(plain)
        OmegaConf.update(cfg, key, value)
        try:
            check_config(cfg)
            build_checked(cfg)
        except ConfigError as exc:
            assert not in_range(value) and str(exc).startswith(f"{key}=") and "\n" not in str(exc), str(exc)
        else:
            assert in_range(value), value

    check()
