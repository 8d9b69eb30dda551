"""The statistics of silence: thresholds from a false-alarm budget, the silence test, the
sequential test for a sustained drop.

- Each watched source gets `alpha = budget / (sources x opportunities per day)`: a source has
  about one chance per event to show an improbable gap, so the expected false alarms per day
  over all sources stay at the budget (half for silences, half for drops).
- A gap expecting `L` events arriving `b` at a time is improbable when
  P(no event) = exp(-L/b) <= alpha: a bursty source needs `b` times the expected events.
- A drop to `ratio` of the usual volume is found by Page's CUSUM on the quasi-Poisson
  log-likelihood ratio per hour (the Poisson one over the source's own dispersion, the
  variance of an hour's count over its mean); a CUSUM of a true likelihood ratio runs at
  least `e^h` steps between false alarms, so `h = ln(hours per false alarm allowed)`.
"""

from __future__ import annotations

import math

import numpy as np

SHARE_SILENT = 0.5
SHARE_THINNED = 0.5


def alpha(budget_per_day: float, watched: float, per_day: float, share: float = SHARE_SILENT) -> float:
    """The false-alarm probability each gap of this source may have."""
    return min(0.5, budget_per_day * share / (max(watched, 1) * max(per_day, 1.0)))


def needed(a: float, burst: float) -> float:
    """Expected events a gap must span before P(no event) <= a."""
    return -math.log(a) * burst


def drop_llr(x: np.ndarray, mu: np.ndarray, dispersion: float, ratio: float) -> np.ndarray:
    """Per hour: log P(x | mean ratio*mu) - log P(x | mean mu), quasi-Poisson."""
    return (x * math.log(ratio) + mu * (1.0 - ratio)) / dispersion


def cusum(llr: np.ndarray) -> np.ndarray:
    """S_t = max(0, S_t-1 + llr_t), as the running sum minus its running minimum (no loop)."""
    total = np.cumsum(llr)
    floor = np.minimum.accumulate(np.minimum(total, 0.0))
    return total - floor


def cusum_limit(budget_per_day: float, watched: int) -> float:
    """h such that the hours between false drop alarms over all sources match the budget."""
    hours_between = 24.0 * max(watched, 1) / (budget_per_day * SHARE_THINNED)
    return math.log(hours_between)
