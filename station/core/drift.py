"""Score drift: has a class's live score distribution moved away from the tuning sample's?

A threshold means "this much escape for this much scrap" only on the score
distribution it was tuned on. When lighting, material or the model changes,
the distribution moves and the threshold silently means something else.
The station watches each class with a population-stability index (PSI):

    PSI = sum over bins b of (live_b - ref_b) * ln(live_b / ref_b)

over the per-part maximum score of the class (`Inspection.max_scores`).

Bins (fixed, so live counts accumulate without re-binning): one bin for
"class not detected on the part" (score -inf, or below 0), then 10 equal
bins over [0, 1] (the last one closed: a score of exactly 1.0 counts in
[0.9, 1.0]). A part without a decision has no scores (NaN maxima): it is
skipped whole, on the reference and on the line, so a camera outage (a run
of parts never scored) neither raises an alarm nor counts as live parts.
Each proportion is floored at `EPS` so an empty bin does not make PSI infinite.

Reading (the usual credit-scoring convention):
PSI < 0.10 stable; 0.10-0.25 moderate shift, watch; PSI > 0.25 (`PSI_ALARM`)
alarm: "thresholds may no longer mean what they meant". No verdict is given
before `MIN_LIVE_PARTS` live parts: PSI of a few parts is noise.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from station.core.outcomes import no_decision_rows

N_SCORE_BINS = 10
N_BINS = N_SCORE_BINS + 1  # bin 0 = not detected
PSI_WATCH = 0.10
PSI_ALARM = 0.25
MIN_LIVE_PARTS = 200
EPS = 1e-4


class DriftLevel(StrEnum):
    TOO_FEW = "too few parts"
    STABLE = "stable"
    WATCH = "moderate shift"
    ALARM = "drift"


def bin_index(scores: npt.NDArray[np.floating]) -> npt.NDArray[np.int64]:
    """Bin of each score: 0 for not detected (< 0 or -inf), 1..10 for [0, 1]; -1 for NaN."""
    s = np.asarray(scores, dtype=np.float64)
    nan = np.isnan(s)
    idx = np.floor(np.clip(np.where(nan, 0.0, s), 0.0, 1.0) * N_SCORE_BINS).astype(np.int64) + 1
    idx = np.minimum(idx, N_SCORE_BINS)  # 1.0 joins the last bin
    idx = np.where(s < 0.0, 0, idx)
    return np.where(nan, -1, idx)


def decided(scores: npt.NDArray[np.floating]) -> npt.NDArray[np.floating]:
    """The rows of a (parts, classes) score matrix that had a decision (no NaN)."""
    s = np.asarray(scores)
    if s.ndim != 2:
        raise ValueError(f"scores: expected a (parts, classes) matrix, got shape {s.shape}")
    return s[~no_decision_rows(s)]


def histogram(scores: npt.NDArray[np.floating]) -> npt.NDArray[np.int64]:
    """Counts per class and bin of a (parts, classes) score matrix: (classes, N_BINS).

    Parts without a decision (a NaN row) are not counted.
    """
    s = decided(scores)
    n_cls = s.shape[1]
    idx = bin_index(s)
    flat = idx + np.arange(n_cls, dtype=np.int64)[None, :] * N_BINS
    flat = flat[idx >= 0]
    return np.bincount(flat, minlength=n_cls * N_BINS).reshape(n_cls, N_BINS).astype(np.int64)


def psi(reference: npt.NDArray[np.int64], live: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """PSI per class from two (classes, N_BINS) count arrays; NaN for a class with no counts."""
    ref = np.asarray(reference, dtype=np.float64)
    liv = np.asarray(live, dtype=np.float64)
    ref_n = ref.sum(axis=1, keepdims=True)
    liv_n = liv.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.maximum(ref / ref_n, EPS)
        q = np.maximum(liv / liv_n, EPS)
        out = ((q - p) * np.log(q / p)).sum(axis=1)
    out[(ref_n[:, 0] == 0) | (liv_n[:, 0] == 0)] = np.nan
    return np.asarray(out, dtype=np.float64)


def level(value: float, live_parts: int) -> DriftLevel:
    if live_parts < MIN_LIVE_PARTS or np.isnan(value):
        return DriftLevel.TOO_FEW
    if value > PSI_ALARM:
        return DriftLevel.ALARM
    if value > PSI_WATCH:
        return DriftLevel.WATCH
    return DriftLevel.STABLE


@dataclass(frozen=True, slots=True)
class ClassDrift:
    class_name: str
    psi: float
    level: DriftLevel


@dataclass(frozen=True, slots=True)
class DriftReport:
    live_parts: int
    classes: tuple[ClassDrift, ...]

    @property
    def alarm(self) -> bool:
        return any(c.level is DriftLevel.ALARM for c in self.classes)

    @property
    def message(self) -> str:
        """One line for the supervisor."""
        if self.live_parts < MIN_LIVE_PARTS:
            return f"drift: {self.live_parts} live parts so far; judged from {MIN_LIVE_PARTS}"
        drifted = [c for c in self.classes if c.level is DriftLevel.ALARM]
        if drifted:
            names = ", ".join(f"{c.class_name} (PSI {c.psi:.2f})" for c in drifted)
            return (
                f"drift alarm: {names} score distribution moved away from the tuning sample "
                f"(PSI > {PSI_ALARM}): thresholds may no longer mean what they meant"
            )
        worst = max(self.classes, key=lambda c: -1.0 if np.isnan(c.psi) else c.psi, default=None)
        if worst is None:
            return "drift: no classes"
        return f"no drift: largest PSI {worst.psi:.2f} ({worst.class_name}) ≤ {PSI_ALARM}"


class DriftMonitor:
    """Live per-class histograms compared with a reference (the tuning sample).

    `add` takes one part's (classes,) max scores or a (parts, classes) batch;
    the cost is one bincount, so it can run on every part. Parts without a
    decision (NaN) are skipped: `live_parts` counts scored parts only.
    """

    def __init__(self, class_names: Sequence[str], reference_scores: npt.NDArray[np.floating]):
        self.class_names = tuple(class_names)
        ref = np.asarray(reference_scores)
        if ref.ndim != 2 or ref.shape[1] != len(self.class_names):
            raise ValueError(
                f"reference_scores: expected (parts, {len(self.class_names)}), got {ref.shape}"
            )
        self.reference = histogram(ref)
        self.live = np.zeros_like(self.reference)
        self.live_parts = 0

    def reset(self) -> None:
        self.live[:] = 0
        self.live_parts = 0

    def add(self, max_scores: npt.NDArray[np.floating]) -> None:
        batch = np.atleast_2d(np.asarray(max_scores))
        if batch.shape[1] != len(self.class_names):
            raise ValueError(
                f"max_scores: expected {len(self.class_names)} classes, got {batch.shape[1]}"
            )
        scored = decided(batch)
        self.live += histogram(scored)
        self.live_parts += scored.shape[0]

    def report(self) -> DriftReport:
        values = psi(self.reference, self.live)
        return DriftReport(
            self.live_parts,
            tuple(
                ClassDrift(name, float(v), level(float(v), self.live_parts))
                for name, v in zip(self.class_names, values, strict=True)
            ),
        )
