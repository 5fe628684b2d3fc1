"""A 9-run grid one after another against the same grid packed several at a time (launcher=local), in one call.

    python benchmarks/grid_packing.py     # on a GPU: full data, batch 16/32/64 x seed 1/2/3, 2 epochs
    python benchmarks/grid_packing.py --jobs-per-gpu 4 8       # compare packing levels
    python benchmarks/grid_packing.py -- data.train_size=2000 trainer.accelerator=cpu   # a quick check of the script

Both grids are `src/train.py -m` calls as a user makes them; the first uses Hydra's basic launcher
(one run after another), the others `launcher=local` with `hydra.launcher.jobs_per_gpu=N`. Reports
the wall time of each grid, the speed-up, each run's peak GPU memory, and the test accuracy of every
grid point next to its unpacked twin (same seed, so they differ only by GPU non-determinism).
Writes benchmarks/results/grid-<device>-<date>.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

from results_file import publish

REPO = Path(__file__).resolve().parents[1]
GRID = ["data.batch_size=16,32,64", "seed=1,2,3", "trainer.max_epochs=2"]


def grid(name: str, launcher: list[str], common: list[str], out: Path) -> tuple[float, dict[str, dict]]:
    sweep = out / name
    cmd = [
        sys.executable,
        "src/train.py",
        "-m",
        *GRID,
        *launcher,
        *common,
        f"hydra.sweep.dir={sweep}",
        "callbacks.progress_bar.refresh_rate=0",
    ]
    start = time.perf_counter()
    with (out / f"{name}.log").open("w") as log:
        status = subprocess.run(cmd, cwd=REPO, stdout=log, stderr=subprocess.STDOUT).returncode
    wall = time.perf_counter() - start
    if status:
        sys.exit(f"the {name} grid failed ({status}); see {out / f'{name}.log'}")
    runs = {p.parent.name: json.loads(p.read_text()) for p in sweep.glob("*/summary.json")}
    if len(runs) != 9:
        sys.exit(f"the {name} grid left {len(runs)} summaries, not 9; see {out / f'{name}.log'}")
    return wall, runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=str(REPO.parent / "shared" / "data" / "imdb"))
    ap.add_argument("--jobs-per-gpu", type=int, nargs="+", default=[4])
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "runs"))
    ap.add_argument("overrides", nargs="*", help="train.py overrides for every run (after --)")
    args = ap.parse_args()
    out = Path(args.out) / f"grid-{dt.datetime.now():%Y-%m-%d_%H-%M-%S}"
    out.mkdir(parents=True)
    common = [f"data.source={args.source}", *args.overrides]
    # Encode once before timing: both grids then read the same cache entry.
    subprocess.run([sys.executable, "src/prepare_data.py", *common], cwd=REPO, check=True, capture_output=True)

    results = {"one at a time": grid("serial", [], common, out)}
    for n in args.jobs_per_gpu:
        results[f"launcher=local, {n} per GPU"] = grid(
            f"packed{n}", ["launcher=local", f"hydra.launcher.jobs_per_gpu={n}"], common, out
        )
    serial_wall, serial_runs = results["one at a time"]
    device = torch.cuda.get_device_name() if torch.cuda.is_available() else "CPU"
    lines = [
        f"# Grid of 9 runs, one at a time vs packed: {dt.date.today()} on {device}",
        "",
        f"Command: `python benchmarks/grid_packing.py {' '.join(sys.argv[1:])}`; grid {' '.join(GRID)}",
        "",
        "| grid | wall s | speed-up | mean test acc | max abs diff to serial, per run | peak GPU MiB per run |",
        "|---|---|---|---|---|---|",
    ]
    for name, (wall, runs) in results.items():
        diffs = [abs(runs[k]["test_acc"] - serial_runs[k]["test_acc"]) for k in runs]
        gpu = max((r.get("peak_gpu_mib") or 0) for r in runs.values()) or "-"
        lines.append(
            f"| {name} | {wall:.0f} | {serial_wall / wall:.2f} | "
            f"{statistics.mean(r['test_acc'] for r in runs.values()):.4f} | {max(diffs):.4f} | {gpu} |"
        )
    lines += [
        "",
        "Test accuracy per grid point:",
        "",
        "| run | " + " | ".join(results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for key in sorted(serial_runs):
        lines.append(f"| {key} | " + " | ".join(f"{runs[key]['test_acc']:.4f}" for _, runs in results.values()) + " |")
    publish(f"grid-{'gpu' if torch.cuda.is_available() else 'cpu'}", lines)


if __name__ == "__main__":
    main()
