"""Seed statistics: mean, sample standard deviation, Student-t confidence interval, Welch's t test, Holm's
correction."""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05

METHOD = (
    f"{CONFIDENCE:.0%} CI = mean ± t(0.975, n-1)·s/√n (Student t; s = sample standard deviation over seeds). "
    f"Each group is compared with the best group (highest mean of the groups with n >= 2) by Welch's two-sided "
    f"t test (unequal variances) at α = {ALPHA}, its p-values adjusted by Holm's step-down correction across "
    f'the comparisons (p shown adjusted). "Within noise" means no significant difference at that level, not '
    f"that the groups are equal; a group with n < 2 cannot be tested."
)


@dataclass(frozen=True)
class Estimate:
    n: int
    mean: float | None
    std: float | None  # sample (n - 1); None for n < 2
    ci_low: float | None
    ci_high: float | None


def estimate(values: list[float]) -> Estimate:
    n = len(values)
    if n == 0:
        return Estimate(0, None, None, None, None)
    mean = math.fsum(values) / n
    if n == 1:
        return Estimate(1, mean, None, None, None)
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1) * std / math.sqrt(n)
    return Estimate(n, mean, std, mean - half, mean + half)


def welch_p(a: list[float], b: list[float]) -> float | None:
    """Two-sided p-value of Welch's t test; None when a group has fewer than 2 values."""
    if len(a) < 2 or len(b) < 2:
        return None
    ea, eb = estimate(a), estimate(b)
    if ea.std == 0 and eb.std == 0:  # t is 0/0 or ±inf
        return 1.0 if ea.mean == eb.mean else 0.0
    return float(stats.ttest_ind(a, b, equal_var=False).pvalue)


def holm(pvalues: list[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (None stays None): the k-th smallest of m is multiplied by m - k + 1,
    kept monotone and at most 1. Rejecting where the adjusted p < alpha holds the family-wise error at alpha."""
    tested = sorted((p, i) for i, p in enumerate(pvalues) if p is not None)
    out: list[float | None] = [None] * len(pvalues)
    running = 0.0
    for k, (p, i) in enumerate(tested):
        running = max(running, min(1.0, (len(tested) - k) * p))
        out[i] = running
    return out


def verdict(p: float | None, is_best: bool) -> str:
    if is_best:
        return "best"
    if p is None:
        return "cannot tell (n < 2)"
    return f"within noise (p={p:.3g})" if p >= ALPHA else f"worse (p={p:.3g})"
