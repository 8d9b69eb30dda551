"""A source's normal rhythm: expected events per hour of the week, and how bursty it is.

- Hour-of-week rates are 20%-trimmed means over the weeks seen (one odd week does not move
  them), shrunk towards the same hour on the same kind of day (weekday or weekend), which is
  shrunk towards the source's mean: a bin seen in few weeks leans on its neighbours. With
  fewer than three weeks of history only the day-type profile is used.
- Burstiness is the number of events an independent arrival brings (`burst`, 1 = Poisson),
  per window length, fitted so the model predicts as many empty windows as the source
  really had: the probability of silence is what the silence test needs, and a thousand
  events in one hour do not distort it the way a variance would. Arrivals are Poisson, so
  P(no event) falls exponentially with the arrivals a gap should have held: one outage
  left in the training data cannot make every later silence look normal (a negative
  binomial's polynomial tail would).

Hours are counted from the epoch (1970-01-01 was a Thursday, so Monday 00:00 is hour 72 of
the week cycle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

WEEK = 168
# Window lengths (hours) at which burstiness is fitted; a gap uses the longest not above it.
SCALES = (1, 2, 4, 8, 16, 24, 48, 96)
_TRIM = 0.2
_SHRINK = 2.0  # pseudo-observations of the day-type profile each hour-of-week bin starts from
_SHRINK_MEAN = 0.25  # and of the mean each day-type bin starts from: weekends may be truly empty
_MIN_WINDOWS = 12
_OUTLYING = 2.0
_CHI2_MEDIAN = 0.455
_MAX_BURST = 1e5


def hour_of_week(hours: np.ndarray) -> np.ndarray:
    """Monday 00:00 UTC = 0."""
    return (hours + 72) % WEEK


@dataclass(frozen=True)
class Baseline:
    rate: np.ndarray  # expected events per hour, per hour of the week (168)
    mean: float  # events per hour over the training hours
    burst: np.ndarray  # events per independent arrival, per SCALES entry; 1 = Poisson
    # Variance of an hour's count over its mean (1 = Poisson), robust to the odd burst: what a
    # drop in volume is measured against.
    dispersion: float = 1.0

    def expected(self, hours: np.ndarray) -> np.ndarray:
        """Expected events in each (epoch) hour."""
        return self.rate[hour_of_week(hours)]  # type: ignore[no-any-return]

    def burst_at(self, hours: float) -> float:
        """The burst size for a window of this many hours."""
        i = max(0, int(np.searchsorted(SCALES, max(hours, 1.0), side="right")) - 1)
        return float(self.burst[i])


def _trimmed_means(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per column: the 20%-trimmed mean of its non-NaN values, and how many there were."""
    ordered = np.sort(matrix, axis=0)  # NaN sorts last
    n = np.sum(~np.isnan(matrix), axis=0)
    cut = np.floor(n * _TRIM).astype(np.int64)
    sums = np.vstack([np.zeros((1, matrix.shape[1])), np.cumsum(np.nan_to_num(ordered), axis=0)])
    cols = np.arange(matrix.shape[1])
    kept = n - 2 * cut
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (sums[n - cut, cols] - sums[cut, cols]) / kept
    return np.where(kept > 0, means, 0.0), n


def fit(hours: np.ndarray, counts: np.ndarray) -> Baseline:
    """The baseline from training hours (every hour the source was judged normal, zeros
    included) and their counts."""
    if len(hours) == 0:
        return Baseline(np.zeros(WEEK), 0.0, np.ones(len(SCALES)))
    mean = float(counts.mean())
    start = int(hours.min()) - int(hour_of_week(np.array([hours.min()]))[0])
    weeks = (int(hours.max()) - start) // WEEK + 1
    grid = np.full(weeks * WEEK, np.nan)
    grid[hours - start] = counts
    by_week = grid.reshape(weeks, WEEK)
    # Day-type profile: Monday-Friday and Saturday-Sunday, 24 hours each.
    days = by_week.reshape(weeks, 7, 24)
    weekday, n_weekday = _trimmed_means(days[:, :5, :].reshape(-1, 24))
    weekend, n_weekend = _trimmed_means(days[:, 5:, :].reshape(-1, 24))
    day_type = np.concatenate(
        [
            (n_weekday * weekday + _SHRINK_MEAN * mean) / (n_weekday + _SHRINK_MEAN),
            (n_weekend * weekend + _SHRINK_MEAN * mean) / (n_weekend + _SHRINK_MEAN),
        ]
    )
    coarse = np.concatenate([np.tile(day_type[:24], 5), np.tile(day_type[24:], 2)])
    if len(hours) >= 3 * WEEK:
        fine, n_fine = _trimmed_means(by_week)
        rate = (n_fine * fine + _SHRINK * coarse) / (n_fine + _SHRINK)
        # A job that runs "around 3 on Fridays" runs at 2 one week and at 5 the next: a peak
        # hour is lowered towards its neighbours. Never raised: an hour that is always empty
        # (08:00 of a source that starts at 09:00) stays empty.
        rate = np.minimum(rate, 0.25 * np.roll(rate, 1) + 0.5 * rate + 0.25 * np.roll(rate, -1))
    else:
        rate = coarse
    # Trimming shapes the profile; its level stays the source's true mean (a trimmed mean of
    # sparse counts is biased low). Never exactly zero: an always-quiet hour still counts a little.
    rate = np.maximum(rate * (mean / max(float(rate.mean()), 1e-12)), max(mean * 1e-3, 1e-6))
    bursts = _bursts(hours, counts, rate)
    expected = rate[hour_of_week(hours)]
    return Baseline(rate, mean, bursts, _dispersion(counts, expected, float(bursts[0])))


