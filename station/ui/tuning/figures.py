"""What the tuning view shows, as frozen values (no Qt): figures, curves, changed parts.

The view-model builds these from the core's results; the widgets only render them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from station.core import costs, metrics, outcomes
from station.core.costs import Costs
from station.core.rates import Rate
from station.core.sweep import Sweep

__all__ = [
    "ChangedParts",
    "Costs",
    "Curves",
    "Figures",
    "PartDetail",
    "escape_text",
    "escapes_by_class_text",
    "scrap_text",
]

DEFAULT_KEY = "__default__"
MAX_CHANGED_SHOWN = 24


@dataclass(frozen=True, slots=True, eq=False)
class ChangedParts:
    """Parts whose outcome differs between the saved and the dragged set."""

    newly_rejected: npt.NDArray[np.intp]
    newly_passed: npt.NDArray[np.intp]
    caught: int  # defective parts now rejected (were escaping)
    scrapped: int  # good parts now rejected
    escaping: int  # defective parts now passed
    rescued: int  # good parts now passed

    @property
    def total(self) -> int:
        return int(self.newly_rejected.size + self.newly_passed.size)

    def summary(self) -> str:
        if not self.total:
            return "no sample part changes outcome against the saved thresholds"
        return (
            f"{self.total} {'part changes' if self.total == 1 else 'parts change'} outcome "
            "vs saved: "
            f"{self.newly_rejected.size} now rejected ({self.caught} defective caught, "
            f"{self.scrapped} good scrapped), {self.newly_passed.size} now passed "
            f"({self.escaping} defective escape, {self.rescued} good saved)"
        )


def change_words(now_rejected: bool, defective: bool) -> tuple[str, bool]:
    """A changed part's caption and whether the change is right, in `station compare`'s words
    (`outcomes.change_effect`): now rejected means it shipped at the old thresholds."""
    words = outcomes.change_effect(defective, now_rejected, not now_rejected)
    return words, words in outcomes.FIXES


@dataclass(frozen=True, slots=True)
class PartDetail:
    """One sample part as the part dialog shows it.

    `truth_boxes` are YOLO-normalised (cx, cy, w, h, class name) from the label
    file; `scores` are (class, max score, saved T, dragged T).
    """

    index: int
    part_id: str
    image_path: str | None
    truth_boxes: tuple[tuple[float, float, float, float, str], ...]
    truth_classes: tuple[str, ...]
    defective: bool
    scores: tuple[tuple[str, float, float, float], ...]
    saved_outcome: str
    dragged_outcome: str


def read_yolo_boxes(
    path: str | None, class_names: Sequence[str]
) -> tuple[tuple[float, float, float, float, str], ...]:
    """Boxes of a YOLO label file; () when missing or unreadable (a thumbnail, not a verdict)."""
    if not path:
        return ()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return ()
    out = []
    for line in text.splitlines():
        f = line.split()
        if len(f) < 5:
            continue
        try:
            c = int(f[0])
            cx, cy, w, h = (float(x) for x in f[1:5])
        except ValueError:
            continue
        name = class_names[c] if 0 <= c < len(class_names) else f"class {c}"
        out.append((cx, cy, w, h, name))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Figures:
    """What the figures panel shows for the dragged set."""

    confusion: metrics.Confusion
    cost: costs.CostEstimate | None
    escape_text: str
    scrap_text: str
    cost_text: str
    per_class_text: str
    selected: str
    threshold: float
    far: float | None
    frr: float | None
    changed: ChangedParts


@dataclass(frozen=True, slots=True, eq=False)
class Curves:
    """Histogram and curves of the selected class, or `problem` instead of them."""

    class_name: str
    problem: str | None
    edges: npt.NDArray[np.float64] | None = None
    hist_defective: npt.NDArray[np.float64] | None = None
    hist_good: npt.NDArray[np.float64] | None = None
    n_defective: int = 0
    n_good: int = 0
    n_undetected: int = 0
    sweep: Sweep | None = None


def escape_text(r: Rate) -> str:
    """'3 of 212 defective parts escape: 1.4% (0.5–4.1%)'."""
    tail = str(r).split(": ", 1)[1]
    return f"{r.count} of {r.total} defective parts escape: {tail}"


def scrap_text(r: Rate) -> str:
    tail = str(r).split(": ", 1)[1]
    return f"{r.count} of {r.total} good parts scrapped: {tail}"


def escapes_by_class_text(c: metrics.Confusion) -> str:
    """'escapes by class: scratch 2/39, crack 1/33; 3 parts no decision (NaN score)'."""
    per = ", ".join(f"{name} {esc}/{n}" for name, (n, esc) in c.escapes_per_class.items() if n)
    nd = f"; {c.no_decision} parts no decision (NaN score)" if c.no_decision else ""
    return f"escapes by class: {per or 'none labeled'}{nd}"
