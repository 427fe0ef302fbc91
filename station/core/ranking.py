"""Whether a sample's scores rank parts at all: a threshold needs scores that differ.

A detector that reports one constant score (a heuristic blob detector's 1.0)
ranks nothing; the tuning view, `station evaluate` and the recommenders say so
in words instead of drawing a flat curve or searching a flat table.
"""

from __future__ import annotations

import numpy as np

from station.core.errors import StationError
from station.core.sample import ScoredSample


class RankingError(StationError):
    """The sample's scores rank nothing (constant or absent): no curve can be drawn."""


def ranking_problem(sample: ScoredSample) -> str | None:
    """Why the sample's scores cannot support a threshold, or None when they can.

    A detector that reports one constant score (a heuristic blob detector's
    1.0) ranks nothing: moving a threshold only switches it fully on or off.
    """
    finite = sample.scores[np.isfinite(sample.scores)]
    if sample.n_parts == 0:
        return "the sample is empty: there are no scores to set a threshold on"
    if finite.size == 0:
        return (
            f"the model detected nothing on the {sample.n_parts} parts of the sample: "
            "there are no scores to set a threshold on"
        )
    lo, hi = float(finite.min()), float(finite.max())
    if lo == hi:
        return (
            f"every score the model gave on this sample is {lo:g}: a constant score ranks "
            "nothing, so a threshold cannot trade escapes against scrap; judge this "
            "detector by its detections, not by a threshold curve"
        )
    constant: list[str] = []
    for c, name in enumerate(sample.class_names):
        col = sample.scores[:, c]
        levels = np.unique(col[np.isfinite(col)])
        if levels.size > 1:
            return None
        if levels.size == 1:
            constant.append(f"{name} always {float(levels[0]):g}")
    return (
        f"each class's score is constant on this sample ({', '.join(constant)}): the scores "
        "rank nothing, so a threshold cannot trade escapes against scrap"
    )
