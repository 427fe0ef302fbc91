"""What a part's outcome means for quality: truth, shipped, escape, scrap, yield. Defined once.

Every count the station shows (the tuning figures, the live estimate, the
changed parts, the Shift tab, `station report`, `station evaluate`) comes
from these rules:

- A part is DEFECTIVE when it carries a labelled (or confirmed) defect of a
  rejecting class; a part whose only labels are non-reject classes (an `ok`
  mark) is good. An operator's "really defective" counts as defective unless it
  names a class that did not reject where the part was judged (`confirmed_defective`);
  the log keeps those classes with each part when not every class rejects
  (`reject_classes_note`).
- A part SHIPS only when it PASSED. REJECT and NO DECISION both hold it back:
  when the station cannot decide, the part does not ship.
- ESCAPE (false accept): a defective part that shipped.
  SCRAP (false reject): a good part that did not ship, rejected or without a
  decision. A good part held back for NO DECISION is scrap.
- YIELD: passed / inspected (a NO DECISION lowers it like a reject does).

On scores (per-part, per-class maxima): a class not detected on a part is
-inf; a part without a decision has no scores, every maximum is NaN.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from station.core.decision import Outcome
from station.core.rates import Rate

BoolArray = npt.NDArray[np.bool_]
F32Array = npt.NDArray[np.float32]

SHIPPING_OUTCOMES = frozenset({Outcome.PASS})
"""The only outcome that lets a part leave the line."""


def ships(outcome: Outcome | str) -> bool:
    """True when a part with `outcome` (an Outcome or its logged text) is shipped."""
    return Outcome(outcome) in SHIPPING_OUTCOMES


def is_escape(defective: bool, shipped: bool) -> bool:
    return bool(defective) and bool(shipped)


def is_scrap(defective: bool, shipped: bool) -> bool:
    return not defective and not shipped


FIXES = frozenset({"escape fixed", "scrap fixed"})
"""The two `change_effect` words for a change that is right."""


def change_effect(defective: bool, shipped_before: bool, shipped_after: bool) -> str:
    """What a change of outcome does to a part, in the station's words (`station compare`,
    the tuning tab's changed parts): an escape or a scrap fixed, a new one, or "still held"
    when the part moves between REJECT and NO DECISION (it ships neither way, so no count
    moves)."""
    if shipped_before == shipped_after:
        return "still held"
    if defective:
        return "escape fixed" if shipped_before and not shipped_after else "new escape"
    return "scrap fixed" if shipped_after and not shipped_before else "new scrap"


def yield_of(passed: int, inspected: int) -> float | None:
    """passed / inspected as a fraction; None for no parts."""
    return passed / inspected if inspected else None


def defective_parts(truth: npt.ArrayLike, rejecting: npt.ArrayLike) -> BoolArray:
    """(n_parts,) bool from a (n_parts, n_classes) truth matrix: a defect of a reject class."""
    t = np.asarray(truth, dtype=bool)
    return np.asarray((t & np.asarray(rejecting, dtype=bool)).any(axis=1), dtype=bool)


REJECT_CLASSES_KEY = "reject_classes"
"""`Inspection.extra` key: the classes that rejected where the part was judged (JSON list),
kept only when not every class does."""


def reject_classes_note(class_names: Sequence[str], rejecting: npt.ArrayLike) -> dict[str, str]:
    """What an inspection record keeps of its recipe's rejecting classes ({}: all reject)."""
    mask = np.asarray(rejecting, dtype=bool)
    if bool(mask.all()):
        return {}
    names = [n for n, r in zip(class_names, mask, strict=True) if r]
    return {REJECT_CLASSES_KEY: json.dumps(names)}


def reject_classes_of(extra: Mapping[str, str] | str | None) -> frozenset[str] | None:
    """The rejecting classes a logged part was judged with (`extra` as a dict or its JSON);
    None when every class rejected (the note is absent, as in logs before it)."""
    doc = json.loads(extra) if isinstance(extra, str) else extra
    text = doc.get(REJECT_CLASSES_KEY) if isinstance(doc, Mapping) else None
    return None if text is None else frozenset(json.loads(text))


def labels_defective(labels: Iterable[str], non_rejecting: Collection[str]) -> bool:
    """A part's truth labels (class names) make it defective unless each names a class that
    does not reject (a mark the recipe lets ship); a class the model lacks still counts."""
    return any(name not in non_rejecting for name in labels)


def confirmed_defective(
    defective: bool, class_name: str | None, reject_classes: Collection[str] | None
) -> bool:
    """An operator's verdict as every count reads it: "really defective" is defective unless
    it names a class that does not reject (a mark the recipe lets ship); without a class
    it stays defective (what the operator saw cannot be checked against the recipe)."""
    if not defective:
        return False
    return class_name is None or reject_classes is None or class_name in reject_classes


