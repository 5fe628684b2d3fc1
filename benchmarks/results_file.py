"""Where the benchmark scripts leave their tables: benchmarks/results/<name>-<date and time>.md, and the terminal."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def publish(name: str, lines: list[str]) -> Path:
    text = "\n".join(lines) + "\n"
    path = RESULTS / f"{name}-{dt.datetime.now():%Y-%m-%d_%H-%M-%S}.md"
    path.write_text(text)
    print(text + f"\nwritten to {path}")
    return path


def mean_and_seeds(values: list[float]) -> str:
    """A table cell: the mean, then each seed's value."""
    return f"{statistics.mean(values):.4f}; {', '.join(f'{v:.4f}' for v in values)}"
