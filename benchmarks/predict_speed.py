"""predict.py's start-up and throughput, against ``python -c "import torch"`` in the same call, for the code of
two git revisions.

    python benchmarks/predict_speed.py --source ../shared/data/imdb [--before d6befeb] [--repeats 5]

Trains the default model (the 2-layer BiLSTM, ``data.maxlen=200``) for one epoch on a 2,000-review subset (speed
does not depend on how well it learned), then, interleaved ``--repeats`` times: ``import torch`` alone, and
``predict.py`` on 3 reviews with each revision's code (median wall seconds, peak RSS). Then each revision's
``predict.py file=...`` on the 25,000 test reviews (one a line): reviews per second over the whole command.
Writes benchmarks/results/predict-speed-<date>.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch

from results_file import publish

REPO = Path(__file__).resolve().parents[1]
REVIEWS = ["A wonderful, moving film.", "Dull and far too long; I left early.", "Not bad at all."]


def timed(cmd: list[str], cwd: Path, stdin: Path | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of one command, which must succeed."""
    full = ["/usr/bin/time", "-f", "%M", *cmd]
    start = time.perf_counter()
    with open(stdin or "/dev/null", "rb") as inp:
        proc = subprocess.run(full, cwd=cwd, stdin=inp, capture_output=True, text=True, env=env_for(cwd))
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} at {cwd}: {proc.stderr.strip()[-500:]}")
    return wall, int(proc.stderr.strip().splitlines()[-1]) // 1024


def env_for(code: Path) -> dict:
    return {
        "PYTHONPATH": str(code / "src"),
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(Path.home()),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--before", default=None, help="a git revision to compare with (the working tree is after)")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    source = Path(args.source).resolve()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        codes = {"after": REPO}
        if args.before:
            codes = {"before": tmp / "before", **codes}
            subprocess.run(["git", "worktree", "add", "-q", "--detach", str(tmp / "before"), args.before], cwd=REPO)
        try:
            rows, throughput = measure(codes, source, tmp, args.repeats)
        finally:
            if args.before:
                subprocess.run(["git", "worktree", "remove", "--force", str(tmp / "before")], cwd=REPO)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    torch_s = statistics.median(rows["import torch"][0])
    lines = [
        f"# predict.py speed: before = {args.before or '-'}, after = {head.strip()} + working tree",
        "",
        f"Command: `python benchmarks/predict_speed.py --source {args.source}"
        f"{' --before ' + args.before if args.before else ''} --repeats {args.repeats}`",
        f"Machine: {platform.machine()}, {platform.processor() or 'cpu'}, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}; {time.strftime('%Y-%m-%d %H:%M')}",
        "Checkpoint: the default 2-layer BiLSTM (maxlen 200), 1 epoch on 2,000 reviews.",
        "",
        "| command | median wall s | x `import torch` | runs (s) | peak RSS MiB |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {statistics.median(walls):.2f} | {statistics.median(walls) / torch_s:.2f} | "
            f"{', '.join(f'{w:.2f}' for w in walls)} | {max(rss)} |"
            for name, (walls, rss) in rows.items()
        ),
        "",
        "| code | 25,000 test reviews: wall s | reviews/s | peak RSS MiB |",
        "|---|---|---|---|",
        *(f"| {k} | {w:.1f} | {n / w:,.0f} | {rss} |" for k, (w, n, rss) in throughput.items()),
    ]
    publish("predict-speed", lines)


def measure(codes: dict[str, Path], source: Path, tmp: Path, repeats: int):
    run = tmp / "run"
    train = [
        sys.executable,
        "src/train.py",
        f"data.source={source}",
        "data.train_size=2000",
        "trainer.max_epochs=1",
        "trainer.accelerator=cpu",
        f"hydra.run.dir={run}",
        f"paths.cache_dir={tmp / 'cache'}",
        "callbacks.progress_bar.refresh_rate=0",
    ]
    timed(train, REPO)
    (ckpt,) = (run / "checkpoints").glob("*.ckpt")
    texts = pq.read_table(next((source / "plain_text").glob("test-*.parquet")), columns=["text"])["text"].to_pylist()
    reviews = tmp / "reviews.txt"
    reviews.write_text("".join(" ".join(t.split()) + "\n" for t in texts))  # one review a line
    three = [f"text={t}" for t in REVIEWS]
    rows: dict[str, tuple[list[float], list[int]]] = {"import torch": ([], [])}
    rows.update({f"predict.py, 3 reviews ({k})": ([], []) for k in codes})
    for _ in range(repeats):  # interleaved: a slow moment of the machine hits every command alike
        for name, cmd, cwd in [
            ("import torch", [sys.executable, "-c", "import torch"], REPO),
            *(
                (f"predict.py, 3 reviews ({k})", [sys.executable, "src/predict.py", f"ckpt_path={ckpt}", *three], c)
                for k, c in codes.items()
            ),
        ]:
            wall, rss = timed(cmd, cwd)
            rows[name][0].append(wall)
            rows[name][1].append(rss)
    throughput = {}
    for k, code in codes.items():
        wall, rss = timed([sys.executable, "src/predict.py", f"ckpt_path={ckpt}", f"file={reviews}"], code)
        throughput[k] = (wall, len(texts), rss)
    return rows, throughput


if __name__ == "__main__":
    main()
