"""Fixed maxlen padding against dynamic padding with length buckets (and packed sequences), in one call.

    python benchmarks/padding.py --seeds 1 2 3                           # the default model, full data
    python benchmarks/padding.py --seeds 1 -- trainer.accelerator=cpu    # any train.py overrides for every run

Each variant trains with the same data, seeds and model through `src/train.py`; the variants take
turns seed by seed so that drift of the machine hits all of them. Reports validation and test
accuracy and the seconds of an epoch's training pass (from metrics.json) per variant.
Writes benchmarks/results/padding-<device>-<date>.md.
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

VARIANTS = {
    "fixed maxlen (default)": [],
    "dynamic + buckets": ["data.pad_mode=dynamic", "data.bucket=true"],
    "dynamic + buckets + packed": ["data.pad_mode=dynamic", "data.bucket=true", "model.packed=true"],
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=str(REPO.parent / "shared" / "data" / "imdb"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "runs"))
    ap.add_argument("overrides", nargs="*", help="train.py overrides for every run (after --)")
    args = ap.parse_args()
    out = Path(args.out) / f"padding-{dt.datetime.now():%Y-%m-%d_%H-%M-%S}"
    out.mkdir(parents=True)
    rows = {name: [] for name in VARIANTS}
    for seed in args.seeds:
        for i, (name, extra) in enumerate(VARIANTS.items()):
            rows[name].append(
                train(out / f"v{i}-seed{seed}", [f"data.source={args.source}", f"seed={seed}", *extra, *args.overrides])
            )
            r = rows[name][-1]
            print(name, seed, r["best_val_acc"], r["test_acc"], r["train_seconds"], flush=True)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    lines = [
        f"# Padding: fixed maxlen vs dynamic with buckets, {dt.date.today()} on {device}",
        "",
        f"Command: `python benchmarks/padding.py {' '.join(sys.argv[1:])}`; seeds {args.seeds}",
        "",
        "| variant | best val acc (mean; per seed) | test acc (mean; per seed) "
        "| train pass s / epoch (median) | peak RSS MiB |",
        "|---|---|---|---|---|",
    ]
    for name, rs in rows.items():
        val, test = [r["best_val_acc"] for r in rs], [r["test_acc"] for r in rs]
        secs = statistics.median(s for r in rs for s in r["train_seconds"])
        lines.append(
            f"| {name} | {mean_and_seeds(val)} | "
            f"{mean_and_seeds(test)} | {secs:.1f} | "
            f"{max(r['peak_rss_mib'] for r in rs)} |"
        )
    publish(f"padding-{'gpu' if torch.cuda.is_available() else 'cpu'}", lines)


if __name__ == "__main__":
    main()
