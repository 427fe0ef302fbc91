"""A recommendation as a background job, and the line the tuning view says about it (no Qt).

The search (`station.core.recommend`) runs on the job runner with progress and
cancellation; when it is done the sliders move to its thresholds and the
figures there are what the line reports (the search's own counts are only
mentioned should they ever differ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core import recommend
from station.core.costs import Costs
from station.core.jobs import Job, Progress
from station.core.sample import ScoredSample
from station.ui.tuning.figures import Figures

MIN_COST = "min_cost"
ESCAPE_CAP = "escape_cap"


@dataclass(frozen=True, slots=True)
class Searched:
    """A finished search: which kind, and what it found (or why nothing)."""

    which: str
    result: recommend.Recommendation | recommend.NoRecommendation


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
    which: str, rec: recommend.Recommendation, f: Figures, cap: float | None
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
