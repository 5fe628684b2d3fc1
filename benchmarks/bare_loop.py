"""The baseline for speed.py: a minimal hand-written PyTorch training loop, no Lightning, no DataLoader.

Same cached ids, same model and optimizer (built from the same resolved config as train.py's), same
batch size; the whole split sits on the device and each batch is one index into it. Every epoch is a
shuffled training pass and an in-order validation pass; it writes their seconds and accuracies as JSON.
Run by speed.py, not by hand: it needs the cache entry and configs speed.py resolves.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from hydra.utils import instantiate

from imdb_sentiment.data.cache import load_entry
from imdb_sentiment.run.memory import peak_rss_mib


def on_device(entry: Path, maxlen: int, padding: str, truncating: str, device: torch.device):
    """(ids, labels) of the train and val splits, padded as train.py pads them, resident on ``device``."""
    splits, _ = load_entry(entry)
    return {
        name: (
            torch.from_numpy(splits[name][0].pad(maxlen, padding, truncating)).to(device),
            torch.from_numpy(splits[name][1].astype("float32")).to(device),
        )
        for name in ("train", "val")
    }


def clock(device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entry", required=True, help="cache entry folder")
    ap.add_argument("--config", required=True, help="JSON with the resolved model, optimizer and data configs")
    ap.add_argument("--epochs", type=int, required=True)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    cfg = json.loads(Path(args.config).read_text())
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    data = on_device(Path(args.entry), cfg["data"]["maxlen"], cfg["data"]["padding"], cfg["data"]["truncating"], device)
    model = instantiate(cfg["model"]).to(device)
    opt = instantiate(cfg["optimizer"])(model.parameters())
    bs = cfg["data"]["batch_size"]
    (x_train, y_train), (x_val, y_val) = data["train"], data["val"]
    epochs = []
    for epoch in range(1, args.epochs + 1):
        start = clock(device)
        model.train()
        order = torch.randperm(len(y_train), device=device)
        loss_sum, correct = torch.zeros((), device=device), torch.zeros((), device=device, dtype=torch.long)
        for i in range(0, len(order), bs):
            rows = order[i : i + bs]
            x, y = x_train[rows], y_train[rows]
            logits = model(x)
            loss = F.binary_cross_entropy_with_logits(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.detach() * len(y)
            correct += ((logits.detach() > 0) == (y > 0.5)).sum()
        train_end = clock(device)
        model.eval()
        val_correct = torch.zeros((), device=device, dtype=torch.long)
        with torch.no_grad():
            for i in range(0, len(y_val), bs):
                val_correct += ((model(x_val[i : i + bs]) > 0) == (y_val[i : i + bs] > 0.5)).sum()
        val_end = clock(device)
        epochs.append(
            {
                "epoch": epoch,
                "train_seconds": round(train_end - start, 3),
                "val_seconds": round(val_end - train_end, 3),
                "train_loss": loss_sum.item() / len(y_train),
                "train_acc": correct.item() / len(y_train),
                "val_acc": val_correct.item() / len(y_val),
            }
        )
        print(json.dumps(epochs[-1]), flush=True)
    Path(args.out).write_text(
        json.dumps(
            {
                "epochs": epochs,
                "peak_rss_mib": peak_rss_mib(),
                "peak_gpu_mib": torch.cuda.max_memory_allocated() // 2**20 if device.type == "cuda" else None,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
