"""PNG plots of a comparison: loss and accuracy curves per epoch (a panel a group), test accuracy per group.

Drawn on matplotlib ``Figure`` objects (no pyplot state, no display needed) and returned as
PNG bytes, so the caller writes them atomically.
"""

from __future__ import annotations

import io
import math
import textwrap

import numpy as np
from matplotlib.figure import Figure

from imdb_sentiment.stats import CONFIDENCE, estimate

TRAIN, VAL = "#1f77b4", "#ff7f0e"


def _wrap(label: str, width: int = 38) -> str:
    return "\n".join(textwrap.wrap(label.replace(",", ", "), width)) or label


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _by_epoch(histories: list[list[dict]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Epochs, and the mean, min and max over runs of ``key`` at each epoch some run logged it."""
    values: dict[int, list[float]] = {}
    for history in histories:
        for row in history:
            if row.get(key) is not None:
                values.setdefault(row["epoch"], []).append(row[key])
    epochs = np.array(sorted(values))
    stacked = [np.array(values[e]) for e in epochs]
    return (
        epochs,
        np.array([v.mean() for v in stacked]),
        np.array([v.min() for v in stacked]),
        np.array([v.max() for v in stacked]),
    )


def curves(groups, quantity: str) -> bytes | None:
    """One panel a group: train and validation ``quantity`` ("acc" or "loss") per epoch, mean over
    the group's runs with their range shaded. None when no run logged any epoch."""
    panels = [(g, [r.history for r in g.runs if r.history]) for g in groups]
    panels = [(g, h) for g, h in panels if h]
    if not panels:
        return None
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(4.6 * ncols, 3.4 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharey=True, squeeze=False).ravel()
    name = {"acc": "accuracy", "loss": "loss"}[quantity]
    for ax, (group, histories) in zip(axes, panels):
        for split, color, style in (("train", TRAIN, "-"), ("val", VAL, "--")):
            epochs, mean, lo, hi = _by_epoch(histories, f"{split}_{quantity}")
            if len(epochs) == 0:
                continue
            label = {"train": "train", "val": "validation"}[split]
            ax.plot(epochs, mean, style, color=color, marker="o", markersize=3, label=label)
            if len(histories) > 1:
                ax.fill_between(epochs, lo, hi, color=color, alpha=0.2, linewidth=0)
        incomplete = sum(not r.complete for r in group.runs)
        runs = f"{len(histories)} run{'s' if len(histories) > 1 else ''}" + (
            f", {incomplete} incomplete" if incomplete else ""
        )
        ax.set_title(f"{_wrap(group.label)}\n({runs})", fontsize=9)
        ax.set_xlabel("epoch")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(alpha=0.3)
    for ax in axes[: ncols * nrows : ncols]:
        ax.set_ylabel(name)
    for ax in axes[len(panels) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=8)
    spread = "; shaded: range over seeds" if any(len(h) > 1 for _, h in panels) else ""
    fig.suptitle(f"{name.capitalize()} per epoch, train vs validation (mean over a group's runs{spread})", fontsize=11)
    return _png(fig)


def accuracy_bars(groups, metric: str, title: str) -> bytes | None:
    """Horizontal bars: each group's mean ``metric`` with its Student-t confidence interval, and its runs as dots."""
    data = [(g, [r.get(metric) for r in g.runs if r.complete and r.get(metric) is not None]) for g in groups]
    data = [(g, v) for g, v in data if v]
    if not data:
        return None
    fig = Figure(figsize=(8, 1.2 + 0.55 * len(data)), layout="constrained")
    ax = fig.subplots()
    ys = np.arange(len(data))
    ests = [estimate(v) for _, v in data]
    means = np.array([e.mean for e in ests])
    err = np.array([[0.0, 0.0] if e.ci_low is None else [e.mean - e.ci_low, e.ci_high - e.mean] for e in ests]).T
    ax.barh(ys, means, color="#9ecae1", edgecolor="#3182bd", height=0.6)
    ax.errorbar(means, ys, xerr=err, fmt="none", ecolor="black", capsize=4, linewidth=1.2)
    for y, (_, values) in zip(ys, data):
        jitter = np.linspace(-0.15, 0.15, len(values)) if len(values) > 1 else [0.0]
        ax.plot(values, y + np.asarray(jitter), "o", color="#08306b", markersize=3.5, alpha=0.8)
    for y, e in zip(ys, ests):
        ax.annotate(
            f"{e.mean:.4f}  n={e.n}",
            (1, y),
            xycoords=("axes fraction", "data"),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
        )
    lows = [min(v) for _, v in data] + [e.ci_low for e in ests if e.ci_low is not None]
    highs = [max(v) for _, v in data] + [e.ci_high for e in ests if e.ci_high is not None]
    lo, hi = min(lows), max(highs)
    pad = max(0.1 * (hi - lo), 0.005)
    left = max(0.0, lo - pad)
    ax.set_xlim(left, min(1.0, hi + pad) if hi + pad > left else left + 0.01)
    ax.set_yticks(ys, [_wrap(g.label, 48) for g, _ in data], fontsize=8)
    ax.invert_yaxis()  # the first (best) group on top
    ax.set_xlabel(f"{title}" + (f" (axis starts at {left:.3f}, not 0)" if left > 0 else ""))
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(f"{title.capitalize()} per group: mean, {CONFIDENCE:.0%} CI (Student t), runs as dots", fontsize=10)
    return _png(fig)


def make_all(groups) -> dict[str, bytes]:
    """``{file name: PNG}`` for the curves and the bar chart (test accuracy, or best validation accuracy
    where no run was tested)."""
    out = {"accuracy_curves.png": curves(groups, "acc"), "loss_curves.png": curves(groups, "loss")}
    tested = any(r.complete and r.get("test_acc") is not None for g in groups for r in g.runs)
    metric, title = ("test_acc", "test accuracy") if tested else ("best_val_acc", "best validation accuracy")
    out[f"{metric}.png"] = accuracy_bars(groups, metric, title)
    return {name: png for name, png in out.items() if png is not None}
