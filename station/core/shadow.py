"""Shadow mode's one definition of agreement: a candidate model's would-be outcome beside
the production one, per part.

A part the candidate judged counts in `parts`; it `agree`s when both outcomes are equal.
The two disagreements that matter on the line are a part rejected now that the candidate
would pass (it would ship: an escape if the part is defective) and a part passed now that
the candidate would reject (it would be scrapped). A disagreement where either side had
NO DECISION counts in `parts` only. A part the candidate could not keep up with is
`skipped`, never judged late.
"""

from __future__ import annotations

from dataclasses import dataclass

from station.core.decision import Outcome

SKIPPED = "SKIPPED"
"""The shadow outcome logged for a part the candidate skipped (it was still busy)."""

KEYS = ("parts", "agree", "now_rejected_would_pass", "now_passed_would_reject", "skipped")


def disagreement(production: str, shadow: str) -> str | None:
    """Which counted disagreement this pair is ('now_rejected_would_pass', ...), or None."""
    if production == Outcome.REJECT.value and shadow == Outcome.PASS.value:
        return "now_rejected_would_pass"
    if production == Outcome.PASS.value and shadow == Outcome.REJECT.value:
        return "now_passed_would_reject"
    return None


@dataclass(frozen=True, slots=True)
class ShadowCounts:
    """The agreement of a shadow model with production over some parts (see module doc)."""

    parts: int = 0
    agree: int = 0
    now_rejected_would_pass: int = 0
    now_passed_would_reject: int = 0
    skipped: int = 0

    def add(self, production: str, shadow: str, n: int = 1) -> ShadowCounts:
        """These counts plus `n` parts with this pair of outcomes (as logged)."""
        if shadow == SKIPPED:
            return _plus(self, skipped=n)
        which = disagreement(production, shadow)
        extra = {"parts": n, "agree": n if production == shadow else 0}
        if which is not None:
            extra[which] = n
        return _plus(self, **extra)

    def as_dict(self) -> dict[str, int]:
        return {k: int(getattr(self, k)) for k in KEYS}

    def words(self) -> str:
        """The counts in a few words, for a status line."""
        return (
            f"shadow {self.parts} judged, {self.agree} agree, "
            f"{self.now_rejected_would_pass} rejected would pass, "
            f"{self.now_passed_would_reject} passed would reject, {self.skipped} skipped"
        )


def _plus(counts: ShadowCounts, **extra: int) -> ShadowCounts:
    return ShadowCounts(**{k: getattr(counts, k) + extra.get(k, 0) for k in KEYS})
