"""Disk and memory a finished run leaves, before and after a change: the same preset and seed trained by the code
of two git revisions, one after the other in this call.

    python benchmarks/light_runs.py --before df47671 --source ../shared/data/imdb [--presets best_bigram_bag] \
        [-- train.py overrides]

For each revision and preset: the bytes under checkpoints/ against the weights' bytes, the run folder's bytes,
peak RSS (the run's own summary.json figure), test accuracy (which must not change) and the wall time.
Writes benchmarks/results/light-runs-<date>.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from results_file import publish

REPO = Path(__file__).resolve().parents[1]


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def run(code: Path, preset: str, source: str, out: Path, cache: Path, extra: list[str]) -> dict:
    run_dir = out / preset
    cmd = [
        sys.executable,
        "src/train.py",
        f"experiment={preset}",
        f"data.source={source}",
        f"hydra.run.dir={run_dir}",
        f"paths.cache_dir={cache}",
        "callbacks.progress_bar.refresh_rate=0",
        *extra,
    ]
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        cwd=code,
        capture_output=True,
        text=True,
        env={
            "PYTHONPATH": str(code / "src"),
            "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
            "HOME": str(Path.home()),
        },
    )
    if proc.returncode != 0:
        raise SystemExit(f"{preset} at {code}: {proc.stderr.strip().splitlines()[-1]}")
    summary = json.loads((run_dir / "summary.json").read_text())
    any_ckpt = min((run_dir / "checkpoints").glob("*.ckpt"))  # every one holds the same weights' shapes
    state = torch.load(any_ckpt, map_location="cpu", weights_only=True, mmap=True)["state_dict"]
    weights = sum(t.numel() * t.element_size() for t in state.values())
    ckpts = folder_bytes(run_dir / "checkpoints")
    return {
        "wall_s": round(time.perf_counter() - start),
        "weights_mb": weights / 1e6,
        "ckpt_mb": ckpts / 1e6,
        "ckpt_x": ckpts / weights,
        "folder_mb": folder_bytes(run_dir) / 1e6,
        "folder_x": folder_bytes(run_dir) / weights,
        "rss": summary["peak_rss_mib"],
        "test_acc": summary["test_acc"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", required=True, help="the git revision to compare with (the working tree is after)")
    ap.add_argument("--source", required=True)
    ap.add_argument("--presets", nargs="+", default=["best_bigram_bag"])
    ap.add_argument("extra", nargs="*", help="train.py overrides, after --")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before = tmp / "before"
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(before), args.before], cwd=REPO, check=True)
        try:
            for preset in args.presets:
                for label, code in (("before", before), ("after", REPO)):
                    r = run(code, preset, str(Path(args.source).resolve()), tmp / label, tmp / "cache", args.extra)
                    rows.append({"preset": preset, "code": label, **r})
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(before)], cwd=REPO)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    lines = [
        f"# Light runs: before ({args.before}) and after ({head.strip()}, working tree)",
        "",
        f"Command: `python benchmarks/light_runs.py --before {args.before} --source {args.source} --presets "
        f"{' '.join(args.presets)}{' -- ' + ' '.join(args.extra) if args.extra else ''}`",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, torch {torch.__version__}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "| preset | code | weights MB | checkpoints MB | x weights | folder MB | x weights | peak RSS MiB "
        "| test acc | wall s |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(
            f"| {r['preset']} | {r['code']} | {r['weights_mb']:.1f} | {r['ckpt_mb']:.1f} | {r['ckpt_x']:.2f} | "
            f"{r['folder_mb']:.1f} | {r['folder_x']:.2f} | {r['rss']} | {r['test_acc']:.4f} | {r['wall_s']} |"
            for r in rows
        ),
    ]
    publish("light-runs", lines)


if __name__ == "__main__":
    main()
