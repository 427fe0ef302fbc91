"""What the big banner says about the latest part: a headline and the reason in words.

PASS, REJECT with each class's top score against its threshold, NO DECISION
with why; CAMERA LOST is set by the station view-model from the camera's state.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from station.core.decision import Decision, Outcome, RejectReason
from station.pipeline import PartResult


class BannerKind(StrEnum):
    IDLE = "idle"
    PASS = "pass"
    REJECT = "reject"
    NO_DECISION = "no_decision"
    CAMERA_LOST = "camera_lost"


@dataclass(frozen=True, slots=True)
class BannerState:
    """What the big banner says: a headline and the reason in words."""

    kind: BannerKind
    headline: str
    detail: str = ""


def reasons_in_words(decision: Decision, max_classes: int = 3) -> str:
    """The top score of each class: "crack 0.81 ≥ 0.60 · scratch 0.72 ≥ 0.50 (+2 more)"."""
    top: dict[str, RejectReason] = {}
    for reason in decision.reasons:  # sorted by score, highest first
        top.setdefault(reason.class_name, reason)
    shown = list(top.values())[:max_classes]
    more = len(decision.reasons) - len(shown)
    return " · ".join(str(r) for r in shown) + (f"  (+{more} more)" if more else "")


def banner_for(part: PartResult) -> BannerState:
    decision = part.inspection.decision
    if decision.outcome is Outcome.PASS:
        return BannerState(BannerKind.PASS, "PASS", "every score below its threshold")
    if decision.outcome is Outcome.REJECT:
        return BannerState(BannerKind.REJECT, "REJECT", reasons_in_words(decision))
    return BannerState(BannerKind.NO_DECISION, "NO DECISION", decision.why or "could not decide")
