"""Rates with their counts and a Wilson 95% interval: 0 of 12 is not 0%.

A rate measured on a sample is only as good as the sample's size, so every
rate the station shows carries the count it came from and an interval.
The Wilson score interval is used because it stays inside [0, 1] and is
honest at 0 and at n (where the normal approximation collapses to a point).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z95 = 1.959963984540054


def wilson_interval(k: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for `k` successes in `n` trials, bounds inclusive.

    None when `n` is 0 (no rate to bound). `z` = 1.96 gives the 95% interval.
    """
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"wilson_interval: need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return None
    p = k / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


def min_trials_for_upper_bound(cap: float, z: float = Z95) -> int | None:
    """Fewest trials for which 0 of n has a Wilson upper bound <= `cap` (None if cap >= 1).

    With 0 of n the upper bound is z^2 / (n + z^2), so n >= z^2 (1 - cap) / cap.
    """
    if cap >= 1.0:
        return None
    if cap <= 0.0:
        return None
    n = math.ceil(z * z * (1.0 - cap) / cap - 1e-9)
    while n > 0 and (wilson_interval(0, n - 1, z) or (0.0, 1.0))[1] <= cap:
        n -= 1
    while (wilson_interval(0, n, z) or (0.0, 1.0))[1] > cap:
        n += 1
    return n


@dataclass(frozen=True, slots=True)
class Rate:
    """`count` of `total`, its `value` (None when total is 0) and Wilson 95% interval."""

    count: int
    total: int
    value: float | None
    ci95: tuple[float, float] | None

    @classmethod
    def of(cls, count: int, total: int) -> Rate:
        count, total = int(count), int(total)
        return cls(count, total, count / total if total else None, wilson_interval(count, total))

    def __str__(self) -> str:
        if self.value is None or self.ci95 is None:
            return f"{self.count} of {self.total}: n/a"
        lo, hi = self.ci95
        return f"{self.count} of {self.total}: {_pct(self.value)} ({_pct(lo, '')}–{_pct(hi)})"


def _pct(x: float, suffix: str = "%") -> str:
    v = 100.0 * x
    if v != 0.0 and abs(v) < 0.1:
        return f"{v:.2f}{suffix}"
    return f"{v:.1f}{suffix}"
