"""A search space written in Hydra's sweep grammar, as Optuna distributions.

optimizer.lr: tag(log, interval(1e-4, 1e-2))    log-uniform float
model.dropout: interval(0.0, 0.5)                uniform float (int(interval(2, 9)): uniform integer)
model.hidden_size: range(32, 129, step=32)       integers 32, 64, 96, 128
data.batch_size: choice(32, 64, 128)             categorical
"""

from __future__ import annotations

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from imdb_sentiment.errors import UserError


def distributions(params: dict) -> dict[str, BaseDistribution]:
    """``hydra.sweeper.params`` as ``{key: distribution}``; one line naming the key for what cannot be searched."""
    out = {}
    for key, text in (params or {}).items():
        try:
            (override,) = OverridesParser.create().parse_overrides([f"{key}={text}"])
        except Exception as exc:
            raise UserError(f"hydra.sweeper.params.{key}={text}: {str(exc).strip().splitlines()[0]}") from None
        out[key] = _distribution(f"hydra.sweeper.params.{key}={text}", override.value())
    return out


def _distribution(where: str, sweep) -> BaseDistribution:
    log = "log" in getattr(sweep, "tags", set())
    if isinstance(sweep, ChoiceSweep):
        return CategoricalDistribution(list(sweep.list))
    if isinstance(sweep, RangeSweep):
        if all(isinstance(x, int) for x in (sweep.start, sweep.stop, sweep.step)):
            last = sweep.start + (sweep.stop - 1 - sweep.start) // sweep.step * sweep.step  # stop is excluded
            return IntDistribution(sweep.start, last, step=sweep.step)
        return CategoricalDistribution([float(x) for x in _float_range(sweep)])
    if isinstance(sweep, IntervalSweep):
        if sweep.start >= sweep.end or (log and sweep.start <= 0):
            raise UserError(f"{where}: needs start < end{' and start > 0 (log scale)' if log else ''}")
        if isinstance(sweep.start, int) and isinstance(sweep.end, int):
            return IntDistribution(sweep.start, sweep.end, log=log)
        return FloatDistribution(float(sweep.start), float(sweep.end), log=log)
    raise UserError(f"{where}: not a search dimension; use interval(a, b), tag(log, interval(a, b)), range or choice")


def _float_range(sweep: RangeSweep) -> list[float]:
    values, x = [], sweep.start
    while x < sweep.stop:
        values.append(round(x, 12))
        x += sweep.step
    return values


def as_override(key: str, value) -> str:
    """``key=value`` as Hydra reads it back to the same value (floats in full precision)."""
    return f"{key}={value!r}" if isinstance(value, float) else f"{key}={value}"
