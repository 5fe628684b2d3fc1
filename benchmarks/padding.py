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
import json
import statistics
import subprocess
import sys
from pathlib import Path

import torch
from results_file import publish

REPO = Path(__file__).resolve().parents[1]
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
            run_dir = out / f"v{i}-seed{seed}"
            cmd = [sys.executable, "src/train.py", f"data.source={args.source}", f"seed={seed}", *extra, *args.overrides,
                   f"hydra.run.dir={run_dir}", "callbacks.progress_bar.refresh_rate=0"]
            with (out / f"v{i}-seed{seed}.log").open("w") as log:
                if subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT).returncode:
                    sys.exit(f"{name}, seed {seed} failed; see {out / f'v{i}-seed{seed}.log'}")
            summary = json.loads((run_dir / "summary.json").read_text())
            epochs = json.loads((run_dir / "metrics.json").read_text())["epochs"]
            rows[name].append({**summary, "train_seconds": [e["train_seconds"] for e in epochs]})
            print(name, seed, summary["best_val_acc"], summary["test_acc"], rows[name][-1]["train_seconds"], flush=True)
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    lines = [f"# Padding: fixed maxlen vs dynamic with buckets, {dt.date.today()} on {device}", "",
             f"Command: `python benchmarks/padding.py {' '.join(sys.argv[1:])}`; seeds {args.seeds}", "",
             "| variant | best val acc (mean; per seed) | test acc (mean; per seed) | train pass s / epoch (median) | peak RSS MiB |",
             "|---|---|---|---|---|"]
    for name, rs in rows.items():
        val, test = [r["best_val_acc"] for r in rs], [r["test_acc"] for r in rs]
        secs = statistics.median(s for r in rs for s in r["train_seconds"])
        lines.append(f"| {name} | {statistics.mean(val):.4f}; {', '.join(f'{v:.4f}' for v in val)} | "
                     f"{statistics.mean(test):.4f}; {', '.join(f'{v:.4f}' for v in test)} | {secs:.1f} | "
                     f"{max(r['peak_rss_mib'] for r in rs)} |")
    publish(f"padding-{'gpu' if torch.cuda.is_available() else 'cpu'}", lines)


if __name__ == "__main__":
    main()