def _dispersion(counts: np.ndarray, expected: np.ndarray, burst: float) -> float:
    """Two views of how much an hour's count varies beyond Poisson, the larger taken:
    - the median squared Pearson residual over the hours expecting at least one event, over
      its Poisson value (0.455, the median of a chi-square with one degree of freedom): a
      median, so neither a burst of thousands nor a drop left in the history moves it;
    - 2b - 1, what bursts of geometric size b give: it sees a source whose hours are mostly
      empty, where the residuals have too few hours to go on."""
    pearson = 1.0
    busy = expected >= 1.0
    if busy.sum() >= 24:
        ratio = float(np.median((counts[busy] - expected[busy]) ** 2 / expected[busy])) / _CHI2_MEDIAN
        pearson = max(ratio, 1.0)
    return max(pearson, 2.0 * burst - 1.0)


def _bursts(hours: np.ndarray, counts: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """The burst size per window length, from the empty windows seen.

    A scale's burst size grows from the shorter scale's when its empty windows are more than
    the shorter one's model allows by chance (`_more_than_chance`); it never shrinks: a burst
    cut in two by a window's edge makes short windows look steadier than the source is, and
    a steadier model means more alarms.
    The windows of an outlying silence (`_outlier`) do not count: a single outage left in
    the history must not teach the source that long silences are normal; silences of that
    length that recur are its rhythm and count in full.
    """
    expected = rate[hour_of_week(hours)]
    outlier = _outlier(hours, counts, expected)
    bursts = np.ones(len(SCALES))
    previous = 1.0
    for i, scale in enumerate(SCALES):
        window = (hours - hours.min()) // scale
        # Only complete windows: every hour of the window trained.
        full = np.bincount(window) == scale
        mu = np.bincount(window, weights=expected)[full]
        if len(mu) >= _MIN_WINDOWS:
            empty = np.bincount(window, weights=counts)[full] == 0
            inside = np.bincount(window, weights=outlier.astype(float))[full] == scale
            zeros = int((empty & ~inside).sum())
            predicted = float(np.sum(p_zero(mu, previous)))
            if _more_than_chance(zeros, predicted):
                previous = max(previous, _calibrate(mu, zeros))
        bursts[i] = previous
    return bursts


def _outlier(hours: np.ndarray, counts: np.ndarray, expected: np.ndarray) -> np.ndarray:
    """Per training hour: whether it lies in the outlying silence, the run of consecutive
    empty hours that should have held the most events, if it should have held over
    `_OUTLYING` times what any other run did."""
    out = np.zeros(len(hours), bool)
    empty = counts == 0
    if not empty.any():
        return out
    # A run breaks at a non-empty hour or at a hole in the training hours.
    breaks = ~empty | np.concatenate([[True], np.diff(hours) != 1])
    run = np.cumsum(breaks)
    held = np.bincount(run[empty], weights=expected[empty])
    order = np.argsort(held)
    runner_up = float(held[order[-2]]) if len(order) > 1 else 0.0
    if held[order[-1]] > _OUTLYING * runner_up:
        out = empty & (run == order[-1])
    return out


def _more_than_chance(seen: int, predicted: float) -> bool:
    """Whether `seen` empty windows are in the upper 10% tail of Poisson(`predicted`), and
    more than one: a single empty window where the model expected a tenth of one happens by
    chance to one source in ten, and would slow every later alarm on it."""
    if seen < 2:
        return False
    if predicted > 50:
        return (seen - predicted) / math.sqrt(predicted) > 1.28
    term = math.exp(-predicted)  # P(Z = 0)
    below = 0.0  # P(Z < seen)
    for i in range(seen):
        below += term
        term *= predicted / (i + 1)
    return seen > predicted and 1.0 - below < 0.1


def p_zero(mu: np.ndarray | float, burst: float) -> np.ndarray:
    """P(no event) for a window expecting `mu` events arriving `burst` at a time."""
    return np.exp(-np.asarray(mu, dtype=np.float64) / burst)


def _calibrate(mu: np.ndarray, zeros: int) -> float:
    """The burst size whose model predicts `zeros` empty windows (larger bursts, fewer
    arrivals, more empty windows)."""
    if zeros <= np.sum(p_zero(mu, 1.0)):
        return 1.0
    lo, hi = 0.0, np.log(_MAX_BURST)
    if np.sum(p_zero(mu, _MAX_BURST)) <= zeros:
        return _MAX_BURST
    for _ in range(50):
        mid = (lo + hi) / 2
        if np.sum(p_zero(mu, float(np.exp(mid)))) < zeros:
            lo = mid
        else:
            hi = mid
    return float(np.exp((lo + hi) / 2))
