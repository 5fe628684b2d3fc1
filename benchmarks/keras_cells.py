"""Keras 2 cells (models/keras_cells.py, a TorchScript time loop) against PyTorch's fused layers, in one process:
training steps of the Practicum models (batch 128, maxlen 200, vocabulary 8,000) on random ids.

    python benchmarks/keras_cells.py [--steps 20]

For each model: seconds per training step (forward, backward, RMSprop step; median of --steps after 3 warm-up
steps) for the fused layer and the Keras 2 variant, their ratio, and the epoch time that means for the
Practicum's 20,000 training reviews. Writes benchmarks/results/keras-cells-<date>.md.
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

from results_file import publish

REPO = Path(__file__).resolve().parents[1]

# the fused baseline is the preset with PyTorch's equations; the variant adds the Keras 2 options
FUSED = ["model.reset_after=true", "model.recurrent_activation=sigmoid"]
VARIANTS = {
    "practicum_gru": ["model.reset_after=false", "model.recurrent_activation=hard_sigmoid"],
    "practicum_stacked": ["model.recurrent_activation=hard_sigmoid"],
    "practicum_lstm": ["model.recurrent_activation=hard_sigmoid"],
}


def step_seconds(net: torch.nn.Module, steps: int, batch: int, maxlen: int, vocab: int) -> float:
    opt = torch.optim.RMSprop(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    times = []
    for i in range(steps + 3):
        ids = torch.randint(1, vocab, (batch, maxlen), generator=gen)
        y = torch.randint(0, 2, (batch,), generator=gen).float()
        start = time.perf_counter()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(net(ids), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 3:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    rows = []
    with initialize_config_dir(config_dir=str(REPO / "configs"), version_base="1.3"):
        for preset, keras2 in VARIANTS.items():
            secs = {}
            for label, extra in (("fused", FUSED), ("keras2", keras2)):
                cfg = compose("train", [f"experiment={preset}", *extra])
                torch.manual_seed(0)
                net = instantiate(cfg.model).train()
                secs[label] = step_seconds(net, args.steps, cfg.data.batch_size, cfg.data.maxlen, cfg.data.vocab_size)
            batches = -(-20_000 // cfg.data.batch_size)
            rows.append((preset, " ".join(keras2), secs["fused"], secs["keras2"], batches))
    lines = [
        "# Keras 2 cells (TorchScript loop) against PyTorch's fused layers",
        "",
        f"Command: `python benchmarks/keras_cells.py --steps {args.steps}`",
        f"Machine: {platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}; "
        f"{time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "| preset | Keras 2 options | fused s/step | Keras 2 s/step | ratio | fused epoch s | Keras 2 epoch s |",
        "|---|---|---|---|---|---|---|",
        *(f"| {p} | `{k}` | {f:.3f} | {c:.3f} | {c / f:.2f} | {f * n:.0f} | {c * n:.0f} |" for p, k, f, c, n in rows),
    ]
    publish("keras-cells", lines)


if __name__ == "__main__":
    main()
