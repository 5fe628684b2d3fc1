"""What each part of a preset gives: the preset, then the preset with one change undone, over seeds.

    python benchmarks/ablation.py --seeds 1 2 3                                   # best_bilstm, full data
    python benchmarks/ablation.py --seeds 1 -- trainer.max_epochs=3 trainer.accelerator=cpu   # the CPU proxy
    python benchmarks/ablation.py --preset best_bigram_bag --seeds 1 2 3 -- trainer.accelerator=cpu

Every variant is `src/train.py experiment=<preset> <its overrides> <the extra overrides>`; variants take
turns seed by seed so that drift of the machine hits all of them. Choices are read from the
validation column (a split of train); the test column is reported, never used to choose.
Writes benchmarks/results/ablation-<device>-<date>.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from pathlib import Path

import torch

from results_file import mean_and_seeds, publish
from train_run import REPO, train

# preset -> {name -> overrides on top of the preset}; the first is the preset itself
VARIANTS = {
    "best_bilstm": {
        "best_bilstm": [],
        "pooling=last (the notebooks' last state)": ["model.pooling=last"],
        "maxlen=200 (the notebooks')": ["data.maxlen=200"],
        "vocab_size=20000 (the notebooks')": ["data.vocab_size=20000"],
        "no dropout": ["model.spatial_dropout=0", "model.dropout=0"],
        "keras-io BiLSTM (2 x 64, last state, maxlen 200, batch 32)": [  # replaces the preset
            "experiment=keras_bilstm",
            "data.val_split=0.2",
            "callbacks=early_stopping",
            "callbacks.early_stopping.patience=2",
        ],
    },
    "best_bigram_bag": {
        "best_bigram_bag": [],
        "buckets=262144": ["model.buckets=262144"],
        "buckets=262144, dense Adam (the first preset)": [
            "model.buckets=262144",
            "model.sparse=false",
            "optimizer=adam",
        ],
        "words only (buckets=0)": ["model.buckets=0"],
        "vocab_size=20000": ["data.vocab_size=20000"],
        "embed_dim=100 (the prototype's best validation)": ["model.embed_dim=100"],
    },
    "best_nb_trigrams": {
        "best_nb_trigrams": [],
        "buckets=4194304 (2^22 an order)": ["model.buckets=4194304"],
        "pairs, no triples (NBSVM-bi's features)": ["model.ngrams=2"],
        "min_count=1 (every feature votes)": ["model.min_count=1"],
        "no feature dropout": ["model.feature_dropout=0"],
        "vocab_size=30000": ["data.vocab_size=30000"],
    },
    "best_pair_bigru": {
        "best_pair_bigru": [],
        "words only (pair_buckets=0)": ["model.pair_buckets=0"],
        "pooling=last (the notebooks' last state)": ["model.pooling=last"],
        "pairs in fewer than 3 reviews silenced (pair_min_count=3)": ["model.pair_min_count=3"],
        "word dropout 0.3": ["model.word_dropout=0.3"],
    },
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="best_bilstm", choices=list(VARIANTS))
    ap.add_argument("--variants", nargs="+", type=int, help="indices into the preset's VARIANTS (default: all)")
    ap.add_argument("--source", default=str(REPO.parent / "shared" / "data" / "imdb"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "runs"))
    ap.add_argument("overrides", nargs="*", help="train.py overrides for every run (after --)")
    args = ap.parse_args()
    variants = VARIANTS[args.preset]
    chosen = [list(variants)[i] for i in (args.variants or range(len(variants)))]
    out = Path(args.out) / f"ablation-{dt.datetime.now():%Y-%m-%d_%H-%M-%S}"
    out.mkdir(parents=True)
    rows = {name: [] for name in chosen}
    for seed in args.seeds:
        for name in chosen:
            i = list(variants).index(name)
            own = variants[name]
            preset = [] if any(o.startswith("experiment=") for o in own) else [f"experiment={args.preset}"]
            overrides = [*preset, f"data.source={args.source}", f"seed={seed}", *own, *args.overrides]
            rows[name].append(train(out / f"v{i}-seed{seed}", overrides))
            r = rows[name][-1]
            print(name, seed, r["best_val_acc"], r["best_epoch"], r["test_acc"], r["val_acc_by_epoch"], flush=True)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    lines = [
        f"# Ablation of {args.preset}: {dt.date.today()} on {device}",
        "",
        f"Command: `python benchmarks/ablation.py {' '.join(sys.argv[1:])}`; seeds {args.seeds}",
        "",
        "Choose on the validation column; the test column is reported, not used to choose.",
        "",
        "| variant | best val acc (mean; per seed) | best epoch | val acc by epoch (seed 1st) "
        "| test acc (mean; per seed) "
        "| train s / epoch (median) | peak RSS MiB | peak GPU MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, rs in rows.items():
        val, test = [r["best_val_acc"] for r in rs], [r["test_acc"] for r in rs]
        secs = statistics.median(s for r in rs for s in r["train_seconds"])
        lines.append(
            f"| {name} | {mean_and_seeds(val)} | "
            f"{', '.join(str(r['best_epoch']) for r in rs)} | "
            f"{', '.join(f'{v:.4f}' for v in rs[0]['val_acc_by_epoch'])} | "
            f"{mean_and_seeds(test)} | {secs:.1f} | "
            f"{max(r['peak_rss_mib'] for r in rs)} | {max(r.get('peak_gpu_mib') or 0 for r in rs)} |"
        )
    publish(f"ablation-{'gpu' if torch.cuda.is_available() else 'cpu'}", lines)


if __name__ == "__main__":
    main()
