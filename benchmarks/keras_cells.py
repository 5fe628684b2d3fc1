"""Keras 2 cells (models/keras_cells.py) against PyTorch's fused layers, in one process: training steps of the
Practicum models (batch 128, maxlen 200, vocabulary 8,000) on random ids.

    python benchmarks/keras_cells.py [--steps 20] [--compile]

For each model: seconds per training step (forward, backward, RMSprop step; median of --steps after 3 warm-up
steps) with PyTorch's fused layer, then with the Keras 2 options run by each implementation of the time loop:
the backward written out (``BY_HAND``, what the model runs), autograd through the Python loop eager and under
TorchScript, and, with --compile, the loop through ``torch.compile`` (its compile time, the first call's extra
seconds, in its own column; minutes a shape on this CPU, and a shape it has compiled is not compiled again).
The epoch columns are the Practicum's 20,000 training reviews at the fused layer's and at the fastest loop's
step. Writes benchmarks/results/keras-cells-<date>.md.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from imdb_sentiment.models import keras_cells
from results_file import publish

REPO = Path(__file__).resolve().parents[1]

# the fused baseline is the preset with PyTorch's equations; the variant adds the Keras 2 options
FUSED = ["model.reset_after=true", "model.recurrent_activation=sigmoid"]
VARIANTS = {
    "practicum_gru": ["model.reset_after=false", "model.recurrent_activation=hard_sigmoid"],
    "practicum_stacked": ["model.recurrent_activation=hard_sigmoid"],
    "practicum_lstm": ["model.recurrent_activation=hard_sigmoid"],
}


def step_seconds(net: torch.nn.Module, steps: int, batch: int, maxlen: int, vocab: int) -> tuple[float, float]:
    """The median training step, and how much longer the first step took (a compiler's start-up)."""
    opt = torch.optim.RMSprop(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    times = []
    for _ in range(steps + 3):
        ids = torch.randint(1, vocab, (batch, maxlen), generator=gen)
        y = torch.randint(0, 2, (batch,), generator=gen).float()
        start = time.perf_counter()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(ids), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - start)
    median = statistics.median(times[3:])
    return median, times[0] - median


def timed(cfg, loops: dict, steps: int) -> tuple[float, float]:
    """Step seconds of the model ``cfg`` describes, its Keras 2 cells running ``loops``."""
    default = dict(keras_cells.RUNS)
    keras_cells.RUNS.update(loops)  # KerasRecurrent looks its loop up at every call
    try:
        torch.manual_seed(0)
        net = instantiate(cfg.model).train()
        return step_seconds(net, steps, cfg.data.batch_size, cfg.data.maxlen, cfg.data.vocab_size)
    finally:
        keras_cells.RUNS.update(default)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--compile", action="store_true", help="also time the loop through torch.compile (minutes)")
    args = ap.parse_args()
    implementations = {
        "by hand": keras_cells.BY_HAND,
        "eager": keras_cells.LOOPS,
        "script": {cell: torch.jit.script(loop) for cell, loop in keras_cells.LOOPS.items()},
    }
    if args.compile:
        implementations["compile"] = {cell: torch.compile(loop) for cell, loop in keras_cells.LOOPS.items()}
    rows = []
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        for preset, keras2 in VARIANTS.items():
            fused, _ = timed(compose("train", [f"experiment={preset}", *FUSED]), {}, args.steps)
            cfg = compose("train", [f"experiment={preset}", *keras2])
            secs = {name: timed(cfg, dict(loops), args.steps) for name, loops in implementations.items()}
            rows.append((preset, " ".join(keras2), fused, secs, -(-20_000 // cfg.data.batch_size)))
    names = list(implementations)
    lines = [
        "# Keras 2 cells: the time loop's implementations against PyTorch's fused layers",
        "",
        f"Command: `python benchmarks/keras_cells.py --steps {args.steps}{' --compile' if args.compile else ''}`",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}",
        "Seconds per training step (median); in brackets the ratio to the fused layer.",
        "",
        "| preset | Keras 2 options | fused | "
        + " | ".join(names)
        + (" | compile s (first step)" if args.compile else "")
        + " | fused epoch s | fastest Keras 2 epoch s |",
        "|---|---|---|" + "---|" * len(names) + ("---|" if args.compile else "") + "---|---|",
    ]
    for preset, options, fused, secs, batches in rows:
        cells = " | ".join(f"{secs[n][0]:.3f} ({secs[n][0] / fused:.2f}x)" for n in names)
        extra = f" | {secs['compile'][1]:.0f}" if args.compile else ""
        epochs = f"{fused * batches:.0f} | {min(s for s, _ in secs.values()) * batches:.0f}"
        lines.append(f"| {preset} | `{options}` | {fused:.3f} | {cells}{extra} | {epochs} |")
    publish("keras-cells", lines)


if __name__ == "__main__":
    main()
