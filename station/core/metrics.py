"""Part-level confusion of one threshold set on a labeled sample, FAR/FRR with intervals.

Everything works from a `ScoredSample` (the per-part, per-class maximum
scores), so a threshold set is evaluated without re-running the model. What
counts as defective, shipped, an escape or scrap is `station.core.outcomes`'
rule, never restated here: a part with a NaN score gets NO DECISION and is
not shipped (a good one is scrap). The four cells always add up to `parts`:

- false_accepts (escapes): defective parts shipped (passed).
- true_rejects: defective parts not shipped (rejected, or no decision).
- false_rejects (scrap): good parts not shipped (rejected, or no decision).
- true_passes: good parts shipped.

`no_decision` says how many parts were held back for a NaN score.
FAR = false_accepts / defective_parts, FRR = false_rejects / good_parts.
One class's curves are in `station.core.sweep`, costs in `station.core.costs`,
whether the scores rank anything in `station.core.ranking`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core import outcomes
from station.core.errors import StationError
from station.core.rates import Rate
from station.core.sample import BoolArray, F32Array, ScoredSample


@dataclass(frozen=True, slots=True)
class Confusion:
    """Part-level outcome of one threshold set on a labeled sample (see module doc)."""

    parts: int
    defective_parts: int
    good_parts: int
    false_accepts: int
    false_rejects: int
    true_rejects: int
    true_passes: int
    no_decision: int
    far: Rate
    frr: Rate
    escapes_per_class: Mapping[str, tuple[int, int]]
    """Reject class name -> (parts with a true defect of that class, how many of them shipped)."""

    @classmethod
    def of(
        cls,
        counted: outcomes.Tally,
        no_decision: int,
        escapes_per_class: Mapping[str, tuple[int, int]],
    ) -> Confusion:
        """The confusion of a part tally (`outcomes.tally` of truth and shipping fate)."""
        return cls(
            parts=counted.parts,
            defective_parts=counted.defective,
            good_parts=counted.good,
            false_accepts=counted.escapes,
            false_rejects=counted.scrap,
            true_rejects=counted.defective - counted.escapes,
            true_passes=counted.good - counted.scrap,
            no_decision=no_decision,
            far=counted.escape_rate,
            frr=counted.scrap_rate,
            escapes_per_class=escapes_per_class,
        )


def as_thresholds(thresholds_vec: npt.ArrayLike, n_classes: int) -> F32Array:
    """One float32 threshold per class, each in [0, 1] inclusive, or a StationError."""
    t = np.asarray(thresholds_vec, dtype=np.float32).reshape(-1)
    if t.shape != (n_classes,):
        raise StationError(f"thresholds: expected {n_classes} values, got {t.shape[0]}")
    if not bool(np.all((t >= 0) & (t <= 1))):  # also catches NaN, which would pass everything
        raise StationError(f"thresholds: expected values in [0, 1], got {t.tolist()}")
    return t


def as_rejecting(rejecting: npt.ArrayLike, n_classes: int) -> BoolArray:
    """One flag per class (does it reject a part?), or a StationError."""
    r = np.asarray(rejecting, dtype=bool).reshape(-1)
    if r.shape != (n_classes,):
        raise StationError(f"rejecting: expected {n_classes} flags, got {r.shape[0]}")
    return r


def not_shipped_mask(
    sample: ScoredSample, thresholds_vec: npt.ArrayLike, rejecting: npt.ArrayLike
) -> BoolArray:
    """(n_parts,) bool: the part is rejected (a reject class scores >= T) or has no decision."""
    n_cls = sample.n_classes
    t = as_thresholds(thresholds_vec, n_cls)
    return outcomes.not_shipped(sample.scores, t, as_rejecting(rejecting, n_cls))


def confusion(
    sample: ScoredSample, thresholds_vec: npt.ArrayLike, rejecting: npt.ArrayLike
) -> Confusion:
    """Part-level confusion of `thresholds_vec` (float32, one per class) on the sample."""
    rej = as_rejecting(rejecting, sample.n_classes)
    shipped = ~not_shipped_mask(sample, thresholds_vec, rej)
    defective = outcomes.defective_parts(sample.truth, rej)
    escaped = sample.truth[defective & shipped].sum(axis=0)
    labeled = sample.truth.sum(axis=0)
    per_class = {
        name: (int(labeled[c]), int(escaped[c]))
        for c, name in enumerate(sample.class_names)
        if rej[c]
    }
    no_dec = int(outcomes.no_decision_rows(sample.scores).sum())
    return Confusion.of(outcomes.tally(defective, shipped), no_dec, per_class)


def threshold_vector(
    class_names: Sequence[str], thresholds: Mapping[str, float], default: float
) -> F32Array:
    """Thresholds by class index in float32, unlisted classes at `default`."""
    return np.array([thresholds.get(c, default) for c in class_names], dtype=np.float32)
