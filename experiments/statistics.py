"""The experiment's statistics, as pure functions of numbers: intervals over seeds, paired differences,
power, a run's value and where a learning curve reaches a level."""
import numpy as np
from scipy import stats


def interval(values):
    """(mean, half-width of the 95 % confidence interval by Student t; None for one value)."""
    v = np.asarray(values, dtype=float)
    if len(v) < 2:
        return float(v.mean()), None
    return float(v.mean()), float(stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))


def detectable(sd, n):
    """The difference a paired t-test of n seeds detects with 80 % power at two-sided 5 %."""
    return float((stats.t.ppf(0.975, n - 1) + stats.t.ppf(0.8, n - 1)) * sd / np.sqrt(n)) if n > 1 else None


def seeds_needed(sd, delta):
    """The fewest seeds whose paired t-test detects `delta` with 80 % power (None beyond 200)."""
    return next((n for n in range(2, 201) if detectable(sd, n) <= delta), None) if sd > 0 else 2


def minus(a, b):
    return None if a is None or b is None else a - b


def paired(a, b, key):
    """{seed: a - b} of `key` over the seeds both {seed: values} hold (None where either lacks the value)."""
    return {s: minus(a[s].get(key), b[s].get(key)) for s in a if s in b}


def run_value(log, last, keys):
    """The mean of the last `last` evaluations of each key (None where a key was not logged in all of them)."""
    tail = log[-last:]
    return {k: None if any(r.get(k) is None for r in tail) else float(np.mean([r[k] for r in tail])) for k in keys}


def reaches(iterations, values, level, lower_is_better=True):
    """The first iteration from which a curve stays at `level` or better, or None when it never does."""
    good = [(v <= level) if lower_is_better else (v >= level) for v in values]
    for i in range(len(good)):
        if all(good[i:]):
            return iterations[i]
    return None


def late_slope(iterations, values, share=1 / 3):
    """The curve's change per 1000 iterations over its last `share` (least squares): near 0 when it has flattened."""
    k = max(2, int(round(len(values) * share)))
    x, y = np.asarray(iterations[-k:], float), np.asarray(values[-k:], float)
    return float(np.polyfit(x, y, 1)[0] * 1000)
