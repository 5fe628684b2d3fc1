"""Where the time before training goes: encoding IMDB, reloading the cache, reaching the first step.

    python benchmarks/startup.py [--repeats 3] [-- train.py overrides]

1. Encoding from raw (a cold cache): read the parquet files, split, fit the tokenizer on the
   training rows, encode all 50,000 reviews, write the entry; each phase timed on its own.
2. Reloading the cached entry as a run does: prepare_data (a hit) and setup (ids padded to tensors).
3. `python src/train.py` with a warm cache, from process start to its first training step, and
   the moments in between (imports and config, data, model and Trainer, sanity check).
Targets (issue "Speed"): 1 <= 10 s, 2 <= 1 s, 3 <= 10 s. Writes benchmarks/results/startup-<date>.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

import imdb_sentiment  # noqa: F401  (registers the config resolvers)
from imdb_sentiment.data.sources import load_raw_splits
from imdb_sentiment.data.text_encoding import encode, fit_tokenizer
from results_file import publish

REPO = Path(__file__).resolve().parents[1]


class Phases:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def mark(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = now - self._t
        self._t = now


def encode_from_raw(cfg, cache_dir: Path) -> dict[str, float]:
    """Phase by phase, what a cold cache costs (same calls as IMDBDataModule._build), then the whole
    prepare_data into an empty cache folder as a run does it."""
    dm = instantiate(cfg.data, cache_dir=str(cache_dir))
    p = Phases()
    raw = load_raw_splits(dm.source)
    texts = {split: ds.with_format("arrow")[:]["text"] for split, ds in raw.items()}
    p.mark("read the source")
    train = texts["train"]
    fit_on = train.slice(0, round(len(train) * (1 - dm.val_split))) if dm.val_split != "test" else train
    tok = fit_tokenizer(dm.tokenizer_kind, dm.vocab_size, fit_on, dm.start_token)
    p.mark(f"fit the {dm.tokenizer_kind} tokenizer ({len(fit_on):,} reviews)")
    n = 0
    for split in ("train", "test"):
        encode(tok, texts[split]).truncate(dm.maxlen, dm.truncating)
        n += len(texts[split])
    p.mark(f"encode {n:,} reviews")
    start = time.perf_counter()
    dm.prepare_data()
    p.seconds["whole prepare_data, cold cache (read, split, fit, encode, write)"] = time.perf_counter() - start
    return p.seconds


def reload_cached(cfg, cache_dir: Path) -> dict[str, float]:
    p = Phases()
    dm = instantiate(cfg.data, cache_dir=str(cache_dir))
    dm.prepare_data()
    p.mark("prepare_data (cache hit)")
    dm.setup("fit")
    p.mark("setup (load ids, pad)")
    p.seconds["reload total"] = sum(p.seconds.values())
    return p.seconds


def first_step(overrides: list[str], cache_dir: Path, out: Path) -> dict[str, float]:
    clock = out / "clock.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "benchmarks"), os.environ.get("PYTHONPATH", "")])}
    cmd = [
        sys.executable,
        "src/train.py",
        *overrides,
        f"paths.cache_dir={cache_dir}",
        "test=false",
        f"hydra.run.dir={out / 'run'}",
        "+callbacks.clock._target_=first_step_clock.FirstStepClock",
        f"+callbacks.clock.path={clock}",
    ]
    start = time.time()
    with (out / "train.log").open("w") as log:
        if subprocess.run(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT).returncode:
            sys.exit(f"train.py failed; see {out / 'train.log'}")
    m = json.loads(clock.read_text())
    return {
        "imports, config, data (cache hit), model": m["callback_built"] - start,
        "Trainer built, fit started": m["fit_start"] - m["callback_built"],
        "to the sanity check": m["sanity_start"] - m["fit_start"],
        "sanity check (2 val batches)": m["sanity_end"] - m["sanity_start"],
        "to the first step": m["first_step"] - m["sanity_end"],
        "process start -> first training step": m["first_step"] - start,
    }


def import_seconds() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import imdb_sentiment.run.training"], cwd=REPO, check=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=str(REPO.parent / "shared" / "data" / "imdb"))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("overrides", nargs="*", help="train.py overrides (after --)")
    args = ap.parse_args()
    overrides = [f"data.source={args.source}", "trainer.accelerator=cpu", *args.overrides]
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    work = Path(tempfile.mkdtemp(prefix="imdb-startup-"))
    results: dict[str, list[dict[str, float]]] = {"encode": [], "reload": [], "first": []}
    try:
        for r in range(args.repeats):
            cache_dir = work / f"cache-{r}"  # cold every time; the files the source reads are warm after the first
            results["encode"].append(encode_from_raw(cfg, cache_dir))
            results["reload"].append(reload_cached(cfg, cache_dir))
            results["first"].append(first_step(overrides, cache_dir, Path(tempfile.mkdtemp(dir=work))))
            print(json.dumps({k: v[-1] for k, v in results.items()}), flush=True)
        imports = statistics.median(import_seconds() for _ in range(args.repeats))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    def table(rows: list[dict[str, float]]) -> list[str]:
        return [
            f"| {k} | {statistics.median(r[k] for r in rows):.2f} | {' / '.join(f'{r[k]:.2f}' for r in rows)} |"
            for k in rows[0]
        ]

    lines = [
        f"# Start-up: {dt.date.today()} on {platform.machine()}, {os.cpu_count()} cores",
        "",
        f"Command: `python benchmarks/startup.py {' '.join(sys.argv[1:])}`; {args.repeats} repeats, medians",
        "",
        "| phase | median s | each run s |",
        "|---|---|---|",
        "| **1. encoding from raw** | | |",
        *table(results["encode"]),
        "| **2. reloading the cache** | | |",
        *table(results["reload"]),
        "| **3. train.py to its first step (warm cache)** | | |",
        *table(results["first"]),
        f"| (of which `import imdb_sentiment.run.training` in a fresh interpreter) | {imports:.2f} | |",
    ]
    publish("startup", lines)


if __name__ == "__main__":
    main()