def logged_verdict(
    defective: object, class_name: str | None, extra: Mapping[str, str] | str | None
) -> bool:
    """A logged confirmation (its `defective` flag and class) against its part's logged
    `extra`, as the log's counts read it (`station report`, `--central`)."""
    return confirmed_defective(bool(defective), class_name, reject_classes_of(extra))


def no_decision_rows(scores: npt.ArrayLike) -> BoolArray:
    """(n_parts,) bool: the part has a NaN maximum, so it got no decision."""
    s = np.asarray(scores, dtype=np.float32)
    return np.asarray(np.isnan(s).any(axis=-1), dtype=bool)


def decided_scores(outcome: Outcome | str, max_scores: npt.ArrayLike) -> F32Array:
    """A part's per-class maxima as the consumers must read them: all NaN for NO DECISION.

    Old logs stored -inf ("nothing detected") for a part that was never
    scored; read back that way a camera outage looks like a run of clean parts.
    """
    s = np.array(max_scores, dtype=np.float32, copy=True).reshape(-1)
    if Outcome(outcome) is Outcome.NO_DECISION:
        s[:] = np.nan
    return s


def not_shipped(
    scores: npt.ArrayLike, thresholds: npt.ArrayLike, rejecting: npt.ArrayLike
) -> BoolArray:
    """(n_parts,) bool: held back, i.e. rejected (a reject class scores >= T) or no decision.

    `scores` (n_parts, n_classes) float32 maxima, `thresholds` (n_classes,)
    compared in float32 (a score shown as equal to T clears it).
    """
    s = np.asarray(scores, dtype=np.float32)
    t = np.asarray(thresholds, dtype=np.float32)
    hits = (s >= t) & np.asarray(rejecting, dtype=bool)
    return np.asarray(hits.any(axis=-1) | np.isnan(s).any(axis=-1), dtype=bool)


def outcome_of(
    scores: npt.ArrayLike, thresholds: npt.ArrayLike, rejecting: npt.ArrayLike
) -> Outcome:
    """The outcome one part's maxima get under `thresholds` (the part dialog's answer)."""
    row = np.asarray(scores, dtype=np.float32).reshape(1, -1)
    if bool(np.isnan(row).any()):
        return Outcome.NO_DECISION
    held = bool(not_shipped(row, thresholds, rejecting)[0])
    return Outcome.REJECT if held else Outcome.PASS


@dataclass(slots=True)
class Tally:
    """Parts of known truth and their errors: the per-part tally every view counts with.

    `defective`/`good` are parts; `escapes` of the defective shipped, `scrap`
    of the good did not (rejected or no decision).
    """

    defective: int = 0
    escapes: int = 0
    good: int = 0
    scrap: int = 0

    def add(self, defective: bool, shipped: bool, n: int = 1) -> None:
        """Count `n` parts of one truth and one shipping fate."""
        if defective:
            self.defective += n
        else:
            self.good += n
        self.escapes += n if is_escape(defective, shipped) else 0
        self.scrap += n if is_scrap(defective, shipped) else 0

    def add_outcome(self, defective: bool, outcome: Outcome | str, n: int = 1) -> None:
        self.add(defective, ships(outcome), n)

    def remove(self, defective: bool, shipped: bool) -> None:
        """Take back one `add` (an operator changed their verdict on a part)."""
        self.add(defective, shipped, -1)

    @property
    def parts(self) -> int:
        return self.defective + self.good

    @property
    def escape_rate(self) -> Rate:
        """Escapes of defective parts (FAR), with its Wilson interval."""
        return Rate.of(self.escapes, self.defective)

    @property
    def scrap_rate(self) -> Rate:
        """Scrapped good parts of good parts (FRR), with its Wilson interval."""
        return Rate.of(self.scrap, self.good)

    def as_dict(self) -> dict[str, int]:
        """The `station report --json` form: parts, defective, good, escapes, scrap."""
        return {
            "parts": self.parts,
            "defective": self.defective,
            "good": self.good,
            "escapes": self.escapes,
            "scrap": self.scrap,
        }


def tally(defective: npt.ArrayLike, shipped: npt.ArrayLike) -> Tally:
    """The tally of parts given per-part truth and shipping fate (vectorised)."""
    d = np.asarray(defective, dtype=bool)
    s = np.asarray(shipped, dtype=bool)
    n_def = int(np.count_nonzero(d))
    return Tally(
        defective=n_def,
        escapes=int(np.count_nonzero(d & s)),
        good=int(d.size - n_def),
        scrap=int(np.count_nonzero(~d & ~s)),
    )
