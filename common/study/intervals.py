"""Paired 95 % confidence intervals: Student's t with n − 1 degrees of freedom, computed here (no SciPy)."""

import functools
import math

LEVEL = 0.95  # the intervals' confidence


def t_cdf(t: float, df: int) -> float:
    """Student's t distribution with `df` degrees of freedom: P(T <= t), by integrating its density (Simpson's
    rule on the substitution t = tan(θ)·√df, whose integrand is smooth and bounded)."""
    if t < 0:
        return 1.0 - t_cdf(-t, df)
    steps = 2000  # even
    top = math.atan(t / math.sqrt(df))
    h = top / steps
    total = 0.0
    for i in range(steps + 1):
        weight = 1 if i in (0, steps) else 4 if i % 2 else 2
        total += weight * math.cos(i * h) ** (df - 1)  # the density in θ, up to the constant below
    constant = math.gamma((df + 1) / 2) / (math.gamma(df / 2) * math.sqrt(math.pi))
    return 0.5 + constant * total * h / 3


@functools.cache
def t_critical(df: int, level: float = LEVEL) -> float:
    """The t value with `level` of the distribution between minus it and it (two-sided), by bisection."""
    wanted = (1 + level) / 2
    low = 0.0
    high = 1000.0
    for _ in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if t_cdf(middle, df) < wanted else (low, middle)
    return (low + high) / 2


def paired_interval(mean: float, sd: float, pairs: int, level: float = LEVEL) -> tuple[float, float]:
    """The interval of a mean difference over `pairs` pairs with sample standard deviation `sd`; NaN at both ends
    for fewer than two pairs."""
    if pairs < 2 or math.isnan(sd):
        return math.nan, math.nan
    half = t_critical(pairs - 1, level) * sd / math.sqrt(pairs)
    return mean - half, mean + half


def excludes_zero(low: float, high: float) -> bool:
    """Whether an interval says the difference has a sign: a finding, not noise."""
    return low > 0 or high < 0
