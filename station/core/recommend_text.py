"""The words of a recommendation: what it does on the sample, and how it was searched.

Kept apart from the search so the numbers and the sentences can change
independently; every figure quoted is a count from `metrics.Confusion`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from station.core.metrics import Confusion
from station.core.rates import Rate


def shortest_float32(x: float | np.floating) -> float:
    """The shortest decimal that reads back as the same float32 (0.7, not 0.699999988)."""
    return float(np.format_float_positional(np.float32(x), unique=True, trim="0"))


def describe(conf: Confusion) -> str:
    def part(label: str, rate: Rate, of: str) -> str:
        if rate.ci95 is None or rate.value is None:
            return f"{label} {rate.count} of {rate.total} {of}"
        lo, hi = rate.ci95
        return (
            f"{label} {rate.count} of {rate.total} {of} ({100 * rate.value:.2f}%, "
            f"95% CI {100 * lo:.2f}–{100 * hi:.2f}%)"
        )

    text = (
        part("escapes", conf.far, "defective parts") + ", " + part("scrap", conf.frr, "good parts")
    )
    if conf.no_decision:
        text += f", {conf.no_decision} part(s) without a decision (NaN score)"
    return text


def search_note(exact: bool, dims: tuple[int, ...]) -> str:
    combos = math.prod(dims)
    if exact:
        return f"exhaustive over all {combos:,} combinations of the observed score levels"
    return (
        f"{combos:,} level combinations are too many to search exhaustively: best of several "
        "starts improved one, then two classes at a time (near, not provably at, the optimum)"
    )


def format_thresholds(th: Mapping[str, float]) -> str:
    return ", ".join(f"{k} {v:g}" for k, v in th.items())


def wide_interval_note(conf: Confusion) -> str | None:
    """A warning when the escape rate's interval is too wide to rely on (few defective parts)."""
    ci = conf.far.ci95
    if ci is None or ci[1] - ci[0] <= 0.1:
        return None
    lo, hi = ci
    return (
        f"only {conf.defective_parts} defective parts: at these thresholds the escape rate "
        f"could be anywhere in {100 * lo:.1f}–{100 * hi:.1f}% (Wilson 95%); measure more "
        "defective parts before relying on it"
    )


def cap_unreachable(cap_txt: str, fa_min: int, n_def: int) -> str:
    return (
        f"no thresholds meet the escape-rate cap of {cap_txt}: even at the lowest "
        f"thresholds {Rate.of(fa_min, n_def)} of defective parts ship, because the model "
        "scores no reject class on them"
    )


def cap_unsupported(cap_txt: str, th: Mapping[str, float], rate: Rate, need: int | None) -> str:
    hi = rate.ci95[1] if rate.ci95 else 1.0
    return (
        f"the sample is too small to support an escape-rate cap of {cap_txt}: the best "
        f"thresholds on it ({format_thresholds(th)}) let {rate} of "
        f"defective parts ship, and the 95% upper bound {100 * hi:.3g}% exceeds the cap"
        + (f"; even 0 escapes needs at least {need} defective parts" if need else "")
    )
