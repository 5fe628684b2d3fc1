"""Epoch time of `src/train.py` against a bare PyTorch loop (bare_loop.py), in one call, as a ratio.

    python benchmarks/speed.py                      # on the GPU if there is one: full data, 3 epochs x 3 repeats
    python benchmarks/speed.py --device cpu         # a subset whose epoch takes about a minute on 2 cores
    python benchmarks/speed.py -- model=mlp data.batch_size=32    # any train.py overrides, given to both

Both read the same cache entry and build the same model and optimizer from the same resolved config;
each run is its own process, and the two alternate (bare, ours, ours, bare, ...) so that drift of the
machine hits both. An epoch's time is its training pass plus its validation pass (train.py records
both in metrics.json); checkpoints, the sanity check and start-up are outside it and are shown apart
as whole-run wall time. On the GPU the first epoch of every run is a warm-up and is not counted.
Writes benchmarks/results/speed-<device>-<date>.md with the command, machine and date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

import imdb_sentiment  # noqa: F401  (registers the config resolvers)
from results_file import publish

REPO = Path(__file__).resolve().parents[1]
DEFAULTS = {  # per device: data subset, epochs per run, repeats of each side
    "cpu": {"train_size": 18000, "epochs": 2, "repeats": 2, "warmup": 0},  # about a minute an epoch on 2 cores
    "cuda": {"train_size": None, "epochs": 3, "repeats": 3, "warmup": 1},
}


def resolved(overrides: list[str]) -> dict:
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        cfg = compose(config_name="train", overrides=overrides)
    return {k: OmegaConf.to_container(cfg[k], resolve=True) for k in ("data", "model", "optimizer")}


def run(cmd: list[str], log: Path) -> float:
    start = time.perf_counter()
    with log.open("w") as f:
        status = subprocess.run(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT).returncode
    if status:
        sys.exit(f"{' '.join(cmd)} failed ({status}); see {log}")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--source", default=str(REPO.parent / "shared" / "data" / "imdb"))
    ap.add_argument(
        "--train-size", type=int, help="reviews drawn from the train split (val takes data.val_split of them)"
    )
    ap.add_argument("--epochs", type=int)
    ap.add_argument("--repeats", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(REPO / "benchmarks" / "runs"))
    ap.add_argument("overrides", nargs="*", help="train.py overrides for both sides (after --)")
    args = ap.parse_args()
    d = DEFAULTS[args.device]
    epochs, repeats = args.epochs or d["epochs"], args.repeats or d["repeats"]
    train_size = args.train_size if args.train_size is not None else d["train_size"]
    overrides = [
        f"data.source={args.source}",
        f"data.train_size={'null' if train_size is None else train_size}",
        f"trainer.accelerator={'gpu' if args.device == 'cuda' else 'cpu'}",
        *args.overrides,
    ]
    out = Path(args.out) / f"speed-{dt.datetime.now():%Y-%m-%d_%H-%M-%S}"
    out.mkdir(parents=True)

    cfg = resolved(overrides)
    datamodule = instantiate(cfg["data"])
    datamodule.prepare_data()  # outside every timing; both sides then read this entry
    (out / "config.json").write_text(json.dumps(cfg, indent=1))

    def bare(r: int) -> dict:
        path = out / f"bare-{r}.json"
        wall = run(
            [
                sys.executable,
                "benchmarks/bare_loop.py",
                f"--entry={datamodule.entry}",
                f"--config={out / 'config.json'}",
                f"--epochs={epochs}",
                f"--seed={args.seed}",
                f"--device={args.device}",
                f"--out={path}",
            ],
            out / f"bare-{r}.log",
        )
        return {**json.loads(path.read_text()), "wall": wall}

    def ours(r: int) -> dict:
        run_dir = out / f"ours-{r}"
        wall = run(
            [
                sys.executable,
                "src/train.py",
                *overrides,
                f"trainer.max_epochs={epochs}",
                f"seed={args.seed}",
                "test=false",
                f"hydra.run.dir={run_dir}",
            ],
            out / f"ours-{r}.log",
        )
        summary = json.loads((run_dir / "summary.json").read_text())
        return {
            **json.loads((run_dir / "metrics.json").read_text()),
            "wall": wall,
            "peak_rss_mib": summary["peak_rss_mib"],
            "peak_gpu_mib": summary["peak_gpu_mib"],
        }

    runs = {"bare": [], "ours": []}
    for r in range(repeats):
        for side in ("bare", "ours") if r % 2 == 0 else ("ours", "bare"):
            runs[side].append(bare(r) if side == "bare" else ours(r))
            print(side, r, json.dumps(runs[side][-1]["epochs"]), flush=True)

    def counted(side: str, key: str) -> list[float]:
        return [e[key] for res in runs[side] for e in res["epochs"][d["warmup"] :]]

    def epoch_seconds(side: str) -> list[float]:
        return [round(a + b, 3) for a, b in zip(counted(side, "train_seconds"), counted(side, "val_seconds"))]

    med = {
        side: {
            "train": statistics.median(counted(side, "train_seconds")),
            "val": statistics.median(counted(side, "val_seconds")),
            "epoch": statistics.median(epoch_seconds(side)),
            "wall": statistics.median(r["wall"] for r in runs[side]),
            "rss": max(r["peak_rss_mib"] for r in runs[side]),
            "gpu": max((r["peak_gpu_mib"] or 0) for r in runs[side]) or None,
        }
        for side in runs
    }
    device = (
        torch.cuda.get_device_name()
        if args.device == "cuda"
        else f"CPU, {torch.get_num_threads()} threads ({platform.machine()})"
    )
    val_acc = {side: [round(r["epochs"][-1]["val_acc"], 4) for r in runs[side]] for side in runs}
    lines = [
        f"# Speed: train.py against a bare PyTorch loop, {dt.date.today()} on {device}",
        "",
        f"Command: `python benchmarks/speed.py {' '.join(sys.argv[1:])}`  ",
        f"torch {torch.__version__}; model `{cfg['model']['_target_'].rsplit('.', 1)[-1]}`, "
        f"batch {cfg['data']['batch_size']}, "
        f"train_size {train_size or 'all'}, {epochs} epochs x {repeats} runs a side, "
        f"{d['warmup']} warm-up epoch(s) a run not counted; "
        f"runs in {out.relative_to(REPO) if out.is_relative_to(REPO) else out}",
        "",
        "| | train pass s | val pass s | epoch s | whole run s | peak RSS MiB | peak GPU MiB | final val acc |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for side in ("bare", "ours"):
        m = med[side]
        lines.append(
            f"| {side} | {m['train']:.2f} | {m['val']:.2f} | {m['epoch']:.2f} | {m['wall']:.1f} | {m['rss']} | "
            f"{m['gpu'] or '-'} | {', '.join(map(str, val_acc[side]))} |"
        )
    ratio = {k: med["ours"][k] / med["bare"][k] for k in ("train", "val", "epoch", "wall")}
    lines += [
        "",
        f"**ours / bare: epoch {ratio['epoch']:.3f}** (train pass {ratio['train']:.3f}, val pass {ratio['val']:.3f}; "
        f"whole run {ratio['wall']:.2f}, which adds start-up, the sanity check and checkpoints that the bare loop "
        "does not do). Medians over the counted epochs; every epoch:",
        "",
        f"- bare: {epoch_seconds('bare')}",
        f"- ours: {epoch_seconds('ours')}",
    ]
    publish(f"speed-{args.device}", lines)


if __name__ == "__main__":
    main()
