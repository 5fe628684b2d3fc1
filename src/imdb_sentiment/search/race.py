"""Seed racing: seeds go only where they can still change the answer.

Every configuration starts with ``min_seeds`` runs. After each round the best one (highest mean of those still
racing) is compared with each other by Welch's t test, the p-values Holm-adjusted across the comparisons; a
configuration separated from the best (adjusted p < alpha) leaves the race. Each one left, the best included,
gets one more seed, unless it has ``max_seeds`` runs or its 95% interval is narrower than ``ci_width``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from imdb_sentiment.stats import estimate, holm, welch_p


@dataclass
class Entry:
    """One configuration of the grid and the objective of each of its finished runs."""

    label: str
    overrides: list[str]
    seeds: list[int] = field(default_factory=list)  # seeds run (finished or failed)
    values: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped: str | None = None  # why it gets no more seeds; None while racing

    @property
    def racing(self) -> bool:
        return self.stopped is None


def settle(entries: list[Entry], round_no: int, alpha: float, max_seeds: int, ci_width: float) -> list[Entry]:
    """Mark which entries stop after round ``round_no``; return those that get one more seed."""
    racing = [e for e in entries if e.racing]
    for e in racing:
        if not e.values:
            e.stopped = f"failed in round {round_no}: {e.errors[-1] if e.errors else 'no objective'}"
    racing = [e for e in racing if e.racing]
    testable = [e for e in racing if len(e.values) >= 2]
    best = max(testable or racing, key=lambda e: estimate(e.values).mean, default=None)
    if best is None:
        return []
    others = [e for e in racing if e is not best]
    adjusted = holm([welch_p(e.values, best.values) for e in others])
    for e, p in zip(others, adjusted):
        if p is not None and p < alpha and estimate(e.values).mean < estimate(best.values).mean:
            e.stopped = f"dropped in round {round_no} (Holm p={p:.3g} against {best.label})"
    more = []
    for e in (x for x in racing if x.racing):
        est = estimate(e.values)
        if len(e.seeds) >= max_seeds:
            e.stopped = f"reached max_seeds={max_seeds}"
        elif est.ci_low is not None and est.ci_high - est.ci_low < ci_width:
            e.stopped = f"95% interval {est.ci_high - est.ci_low:.4f} < ci_width={ci_width}"
        else:
            more.append(e)
    return more
