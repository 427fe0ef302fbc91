"""A recommendation as a background job, and the line the tuning view says about it.

The search (`station.core.recommend`) runs on the job runner with progress and
cancellation; when it is done the sliders move to its thresholds and the
figures there are what the line reports (the search's own counts are only
mentioned should they ever differ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, Signal, Slot

from station.core import recommend, recommendation
from station.core.costs import Costs
from station.core.jobs import Job, Progress
from station.core.sample import F32Array, ScoredSample
from station.ui.jobs import CANCELLED, JobRunner
from station.ui.tuning.figures import Figures
from station.ui.tuning.sized_sample import SizedSample

MIN_COST = "min_cost"
ESCAPE_CAP = "escape_cap"


@dataclass(frozen=True, slots=True)
class Searched:
    """A finished search: which kind, and what it found (or why nothing)."""

    which: str
    result: recommendation.Recommendation | recommendation.NoRecommendation


def search_job(
    which: str,
    sample: ScoredSample,
    rejecting: npt.NDArray[np.bool_],
    costs: Costs,
    current: npt.NDArray[np.float32],
) -> Job:
    """The plain job function searching `which` recommendation on a snapshot of the inputs."""
    rejecting = rejecting.copy()
    current = current.copy()

    def job(progress: Progress) -> Searched:
        if which == MIN_COST:
            return Searched(
                which,
                recommend.recommend_min_cost(
                    sample, rejecting, costs.escape, costs.scrap, current=current, progress=progress
                ),
            )
        assert costs.max_escape_rate is not None
        return Searched(
            which,
            recommend.recommend_escape_cap(
                sample,
                rejecting,
                costs.max_escape_rate,
                costs.escape,
                costs.scrap,
                current=current,
                progress=progress,
            ),
        )

    return job


def recommendation_line(
    which: str, rec: recommendation.Recommendation, f: Figures, cap: float | None
) -> str:
    """What the view says once the sliders moved to `rec` (figures `f` at those thresholds)."""
    c = f.confusion
    if which == MIN_COST:
        line = (
            f"Minimum cost: {c.false_accepts} escapes and {c.false_rejects} scrapped "
            f"of {c.parts} parts, {f.cost_text.split(': ', 1)[1]}"
        )
    else:
        line = f"Least scrap with escapes ≤ {100 * (cap or 0):g}%: {f.escape_text}; " + (
            f"{c.false_rejects} good parts scrapped"
        )
    if (c.false_accepts, c.false_rejects) != (rec.escapes, rec.scrap):  # never expected
        line += f" (the search reported {rec.escapes} escapes, {rec.scrap} scrapped)"
    if rec.notes:
        line += ". Note: " + "; ".join(rec.notes)
    return line


class ThresholdSearch(QObject):
    """Runs one search at a time on the job runner; `found(Searched)` when it is done."""

    found = Signal(object)  # Searched
    message = Signal(str)
    busy = Signal(bool, str)
    progress = Signal(int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner("Search", self)
        self.runner.progress.connect(self.progress)
        self.runner.finished.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)

    def recommend(self, which: str, on: SizedSample, costs: Costs, current: F32Array) -> None:
        """Search `which` on the sample as sized, off the GUI thread; refused in a message
        when the recipe sets no escape-rate cap (ESCAPE_CAP) or the sample cannot support a
        threshold."""
        if which == ESCAPE_CAP and costs.max_escape_rate is None:
            self.message.emit("no recommendation: the recipe sets no escape-rate cap")
            return
        fig, loaded = on.figures, on.loaded
        why = "no sample loaded" if fig is None or loaded is None else fig.ranking_problem
        if why or loaded is None:
            self.message.emit(f"no recommendation: {why}")
            return
        self.start(search_job(which, loaded.sample, on.rejecting, costs, current))

    def start(self, job: Job) -> None:
        if self.runner.running:
            self.message.emit("a recommendation is already being searched")
            return
        self.runner.start(job)
        self.busy.emit(True, "searching thresholds")

    @Slot(object)
    def _on_done(self, result: object) -> None:
        self.busy.emit(False, "")
        assert isinstance(result, Searched)
        if isinstance(result.result, recommendation.NoRecommendation):
            self.message.emit(f"no recommendation: {result.result.reason}")
            return
        self.found.emit(result)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.busy.emit(False, "")
        if message == CANCELLED:
            self.message.emit("recommendation search cancelled")
        else:
            self.message.emit(f"no recommendation: {message}")
