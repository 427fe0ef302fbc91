"""The loaded sample under the size rules being tried, and its figures at dragged thresholds.

Qt-free. A sample scored from a labeled folder keeps every detection's size,
so other size rules re-derive its per-class maxima (`ScoredSample.sized`); a
sample read from logs keeps only each class's best score under the rules then
in force, so it is judged under the recipe's rules only. The curves (a sweep)
are recomputed only when the selected class, another class's threshold or the
sample changed: a drag of the selected class needs the confusion alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from station.core.costs import Costs
from station.core.sample import BoolArray, F32Array
from station.core.size_rules import SizeRules
from station.services.tuning_samples import LoadedSample
from station.ui.tuning.figures import Curves, Figures
from station.ui.tuning.sample_figures import SampleFigures


class SizedSample:
    """`loaded` is the sample as scored under `sizes` (the rules tried); `saved_sizes` the
    recipe's. `figures` is None until a sample is used."""

    def __init__(self, class_names: Sequence[str], rejecting: BoolArray, saved_sizes: SizeRules):
        saved_sizes.check_classes(class_names)
        self.rejecting = rejecting
        self.saved_sizes = saved_sizes
        self.sizes = saved_sizes
        self.raw: LoadedSample | None = None
        self.loaded: LoadedSample | None = None
        self.figures: SampleFigures | None = None
        self._curve_key: tuple[Any, ...] | None = None

    @property
    def problem(self) -> str | None:
        """Why other size rules cannot be tried on the loaded sample, or None."""
        if self.raw is None or self.raw.sample.sizes_known:
            return None
        return (
            "this sample comes from logs, which keep each class's best score under the size "
            "rules then in force, not every detection's size: score a labeled folder to try "
            "other sizes"
        )

    @property
    def tried(self) -> bool:
        """Size rules other than the recipe's are being tried."""
        return self.sizes != self.saved_sizes

    def use(self, raw: LoadedSample, saved_vector: F32Array) -> None:
        """Judge `raw` from now on (a sample from logs: under the recipe's size rules)."""
        self.raw = raw
        if not raw.sample.sizes_known:
            self.sizes = self.saved_sizes  # logged maxima: the size rules in force back then
        self.rebuild(saved_vector)

    def try_rule(self, class_name: str, measure: str, value: float) -> None:
        """Try `measure` ("min_area" or "min_length", the recipe's unit); StationError if bad.

        Call `rebuild` after it, whether it raised or not."""
        self.sizes = self.sizes.with_rule(class_name, measure, value)

    def revert(self) -> bool:
        """Back to the recipe's size rules; False when they were already in use."""
        if not self.tried:
            return False
        self.sizes = self.saved_sizes
        return True

    def rebuild(self, saved_vector: F32Array) -> None:
        """Re-derive the sample's maxima under `sizes` and the figures from them."""
        raw = self.raw
        if raw is None:
            return
        known = raw.sample.sizes_known
        sized = replace(raw, sample=raw.sample.sized(self.sizes)) if known else raw
        saved = raw.sample.sized(self.saved_sizes) if known and self.tried else None
        self.loaded = sized
        self.figures = SampleFigures(sized, self.rejecting)
        self.figures.set_saved(saved_vector, saved)
        self._curve_key = None

    def at(
        self, t: F32Array, c: int, costs: Costs, force_curves: bool = False
    ) -> tuple[Figures, Curves | None] | None:
        """The figures at thresholds `t` with class `c` selected, and its curves when they
        changed (or when forced); None before a sample is used."""
        fig = self.figures
        if fig is None:
            return None
        others = tuple(float(x) for i, x in enumerate(t) if i != c)
        key = (c, others, fig.ranking_problem)
        new_curves = key != self._curve_key or force_curves
        conf, sweep = fig.confusion_and_sweep(t, c, with_sweep=new_curves)
        curves = None
        if new_curves:
            self._curve_key = key
            curves = fig.curves(c, sweep)
        return fig.figures(t, c, conf, costs), curves
