"""Escapes and scrap observed on the line since the shift began (no Qt).

Two sources of truth, counted apart: the synthetic line knows each part's
truth (`Inspection.truth_defective`), and operators confirm logged parts
("really defective" / "really good"). Both are `outcomes.Tally`s: a good part
not shipped (rejected or no decision) is scrap, as everywhere else.
"""

from __future__ import annotations

from station.core.decision import Outcome
from station.core.outcomes import Tally, ships
from station.ui.tuning.figures import escape_text, scrap_text


def tally_text(t: Tally) -> str | None:
    """Escape and scrap lines of a tally; None before any part of known truth."""
    if not t.parts:
        return None
    return f"{escape_text(t.escape_rate)}\n{scrap_text(t.scrap_rate)}"


class LiveEstimate:
    """Both tallies of the current shift; a part from another shift starts them afresh."""

    def __init__(self) -> None:
        self.shift_id = ""
        self.line = Tally()
        self.confirmed = Tally()
        self._verdicts: dict[int, tuple[bool, bool]] = {}

    def reset(self, shift_id: str = "") -> None:
        self.shift_id = shift_id
        self.line = Tally()
        self.confirmed = Tally()
        self._verdicts = {}

    def replace_verdict(self, row_id: int, shift_id: str, defective: bool, shipped: bool) -> bool:
        """Prepare to count an operator's verdict on logged part `row_id`; False: do not count.

        A part of another shift is not counted. The latest verdict on a part is
        its truth (as in the log): an earlier one counted here is taken back, so
        the caller then adds the new one once.
        """
        if not self.shift_id:  # no live part yet: the confirmed part's shift is the one shown
            self.shift_id = shift_id
        if shift_id != self.shift_id:
            return False
        previous = self._verdicts.get(row_id)
        if previous is not None:
            self.confirmed.remove(*previous)
        self._verdicts[row_id] = (defective, shipped)
        return True

    def new_shift(self, shift_id: str) -> bool:
        """Reset when `shift_id` is not the current shift; True when it did."""
        if shift_id == self.shift_id:
            return False
        self.reset(shift_id)
        return True

    def add_line_part(self, defective: bool, outcome: Outcome) -> None:
        """A live part whose truth the line knows (synthetic line, labeled replay)."""
        self.line.add(defective, ships(outcome))

    def text(self) -> str:
        lines = []
        if (line := tally_text(self.line)) is not None:
            lines.append(f"Line truth since the shift began:\n{line}")
        if (conf := tally_text(self.confirmed)) is not None:
            lines.append(f"Operator-confirmed parts:\n{conf}")
        return "\n".join(lines) or "live: no parts with known truth this shift yet"
